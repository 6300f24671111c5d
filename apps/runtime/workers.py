"""Liveness of `db_worker` processes, and the django_tasks_db rows their death leaves behind.

django_tasks_db marks a task row RUNNING when a worker claims it and only the same worker ever settles it,
so the row of a SIGKILLed (OOM-killed, machine lost) worker stays RUNNING forever. The turn itself is
resumed through its own lease (apps.runtime.scheduling.turns_recover_stale); this module settles the row:

- each db_worker process registers a `WorkerProcess` row when it starts (its first heartbeat: GET /ready looks
  for one) and records, inside the transaction that claims a task (a post_save of DBTaskResult.claim), the
  db_worker id the row carries in `worker_ids`;
- its recovery thread refreshes `heartbeat_at` every RUNTIME_RECOVERY_INTERVAL_SECS (a thread of its own,
  so a busy turn does not stop it);
- a database outage neither kills a worker nor floods its log (`OutageLog`, and the `db_worker` command of
  apps.runtime, which reconnects with back-off);
- the sweep marks FAILED (`apps.runtime.control.WorkerLost`) the RUNNING run_turn rows whose last claimant
  is a registered process without a heartbeat for the liveness window. A row of a live process, or of a
  worker that never registered (another deployment, an older release), is never touched.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, connections, transaction
from django.utils import timezone

from apps.core import metrics

from .control import WorkerLost
from .models import WorkerProcess

logger = logging.getLogger("everruns.runtime")

RUN_TURN_TASK_PATH = "apps.sessions.tasks.run_turn"
WORKER_LOST_MESSAGE = "worker lost; turn resumed by recovery"

# Set in db_worker processes only (apps.runtime.apps): web processes and tests never register.
_process: dict = {"key": None, "task_worker_id": None, "started_at": None}


def process_enable() -> str:
    """Mark this process as a worker that registers and heart-beats; returns its key."""
    if _process["key"] is None:
        _process["key"] = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:160]
        _process["started_at"] = timezone.now()
    return _process["key"]


def liveness_window_seconds() -> float:
    """How long a process may go without a heartbeat before it counts as dead.

    The turn lease (RUNTIME_TURN_LEASE_SECS), but never under three heartbeat periods, so a live
    process is not declared dead by a setting that beats less often than the lease.
    """
    interval = max(1.0, float(getattr(settings, "RUNTIME_RECOVERY_INTERVAL_SECS", 10)))
    return max(float(settings.RUNTIME_TURN_LEASE_SECS), 3 * interval)


def _upsert(task_worker_id: str | None) -> None:
    now = timezone.now()
    defaults = {
        "hostname": socket.gethostname()[:255],
        "pid": os.getpid(),
        "heartbeat_at": now,
        "started_at": _process["started_at"] or now,
    }
    if task_worker_id:
        defaults["task_worker_id"] = task_worker_id
    WorkerProcess.objects.update_or_create(key=_process["key"], defaults=defaults)


def on_task_result_saved(sender, instance, update_fields=None, **kwargs) -> None:
    """post_save of DBTaskResult: a claim by this worker process registers it (same transaction)."""
    if _process["key"] is None or not update_fields or "worker_ids" not in update_fields:
        return
    if instance.status != "RUNNING" or not instance.worker_ids:
        return
    task_worker_id = str(instance.worker_ids[-1])
    _upsert(task_worker_id)
    _process["task_worker_id"] = task_worker_id


def worker_process_beat() -> None:
    """Refresh this process's heartbeat (re-registering it if a sweep had removed it).

    From the start, before any claim: GET /ready asks for a recent worker heartbeat (`worker_ready`). A row
    without `task_worker_id` vouches for no task row; the sweep forgets it once it is stale.
    """
    if _process["key"] is None:
        return
    _upsert(_process["task_worker_id"])
    metrics.worker_heartbeat()


def worker_ready() -> str | None:
    """Readiness check "worker" (apps.core.readiness): some worker process beat within the liveness window."""
    if not getattr(settings, "READY_REQUIRE_WORKER", True):
        return None
    window = liveness_window_seconds()
    if WorkerProcess.objects.filter(heartbeat_at__gte=timezone.now() - timedelta(seconds=window)).exists():
        return None
    return f"no task worker heartbeat in the last {window:g} s"


def task_results_settle_dead() -> int:
    """Mark FAILED the RUNNING run_turn rows of dead worker processes; returns how many were settled.

    Only django_tasks_db rows can be settled (other backends keep their own books). A row is settled only
    when its last claimant (`worker_ids[-1]`) is a registered process whose heartbeat is older than the
    liveness window; each row is re-read locked and still RUNNING before it changes. Dead processes whose
    rows are all settled are forgotten (a process that was only frozen re-registers at its next beat).
    """
    stale_before = timezone.now() - timedelta(seconds=liveness_window_seconds())
    # Dead processes that never claimed a task own no row: forget them.
    WorkerProcess.objects.filter(task_worker_id__isnull=True, heartbeat_at__lt=stale_before).delete()
    backend = str(settings.TASKS.get("default", {}).get("BACKEND", ""))
    if not backend.startswith("django_tasks_db"):
        return 0
    from django_tasks_db.models import DBTaskResult

    registered = WorkerProcess.objects.filter(task_worker_id__isnull=False)
    dead = dict(registered.filter(heartbeat_at__lt=stale_before).values_list("task_worker_id", "key"))
    # A db_worker id that a live process also carries (a fixed --worker-id reused after a restart) is
    # ambiguous: its rows may be the live process's, so none of them is touched.
    for worker_id in registered.filter(heartbeat_at__gte=stale_before).values_list("task_worker_id", flat=True):
        dead.pop(worker_id, None)
    if not dead:
        return 0
    settled = 0
    running = DBTaskResult.objects.filter(status="RUNNING", task_path=RUN_TURN_TASK_PATH)
    for pk, worker_ids in running.values_list("pk", "worker_ids"):
        if not worker_ids or str(worker_ids[-1]) not in dead:
            continue
        with transaction.atomic():
            row = DBTaskResult.objects.select_for_update().filter(pk=pk, status="RUNNING").first()
            if row is None or not row.worker_ids or row.worker_ids[-1] != worker_ids[-1]:
                continue
            row.set_failed(WorkerLost(f"{WORKER_LOST_MESSAGE} (worker {dead[str(worker_ids[-1])]})"))
        settled += 1
        logger.warning("task %s: its worker %s died; marked failed", pk, dead[str(worker_ids[-1])])
    # Forget dead processes that no longer own a RUNNING row (re-read after settling).
    still_running = {str(ids[-1]) for ids in running.values_list("worker_ids", flat=True) if ids}
    forget = [key for worker_id, key in dead.items() if worker_id not in still_running]
    WorkerProcess.objects.filter(key__in=forget, heartbeat_at__lt=stale_before).delete()
    return settled


# --------------------------------------------------------------------------- database outages
DATABASE_ERRORS = (OperationalError, InterfaceError)


class OutageLog:
    """One log line when a loop loses the database and one when it is back: never one per retry."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.since: float | None = None

    def failed(self, exc: BaseException) -> None:
        if self.since is None:
            self.since = time.monotonic()
            logger.error("%s: database unavailable (%s); retrying with back-off", self.what, type(exc).__name__)

    def ok(self) -> None:
        if self.since is not None:
            logger.warning("%s: database reachable again after %.1f s", self.what, time.monotonic() - self.since)
            self.since = None


