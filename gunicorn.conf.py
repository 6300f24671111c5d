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
# A listen backlog large enough for a reconnect storm (every stream reconnects at once after a restart).
backlog = int(os.environ.get("WEB_BACKLOG", "2048"))
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
