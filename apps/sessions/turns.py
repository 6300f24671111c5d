"""The session and turn lifecycle: the one place that moves a session or a turn from one state to another.

Every status write of a `Session` or a `Turn` and every lifecycle event (`session.*`, `turn.*`; see
`EventType.lifecycle`) happens here and nowhere else (tests/sessions/test_lifecycle_ownership.py scans the
source tree for writes elsewhere). Each transition runs in one transaction that holds the session row lock
(the lock order of the whole code base: the session row first, then its turns) and writes the rows and the
events together, so a reader never sees a status without its event or the other way round.

States::

    Turn                                                     Session
    ----                                                     -------
                queue (message arrives)                      started ──begin──> active
                        │                                    idle    ──begin──> active
                        v                                    active  ──pause──> waitingfortoolresults
        ┌──────────> queued ──claim+begin──> running          waitingfortoolresults ──resume──> active
        │               │   <──requeue (lease    │  │         active ──finish/idle──> idle
        │               │       expired)         │  │         (no terminal state: a session lives on)
        │               │ claim (cancel          │  pause
        │               │  requested before      │  v
        │               │  it started)         paused ──cancel──> queued (cancel_requested)
        │               v                        │
        │          cancelled <──finish───────────┤ (running; any worker: `claim` takes a queued or
        │                                        │  lease-expired turn; a resumed one continues)
        └──resume (client answered)── paused     ├──finish──> completed
                                                 └──finish──> failed

Who calls what:
- `admit`           apps.sessions.services.message_create, before a message that would start a turn is
                    stored: every registered admission check (`admission_check_register`; apps.usage's
                    budgets) may refuse it with an ApplicationError (422).
- `start`           apps.sessions.services.session_create: `session.started`.
- `queue`           apps.sessions.services.message_create: a `queued` turn when the session has none open;
                    the turn task is enqueued on commit (`apps.sessions.tasks.enqueue_turn`).
- `claim`           the task (apps.runtime.scheduling): takes the queued turn and `begin`s it
                    (`session.activated`, `turn.started`), takes over a running turn whose lease expired
                    (`Turn.resumed` = True, no events), creates a follow-up turn for an unanswered
                    message, or settles a queued turn cancelled before it started.
- `pause`           the runner: running -> paused, session `waitingfortoolresults` (the status the
                    published spec uses for a session waiting for its client), `turn.paused`. A paused
                    turn is a row, not a waiting thread: the worker returns.
- `resume`          whoever receives the client's answer: paused -> queued (session `active` again),
                    `turn.resumed`, the task enqueued on commit; any worker's `claim` then continues it.
- `finish`          the runner: running -> completed | failed | cancelled with `turn.completed` /
                    `turn.failed` (cancelled: `turn.cancelled` was appended when the cancel was asked),
                    then `idle`.
- `idle`            session -> idle with `session.idled` (also for an `active` session left without a turn).
- `cancel`          apps.sessions.services.session_cancel: `cancel_requested`, `turn.cancelled`; a paused
                    turn is queued again so a worker runs the cancel sequence (see `cancel`).
- `requeue`         the recovery sweep (apps.runtime.scheduling): a running turn whose worker stopped
                    heart-beating goes back to `queued` and the task is enqueued again.
- `rerun`           apps.sessions.services.session_resume (POST .../resume): the session's last turn failed or
                    was cancelled; a new `queued` turn for the same input message, enqueued on commit.
- `fork`            apps.sessions.forks.session_fork: the fork's log is a copy of the parent's up to the fork
                    point (lifecycle events included); it is `idle` when the copy holds a finished turn.

Transactions: each function is atomic without a savepoint of its own (`savepoint=False`): called inside a
caller's transaction (the runner stores its closing message and `finish`es in one), a failure aborts the
whole, and no SAVEPOINT round trips are added to a turn.

Open turns (`Turn.OPEN_STATUSES`: queued, running, paused): at most one per session, enforced by a partial
unique constraint. docs/runtime.md has the same diagram and the module split around it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core import metrics
from apps.core.exceptions import Conflict, NotFound, Unprocessable
from apps.core.fields import format_ts
from apps.core.ids import format_id, new_id, parse_id
from apps.core.logcontext import log_fields
from apps.core.usage import UsageFields

from . import tasks
from .event_types import EventType
from .events import event_append
from .models import Event, Session, Turn

logger = logging.getLogger("everruns.turns")

SESSION_NOT_FOUND = "Session not found"
NOT_ACTIVE_MESSAGE = "Cannot cancel session: session is not active"
NOT_WAITING_MESSAGE = "Session is not waiting for the client"
CANCEL_REASON = "User requested cancellation"
# The agent message that closes a cancelled turn (contract 6.4).
CANCELLED_MESSAGE = "Work was cancelled by user."

PAUSE_REASONS = ("tool_results", "approval", "input")
RERUN_BUSY_MESSAGE = "Cannot resume session: a turn is in progress"
RERUN_NOTHING_MESSAGE = "Cannot resume session: the last turn neither failed nor was cancelled"
RERUNNABLE_STATUSES = ("failed", "cancelled")


class TurnLost(Exception):
    """Another worker took the turn over (our lease expired): stop without writing anything more."""


class InputCursor(Protocol):
    """Which user messages turns have answered: kept by the runner (apps.runtime), consulted by `claim`."""

    def first_unanswered(self, session_id: Any) -> dict | None:
        """`data.message` of the first user message no turn has dealt with (cancellation notices excluded)."""

    def answered_through(self, session_id: Any, sequence: int) -> None:
        """Everything up to `sequence` is dealt with."""


def lock_session(session_id: Any) -> Session:
    """Lock the session row for the rest of the transaction; missing (deleted meanwhile) -> 404.

    The lock order of the whole code base: the session row first, then its turns (runtime, cancel,
    delete, recovery); event_append takes the same row. One order means no deadlocks between them.
    """
    session = Session.objects.select_for_update().filter(pk=session_id).first()
    if session is None:
        raise NotFound(SESSION_NOT_FOUND)
    return session


def _lock_if_present(session_id: Any) -> bool:
    """lock_session for sweeps: a session deleted meanwhile is simply skipped (False)."""
    return Session.objects.select_for_update().filter(pk=session_id).values_list("pk", flat=True).first() is not None


def _append(session_id: Any, type: EventType, data: dict, context: dict | None = None) -> Event:
    return event_append(session_id=session_id, type=type, data=data, context=context)


def _enqueue_on_commit(session_id: Any, *, robust: bool) -> None:
    # Looked up at call time: tests replace apps.sessions.tasks.enqueue_turn.
    transaction.on_commit(lambda: tasks.enqueue_turn(session_id), robust=robust)


def _turn_context(turn_key: str | None) -> dict:
    return {"turn_id": turn_key, "trace_id": turn_key}


# --------------------------------------------------------------------------- admission
# Checks registered by apps above sessions (apps.usage registers its budget check in its AppConfig.ready),
# so the dependency runs one way, as for the turn runner (apps.sessions.tasks.turn_runner_register).
_admission_checks: list[Callable[[Session], None]] = []


def admission_check_register(check: Callable[[Session], None]) -> None:
    """Register `check(session)`, run by `admit` before a turn may be asked for; it refuses by raising."""
    if check not in _admission_checks:
        _admission_checks.append(check)


def admit(*, session: Session) -> None:
    """May a new turn be asked for in `session`? Each registered check may refuse by raising an
    ApplicationError (e.g. 422 "Cannot start turn: budget exceeded"). Called outside the message's
    transaction, so what a check records about its refusal (an event) is kept."""
    for check in _admission_checks:
        check(session)


# --------------------------------------------------------------------------- session start
def start(*, session: Session, data: dict) -> Event:
    """A new session (status `started`, set by the model's default) announces itself: `session.started`.

    Called by session_create in the transaction that inserted the row (nobody else can see it yet).
    """
    return _append(session.pk, EventType.SESSION_STARTED, data)


# --------------------------------------------------------------------------- queue
def queue(*, session_id: Any, input_message_id: Any) -> Turn | None:
    """A user message arrived: a `queued` turn for it when the session has no open turn; enqueue the task.

    Runs inside message_create's transaction, after its event_append, which holds the session row lock
    (an UPDATE of the row), so this check-then-insert cannot race another message; the partial unique
    constraint stays the arbiter regardless. The task is enqueued on commit in every case (a message
    posted while a turn is open is read by that turn or its follow-up, which the task checks); `robust`:
    the message is committed whatever happens to the queue, a failed enqueue is logged, not a 500.
    Returns the new turn, or None when one was already open.
    """
    turn = None
    if not Turn.objects.filter(session_id=session_id, status__in=Turn.OPEN_STATUSES).exists():
        turn = Turn(session_id=session_id, status=Turn.STATUS_QUEUED, input_message_id=input_message_id)
        turn.full_clean(exclude=["session"], validate_unique=False, validate_constraints=False)
        turn.save(force_insert=True)
    _enqueue_on_commit(session_id, robust=True)
    return turn


# --------------------------------------------------------------------------- claim / begin
@transaction.atomic(savepoint=False)
def claim(*, session_id: Any, worker_id: str, lease: timedelta, inputs: InputCursor) -> Turn | None:
    """A worker takes the session's turn: the queued one, a running one whose lease expired, or a new one.

    - queued and never started: started here (running, owned by `worker_id`) and `begin`; if it was
      cancelled before any worker claimed it, it is settled instead (the cancel completion: the agent's
      "Work was cancelled by user.", cancelled, `idle`) and messages after the notice get a new turn;
    - queued after a start (requeued by recovery, resumed after a pause) or running with a heartbeat older
      than `lease`: taken over; `turn.resumed` is True and no event is appended (the runner continues
      from the stored events);
    - paused: nobody may take it until `resume`; running with a fresh heartbeat: another worker has it;
    - no open turn: a new running turn for the first unanswered message (`inputs`), then `begin`.
    Returns None when there is nothing to do or the turn is someone else's. The session row lock is taken
    first; every status change is also guarded by the status it expects, so two tasks for one turn (a
    re-enqueue racing the original) never both take it.
    """
    session = Session.objects.select_for_update().filter(pk=session_id).first()
    if session is None:
        return None
    now = timezone.now()
    turn = Turn.objects.filter(session_id=session_id, status__in=Turn.OPEN_STATUSES).first()
    if turn is not None and turn.status == Turn.STATUS_PAUSED:
        return None
    if turn is not None and turn.status == Turn.STATUS_QUEUED and turn.started_at is None:
        if turn.cancel_requested:
            _finish_unstarted_cancel(turn, now, inputs)
            turn = None
        else:
            if not Turn.objects.filter(pk=turn.pk, status=Turn.STATUS_QUEUED, started_at__isnull=True).update(
                status=Turn.STATUS_RUNNING, worker_id=worker_id, heartbeat_at=now, started_at=now, updated_at=now
            ):
                return None
            turn.refresh_from_db()
            begin(session=session, turn=turn, message=inputs.first_unanswered(session_id) or {}, now=now)
            return turn
    if turn is not None:
        fresh = turn.heartbeat_at is not None and turn.heartbeat_at >= now - lease
        if turn.status == Turn.STATUS_RUNNING and fresh:
            return None
        taken = Turn.objects.filter(pk=turn.pk, status=turn.status, worker_id=turn.worker_id).update(
            status=Turn.STATUS_RUNNING, worker_id=worker_id, heartbeat_at=now, started_at=turn.started_at or now
        )
        if not taken:
            return None
        turn.refresh_from_db()
        turn.resumed = True
        return turn

    message = inputs.first_unanswered(session_id)
    if message is None:
        if session.status == Session.STATUS_ACTIVE:
            # Active without an open turn cannot happen through this module; settle it rather than leave it.
            Session.objects.filter(pk=session_id).update(status=Session.STATUS_IDLE, updated_at=now)
        return None
    turn = Turn(
        session_id=session_id,
        status=Turn.STATUS_RUNNING,
        worker_id=worker_id,
        heartbeat_at=now,
        started_at=now,
        input_message_id=parse_id("message", message.get("id")),
    )
    # The partial unique constraint is the arbiter and the session row is locked above: validating
    # uniqueness or the foreign key up front would only add queries to every turn.
    turn.full_clean(exclude=["session"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            turn.save(force_insert=True)
    except IntegrityError:
        return None
    begin(session=session, turn=turn, message=message, now=now)
    return turn


def begin(*, session: Session, turn: Turn, message: dict, now: datetime) -> None:
    """A claimed turn starts: session `active` (and `started_at`), `session.activated`, `turn.started` (6.2).

    Only `claim` calls it, under the session row lock it took. A turn `rerun` for a message that was already
    answered gets no `message` from the input cursor: its own input message is read back here.
    """
    from .services import message_text

    if not message and turn.input_message_id is not None:
        message = _input_message(session.pk, turn.input_message_id)
    turn.resumed = False
    updates: dict[str, Any] = {"status": Session.STATUS_ACTIVE, "updated_at": now}
    if session.started_at is None:
        updates["started_at"] = now
    Session.objects.filter(pk=session.pk).update(**updates)
    turn_key = format_id("turn", turn.pk)
    message_id = message.get("id") or (format_id("message", turn.input_message_id) if turn.input_message_id else None)
    context = {"turn_id": turn_key, "input_message_id": message_id, "trace_id": turn_key, "span_id": turn_key}
    _append(session.pk, EventType.SESSION_ACTIVATED, {"turn_id": turn_key, "input_message_id": message_id}, context)
    _append(
        session.pk,
        EventType.TURN_STARTED,
        {"turn_id": turn_key, "input_message_id": message_id, "input_content": message_text(message.get("content"))},
        context,
    )
    transaction.on_commit(metrics.turn_started)


def _input_message(session_id: Any, message_id: Any) -> dict:
    """`data.message` of the session's user message with this id ({} when it is gone)."""
    data = (
        Event.objects.filter(
            session_id=session_id, type=EventType.INPUT_MESSAGE, data__message__id=format_id("message", message_id)
        )
        .values_list("data", flat=True)
        .first()
    )
    return (data or {}).get("message") or {}


def _finish_unstarted_cancel(turn: Turn, now: datetime, inputs: InputCursor) -> None:
    """A queued turn cancelled before any worker claimed it: the cancel completion of 6.4, no model call."""
    session_id = turn.session_id
    turn_key = format_id("turn", turn.pk)
    Turn.objects.filter(pk=turn.pk).update(status=Turn.STATUS_CANCELLED, finished_at=now, updated_at=now)
    context = _turn_context(turn_key)
    message = {
        "id": new_id("message"),
        "role": "agent",
        "content": [{"type": "text", "text": CANCELLED_MESSAGE}],
        "created_at": format_ts(now),
    }
    _append(session_id, EventType.OUTPUT_MESSAGE_COMPLETED, {"message": message}, context)
    _idle(session_id, now=now, turn_key=turn_key, iterations=0, usage=None, context=context)
    inputs.answered_through(session_id, last_cancellation_sequence(session_id))
    _observe_finished(session_id, turn_key, Turn.STATUS_CANCELLED, None)  # never started: no duration


def last_cancellation_sequence(session_id: Any) -> int:
    """The sequence of the session's latest cancellation notice (0 when there is none)."""
    return (
        Event.objects.filter(session_id=session_id, type=EventType.INPUT_MESSAGE, metadata__cancellation=True)
        .order_by("-sequence")
        .values_list("sequence", flat=True)
        .first()
    ) or 0


# --------------------------------------------------------------------------- pause / resume
@transaction.atomic(savepoint=False)
def pause(*, turn: Turn, worker_id: str, reason: str, request: dict | None = None) -> Turn:
    """The running turn waits for its client (`reason`: tool_results | approval | input; `request`: what
    the client is asked for, published in `turn.paused`).

    running -> paused (no worker, no heartbeat: the recovery sweep leaves it alone), session ->
    `waitingfortoolresults`, `turn.paused`. The worker then returns; the turn waits in the database,
    and `resume` hands it to whichever worker claims it next. Raises TurnLost when `worker_id` no longer
    owns the running turn.
    """
    if reason not in PAUSE_REASONS:
        raise ValueError(f"pause reason must be one of {PAUSE_REASONS}")
    _lock_if_present(turn.session_id)  # a deleted session: its turn is gone too, TurnLost below
    now = timezone.now()
    if not Turn.objects.filter(pk=turn.pk, worker_id=worker_id, status=Turn.STATUS_RUNNING).update(
        status=Turn.STATUS_PAUSED, worker_id=None, heartbeat_at=None, updated_at=now
    ):
        raise TurnLost
    Session.objects.filter(pk=turn.session_id).update(status=Session.STATUS_WAITING, updated_at=now)
    turn_key = format_id("turn", turn.pk)
    _append(
        turn.session_id,
        EventType.TURN_PAUSED,
        {"turn_id": turn_key, "reason": reason, "request": request},
        _turn_context(turn_key),
    )
    turn.refresh_from_db()
    return turn


@transaction.atomic(savepoint=False)
def resume(*, session_id: Any, reason: str | None = None) -> Turn:
    """The client answered: the session's paused turn is queued again, the task enqueued on commit.

    paused -> queued (`started_at` kept, so `claim` continues it instead of starting it), session ->
    `active`, `turn.resumed`. Whatever the client sent (tool results, an approval) is appended by the
    caller in the same transaction, before or after this. No paused turn -> 409.
    """
    lock_session(session_id)
    turn = Turn.objects.filter(session_id=session_id, status=Turn.STATUS_PAUSED).first()
    if turn is None:
        raise Conflict(NOT_WAITING_MESSAGE)
    _requeue_paused(turn)
    turn_key = format_id("turn", turn.pk)
    _append(session_id, EventType.TURN_RESUMED, {"turn_id": turn_key, "reason": reason}, _turn_context(turn_key))
    _enqueue_on_commit(session_id, robust=True)
    turn.refresh_from_db()
    return turn


def _requeue_paused(turn: Turn) -> None:
    now = timezone.now()
    Turn.objects.filter(pk=turn.pk, status=Turn.STATUS_PAUSED).update(
        status=Turn.STATUS_QUEUED, heartbeat_at=now, updated_at=now
    )
    Session.objects.filter(pk=turn.session_id).update(status=Session.STATUS_ACTIVE, updated_at=now)


# --------------------------------------------------------------------------- finish / idle
def _turn_usage(turn_pk: Any) -> dict | None:
    values = Turn.objects.filter(pk=turn_pk).values(*UsageFields.USAGE_KEYS).first() or {}
    return values if any(values.values()) else None


@transaction.atomic(savepoint=False)
def finish(
    *,
    turn: Turn,
    worker_id: str,
    status: str,
    iterations: int,
    context: dict,
    duration_ms: int | None = None,
    input_content: str | None = None,
    error: str | None = None,
    error_code: str | None = None,
    detail: str = "",
) -> None:
    """The running turn ends (completed, failed or cancelled), then the session goes `idle`.

    One transaction with the session row lock: the turn's status (guarded: still running and owned by
    `worker_id`, else TurnLost and nothing is written), `turn.completed` (with the turn's usage) or
    `turn.failed` (`error` is the public text, `detail` the internal one kept on the row), then `idle`.
    A cancelled turn appends no turn event here: `turn.cancelled` was appended when the cancel was asked.
    The runner writes its closing agent message in the same transaction, before calling this.
    """
    if status not in (Turn.STATUS_COMPLETED, Turn.STATUS_FAILED, Turn.STATUS_CANCELLED):
        raise ValueError(f"not a final turn status: {status}")
    _lock_if_present(turn.session_id)  # a deleted session: its turn is gone too, TurnLost below
    now = timezone.now()
    updates: dict[str, Any] = {"status": status, "finished_at": now, "heartbeat_at": now}
    if status == Turn.STATUS_FAILED:
        updates.update(error=detail[:4000], error_code=error_code)
    if not Turn.objects.filter(pk=turn.pk, worker_id=worker_id, status=Turn.STATUS_RUNNING).update(**updates):
        raise TurnLost
    usage = _turn_usage(turn.pk)
    turn_key = format_id("turn", turn.pk)
    if status == Turn.STATUS_COMPLETED:
        data = {
            "turn_id": turn_key,
            "iterations": iterations,
            "duration_ms": duration_ms,
            "usage": usage,
            "input_content": input_content,
        }
        _append(turn.session_id, EventType.TURN_COMPLETED, data, context)
    elif status == Turn.STATUS_FAILED:
        _append(
            turn.session_id,
            EventType.TURN_FAILED,
            {"turn_id": turn_key, "error": error, "error_code": error_code},
            context,
        )
    _idle(turn.session_id, now=now, turn_key=turn_key, iterations=iterations, usage=usage, context=context)
    seconds = (now - turn.started_at).total_seconds() if turn.started_at else None
    _observe_finished(turn.session_id, turn_key, status, seconds)


def _observe_finished(session_id: Any, turn_key: str, status: str, seconds: float | None) -> None:
    """Metrics and the log line of a turn's end, once the transition is committed."""
    # The log context of the caller now (its organization, request or worker), for a line written at commit.
    fields = {**log_fields(), "session_id": format_id("session", session_id), "turn_id": turn_key}

    def observe() -> None:
        metrics.turn_finished(status, seconds)
        after = f" after {seconds:.3f} s" if seconds is not None else ""
        logger.info("%s %s%s", turn_key, status, after, extra=fields)

    transaction.on_commit(observe)


def _idle(
    session_id: Any,
    *,
    now: datetime,
    turn_key: str | None = None,
    iterations: int | None = None,
    usage: dict | None = None,
    context: dict | None = None,
    only_if_active: bool = False,
) -> bool:
    sessions = Session.objects.filter(pk=session_id)
    if only_if_active:
        sessions = sessions.filter(status=Session.STATUS_ACTIVE)
    if not sessions.update(status=Session.STATUS_IDLE, updated_at=now) and only_if_active:
        return False
    data: dict[str, Any] = {"turn_id": turn_key}
    if turn_key is not None:
        data.update(iterations=iterations, usage=usage)
    _append(session_id, EventType.SESSION_IDLED, data, context)
    return True


@transaction.atomic(savepoint=False)
def idle(*, session_id: Any, only_if_active: bool = False) -> bool:
    """The session goes `idle` with `session.idled` (`turn_id: null`) outside any turn: an `active` session
    whose turn is gone (its worker died before creating one; the recovery sweep and the cancel endpoint
    settle it). `only_if_active`: do nothing (False) unless it is still active."""
    if not _lock_if_present(session_id):
        return False
    return _idle(session_id, now=timezone.now(), only_if_active=only_if_active)


# --------------------------------------------------------------------------- cancel (API side)
@transaction.atomic(savepoint=False)
def cancel(*, session_id: Any, notice: Callable[[], object]) -> Session:
    """Cancel the session's open turn (contract 6.4, API side); `notice` appends the user-visible notice.

    Cancellable: the session has an open turn (queued, running or paused), or is `active` without one.
    Sets `Turn.cancel_requested`, appends `turn.cancelled`, then calls `notice()` (the `input.message`
    "User requested to cancel the work.", see session_cancel). The worker then writes "Work was cancelled
    by user.", `finish`es the turn as cancelled and goes `idle` (for a queued turn: when it claims it,
    without ever running the model). A paused turn has no worker: it is queued again (session `active`)
    and the task enqueued on commit, so the next worker runs that same cancel sequence.
    No open turn and not `active` -> 422. A second cancel before the worker reacted returns without
    duplicating events. An `active` session without an open turn has nobody to settle it: it is set
    `idle` here with `session.idled`.
    """
    session = lock_session(session_id)
    turn = Turn.objects.filter(session=session, status__in=Turn.OPEN_STATUSES).first()
    if turn is None and session.status != Session.STATUS_ACTIVE:
        raise Unprocessable(NOT_ACTIVE_MESSAGE)
    if turn is not None and turn.cancel_requested:
        return session
    turn_key = format_id("turn", turn.pk) if turn is not None else None
    if turn is not None:
        Turn.objects.filter(pk=turn.pk).update(cancel_requested=True, updated_at=timezone.now())
        if turn.status == Turn.STATUS_PAUSED:
            _requeue_paused(turn)
            _enqueue_on_commit(session.pk, robust=True)
    _append(
        session.pk,
        EventType.TURN_CANCELLED,
        {"turn_id": turn_key, "reason": CANCEL_REASON, "usage": None},
        _turn_context(turn_key) if turn_key else {},
    )
    notice()
    if turn is None:
        _idle(session.pk, now=timezone.now())
    session.refresh_from_db()
    return session


# --------------------------------------------------------------------------- recovery
@transaction.atomic(savepoint=False)
def requeue(*, turn_id: Any, session_id: Any, heartbeat_at: datetime | None) -> bool:
    """A running turn whose worker stopped heart-beating goes back to `queued` (recovery sweep).

    Guarded by the heartbeat the sweep saw: a worker that beat meanwhile keeps its turn. The heartbeat is
    set to now (the grace of the requeued turn) and the task enqueued on commit; the worker that takes it
    continues the turn (`claim`). Returns whether the turn was requeued.
    """
    _lock_if_present(session_id)
    now = timezone.now()
    taken = Turn.objects.filter(pk=turn_id, status=Turn.STATUS_RUNNING, heartbeat_at=heartbeat_at).update(
        status=Turn.STATUS_QUEUED, worker_id=None, heartbeat_at=now, updated_at=now
    )
    if taken:
        _enqueue_on_commit(session_id, robust=False)
    return bool(taken)


# --------------------------------------------------------------------------- rerun / fork
@transaction.atomic(savepoint=False)
def rerun(*, session_id: Any) -> Turn:
    """Run the session's last turn again (POST .../resume): it failed or was cancelled.

    A new `queued` turn for the same input message (no event yet: `claim` begins it with
    `session.activated` and `turn.started` like any turn), the task enqueued on commit. The model sees the
    whole stored conversation, including what the failed or cancelled turn left in it. An open turn, no turn
    at all, or a last turn that completed -> 422.
    """
    lock_session(session_id)
    if Turn.objects.filter(session_id=session_id, status__in=Turn.OPEN_STATUSES).exists():
        raise Unprocessable(RERUN_BUSY_MESSAGE)
    last = Turn.objects.filter(session_id=session_id).order_by("-created_at", "-id").first()
    if last is None or last.status not in RERUNNABLE_STATUSES:
        raise Unprocessable(RERUN_NOTHING_MESSAGE)
    turn = Turn(session_id=session_id, status=Turn.STATUS_QUEUED, input_message_id=last.input_message_id)
    turn.full_clean(exclude=["session"], validate_unique=False, validate_constraints=False)
    turn.save(force_insert=True)
    _enqueue_on_commit(session_id, robust=True)
    return turn


FORK_COPY_BATCH = 500


def fork(*, session: Session, parent_id: Any, through: int) -> None:
    """A new fork's log: the parent's events 1..`through` copied (new ids, same sequences and timestamps,
    messages re-stamped with the fork's id), in batches. The fork is then `idle` when the copy holds a
    finished turn (`session.idled`), as its parent was at that point; otherwise it stays `started`. No event
    of its own: its log up to the fork point is the parent's. Called by session_fork in the transaction that
    created the fork row (nobody else can see it yet) with the parent's row locked.
    """
    fork_key = format_id("session", session.pk)
    idled = False
    batch: list[Event] = []
    rows = Event.objects.filter(session_id=parent_id, sequence__lte=through).order_by("sequence")
    for event in rows.iterator(chunk_size=FORK_COPY_BATCH):
        data = dict(event.data or {})
        if isinstance(data.get("message"), dict):
            data["message"] = {**data["message"], "session_id": fork_key}
        idled = idled or event.type == EventType.SESSION_IDLED
        batch.append(
            Event(
                session_id=session.pk,
                sequence=event.sequence,
                type=event.type,
                ts=event.ts,
                context=event.context,
                data=data,
                metadata=event.metadata,
                tags=event.tags,
            )
        )
        if len(batch) >= FORK_COPY_BATCH:
            Event.objects.bulk_create(batch)
            batch = []
    if batch:
        Event.objects.bulk_create(batch)
    if idled:
        Session.objects.filter(pk=session.pk).update(status=Session.STATUS_IDLE)
        session.status = Session.STATUS_IDLE
