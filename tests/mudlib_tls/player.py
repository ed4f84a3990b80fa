"""Test player: commands that exercise SNI, outgoing links, rekeying,
awaitable handshakes and closes, each answering with one machine-readable line."""

from driver.efuns import (EfunError, MudObject, call_other, clone_object, load_object,
                          object_name, remove_interactive, this_player, tls_error,
                          tls_handshake, tls_query_connection_info, tls_query_connection_state,
                          tls_refresh_certs, tls_rekey, write)


class Player(MudObject):
    def logon(self, result=None, ob=None):
        write(f"LOGON {object_name(self)} result={result}\n")

    def process_input(self, line):
        verb, _, rest = line.strip().partition(" ")
        handler = getattr(self, "cmd_" + verb.replace("-", "_"), None)
        if handler is None:
            write(f"UNKNOWN {verb}\n")
            return
        try:
            return handler(rest)
        except EfunError as exc:
            write(f"ERROR {exc}\n")

    def cmd_info(self, _rest):
        info = tls_query_connection_info(self)
        if info is None:
            write("INFO none\n")
        else:
            write(f"INFO prot={info.prot} cipher={info.cipher} sni={info.sni} "
                  f"alpn={info.alpn} resumed={info.resumed}\n")

    def cmd_echo(self, rest):
        write(f"ECHO {rest}\n")

    def cmd_rekey(self, _rest):
        tls_rekey(self)
        write("REKEY OK\n")

    def cmd_refresh(self, _rest):
        tls_refresh_certs()
        write("REFRESH OK\n")

    def cmd_hook(self, mode):
        load_object("/master").hook_mode = mode
        write(f"HOOK {mode}\n")

    def cmd_link(self, rest):
        """link <host> <port> [name|-] [noverify]: an outgoing connection, secured."""
        host, port, *options = rest.split()
        name = options[0] if options and options[0] != "-" else None
        link = clone_object("/link")
        # call_other, so that net_connect's this_object() is the link.
        call_other(link, "start", self, host, int(port), name, "noverify" not in options)
        write(f"LINK STARTED {object_name(link)}\n")

    def cmd_plainlink(self, rest):
        host, port = rest.split()
        link = clone_object("/link")
        call_other(link, "start", self, host, int(port), None, True, False)
        write(f"LINK STARTED {object_name(link)}\n")

    async def cmd_upgrade(self, _rest):
        """Awaitable handshake: the same connection, secured from a coroutine."""
        write("GO AHEAD\n")
        result = await tls_handshake(self, handshake_timeout=5)
        write(f"AWAITED result={result} state={tls_query_connection_state(self)} "
              f"this_player={object_name(this_player())}\n")

    async def cmd_await_junk(self, _rest):
        try:
            await _not_a_driver_awaitable()
        except EfunError as exc:
            write(f"AWAIT REFUSED {exc}\n")

    def cmd_quit(self, _rest):
        write("BYE\n")
        remove_interactive(self)

    def cmd_errortext(self, rest):
        write(f"TEXT {tls_error(int(rest))}\n")


class _Junk:
    def __await__(self):
        yield "junk"


async def _not_a_driver_awaitable():
    await _Junk()
