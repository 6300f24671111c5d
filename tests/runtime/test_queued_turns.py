"""Turns that wait in the queue: cancelled before a worker claims them (6.4), and the recovery sweep."""

from datetime import timedelta

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from apps.runtime.services import turns_recover_stale
from apps.sessions.models import Turn


def test_message_then_immediate_cancel_cancels_the_queued_turn(make_chat):
    chat = make_chat()
    chat.post("please do a long job")
    response = chat.cancel()  # no worker has claimed the turn yet
    assert response.status_code == 200
    assert response.json() == {"status": "cancelled", "message": "Turn cancelled successfully"}
    assert chat.types()[-3:] == ["input.message", "turn.cancelled", "input.message"]
    assert chat.cancel().status_code == 200  # again: no duplicate events
    assert chat.types().count("turn.cancelled") == 1

    chat.run()  # the worker claims the turn and honours the cancel without calling the model
    types = chat.types()
    assert types[-2:] == ["output.message.completed", "session.idled"]
    assert "reason.started" not in types and "llm.generation" not in types and "turn.started" not in types
    assert chat.last_agent_text() == "Work was cancelled by user."
    assert chat.refresh()["status"] == "idle"
    assert Turn.objects.get().status == "cancelled"
    assert chat.cancel().status_code == 422  # nothing open any more

    chat.say("hello again")
    assert chat.last_agent_text() == "You said: hello again"


def test_cancel_without_an_open_turn_is_still_422(make_chat):
    chat = make_chat()
    chat.say("hi")
    response = chat.cancel()
    assert response.status_code == 422
    assert response.json() == {"error": "Cannot cancel session: session is not active", "status": 422}


def _old_queued_turn(make_chat, text: str):
    """A chat whose message's turn has waited in the queue for 10 minutes (lease: 30 s)."""
    chat = make_chat()
    chat.post(text)
    turn = Turn.objects.get(status="queued")
    old = timezone.now() - timedelta(seconds=600)
    # heartbeat_at too: a turn requeued by an earlier sweep carries the requeue time there.
    Turn.objects.filter(pk=turn.pk).update(created_at=old, updated_at=old, heartbeat_at=old)
    return chat, turn


def test_recovery_leaves_queued_turns_whose_task_still_waits(make_chat, settings):
    settings.RUNTIME_TURN_LEASE_SECS = 30
    chat, turn = _old_queued_turn(make_chat, "waiting in a backlog")
    # The message's task was enqueued on commit (the test transaction never commits: enqueue it as it would be).
    from apps.sessions.tasks import enqueue_turn

    enqueue_turn(chat.pk)
    tasks = DBTaskResult.objects.count()
    assert turns_recover_stale() == 0
    assert DBTaskResult.objects.count() == tasks  # not enqueued again
    assert Turn.objects.get(pk=turn.pk).status == "queued"


def test_recovery_re_enqueues_a_queued_turn_whose_task_is_gone(make_chat, settings):
    settings.RUNTIME_TURN_LEASE_SECS = 30
    chat, _ = _old_queued_turn(make_chat, "lost task")
    assert DBTaskResult.objects.count() == 0  # its enqueue was lost
    assert turns_recover_stale() == 1
    assert DBTaskResult.objects.filter(status="READY", args_kwargs__args__0=str(chat.pk)).count() == 1
    assert turns_recover_stale() == 0  # the new task now waits: once is enough
    chat.run()
    assert chat.last_agent_text() == "You said: lost task"


def test_recovery_requeues_a_running_turn_with_a_stale_heartbeat(make_chat, settings):
    from apps.runtime.services import turn_claim

    settings.RUNTIME_TURN_LEASE_SECS = 30
    chat = make_chat()
    chat.post("hello")
    turn = turn_claim(session_id=chat.pk, worker_id="dead-worker")
    Turn.objects.filter(pk=turn.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=600))
    assert turns_recover_stale() == 1
    assert Turn.objects.get(pk=turn.pk).status == "queued"
    chat.run()  # resumed by another worker
    assert chat.last_agent_text() == "You said: hello"
