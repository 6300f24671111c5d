"""Scheduling of turns: who runs which turn, and for how long it is theirs (claim, leases, heartbeats, recovery).

- `turn_claim(...)`: a worker takes the session's turn through apps.sessions.turns.claim (the lifecycle
  owner), with the lease below and the runtime's input cursor (apps.runtime.progress).
- `Lease`: a claimed turn belongs to the worker named in Turn.worker_id while its heartbeat is fresh
  (RUNTIME_TURN_LEASE_SECS). `Lease.hold()` checks it inside each persisting transaction (TurnLost if
  another worker took over) and beats; `Lease.check()` is the periodic cancel check and heartbeat.
- `turns_recover_stale()`: the recovery sweep each db_worker runs (apps.runtime.apps) and
  `manage.py runtime_recover` runs once: requeues turns whose worker stopped heart-beating, re-enqueues
  queued turns whose enqueue was lost, settles sessions left active without a turn.

The agent loop that runs a claimed turn is apps.runtime.runner. Neither module writes a session's or a
turn's status: every transition is a function of apps.sessions.turns.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.core.ids import format_id
from apps.sessions import turns
from apps.sessions.models import Session, Turn
from apps.sessions.tasks import enqueue_turn

from .control import TurnCancelled, TurnLost
from .progress import INPUTS

logger = logging.getLogger("everruns.runtime")

RUN_TURN_TASK_PATH = "apps.sessions.tasks.run_turn"


def lease_seconds() -> float:
    return float(settings.RUNTIME_TURN_LEASE_SECS)


def enqueue_grace_seconds() -> float:
    """How long a queued turn may have no run_turn task before the sweep enqueues one again.

    message_create enqueues on commit, milliseconds after the turn row is visible; a queued turn still
    without a READY/RUNNING task after this grace lost its enqueue (the web process died in between).
    Enqueueing one too many is harmless (turn_claim: the second task finds the turn taken and returns),
    so the grace only has to cover the commit-to-enqueue gap, not a worker's lease.
    """
    return float(getattr(settings, "RUNTIME_ENQUEUE_GRACE_SECS", 5))


def worker_id_new() -> str:
    """A fresh owner id for one task run: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:128]


# --------------------------------------------------------------------------- claim
def turn_claim(*, session_id: Any, worker_id: str) -> Turn | None:
    """Take the session's open turn (queued, or running under a dead worker) or start a new one.

    Returns None when another live worker runs the session's turn (it will see new messages: the running
    loop reads them at its next step, and follow-up turns are checked when it ends), when the turn is
    paused (waiting for the client) or when nothing is waiting. See apps.sessions.turns.claim.
    """
    turn = turns.claim(
        session_id=session_id, worker_id=worker_id, lease=timedelta(seconds=lease_seconds()), inputs=INPUTS
    )
    if turn is not None and turn.resumed:
        logger.info("resuming %s (worker %s)", format_id("turn", turn.pk), worker_id)
    return turn


# --------------------------------------------------------------------------- lease and heartbeat
class Lease:
    """A worker's hold on one running turn: ownership checks, heartbeats and the cancel flag."""

    def __init__(self, turn: Turn, worker_id: str) -> None:
        self.turn_id = turn.pk
        self.session_id = turn.session_id
        self.worker_id = worker_id
        self.last_check = 0.0
        self.last_heartbeat = time.monotonic()
        self.check_interval = float(settings.RUNTIME_CHECK_INTERVAL_MS) / 1000
        self.heartbeat_interval = float(settings.RUNTIME_HEARTBEAT_SECS)

    def hold(self, **updates: Any) -> None:
        """Check we still own the turn (inside the caller's transaction), beat, and apply `updates`
        (iterations, usage counters: never the status, which only apps.sessions.turns writes).

        Inside a transaction the session row is locked first: every writer (event_append, the cancel
        endpoint, claim) takes the session before the turn, and the same order here rules out deadlocks
        between a step being stored and a concurrent cancel.
        """
        if connection.in_atomic_block:
            Session.objects.select_for_update().filter(pk=self.session_id).values_list("pk", flat=True).first()
        updates.setdefault("heartbeat_at", timezone.now())
        if not Turn.objects.filter(pk=self.turn_id, worker_id=self.worker_id, status=Turn.STATUS_RUNNING).update(
            **updates
        ):
            raise TurnLost
        self.last_heartbeat = time.monotonic()

    def check(self, force: bool = False) -> None:
        """Cancel check and heartbeat, at most every RUNTIME_CHECK_INTERVAL_MS (always when forced)."""
        now = time.monotonic()
        if not force and now - self.last_check < self.check_interval:
            return
        self.last_check = now
        row = Turn.objects.filter(pk=self.turn_id).values_list("cancel_requested", "worker_id").first()
        if row is None or row[1] != self.worker_id:
            raise TurnLost
        if row[0]:
            raise TurnCancelled
        if now - self.last_heartbeat >= self.heartbeat_interval:
            self.hold()


