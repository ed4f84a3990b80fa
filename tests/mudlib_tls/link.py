"""An outgoing link (net_connect), secured with a client handshake; reports to its player."""

from driver.efuns import (MudObject, net_connect, object_name, tell_object, tls_check_certificate,
                          tls_error, tls_init_connection, tls_query_connection_info)


class Link(MudObject):
    player = None
    server_name = None
    verify = True
    secure = True

    def start(self, player, host, port, server_name, verify, secure=True):
        self.player, self.server_name, self.verify, self.secure = player, server_name, verify, secure
        net_connect(host, port)

    def logon(self, result=None):
        if result == -1:
            tell_object(self.player, "LINK FAILED\n")
            return
        tell_object(self.player, f"LINK UP {object_name(self)}\n")
        if self.secure:
            tls_init_connection(self, "secured", self, "extra",
                                verify=self.verify, server_name=self.server_name)

    def secured(self, result, ob, extra):
        line = f"LINK TLS result={result} extra={extra} text={tls_error(result)}"
        if result == 0:
            cert = tls_check_certificate(self, 1)
            info = tls_query_connection_info(self)
            line += (f" verify={cert[0]} san={','.join(alt_names(cert[2]))} "
                     f"prot={info.prot} sni={info.sni}")
        tell_object(self.player, line + "\n")

    def process_input(self, line):
        tell_object(self.player, f"LINK> {line}\n")


def alt_names(extensions):
    """``kind:value`` for each subjectAltName entry, read as ported LPC reads
    LDMud's layout: (oid, long name, value) per extension, the value of
    subjectAltName itself (kind, kind, value) per entry."""
    found = []
    for i in range(0, len(extensions), 3):
        if extensions[i] == "2.5.29.17":
            entries = extensions[i + 2]
            found += [f"{entries[j]}:{entries[j + 2]}" for j in range(0, len(entries), 3)
                      if entries[j]]
    return found
