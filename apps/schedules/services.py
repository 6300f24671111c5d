"""Durable schedules: create/update/pause/resume, and firing due runs exactly once (docs/automation.md).

Firing (`schedules_run_due`, from every worker's loop): one transaction locks the due schedules with
`SELECT … FOR UPDATE SKIP LOCKED` (a second worker skips them instead of waiting), inserts a ScheduleRun per
due time (unique per (schedule, scheduled_at): even a worker that read a stale row cannot fire a time twice),
performs the target (a message into a session, or a new session and its first message) in a savepoint of
the same transaction, and moves `next_run_at` on. The run, its message and the new `next_run_at` commit
together or not at all.

Missed fires (the workers were down, or the schedule was due while nothing ran): by default the schedule
runs ONCE for the latest missed time, not once per missed time; with `catch_up_missed` the latest
`max_catch_up` missed times each run (SCHEDULE_MAX_CATCH_UP when unset), oldest first.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Q
from django.utils import timezone

from apps.core.exceptions import ApplicationError, Conflict, InvalidRequest

from .models import Schedule, ScheduleRun
from .targets import busy, perform, target_check
from .timing import Timing, cron_check, zone

logger = logging.getLogger("everruns.schedules")

TARGET_TYPE = "workflow"  # the spec's ScheduleTarget.type; our targets are all "workflows" of one step


def timing_of(schedule: Schedule) -> Timing:
    return Timing(
        cron_expression=schedule.cron_expression,
        interval_seconds=schedule.interval_seconds,
        timezone=schedule.timezone,
        anchor=schedule.anchor_at,
    )


def _when_check(cron_expression: str | None, interval_seconds: int | None) -> tuple[str | None, int | None]:
    if (cron_expression is None) == (interval_seconds is None):
        raise InvalidRequest("Give either cron_expression or interval_seconds")
    if interval_seconds is not None and interval_seconds < settings.SCHEDULE_MIN_INTERVAL_SECS:
        raise InvalidRequest(f"interval_seconds must be at least {settings.SCHEDULE_MIN_INTERVAL_SECS}")
    return (cron_check(cron_expression) if cron_expression is not None else None), interval_seconds


def _save(schedule: Schedule) -> Schedule:
    try:
        with transaction.atomic():
            schedule.full_clean(validate_unique=False, validate_constraints=False)
            schedule.save()
    except IntegrityError:
        raise Conflict("Schedule name already exists") from None
    return schedule


@transaction.atomic
def schedule_create(
    *,
    organization,
    name: str,
    target_name: str,
    target_input: dict,
    cron_expression: str | None = None,
    interval_seconds: int | None = None,
    timezone_name: str = "UTC",
    description: str | None = None,
    enabled: bool = True,
    catch_up_missed: bool = False,
    max_catch_up: int | None = None,
    max_concurrent: int | None = None,
    retry_policy: dict | None = None,
) -> Schedule:
    """Create a schedule; its first run is the first fire time after now. 409 when the name is taken."""
    cron_expression, interval_seconds = _when_check(cron_expression, interval_seconds)
    zone(timezone_name)
    schedule = Schedule(
        organization=organization,
        name=name,
        description=description,
        cron_expression=cron_expression,
        interval_seconds=interval_seconds,
        timezone=timezone_name,
        target_name=target_name,
        target_input=target_check(organization=organization, name=target_name, target_input=target_input),
        enabled=enabled,
        catch_up_missed=catch_up_missed,
        max_catch_up=max_catch_up,
        max_concurrent=max_concurrent,
        retry_policy=retry_policy,
    )
    schedule.anchor_at = timezone.now().replace(microsecond=0)  # whole seconds: fire times read back exactly
    schedule.next_run_at = timing_of(schedule).next_after(schedule.anchor_at) if enabled else None
    return _save(schedule)


_UNSET = object()


@transaction.atomic
def schedule_update(*, schedule: Schedule, **changes) -> Schedule:
    """Apply the given fields (the spec's UpdateScheduleRequest); a change of timing or `enabled` recomputes
    next_run_at from now. `target` arrives as `target_name` + `target_input`."""
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    timing_changed = False
    if "cron_expression" in changes or "interval_seconds" in changes:
        cron = changes.pop("cron_expression", _UNSET)
        interval = changes.pop("interval_seconds", _UNSET)
        if cron is not _UNSET and cron is not None:
            interval = None if interval is _UNSET else interval
        if interval is not _UNSET and interval is not None:
            cron = None if cron is _UNSET else cron
        schedule.cron_expression, schedule.interval_seconds = _when_check(
            schedule.cron_expression if cron is _UNSET else cron,
            schedule.interval_seconds if interval is _UNSET else interval,
        )
        schedule.anchor_at = timezone.now().replace(microsecond=0)  # whole seconds: fire times read back exactly
        timing_changed = True
    if "timezone_name" in changes:
        schedule.timezone = zone(changes.pop("timezone_name")).key
        timing_changed = True
    if "target_name" in changes:
        schedule.target_name = changes.pop("target_name")
        schedule.target_input = target_check(
            organization=schedule.organization, name=schedule.target_name, target_input=changes.pop("target_input")
        )
    enabled = changes.pop("enabled", None)
    for field, value in changes.items():
        setattr(schedule, field, value)
    if enabled is not None and enabled != schedule.enabled:
        return _save(_set_enabled(schedule, enabled))
    if timing_changed and schedule.enabled:
        schedule.next_run_at = timing_of(schedule).next_after(timezone.now())
    return _save(schedule)


def _set_enabled(schedule: Schedule, enabled: bool) -> Schedule:
    schedule.enabled = enabled
    if not enabled:
        schedule.next_run_at = None
    elif schedule.catch_up_missed and schedule.last_triggered_at is not None:
        # Resuming a catch-up schedule: the fires missed while paused are due now (bounded by max_catch_up).
        schedule.next_run_at = timing_of(schedule).next_after(schedule.last_triggered_at)
    else:
        schedule.next_run_at = timing_of(schedule).next_after(timezone.now())
    return schedule


@transaction.atomic
def schedule_pause(*, schedule: Schedule) -> Schedule:
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    return _save(_set_enabled(schedule, False))


@transaction.atomic
def schedule_resume(*, schedule: Schedule) -> Schedule:
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    return _save(_set_enabled(schedule, True))


def schedule_delete(*, schedule: Schedule) -> None:
    schedule.delete()


def _fire(schedule: Schedule, scheduled_at: datetime, *, trigger: str, now: datetime) -> ScheduleRun | None:
    """Insert the run for `scheduled_at` and perform it; None when that time was already fired (the constraint)."""
    try:
        with transaction.atomic():
            run = ScheduleRun.objects.create(
                schedule=schedule, scheduled_at=scheduled_at, trigger=trigger, started_at=timezone.now()
            )
    except IntegrityError:
        return None
    if busy(schedule):
        run.status, run.error = ScheduleRun.SKIPPED, "max_concurrent reached: the session's turn is still open"
    else:
        try:
            with transaction.atomic():
                run.session = perform(schedule)
            run.status = ScheduleRun.COMPLETED
        except ApplicationError as exc:
            run.status, run.error = ScheduleRun.FAILED, exc.message[:500]
        except Exception:
            logger.exception("schedule %s: run %s failed", schedule.pk, run.pk)
            run.status, run.error = ScheduleRun.FAILED, "Internal error"
    run.completed_at = timezone.now()
    run.duration_ms = max(0, int((run.completed_at - run.started_at).total_seconds() * 1000))
    run.save()
    return run


def schedules_run_due(*, now: datetime | None = None, limit: int = 50) -> int:
    """Fire every due schedule (see the module docstring); returns the number of runs made. Safe in any number of
    workers at once."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Schedule.objects.select_for_update(skip_locked=True)
            .select_related("organization")
            .filter(enabled=True, next_run_at__lte=now)
            .order_by("next_run_at")[:limit]
        )
        fired = 0
        for schedule in due:
            assert schedule.next_run_at is not None
            timing = timing_of(schedule)
            limit_ = (schedule.max_catch_up or settings.SCHEDULE_MAX_CATCH_UP) if schedule.catch_up_missed else 1
            for scheduled_at in timing.due(schedule.next_run_at, now, limit=max(1, limit_)):
                if _fire(schedule, scheduled_at, trigger="schedule", now=now) is not None:
                    fired += 1
                    schedule.last_triggered_at = scheduled_at
            schedule.next_run_at = timing.next_after(now)
            schedule.save(update_fields=["next_run_at", "last_triggered_at", "updated_at"])
    return fired


