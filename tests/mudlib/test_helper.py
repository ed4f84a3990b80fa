"""/test_helper: a callback target that is not the player, and a
non-interactive object for the efuns' error paths."""

from driver.efuns import inherit


class TestHelper(inherit("/tls_callbacks")):
    pass
