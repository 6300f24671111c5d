"""gunicorn settings for the web process (all overridable from the environment).

Threaded workers (gthread). An SSE stream occupies one worker thread for its whole life (up to
SSE_CYCLE_SECS, 5 minutes) but while it waits it holds no database connection and uses no CPU:
it blocks on a threading.Event until a wake-up (PostgreSQL NOTIFY or an in-process commit) or
its next heartbeat. So threads are cheap to hold and streams are bounded by threads, not by cores.
Reasoning and measured numbers: docs/streaming.md and docs/benchmarks.md.

- workers: one per core (the GIL makes a process use one core at most).
- threads: the most concurrent requests + streams ONE worker serves. ThreadPoolExecutor starts
  threads only when all existing ones are busy, so a large maximum costs nothing until used.
  A stream beyond the last thread is not refused, it waits in the worker's queue: size threads
  for the streams you expect per worker plus headroom for ordinary requests.
- worker_connections: the most connections a worker accepts (streams + active requests +
  idle keep-alive connections parked in its poller without a thread). Kept above `threads`
  (gunicorn needs the difference for keep-alive) but not far above: a worker stops accepting at
  this number, which leaves new connections to the other workers.
"""

import os

from apps.core.gunicorn_errors import install as install_json_errors

# Errors gunicorn answers itself (malformed HTTP, over-long request lines/headers) use the JSON envelope.
install_json_errors()

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "768"))
worker_connections = int(os.environ.get("WEB_MAX_CONNECTIONS", str(threads + 256)))
# gthread's timeout is the worker heartbeat (the main loop), not a per-request limit: long streams are fine.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
# On restart streams are cut after this; clients reconnect with Last-Event-ID and lose nothing.
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "10"))
keepalive = 5
# gunicorn's control socket (for `gunicornc`) defaults to one path per user, so two servers on one machine
# (two `make run`s, the benchmarks' stacks, tests) would fight over it. Off unless a path is given.
control_socket_disable = not os.environ.get("WEB_CONTROL_SOCKET")
if os.environ.get("WEB_CONTROL_SOCKET"):
    control_socket = os.environ["WEB_CONTROL_SOCKET"]
# A listen backlog large enough for a reconnect storm (every stream reconnects at once after a restart).
backlog = int(os.environ.get("WEB_BACKLOG", "2048"))
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# Logs: the application's format (LOG_FORMAT, everruns/settings.py: json without DEBUG, text with it) for
# gunicorn's own lines and its access log. JSON access lines carry method, path (no query string), status,
# duration_ms, bytes, remote_addr, user_agent and the request's request_id / organization_id / session_id,
# which the application records in the WSGI environ (apps.core.logcontext.AccessJsonFormatter).
_debug = os.environ.get("DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}
_log_format = os.environ.get("LOG_FORMAT", "text" if _debug else "json").strip().lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({everruns.request_id}e)s'
if _log_format == "json":
    _level = loglevel.upper()
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": "apps.core.logcontext.JsonFormatter"},
            "access": {"()": "apps.core.logcontext.AccessJsonFormatter"},
        },
        "handlers": {
            "error_console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
            "access_console": {"class": "logging.StreamHandler", "formatter": "access", "stream": "ext://sys.stdout"},
        },
        # gunicorn merges this over its defaults, whose root logger names a handler of its own: replaced here.
        "root": {"level": _level, "handlers": ["error_console"]},
        "loggers": {
            "gunicorn.error": {"handlers": ["error_console"], "level": _level, "propagate": False},
            "gunicorn.access": {"handlers": ["access_console"], "level": "INFO", "propagate": False},
        },
    }
    if not accesslog:
        logconfig_dict["loggers"]["gunicorn.access"]["handlers"] = []

# Prometheus multiprocess mode (apps/core/metrics.py): every worker process writes its samples into one
# directory and a scrape of any of them aggregates all. A fresh directory per server unless the environment
# names one (scripts/run.sh, so `make run`'s task worker writes beside the web; the compose file, a volume
# shared with the worker container): a named directory must be emptied before the server starts.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="everruns-prometheus-")


def child_exit(server, worker):
    """A dead worker's live gauges (open SSE streams) stop counting (prometheus-client multiprocess mode)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# Web processes share PostgreSQL's max_connections (100 by default) across up to workers x threads
# request threads: a per-process pool bounds them (everruns/settings.py, DB_POOL_MAX_SIZE; ignored on SQLite).
# Without it every thread that ever served a request keeps its own connection and a burst of requests
# ends in "too many clients" 500s.
os.environ.setdefault("DB_POOL_MAX_SIZE", "20")


def post_worker_init(worker):
    """Open SSE streams end promptly when the worker stops (SIGTERM: graceful; SIGINT/SIGQUIT: Ctrl-C).

    A stream holds its thread for up to SSE_CYCLE_SECS, so without this a stopping worker waits the whole
    graceful_timeout for them and is then SIGKILLed, cutting the streams mid-frame. The wrapped handlers
    first tell every stream of this process to send `disconnecting` and end (apps.sessions.streaming.
    shutdown_streams, run in a thread: signal handlers must not take locks the interrupted code may hold),
    then run gunicorn's own handler.
    """
    import signal
    import threading

    from apps.sessions.streaming import shutdown_streams

    def wrap(original):
        def handler(signum, frame):
            threading.Thread(target=shutdown_streams, name="sse-shutdown", daemon=True).start()
            if callable(original):
                original(signum, frame)

        return handler

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(signum, wrap(signal.getsignal(signum)))


def worker_exit(server, worker):
    """A stopping worker process skips the garbage collector's pass over the whole heap at teardown.

    By now gunicorn has finished the worker's graceful part (requests served or cut at graceful_timeout, SSE
    streams told to disconnect). What was left is CPython's finalization of a fully loaded Django process,
    1-1.5 s of pure CPU per worker on this machine (gc over every module's objects), which made `make run`
    and every deploy wait seconds on SIGTERM. gc.freeze() moves every object to the permanent generation the
    final collection skips: the process exits in ~0.1 s, with its exit status and atexit handlers intact.
    gunicorn also calls this hook in the master for a worker already gone: harmless there.
    """
    import gc

    gc.freeze()


def on_exit(server):
    """The master likewise (it loaded apps.core for the JSON error pages and the log formatters)."""
    import gc

    gc.freeze()
