"""The minimal asyncio TLS server the driver is compared with.

asyncio's own TLS transport (``create_server(ssl=...)``): after the
handshake it sends one greeting line, then answers each line with
``echo <line>``.  A plain port does the same without TLS.  Nothing else:
no telnet, no objects, no logging per connection.

    python bench/baseline_server.py --certificate C --key K [--uvloop] [--backlog N]

Prints ``listening: tls <port> plain <port>`` once both ports are bound.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import ssl

GREETING = b"Welcome to the baseline.\r\n"


class Echo(asyncio.Protocol):
    __slots__ = ("transport", "buffer")

    def connection_made(self, transport: asyncio.Transport) -> None:
        # With ssl=, asyncio calls this once the handshake is over.
        self.transport = transport
        self.buffer = b""
        transport.write(GREETING)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        out = []
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                break
            out.append(b"echo " + buffer[:end].rstrip(b"\r") + b"\r\n")
            buffer = buffer[end + 1:]
        self.buffer = buffer
        if out:
            self.transport.write(b"".join(out))

    def connection_lost(self, exc) -> None:
        self.transport = None


async def main(args: argparse.Namespace) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.certificate, args.key)
    loop = asyncio.get_running_loop()
    tls = await loop.create_server(Echo, "127.0.0.1", 0, ssl=context, backlog=args.backlog,
                                   reuse_address=True)
    plain = await loop.create_server(Echo, "127.0.0.1", 0, backlog=args.backlog,
                                     reuse_address=True)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"listening: tls {tls.sockets[0].getsockname()[1]} "
          f"plain {plain.sockets[0].getsockname()[1]}", flush=True)
    await stop.wait()
    tls.close()
    plain.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--certificate", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--backlog", type=int, default=100)
    parser.add_argument("--uvloop", action="store_true")
    arguments = parser.parse_args()
    if arguments.uvloop:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    asyncio.run(main(arguments))
