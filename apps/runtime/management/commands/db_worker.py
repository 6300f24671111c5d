"""`manage.py db_worker`: django_tasks_db's worker, made to ride out database outages.

The library's worker exits on any OperationalError while polling or settling a task, so one PostgreSQL
restart used to stop every worker for good. This command is the same worker (same options), whose loop:

- on a database error, logs once (OutageLog), drops its connections and retries with exponential
  back-off (DB_WORKER_BACKOFF_MIN_SECS .. DB_WORKER_BACKOFF_MAX_SECS) until `SELECT 1` works again;
- then marks the task row it was running when the database went away as failed (WorkerLost): the turn
  itself is resumed by recovery once its lease expires (apps.runtime.scheduling), never run twice;
- still stops at once on SIGINT/SIGTERM, also in the middle of a back-off.

It overrides django_tasks_db's command because apps.runtime precedes django_tasks_db in INSTALLED_APPS.
"""

import time

from django.conf import settings
from django.db import connections
from django_tasks_db.management.commands import db_worker as base

from apps.runtime.control import WorkerLost
from apps.runtime.workers import DATABASE_ERRORS, OutageLog, database_reachable


class ResilientWorker(base.Worker):
    """base.Worker whose run() survives database outages (see the module docstring)."""

    interrupted = None  # the DBTaskResult being run when the database went away

    def run_task(self, db_task_result) -> None:
        self.interrupted = db_task_result
        super().run_task(db_task_result)  # raises only when even recording the outcome failed
        self.interrupted = None

    def run(self) -> None:
        outage = OutageLog("db_worker")
        while True:
            try:
                super().run()
                return  # stopped (signal), batch done or --max-tasks reached
            except DATABASE_ERRORS as exc:
                outage.failed(exc)
            connections.close_all()
            if not self._wait_for_database():
                return
            outage.ok()
            self._settle_interrupted()

    def _wait_for_database(self) -> bool:
        delay = float(getattr(settings, "DB_WORKER_BACKOFF_MIN_SECS", 0.5))
        ceiling = float(getattr(settings, "DB_WORKER_BACKOFF_MAX_SECS", 10))
        while self.running:
            deadline = time.monotonic() + delay
            while self.running and time.monotonic() < deadline:
                time.sleep(min(0.1, deadline - time.monotonic()))
            if self.running and database_reachable():
                return True
            delay = min(delay * 2, ceiling)
        return False

    def _settle_interrupted(self) -> None:
        row, self.interrupted = self.interrupted, None
        if row is None:
            return
        try:
            fresh = type(row).objects.filter(pk=row.pk, status="RUNNING").first()
            if fresh is not None:
                fresh.set_failed(WorkerLost("database outage; turn resumed by recovery"))
        except DATABASE_ERRORS:
            pass  # gone again: the next outage round retries nothing; the sweep settles it when we die


class Command(base.Command):
    help = "Run django.tasks (agent turns) from the database queue, riding out database outages."

    def handle(self, **options) -> None:
        # The library's handle() builds its Worker by name: build ours instead, with the same arguments.
        original = base.Worker
        base.Worker = ResilientWorker  # type: ignore[misc]
        try:
            super().handle(**options)
        finally:
            base.Worker = original  # type: ignore[misc]
