"""/tls_callbacks: TLS callbacks that report how they were called.

The master and /test_helper inherit these.  Each callback writes one
machine-readable line to this_player() (the connection's object while a
TLS callback runs) and to the log, so a test can check every argument and
the execution context at once.
"""

from driver.efuns import (
    EfunError,
    MudObject,
    debug_message,
    object_name,
    this_interactive,
    this_object,
    this_player,
    tls_query_connection_state,
    write,
)


def show(value):
    """Objects by name, containers element by element, the rest as is."""
    if isinstance(value, MudObject):
        try:
            return object_name(value)
        except EfunError:
            return "<destructed>"
    if isinstance(value, (tuple, list)):
        return type(value)(show(item) for item in value)
    return value


class TLSCallbacks(MudObject):
    show = staticmethod(show)

    def callback_line(self, result, ob, extra):
        state = tls_query_connection_state(ob) if isinstance(ob, MudObject) else None
        return (f"CALLBACK result={result!r} ob={show(ob)} extra={show(tuple(extra))!r} "
                f"this_object={show(this_object())} this_player={show(this_player())} "
                f"this_interactive={show(this_interactive())} state={state}")

    def tls_done(self, result, ob, *extra):
        line = self.callback_line(result, ob, extra)
        debug_message(line)  # also when the connection is gone
        write(line + "\n")

    def tls_raise(self, result, ob, *extra):
        write(self.callback_line(result, ob, extra) + "\n")
        raise RuntimeError("deliberate failure in a TLS callback")

    def tls_short(self, result):
        """Declares only the result, as an LPC callback may: the rest is dropped."""
        line = f"SHORT CALLBACK result={result!r} this_player={show(this_player())}"
        debug_message(line)
        write(line + "\n")
