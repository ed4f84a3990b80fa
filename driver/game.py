"""Starting, running and stopping the driver.

This module owns the driver's life: it loads the TLS credentials and the
master, listens on the configured ports, reloads certificates on SIGHUP, and
shuts down on SIGINT/SIGTERM (or the ``shutdown`` efun): the master's
``notify_shutdown()`` tells players and saves them, then every connection is
flushed and closed, with close_notify on the secure ones.

The telnet and TLS ports are served the same way.  Whether a port speaks
TLS is the mudlib's decision (the master's ``connect()`` calls
``tls_init_connection`` when ``query_mud_port()`` is the TLS port); the
driver only listens.  The web port is the exception, because a browser
speaks ``wss://`` from its first byte: there the driver does the TLS
handshake (with the same certificates, SNI and reloads) and the WebSocket
upgrade before the master hears of the connection (``net/websocket.py``).

The game runs on the event loop ``server.event_loop`` names
(``event_loop_factory``): uvloop's where it can be imported, which runs
asyncio's transports and callbacks on libuv, else asyncio's own selector
loop; or either one by name.  Nothing above this module knows which: the
world and the network use only the public interface of asyncio's loops
and transports, and where the two loops differ in what that interface
leaves open, the module concerned says so (accepting, below; reading,
writing and closing in ``net/connection.py``; the garbage collector's
callback in ``collector.py``; SIGALRM in ``world/evaluation.py``).
"""

from __future__ import annotations

import asyncio
import datetime
import errno
import json
import logging
import logging.handlers
import selectors
import signal
import socket
import ssl
from typing import Callable

from . import metrics
from .collector import FreezeAfterFullPasses
from .world import (commands, coroutines, evaluation, inputs, objects, persistence, runtime,
                    shadows)
from .config import Config
from .net.admission import Admission, BanFileError, BanList
from .net.connection import Connection, drop_connections_waiting_to_open, tune_keepalive
from .net import tls
from .net.websocket import WebLimits, WebSite
from .world.interactive import Interactives
from .world.objects import MudObject, ObjectTable
from .world.resets import Resets
from .world.timers import CallOuts, HeartBeats
from .world.workers import WorkerPool
from .net.tls_context import (CertificateError, CertificatePair, ConfigureHook,
                          ServerCredentials, TLSPolicy)

log = logging.getLogger("driver")

#: Connections accepted per turn of asyncio's event loop: a thousand
#: arriving at once are set up a batch at a time, between the players'
#: turns, instead of all before anyone's next reply.  The kernel queues the
#: rest (``server.backlog``).  uvloop does not batch: libuv accepts until the
#: kernel's queue is empty on each wake-up, and each new connection's set-up
#: (``Connection.connection_made``) waits its place among the callbacks
#: already due, players' turns included.
ACCEPT_BATCH = 8

#: How long shutdown waits for connections to drain before closing them hard.
SHUTDOWN_GRACE = 5.0


class StartupError(Exception):
    """The driver cannot start; one line says why."""


def _import_uvloop():
    """(the uvloop module, None), or (None, why it cannot be imported)."""
    try:
        import uvloop
    except ImportError as exc:
        return None, str(exc)
    return uvloop, None


def event_loop_factory(config: Config) -> Callable[[], asyncio.AbstractEventLoop]:
    """What makes the loop the game runs on (``server.event_loop``).

    ``auto``, the default, is uvloop where it can be imported (it is in the
    pinned requirements) and asyncio's loop where it cannot: the same game
    either way, and the log says which runs, and why not uvloop.  (uvloop
    is the default because the benchmark measures it cheaper per command
    and per handshake, and the players' replies as quick or quicker under
    the storms and attacks of ``bench/README.md``.)  ``asyncio`` is
    asyncio's selector loop, named outright so that an event loop policy
    set elsewhere in the process cannot swap it.  ``uvloop`` by name on a
    Python without it is a configuration error, named in one line, like a
    missing certificate.
    """
    if config.event_loop == "asyncio":
        return asyncio.SelectorEventLoop
    uvloop, missing = _import_uvloop()
    if uvloop is not None:
        return uvloop.new_event_loop
    if config.event_loop == "uvloop":
        raise StartupError(
            f"server.event_loop: uvloop cannot be imported ({missing}); install the pinned "
            f"requirements (make setup) or set event_loop: asyncio")
    return asyncio.SelectorEventLoop