def database_reachable() -> bool:
    """Open (or re-open) this thread's connection and run one query; False while the database is away."""
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DATABASE_ERRORS:
        connections.close_all()
        return False


def metrics_collect():
    """Scrape-time metrics from the database (apps.core.metrics): queue depth, open turns, live workers."""
    from django.db.models import Count, Max
    from prometheus_client.core import GaugeMetricFamily

    from apps.sessions.models import Turn

    turns = GaugeMetricFamily(
        "everruns_turns_open", "Open turns by status (queued = waiting for a worker)", labels=["status"]
    )
    counts = dict(
        Turn.objects.filter(status__in=Turn.OPEN_STATUSES).order_by().values_list("status").annotate(n=Count("pk"))
    )
    for status in Turn.OPEN_STATUSES:
        turns.add_metric([status], counts.get(status, 0))
    yield turns
    backend = str(settings.TASKS.get("default", {}).get("BACKEND", ""))
    if backend.startswith("django_tasks_db"):
        from django_tasks_db.models import DBTaskResult

        depth = GaugeMetricFamily("everruns_task_queue_depth", "Tasks waiting for a worker, by queue", labels=["queue"])
        ready = DBTaskResult.objects.filter(status="READY").order_by().values_list("queue_name").annotate(n=Count("pk"))
        for queue_name, count in ready:
            depth.add_metric([queue_name], count)
        yield depth
    now = timezone.now()
    fresh = WorkerProcess.objects.filter(heartbeat_at__gte=now - timedelta(seconds=liveness_window_seconds()))
    yield GaugeMetricFamily(
        "everruns_workers_live", "Task worker processes with a recent heartbeat", value=fresh.count()
    )
    last = WorkerProcess.objects.aggregate(last=Max("heartbeat_at"))["last"]
    if last is not None:
        yield GaugeMetricFamily(
            "everruns_worker_last_heartbeat_age_seconds",
            "Seconds since the most recent heartbeat of any task worker",
            value=max(0.0, (now - last).total_seconds()),
        )
