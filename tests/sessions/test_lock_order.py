"""One lock order (session row, then its turns) and retried deadlocks, on PostgreSQL with real threads.

A deadlock needs two transactions taking two rows in opposite orders. Every writer here takes the
session row first; these tests prove it for each writer that touches a turn (cancel, delete, the
runtime's step writes, the recovery sweep) by making it wait on the turn row and checking, from a
third connection, that it already holds the session row. Then a cancel runs against a real runner
step transaction, and a genuine deadlock is retried by `retry_on_conflict`.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from tests.sessions.pg import in_thread

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def _open_turn(session_id, *, status="running", heartbeat_age: float = 0.0):
    """A committed open turn of the session (claimed by `worker-a`); returns its pk."""
    from apps.sessions.models import Turn

    def create():
        return Turn.objects.create(
            session_id=session_id,
            status=status,
            worker_id="worker-a",
            started_at=timezone.now(),
            heartbeat_at=timezone.now() - timedelta(seconds=heartbeat_age),
        ).pk

    return in_thread(create)


def _session_locked(session_id) -> bool:
    """Whether another transaction holds the session row (probed with NOWAIT from a fresh connection)."""
    from apps.sessions.models import Session

    def probe():
        try:
            with transaction.atomic():
                list(Session.objects.select_for_update(nowait=True).filter(pk=session_id).values_list("pk"))
            return False
        except OperationalError:
            return True

    return in_thread(probe)


def _run_while_turn_is_held(turn_pk, operation) -> bool:
    """Hold the turn row; run `operation` in a thread until it blocks on it; report whether it holds the
    session row by then; release. Re-raises the operation's error."""
    from apps.sessions.models import Turn

    held, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def holder():
        try:
            with transaction.atomic():
                list(Turn.objects.select_for_update().filter(pk=turn_pk).values_list("pk"))
                held.set()
                release.wait(10)
        finally:
            connection.close()

    def run():
        try:
            operation()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=holder), threading.Thread(target=run)]
    threads[0].start()
    held.wait(5)
    threads[1].start()
    time.sleep(0.4)  # the operation is now waiting for the turn row
    locked = _session_locked_by_other(turn_pk)
    release.set()
    for thread in threads:
        thread.join(10)
    if errors:
        raise errors[0]
    return locked


def _session_locked_by_other(turn_pk) -> bool:
    from apps.sessions.models import Turn

    session_id = in_thread(lambda: Turn.objects.filter(pk=turn_pk).values_list("session_id", flat=True).first())
    return _session_locked(session_id)


def test_cancel_locks_the_session_before_the_turn(committed_session):
    from apps.sessions.models import Session
    from apps.sessions.services import session_cancel

    turn = _open_turn(committed_session)
    assert _run_while_turn_is_held(turn, lambda: session_cancel(session=Session.objects.get(pk=committed_session)))


def test_delete_locks_the_session_before_the_turn(committed_session):
    from apps.sessions.models import Session
    from apps.sessions.services import session_delete

    turn = _open_turn(committed_session)
    assert _run_while_turn_is_held(turn, lambda: session_delete(session=Session.objects.get(pk=committed_session)))


def test_runner_step_writes_lock_the_session_before_the_turn(committed_session):
    from apps.runtime.services import TurnRunner
    from apps.sessions.models import Turn

    turn = _open_turn(committed_session)

    def step():
        runner = TurnRunner(Turn.objects.get(pk=turn), "worker-a")
        with transaction.atomic():
            runner.own()

    assert _run_while_turn_is_held(turn, step)


def test_recovery_locks_the_session_before_the_turn(committed_session, settings):
    from apps.runtime.services import turns_recover_stale

    settings.RUNTIME_TURN_LEASE_SECS = 1
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    turn = _open_turn(committed_session, heartbeat_age=60)
    assert _run_while_turn_is_held(turn, turns_recover_stale)


def test_cancel_during_a_runner_step_transaction_waits_and_both_commit(committed_session):
    """The runner stores a step (session + turn + events in one transaction) while the API cancels."""
    from apps.runtime.services import TurnRunner
    from apps.sessions.models import Event, Session, Turn
    from apps.sessions.services import event_append, session_cancel

    turn = _open_turn(committed_session)
    in_thread(lambda: Session.objects.filter(pk=committed_session).update(status="active"))
    in_step = threading.Event()
    errors: list[BaseException] = []

    def runner_step():
        try:
            runner = TurnRunner(Turn.objects.get(pk=turn), "worker-a")
            with transaction.atomic():
                runner.own()
                event_append(session_id=committed_session, type="reason.completed", data={"success": True})
                in_step.set()
                time.sleep(0.3)  # the cancel arrives now
                runner.own(iterations=1)
                event_append(session_id=committed_session, type="output.message.completed", data={})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def cancel():
        in_step.wait(5)
        try:
            session_cancel(session=Session.objects.get(pk=committed_session))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner_step), threading.Thread(target=cancel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert errors == []
    types = in_thread(
        lambda: list(
            Event.objects.filter(session_id=committed_session).order_by("sequence").values_list("type", flat=True)
        )
    )
    assert types[-4:] == ["reason.completed", "output.message.completed", "turn.cancelled", "input.message"]
    assert in_thread(lambda: Turn.objects.get(pk=turn).cancel_requested) is True


@pytest.mark.parametrize("wrapped", [True, False])
def test_a_real_deadlock_is_retried_by_the_service_wrapper(committed_session, wrapped):
    """Two transactions lock two sessions in opposite orders: PostgreSQL aborts one as the deadlock victim;
    with `retry_on_conflict` it runs again and both succeed (without it, one fails)."""
    from apps.sessions.models import Session
    from apps.sessions.services import retry_on_conflict
    from tests.sessions.pg import create_committed_session, delete_committed_session

    other = in_thread(create_committed_session)
    barrier = threading.Barrier(2)
    calls: list[str] = []

    def lock_both(first, second, name):
        calls.append(name)
        Session.objects.filter(pk=first).update(title=name)
        if len(calls) <= 2:  # only the first attempts meet at the barrier
            barrier.wait(5)
        Session.objects.filter(pk=second).update(title=name)

    errors: list[BaseException] = []

    def worker(first, second, name):
        function = transaction.atomic(lock_both)
        if wrapped:
            function = retry_on_conflict(function)
        try:
            function(first, second, name)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(committed_session, other, "a")),
        threading.Thread(target=worker, args=(other, committed_session, "b")),
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
    finally:
        in_thread(delete_committed_session, other)
    if wrapped:
        assert errors == [] and len(calls) == 3  # one of them ran twice
    else:
        assert len(errors) == 1 and getattr(errors[0].__cause__, "sqlstate", None) == "40P01"