# --------------------------------------------------------------------------- recovery
def _queue_inspectable() -> bool:
    """Whether the task queue can say if a session's task is pending (the database queue can, Redis cannot)."""
    return str(settings.TASKS.get("default", {}).get("BACKEND", "")).startswith("django_tasks_db")


def _task_pending(session_id: Any) -> bool:
    """Whether a run_turn task for the session is waiting or running. Other backends than django_tasks_db
    cannot be asked: there a queued turn past its (longer) grace is enqueued again (a duplicate is harmless)."""
    if not _queue_inspectable():
        return False
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path=RUN_TURN_TASK_PATH,
        status__in=["READY", "RUNNING"],
        args_kwargs__args__0=str(session_id),
    ).exists()


def turns_recover_stale() -> int:
    """Requeue turns whose worker stopped heart-beating; returns how many tasks were enqueued.

    - RUNNING turns with a heartbeat older than the lease go back to `queued` (turns.requeue: heartbeat_at
      set to the requeue time, a run_turn task enqueued); the worker that picks it up resumes the turn
      from its persisted events.
    - QUEUED turns are waiting for a worker, which is normal in a backlog: they are left alone unless
      they have waited longer than the enqueue grace (RUNTIME_ENQUEUE_GRACE_SECS, 5 s) AND their session
      has no READY/RUNNING run_turn task (the enqueue was lost); then a task is enqueued again.
    - PAUSED turns wait for their client, not for a worker: never touched.
    First, the django_tasks_db rows of dead worker processes are settled as failed
    (apps.runtime.workers), so a killed run's row no longer counts as a running task.
    Each turn is handled under its session's row lock (session first, then the turn).
    """
    from .workers import task_results_settle_dead

    task_results_settle_dead()
    now = timezone.now()
    stale_before = now - timedelta(seconds=lease_seconds())
    # A queue that cannot be asked gets a longer grace: a queued turn is re-enqueued at most once per
    # 4 leases there, so a backlog is not flooded with duplicates (docs/deploy.md "Scaling out").
    grace = enqueue_grace_seconds() if _queue_inspectable() else max(4 * lease_seconds(), enqueue_grace_seconds())
    grace_before = now - timedelta(seconds=grace)
    requeued = 0
    stale = Turn.objects.filter(status=Turn.STATUS_RUNNING, heartbeat_at__lt=stale_before)
    for pk, session_id, heartbeat in stale.values_list("pk", "session_id", "heartbeat_at"):
        if turns.requeue(turn_id=pk, session_id=session_id, heartbeat_at=heartbeat):
            requeued += 1
            logger.warning("requeued stale %s of session %s", format_id("turn", pk), session_id)
    waiting = Turn.objects.filter(status=Turn.STATUS_QUEUED, updated_at__lt=grace_before, created_at__lt=grace_before)
    for pk, session_id in waiting.values_list("pk", "session_id"):
        if not _task_pending(session_id):
            Turn.objects.filter(pk=pk, status=Turn.STATUS_QUEUED).update(updated_at=now)
            enqueue_turn(session_id)
            requeued += 1
            logger.warning("re-enqueued %s of session %s: its task was gone", format_id("turn", pk), session_id)
    # Sessions left active with no open turn (never expected): settle them to idle.
    orphaned = Session.objects.filter(status=Session.STATUS_ACTIVE, updated_at__lt=stale_before).exclude(
        turns__status__in=Turn.OPEN_STATUSES
    )
    for session_id in orphaned.values_list("pk", flat=True):
        turns.idle(session_id=session_id, only_if_active=True)
    return requeued
