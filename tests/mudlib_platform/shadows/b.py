"""/shadows/b: the first shadow in LDMud's example of shadow()."""

from driver.efuns import MudObject, call_other, find_object, load_object, object_name, shadow
from driver.efuns import this_object


def log(text):
    load_object("/shadows/log").add(f"{object_name(this_object())} {text}")


class B(MudObject):
    def fun(self):
        log("[b] fun()")
        call_other(find_object("/shadows/a"), "fun")

    def fun2(self):
        log("[b] fun2()")
        call_other(find_object("/shadows/a"), "fun3")
        call_other(this_object(), "fun3")

    def do_shadow(self, target):
        return shadow(target)
