import logging
import sys
import threading
import time

from django.apps import AppConfig

logger = logging.getLogger("everruns.runtime")


class RuntimeConfig(AppConfig):
    name = "apps.runtime"
    label = "runtime"
    verbose_name = "Agent runtime"

    def ready(self) -> None:
        # django-tasks-db leaves the task of a killed worker RUNNING forever and never retries it, so each
        # worker process also watches for turns whose worker stopped heart-beating and requeues them
        # (apps.runtime.services.turns_recover_stale). Only in `db_worker`: web processes never run turns.
        if len(sys.argv) > 1 and sys.argv[1] == "db_worker":
            start_recovery_thread()


_started = False


def start_recovery_thread() -> None:
    global _started
    if _started:
        return
    _started = True
    threading.Thread(target=_recovery_loop, name="turn-recovery", daemon=True).start()


def _recovery_loop() -> None:
    from django.conf import settings
    from django.db import close_old_connections, connection

    from .services import turns_recover_stale

    time.sleep(0.5)  # let the worker finish starting
    while True:
        try:
            close_old_connections()
            turns_recover_stale()
        except Exception:
            logger.exception("turn recovery sweep failed")
        finally:
            connection.close()
        time.sleep(max(1, int(getattr(settings, "RUNTIME_RECOVERY_INTERVAL_SECS", 10))))
