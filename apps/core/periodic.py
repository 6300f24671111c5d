"""Periodic housekeeping that runs inside every task worker process (`manage.py db_worker`).

Apps register jobs from their AppConfig.ready (`periodic_register`); the worker's recovery loop
(apps.runtime.apps, every RUNTIME_RECOVERY_INTERVAL_SECS) calls `periodic_run_due()`. A job must be safe to
run in several worker processes at once (each one locks or claims what it touches in the database): every
worker runs every job, so the work continues while any worker lives. A failing job is logged and does not
stop the others.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger("everruns.periodic")


@dataclass
class _Job:
    func: Callable[[], object]
    every_secs: float
    last_run: float | None = None


_jobs: dict[str, _Job] = {}


def periodic_register(name: str, func: Callable[[], object], *, every_secs: float = 0) -> None:
    """Run `func()` from the worker loop, at most once per `every_secs` in each process (0: every cycle)."""
    _jobs[name] = _Job(func=func, every_secs=every_secs)


def periodic_run_due(*, clock: Callable[[], float] = time.monotonic) -> list[str]:
    """Run the jobs whose interval has passed; returns their names."""
    ran = []
    for name, job in list(_jobs.items()):
        now = clock()
        if job.last_run is not None and now - job.last_run < job.every_secs:
            continue
        job.last_run = now
        try:
            job.func()
        except Exception:
            logger.exception("periodic job %s failed", name)
        ran.append(name)
    return ran
