"""The recovery sweep settles the django_tasks_db rows of dead worker processes, and only those;
lost enqueues of queued turns are re-enqueued after a short grace, never running a turn twice."""

from datetime import timedelta

import pytest
from django.db.models.signals import post_save
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from apps.runtime import workers
from apps.runtime.models import WorkerProcess
from apps.runtime.services import turns_recover_stale
from apps.sessions.models import Turn
from apps.sessions.tasks import enqueue_turn, run_turn


def _claimed_row(session_pk, worker_id: str) -> DBTaskResult:
    """The session's run_turn row, claimed by db_worker `worker_id` (as db_worker does)."""
    enqueue_turn(session_pk)
    row = DBTaskResult.objects.get(status="READY", args_kwargs__args__0=str(session_pk))
    row.claim(worker_id)
    return row


def _process(key: str, worker_id: str | None, seconds_since_beat: float) -> WorkerProcess:
    beat = timezone.now() - timedelta(seconds=seconds_since_beat)
    return WorkerProcess.objects.create(
        key=key, hostname="h", pid=1, task_worker_id=worker_id, started_at=beat, heartbeat_at=beat
    )


@pytest.fixture
def lease(settings):
    settings.RUNTIME_TURN_LEASE_SECS = 30
    settings.RUNTIME_RECOVERY_INTERVAL_SECS = 10
    return 30


def test_the_row_of_a_dead_worker_is_marked_failed(make_chat, lease):
    chat = make_chat()
    chat.post("hello")
    row = _claimed_row(chat.pk, "dead-worker")
    _process("host:1:dead", "dead-worker", seconds_since_beat=lease + 5)
    turns_recover_stale()
    row.refresh_from_db()
    assert row.status == "FAILED" and row.finished_at is not None
    assert row.exception_class_path == "apps.runtime.control.WorkerLost"
    assert "worker lost; turn resumed by recovery" in row.traceback
    result = run_turn.get_backend().get_result(str(row.pk))  # what django.tasks callers see
    assert result.status == "FAILED" and result.errors[0].exception_class_path.endswith("WorkerLost")
    assert not WorkerProcess.objects.exists()  # nothing left to settle: the dead process is forgotten


def test_rows_of_live_or_unknown_workers_are_never_touched(make_chat, lease):
    live, unknown, ambiguous = make_chat(), make_chat(), make_chat()
    for chat in (live, unknown, ambiguous):
        chat.post("hello")
    live_row = _claimed_row(live.pk, "live-worker")
    _process("host:2:live", "live-worker", seconds_since_beat=lease - 5)  # late, but within the window
    unknown_row = _claimed_row(unknown.pk, "never-registered")  # another deployment / older release
    ambiguous_row = _claimed_row(ambiguous.pk, "fixed-id")
    _process("host:3:old", "fixed-id", seconds_since_beat=lease * 10)  # dead, but a live process has its id
    _process("host:3:new", "fixed-id", seconds_since_beat=1)
    turns_recover_stale()
    for row in (live_row, unknown_row, ambiguous_row):
        row.refresh_from_db()
        assert row.status == "RUNNING"


def test_liveness_window_covers_three_heartbeats(settings):
    settings.RUNTIME_TURN_LEASE_SECS = 30
    settings.RUNTIME_RECOVERY_INTERVAL_SECS = 20  # beats less often than the lease: never declared dead early
    assert workers.liveness_window_seconds() == 60


def test_a_queued_turn_behind_a_dead_workers_row_is_enqueued_again_and_answered(make_chat, lease):
    chat = make_chat()
    chat.post("are you there?")
    # A worker claimed the task, then was killed before it claimed the turn: the row alone made the
    # sweep believe a task was still running for the session.
    _claimed_row(chat.pk, "dead-worker")
    _process("host:1:dead", "dead-worker", seconds_since_beat=lease + 5)
    old = timezone.now() - timedelta(seconds=10)
    Turn.objects.filter(session_id=chat.pk).update(created_at=old, updated_at=old)
    assert turns_recover_stale() == 1
    assert DBTaskResult.objects.filter(status="READY", args_kwargs__args__0=str(chat.pk)).count() == 1
    chat.run()
    assert chat.last_agent_text() == "You said: are you there?"