def describe_event_loop(loop: asyncio.AbstractEventLoop | None, chosen: str = "asyncio") -> str:
    """``uvloop 0.23.0`` or ``asyncio (EpollSelector)``: the loop running
    (None: the loop ``server.event_loop`` = ``chosen`` would run), and for
    ``auto`` on asyncio's loop, why it is not uvloop."""
    if loop is not None:
        on_uvloop = type(loop).__module__.partition(".")[0] == "uvloop"
    else:
        on_uvloop = chosen != "asyncio" and _import_uvloop()[0] is not None
    if on_uvloop:
        import uvloop
        return f"uvloop {uvloop.__version__}"
    text = f"asyncio ({selectors.DefaultSelector.__name__})"
    if chosen == "auto":
        _, missing = _import_uvloop()
        if missing:
            text += f"; uvloop cannot be imported ({missing})"
    return text


def run(config: Config,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None) -> int:
    """Run the game on its event loop until it shuts down; the exit status.

    ``StartupError`` if it cannot start.  (``asyncio.Runner`` is
    ``asyncio.run`` with a choice of loop: the same SIGINT handling, and
    the same clean-up of tasks and the loop at the end.)
    """
    with asyncio.Runner(loop_factory=loop_factory or event_loop_factory(config)) as runner:
        return runner.run(Game(config).run())