@transaction.atomic
def schedule_trigger(*, schedule: Schedule) -> ScheduleRun:
    """Run the schedule now, outside its timing (paused or not); its next_run_at does not move."""
    schedule = Schedule.objects.select_for_update().select_related("organization").get(pk=schedule.pk)
    now = timezone.now()
    run = _fire(schedule, now, trigger="manual", now=now)
    assert run is not None  # manual runs are not unique per time
    return run


@dataclass(frozen=True)
class ScheduleStats:
    total_executions: int
    successful_executions: int
    failed_executions: int
    skipped_executions: int
    avg_duration_ms: int | None
    last_execution_status: str | None


def schedule_stats(*, schedule: Schedule) -> ScheduleStats:
    runs = ScheduleRun.objects.filter(schedule=schedule)
    counts = runs.aggregate(
        total=Count("id"),
        completed=Count("id", filter=Q(status=ScheduleRun.COMPLETED)),
        failed=Count("id", filter=Q(status=ScheduleRun.FAILED)),
        skipped=Count("id", filter=Q(status=ScheduleRun.SKIPPED)),
        avg=Avg("duration_ms"),
    )
    last = runs.order_by("-started_at", "-id").values_list("status", flat=True).first()
    avg = counts["avg"]
    return ScheduleStats(
        total_executions=counts["total"],
        successful_executions=counts["completed"],
        failed_executions=counts["failed"],
        skipped_executions=counts["skipped"],
        avg_duration_ms=int(avg) if avg is not None else None,
        last_execution_status=last,
    )
