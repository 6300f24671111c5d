"""Benchmark-only settings: the real ones plus the bare comparison view's URLconf (bench/urls.py).

Enabled only by DJANGO_SETTINGS_MODULE=bench.settings, which bench/sessions_list.py sets for the
server it starts; the application never imports this module.
"""

from everruns.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# Which worker answered: lets the bench client balance its connections (bench/middleware.py).
MIDDLEWARE = ["bench.middleware.WorkerPidMiddleware", *MIDDLEWARE]  # noqa: F405
