"""gunicorn settings for the web process (all overridable from the environment).

Threaded workers (gthread): an SSE stream occupies one thread for its whole life (up to the
5-minute cycle) while it waits without a database connection, so ordinary requests need
threads to spare next to the streams. See the README's "Serving streams" section.
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "256"))
# gthread's timeout is the worker heartbeat, not a per-request limit; long streams are fine.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "10"))
keepalive = 5
worker_connections = int(os.environ.get("WEB_MAX_CONNECTIONS", "2000"))
accesslog = os.environ.get("WEB_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
