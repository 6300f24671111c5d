"""The operations dashboard on the admin index: what runs, what waits, what fails, who uses it, how fast.

`dashboard_get()` reads it in a constant number of queries whatever the data size (tests/admin/
test_dashboard.py asserts it), each kept to an index:
1. turns: running / queued / paused now, the oldest queued turn, and turns finished and failed in the last
   hour and day (error rate = failed / finished). Indexes on Turn.status and Turn.finished_at;
2. the task queue: django_tasks_db rows READY to run and the oldest (its partial index on READY rows);
3. worker processes seen in the last day, with their heartbeat age (alive: within the liveness window);
4. top agents by the tokens of their turns started in the last day (index on Turn.created_at);
5. model latency p50 / p95 per model over the last day's `llm.generation` events (a partial index on their
   `ts`): the latest LATENCY_SAMPLE calls, the percentiles computed here, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Min, Q, Sum
from django.utils import timezone

from apps.sessions.event_types import EventType
from apps.sessions.models import Event, Turn

from .models import WorkerProcess
from .workers import liveness_window_seconds

TOP_AGENTS = 10
WORKERS_SHOWN = 50
LATENCY_SAMPLE = 5000
FINISHED = (Turn.STATUS_COMPLETED, Turn.STATUS_FAILED, Turn.STATUS_CANCELLED)


@dataclass
class Window:
    """Turns that ended in a time window: how many, how many failed, the error rate in percent."""

    finished: int
    failed: int

    @property
    def error_rate(self) -> float | None:
        return round(100 * self.failed / self.finished, 1) if self.finished else None


@dataclass
class Dashboard:
    now: datetime
    running: int
    queued: int
    paused: int
    oldest_queued_age: timedelta | None
    last_hour: Window
    last_day: Window
    queue_depth: int | None  # None: the task backend cannot be asked (not django_tasks_db)
    oldest_task_age: timedelta | None
    workers: list[dict] = field(default_factory=list)
    workers_alive: int = 0
    top_agents: list[dict] = field(default_factory=list)
    latency: list[dict] = field(default_factory=list)

    @property
    def oldest_queued_text(self) -> str:
        return age_text(self.oldest_queued_age)

    @property
    def oldest_task_text(self) -> str:
        return age_text(self.oldest_task_age)


def age_text(age: timedelta | None) -> str:
    """`42 s`, `7 min`, `3 h 5 min`, `2 d 4 h`: an age an operator reads at a glance ("" for none)."""
    if age is None:
        return ""
    seconds = int(age.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min"
    return f"{hours // 24} d {hours % 24} h"


def _age(now: datetime, then: datetime | None) -> timedelta | None:
    return max(now - then, timedelta(0)) if then else None


def _turns(now: datetime) -> dict[str, Any]:
    hour, day = now - timedelta(hours=1), now - timedelta(days=1)
    ended = Q(status__in=FINISHED)
    return Turn.objects.filter(Q(status__in=Turn.OPEN_STATUSES) | Q(finished_at__gte=day)).aggregate(
        running=Count("pk", filter=Q(status=Turn.STATUS_RUNNING)),
        queued=Count("pk", filter=Q(status=Turn.STATUS_QUEUED)),
        paused=Count("pk", filter=Q(status=Turn.STATUS_PAUSED)),
        oldest_queued=Min("created_at", filter=Q(status=Turn.STATUS_QUEUED)),
        finished_hour=Count("pk", filter=ended & Q(finished_at__gte=hour)),
        failed_hour=Count("pk", filter=Q(status=Turn.STATUS_FAILED, finished_at__gte=hour)),
        finished_day=Count("pk", filter=ended & Q(finished_at__gte=day)),
        failed_day=Count("pk", filter=Q(status=Turn.STATUS_FAILED, finished_at__gte=day)),
    )


def _task_queue() -> dict[str, Any] | None:
    if not str(settings.TASKS.get("default", {}).get("BACKEND", "")).startswith("django_tasks_db"):
        return None
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(status="READY").aggregate(depth=Count("pk"), oldest=Min("enqueued_at"))


def _workers(now: datetime) -> list[dict]:
    alive_after = now - timedelta(seconds=liveness_window_seconds())
    rows = WorkerProcess.objects.filter(heartbeat_at__gte=now - timedelta(days=1)).order_by("-heartbeat_at")
    return [
        {
            "key": row.key,
            "hostname": row.hostname,
            "pid": row.pid,
            "heartbeat_age": age_text(_age(now, row.heartbeat_at)),
            "alive": row.heartbeat_at >= alive_after,
        }
        for row in rows[:WORKERS_SHOWN]
    ]


def _top_agents(now: datetime) -> list[dict]:
    rows = (
        Turn.objects.filter(created_at__gte=now - timedelta(days=1))
        .values("session__agent_id", "session__agent__name", "session__organization__name")
        .annotate(
            turns=Count("pk"),
            failed=Count("pk", filter=Q(status=Turn.STATUS_FAILED)),
            tokens_in=Sum("input_tokens"),
            tokens_out=Sum("output_tokens"),
            tokens=Sum(F("input_tokens") + F("output_tokens")),
        )
        .order_by("-tokens", "-turns", "session__agent__name")[:TOP_AGENTS]
    )
    return [
        {
            "agent_id": row["session__agent_id"],
            "name": row["session__agent__name"],
            "organization": row["session__organization__name"],
            "turns": row["turns"],
            "failed": row["failed"],
            "input_tokens": row["tokens_in"] or 0,
            "output_tokens": row["tokens_out"] or 0,
            "tokens": row["tokens"] or 0,
        }
        for row in rows
    ]


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` quantile of `values` (inclusive method: p50 of [1, 2] is 1.5, of one value that value)."""
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[round(fraction * 100) - 1]


def _latency(now: datetime) -> list[dict]:
    rows = (
        Event.objects.filter(type=EventType.LLM_GENERATION, ts__gte=now - timedelta(days=1))
        .order_by("-ts")
        .values_list("data__metadata__model", "data__metadata__duration_ms")[:LATENCY_SAMPLE]
    )
    by_model: dict[str, list[float]] = {}
    for model, duration in rows:
        if isinstance(duration, int | float):
            by_model.setdefault(str(model or "(none)"), []).append(float(duration))
    return [
        {
            "model": model,
            "calls": len(durations),
            "p50_ms": round(percentile(durations, 0.50)),
            "p95_ms": round(percentile(durations, 0.95)),
        }
        for model, durations in sorted(by_model.items(), key=lambda item: (-len(item[1]), item[0]))
    ]


def dashboard_get(*, now: datetime | None = None) -> Dashboard:
    """The dashboard's numbers, in five queries (four without django_tasks_db)."""
    now = now or timezone.now()
    turns = _turns(now)
    queue = _task_queue()
    workers = _workers(now)
    return Dashboard(
        now=now,
        running=turns["running"],
        queued=turns["queued"],
        paused=turns["paused"],
        oldest_queued_age=_age(now, turns["oldest_queued"]),
        last_hour=Window(finished=turns["finished_hour"], failed=turns["failed_hour"]),
        last_day=Window(finished=turns["finished_day"], failed=turns["failed_day"]),
        queue_depth=queue["depth"] if queue is not None else None,
        oldest_task_age=_age(now, queue["oldest"]) if queue is not None else None,
        workers=workers,
        workers_alive=sum(1 for w in workers if w["alive"]),
        top_agents=_top_agents(now),
        latency=_latency(now),
    )
