import atexit
import gc
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
        # The sessions app enqueues turns and its `run_turn` task runs what is registered here: the only
        # wiring between the two apps, so apps.sessions never imports apps.runtime (pyproject.toml,
        # [tool.importlinter]). A dotted path: imported by the first task, not by every web process.
        from apps.sessions.tasks import turn_runner_register

        turn_runner_register("apps.runtime.runner.turn_run_pending")
        # GET /ready (apps.core.readiness) also asks for a recent worker heartbeat.
        from apps.core.metrics import scrape_collector_register
        from apps.core.readiness import readiness_check_register

        from .workers import metrics_collect, worker_ready

        readiness_check_register("worker", worker_ready)
        scrape_collector_register("runtime", metrics_collect)  # GET /metrics: queue depth, live workers
        # django-tasks-db leaves the task of a killed worker RUNNING forever and never retries it, so each
        # worker process also watches for turns whose worker stopped heart-beating and requeues them
        # (apps.runtime.scheduling.turns_recover_stale). Only in worker processes (`db_worker`, or
        # `run_redis_tasks` on the Redis backend): web processes never run turns.
        # The same threads register the process and keep its heartbeat, so the django_tasks_db row of a
        # killed worker can be settled (apps.runtime.workers). The same loop runs the periodic jobs other apps
        # register (apps.core.periodic: due schedules, the webhook delivery sweep, Idempotency-Key pruning).
        if len(sys.argv) > 1 and sys.argv[1] in WORKER_COMMANDS:
            register_worker_process()
            start_recovery_thread()
            # SIGTERM ends a worker in ~0.1 s instead of 1-3 s: the final garbage collection over the whole
            # loaded heap is skipped (the process is exiting; exit status and atexit handlers are unchanged).
            atexit.register(gc.freeze)


# The task worker commands of the supported backends: django-tasks-db and django-tasks-redis.
WORKER_COMMANDS = frozenset({"db_worker", "run_redis_tasks"})


def register_worker_process() -> None:
    from django.apps import apps
    from django.db.models.signals import post_save

    from .workers import on_task_result_saved, process_enable

    process_enable()  # heart-beats from now on (GET /ready, worker_health)
    if not apps.is_installed("django_tasks_db"):
        return
    from django_tasks_db.models import DBTaskResult

    post_save.connect(on_task_result_saved, sender=DBTaskResult, dispatch_uid="runtime.worker_process_register")


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

    from apps.core.periodic import periodic_run_due

    from .scheduling import turns_recover_stale
    from .workers import DATABASE_ERRORS, OutageLog, worker_process_beat

    outage = OutageLog("turn recovery")  # a database outage is logged once, not every interval
    time.sleep(0.5)  # let the worker finish starting
    while True:
        try:
            close_old_connections()
            worker_process_beat()
            turns_recover_stale()
            outage.ok()
        except DATABASE_ERRORS as exc:
            outage.failed(exc)
        except Exception:
            logger.exception("turn recovery sweep failed")
        try:
            if outage.since is None:  # during an outage every job would fail and log, each cycle
                periodic_run_due()  # other apps' housekeeping: schedules, webhooks, keys (apps.core.periodic)
        except DATABASE_ERRORS as exc:
            outage.failed(exc)
        except Exception:
            logger.exception("periodic jobs failed")
        finally:
            connection.close()
        time.sleep(max(1, int(getattr(settings, "RUNTIME_RECOVERY_INTERVAL_SECS", 10))))