@pytest.fixture
def as_worker_process(monkeypatch):
    """This test process behaves like a db_worker: registers at claim, heart-beats."""
    monkeypatch.setattr(workers, "_process", {"key": None, "task_worker_id": None, "started_at": None})
    workers.process_enable()
    post_save.connect(workers.on_task_result_saved, sender=DBTaskResult, dispatch_uid="test-register")
    yield workers._process
    post_save.disconnect(sender=DBTaskResult, dispatch_uid="test-register")


def test_a_worker_beats_from_the_start_and_records_its_claim(make_chat, as_worker_process):
    workers.worker_process_beat()
    idle = WorkerProcess.objects.get()  # beating before any claim (GET /ready looks for it) ...
    assert idle.key == as_worker_process["key"] and idle.task_worker_id is None  # ... but vouching for no row
    chat = make_chat()
    chat.post("hi")
    _claimed_row(chat.pk, "my-db-worker-id")
    process = WorkerProcess.objects.get()
    assert process.key == as_worker_process["key"] and process.task_worker_id == "my-db-worker-id"
    old = timezone.now() - timedelta(seconds=600)
    WorkerProcess.objects.update(heartbeat_at=old)
    workers.worker_process_beat()
    assert WorkerProcess.objects.get().heartbeat_at > old


def test_a_dead_worker_that_never_claimed_is_forgotten(db, lease):
    _process("host:9:idle", None, seconds_since_beat=lease + 5)
    _process("host:9:alive", None, seconds_since_beat=1)
    turns_recover_stale()
    assert list(WorkerProcess.objects.values_list("key", flat=True)) == ["host:9:alive"]


# ----------------------------------------------------------------------------- lost enqueue (grace)
def _queued_turn_aged(chat, seconds: float) -> Turn:
    turn = Turn.objects.get(session_id=chat.pk, status="queued")
    then = timezone.now() - timedelta(seconds=seconds)
    Turn.objects.filter(pk=turn.pk).update(created_at=then, updated_at=then)
    return turn


def test_a_lost_enqueue_is_recovered_after_seconds_not_the_lease(make_chat, settings):
    settings.RUNTIME_TURN_LEASE_SECS = 30
    settings.RUNTIME_ENQUEUE_GRACE_SECS = 5
    chat = make_chat()
    chat.post("lost on the way")  # its on-commit enqueue never runs inside the test transaction
    _queued_turn_aged(chat, 2)
    assert turns_recover_stale() == 0  # within the commit-to-enqueue grace: left alone
    _queued_turn_aged(chat, 6)
    assert turns_recover_stale() == 1
    assert turns_recover_stale() == 0  # its task now waits
    chat.run()
    assert chat.last_agent_text() == "You said: lost on the way"


def test_a_late_original_enqueue_next_to_the_recovery_one_runs_the_turn_once(make_chat, settings):
    settings.RUNTIME_ENQUEUE_GRACE_SECS = 5
    chat = make_chat()
    chat.post("only once please")
    _queued_turn_aged(chat, 6)
    assert turns_recover_stale() == 1
    enqueue_turn(chat.pk)  # the original enqueue arrives after all: two tasks for one turn
    assert DBTaskResult.objects.filter(args_kwargs__args__0=str(chat.pk)).count() == 2
    run_turn.call(str(chat.pk))
    run_turn.call(str(chat.pk))
    types = chat.types()
    assert types.count("turn.started") == 1 and types.count("turn.completed") == 1
    assert [m["role"] for m in chat.messages()] == ["user", "agent"]
    assert Turn.objects.filter(session_id=chat.pk).count() == 1