class _ClientProtocolErrors(logging.Filter):
    """telnetlib3 logs a client's protocol errors (an interrupted or malformed
    subnegotiation, an unsolicited answer) as warnings: they are the
    client's, and one misbehaving client could fill the log.  They are
    debugging information, shown only at level DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("telnetlib3") and record.levelno < logging.ERROR:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.root.level <= logging.DEBUG
        return True


class JsonLogFormatter(logging.Formatter):
    """``logging.format: json``: one JSON object per line, for log collectors.

    Keys: ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, then
    ``audit`` (the audit line's fields) and ``traceback`` where there is one.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
                    .isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        audit = getattr(record, "audit", None)
        if audit is not None:
            entry["audit"] = audit
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(config: Config) -> None:
    handlers: list[logging.Handler] = []
    if config.log_file is not None:
        config.log_file.parent.mkdir(parents=True, exist_ok=True)
        # Reopened when logrotate (or anyone) moves or removes the file.  First,
        # so a line is in the file before anyone watching stderr can see it.
        handlers.append(logging.handlers.WatchedFileHandler(config.log_file, encoding="utf-8"))
    handlers.append(logging.StreamHandler())
    formatter = (JsonLogFormatter() if config.log_format == "json"
                 else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    for handler in handlers:
        handler.addFilter(_ClientProtocolErrors())
        handler.setFormatter(formatter)
    logging.basicConfig(
        level=getattr(logging, config.log_level.upper()),
        handlers=handlers,
        force=True,
    )
    # telnetlib3 logs every connection at INFO; the driver logs its own.
    logging.getLogger("telnetlib3").setLevel(max(logging.WARNING, logging.root.level))


def load_credentials(config: Config, hook: ConfigureHook | None = None) -> ServerCredentials:
    tls = config.tls
    default = CertificatePair(tls.certificate, tls.key) if tls.certificate is not None else None
    credentials = ServerCredentials(
        default,
        sni=tuple(CertificatePair(e.certificate, e.key, e.names) for e in tls.sni),
        trust_file=tls.trust_file,
        client_trust_file=tls.client_trust_file,
        policy=TLSPolicy(
            minimum_version=ssl.TLSVersion[tls.minimum_version.replace(".", "_")],
            maximum_version=(ssl.TLSVersion[tls.maximum_version.replace(".", "_")]
                             if tls.maximum_version else None),
            session_tickets=tls.session_tickets,
        ),
        allow_expired=tls.allow_expired_certificate,
        public_name=config.hostname,
    )
    credentials.configure_hook = hook
    if default is not None:
        try:
            credentials.load()
        except CertificateError as exc:
            raise StartupError(str(exc)) from None
    return credentials


def reload_certificates(credentials: ServerCredentials, why: str) -> None:
    """Reload every certificate, keeping the ones in force on any error."""
    try:
        credentials.load()
    except CertificateError as exc:
        log.error("%s: certificate reload failed, the previous certificate stays in force: %s",
                  why, exc)
    else:
        log.info("%s: TLS certificates reloaded: %s", why, credentials.describe())
        warn_about_certificates(credentials)


def warn_about_certificates(credentials: ServerCredentials) -> None:
    """Log what an operator must act on: expiry soon (or past), a hostname the certificate
    does not name.  Runs at start, after every reload and once a day."""
    for level, text in credentials.warnings():
        log.log(level, "TLS: %s", text)


def master_configure_hook(table: ObjectTable, master_path: str) -> ConfigureHook:
    """The master's ``tls_configure(context, side)``, if it defines one."""

    def configure(context, side: str) -> None:
        master = table.find(master_path)
        apply = getattr(master, "tls_configure", None)
        if callable(apply):
            args = objects.accepted_arguments(apply, (context, side))
            objects.call_in_frame(master, apply, *args, this_player=None, this_interactive=None)

    return configure


def _tell_player_about_error(player: MudObject | None, exc: BaseException, where: str,
                             trace: str) -> None:
    """The error path's last step: the master's ``runtime_error`` apply, or a short word."""
    from .world.errors import report_to_mudlib
    if report_to_mudlib(player, exc, where, trace):
        return
    binding = player._mud_interactive if player is not None else None
    if binding is not None and not binding.connection.closing:
        binding.connection.write_text("Something went wrong; the error has been logged.\n")


class Game:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.servers: list[asyncio.AbstractServer] = []
        self._stop = asyncio.Event()
        self._stop_reason = ""
        self._certificate_watch: asyncio.TimerHandle | None = None
        self.admission: Admission | None = None
        self.metrics_server: metrics.MetricsServer | None = None
        self._daily_warning: asyncio.TimerHandle | None = None

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        config = self.config
        table = ObjectTable(config.mudlib_dir)
        interactives = Interactives(table, config.master)
        interactives.set_limits(config.connections)
        table.on_destruct = interactives.object_destructed
        objects.error_reporter = _tell_player_about_error
        objects.coroutine_starter = coroutines.start
        evaluation.install(config.eval_time_limit)
        credentials = ServerCredentials(None)  # loaded once the master can configure it
        heart_beats = HeartBeats(loop, config.heart_beat_interval,
                                 find_master=lambda: table.find(config.master))
        workers = WorkerPool(loop, config.worker_threads, config.worker_queue)
        resets = Resets(loop, config.reset_interval)
        table.on_created = resets.object_created
        rt = runtime.Runtime(config, table, interactives, credentials, loop,
                             call_outs=CallOuts(loop), heart_beats=heart_beats,
                             workers=workers, resets=resets)
        rt.request_shutdown = self.request_shutdown
        coroutines.turn_finished = interactives.turn_finished
        runtime.install(rt)
        table.destruct_hooks += [commands.object_destructed, inputs.object_destructed,
                                 shadows.object_destructed,
                                 rt.heart_beats.object_destructed,
                                 rt.call_outs.object_destructed, resets.object_destructed]
        config.data_dir.mkdir(parents=True, exist_ok=True)
        for orphan in persistence.remove_orphaned_temporaries(config.data_dir):
            log.warning("removed %s: the temporary file of a save that never finished "
                        "(the driver was stopped in the middle of it)", orphan)
        workers.start()
        bans = BanList(config.data_dir / "bans.json")
        try:
            bans.load()
        except BanFileError as exc:
            raise StartupError(str(exc)) from None
        rt.admission = self.admission = Admission(config.limits, bans)
        try:
            table.load(config.master)
        except Exception as exc:  # noqa: BLE001 - the master's own error, reported in one line
            log.debug("cannot load the master %s:\n%s", config.master,
                      objects.format_mudlib_traceback(exc))
            raise StartupError(f"mudlib.master: {config.master} failed to load: "
                               f"{objects.describe_error(exc)}") from None
        rt.credentials = credentials = load_credentials(
            config, master_configure_hook(table, config.master))
        # What exists now (the master, its programs, the driver's own
        # modules) lives as long as the driver: keep it out of the cyclic
        # garbage collector's passes, which otherwise rescan it every time;
        # and after each full pass, what it kept (collector.py).
        collector = FreezeAfterFullPasses(loop)
        collector.start()

        rt.telnet_port = await self._listen(interactives, config.telnet_port, "server.telnet_port")
        if config.tls_port is not None:
            rt.tls_port = await self._listen(interactives, config.tls_port, "server.tls_port")
        if config.web_port is not None:
            # The context in force at each connect: reloads apply to the next one.
            site = self._web_site(tls_context=lambda: credentials.context)
            rt.web_port = await self._listen(interactives, config.web_port, "server.web_port",
                                             web_site=site)
        if config.web.proxy_port is not None:
            proxied = self._web_site(tls_context=None)
            rt.web_proxy_port = await self._listen(
                interactives, config.web.proxy_port, "web.proxy_port",
                web_site=proxied, host=config.web.proxy_host)
            # Every player there arrives from the proxy: the limits wait for
            # the address it names (net/admission.py).
            self.admission.proxy_ports = {rt.web_proxy_port}
            self.admission.proxies = proxied.trusted_proxies
        self.admission.plain_ports = {rt.telnet_port}
        await self._serve_metrics(rt)
        rt.heart_beats.start()
        # Signals first: once "listening" is logged, SIGHUP reloads, it does not kill.
        self._install_signals(loop, credentials)
        log.info("event loop: %s", describe_event_loop(loop, self.config.event_loop))
        self._announce(rt)
        self._watch_certificates(loop, credentials)
        self._warn_daily(loop, credentials)

        await self._stop.wait()
        await self._shut_down(rt)
        collector.stop()
        workers.stop()
        runtime.install(None)
        return 0

    def _web_site(self, tls_context) -> WebSite:
        web = self.config.web
        limits = WebLimits(max_request_bytes=web.max_request_bytes, max_headers=web.max_headers,
                           max_message_bytes=web.max_message_bytes,
                           upgrade_timeout=web.upgrade_timeout, ping_interval=web.ping_interval)
        return WebSite(limits, trusted_proxies=web.trusted_proxies, tls_context=tls_context)

    async def _listen(self, interactives: Interactives, port: int, key: str, *,
                      web_site: WebSite | None = None, host: str | None = None) -> int:
        loop = asyncio.get_running_loop()
        host = host or self.config.host
        try:
            admission = self.admission
            server = await loop.create_server(
                lambda: Connection(interactives, web_site=web_site, admission=admission),
                host, port, reuse_address=True, backlog=ACCEPT_BATCH)
            # asyncio accepts as many connections per wake-up as the backlog it
            # listens with; the kernel's queue may be longer (reconnect storms).
            # listen() again on a duplicate of each socket (asyncio's wrapper
            # hides the method, and uvloop's pseudo-socket refuses it) to give
            # the kernel's queue its full length.  A duplicate shares the
            # listening socket itself, so this works the same on both loops
            # (uvloop listens with the same small backlog, then accepts
            # everything queued per wake-up: ACCEPT_BATCH).
            for listening in server.sockets:
                with socket.fromfd(listening.fileno(), listening.family,
                                   listening.type) as sock:
                    sock.listen(max(self.config.backlog, ACCEPT_BATCH))
                    tune_keepalive(sock, interactives.flow_policy, f"{key} listener")
        except OSError as exc:
            hint = ""
            if exc.errno == errno.EADDRINUSE:
                hint = ("; is the game already running?  Choose other ports: "
                        "make run ARGS=\"--port 5000 --tls-port 5443 --web-port 5080\"")
            raise StartupError(f"{key}: cannot listen on {host} port {port}: "
                               f"{exc.strerror or exc}{hint}") from None
        self.servers.append(server)
        return server.sockets[0].getsockname()[1]

    async def _serve_metrics(self, rt: runtime.Runtime) -> None:
        """The Prometheus endpoint (``metrics.port``), and what it reads from
        the running driver when it is asked."""
        settings = self.config.metrics
        state = metrics.driver_state
        port_names = {rt.telnet_port: "telnet", rt.tls_port: "tls"}
        secure, handshaking, restarting = tls.ACTIVE, tls.HANDSHAKING, tls.RESTARTING

        def connections() -> dict[tuple[str, str], int]:
            # One pass over every player while the game waits: kept to plain
            # comparisons (a TLS state's efun_value or a dict keyed by it
            # costs Python calls, some 25 ms a scrape with 11,000 players).
            counts: dict[tuple[str, str], int] = {}
            for binding in rt.interactives.bindings:
                connection = binding.connection
                if connection.incoming and not connection.closing:
                    state = connection.tls_session.state
                    label = ("secure" if state is secure else "handshaking"
                             if state is handshaking or state is restarting else "plain")
                    key = (port_names.get(connection.local_port, "other"), label)
                    counts[key] = counts.get(key, 0) + 1
            return counts

        def certificates():
            credentials = rt.credentials
            for pair, context in zip((credentials.default, *credentials.sni),
                                     credentials.contexts):
                name = pair.names[0] if pair.names else "default"
                yield name, context.driver_leaf.not_valid_after_utc.timestamp()

        admission = self.admission
        state.connections = connections
        state.certificates = certificates
        state.admission = lambda: (admission.open, admission.bans.in_force())
        if settings.port is None:
            return
        self.metrics_server = metrics.MetricsServer(settings.host, settings.port)
        try:
            port = await self.metrics_server.start()
        except OSError as exc:
            raise StartupError(f"metrics.port: cannot listen on {settings.host} port "
                               f"{settings.port}: {exc.strerror or exc}") from None
        log.info("metrics: http://%s:%s/metrics", settings.host, port)

    def _announce(self, rt: runtime.Runtime) -> None:
        host = self.config.host
        tls = f", TLS on {host}:{rt.tls_port}" if rt.tls_port is not None else ""
        web = f", web on {host}:{rt.web_port}" if rt.web_port is not None else ""
        if rt.web_proxy_port is not None:
            web += f", web for a proxy on {self.config.web.proxy_host}:{rt.web_proxy_port}"
        log.info("listening: telnet on %s:%s%s%s", host, rt.telnet_port, tls, web)
        if rt.web_port is not None:
            log.info("web client: https://%s:%s/", self.config.hostname, rt.web_port)
        if rt.credentials.available:
            log.info("TLS: %s", rt.credentials.describe())
            warn_about_certificates(rt.credentials)
            trust = self.config.tls.trust_file
            if trust is not None and trust.name.startswith("dev-"):
                log.info("development CA: %s (trust this file in your MUD client, or "
                         "`openssl s_client -CAfile %s`)", trust, trust)
        else:
            log.info("TLS: no certificate configured; tls_available() is false")

    def _install_signals(self, loop: asyncio.AbstractEventLoop,
                         credentials: ServerCredentials) -> None:
        # Both loops run these handlers as ordinary callbacks, between two
        # others, never inside one: asyncio through its self-pipe, uvloop
        # through its own wake-up descriptor (signal.set_wakeup_fd either way).
        for signum, reason in ((signal.SIGINT, "SIGINT"), (signal.SIGTERM, "SIGTERM")):
            loop.add_signal_handler(signum, self.request_shutdown, reason)
        loop.add_signal_handler(signal.SIGHUP, reload_certificates, credentials, "SIGHUP")

    def _watch_certificates(self, loop: asyncio.AbstractEventLoop,
                            credentials: ServerCredentials) -> None:
        """Every ``tls.reload_check_interval`` seconds: if a certificate, key
        or trust file changed on disk (certbot renewed it, say), reload as
        SIGHUP would.  A few stat() calls.  The files must have stayed the
        same for one interval first: a renewal replaces them one by one, and
        a half-renewed pair would only fail.  A failed reload is not retried
        until the files change again."""
        interval = self.config.tls.reload_check_interval
        if interval <= 0 or credentials.default is None:
            return
        last_seen = credentials.files_loaded

        def check() -> None:
            nonlocal last_seen
            now = credentials.files_on_disk()
            if now != credentials.files_loaded and now == last_seen:
                reload_certificates(credentials, "certificate files changed")
            last_seen = now
            self._certificate_watch = loop.call_later(interval, check)

        self._certificate_watch = loop.call_later(interval, check)

    def _warn_daily(self, loop: asyncio.AbstractEventLoop, credentials: ServerCredentials) -> None:
        """Once a day, the certificate warnings again: a renewal that keeps failing
        is heard about every day until the certificate expires."""

        def warn() -> None:
            warn_about_certificates(credentials)
            self._daily_warning = loop.call_later(86400, warn)

        if credentials.available:
            self._daily_warning = loop.call_later(86400, warn)

    def request_shutdown(self, reason: str) -> None:
        if not self._stop.is_set():
            self._stop_reason = reason
            log.info("shutting down: %s", reason)
            self._stop.set()

    async def _shut_down(self, rt: runtime.Runtime) -> None:
        for timer in (self._certificate_watch, self._daily_warning):
            if timer is not None:
                timer.cancel()
        for server in self.servers:
            server.close()
        # Accepted but not yet opened: the game never heard of them.
        dropped = drop_connections_waiting_to_open()
        if dropped:
            log.info("%d new connections closed before they were opened", dropped)
        master = rt.table.find(self.config.master)
        notify = getattr(master, "notify_shutdown", None)
        if callable(notify):
            objects.run(master, notify, this_player=None, this_interactive=None,
                        what=f"{master._mud_name}->notify_shutdown()")
        rt.call_outs.cancel_all()
        rt.heart_beats.stop()
        rt.resets.stop()
        all_closed = asyncio.Event()
        rt.interactives.on_last_closed = all_closed.set
        for binding in list(rt.interactives.bindings):
            # As remove_interactive (pending TLS callbacks dropped); a web client
            # hears 1001, going away, and reconnects by itself.
            rt.interactives.close(binding, going_away=True)
        if rt.interactives.bindings:
            try:
                await asyncio.wait_for(all_closed.wait(), SHUTDOWN_GRACE)
            except asyncio.TimeoutError:
                log.warning("%d connections did not close in %.0f s; dropping them",
                            len(rt.interactives.bindings), SHUTDOWN_GRACE)
        for binding in list(rt.interactives.bindings):
            binding.connection.close(flush=False)
        for server in self.servers:
            await server.wait_closed()
        if self.metrics_server is not None:
            await self.metrics_server.stop()
        log.info("driver stopped (%s)", self._stop_reason)
