"""A turn that waits for its client (apps.sessions.turns.pause / resume): a DB state, resumed by any worker.

No endpoint pauses a turn yet (client-side tools and approvals come next), so the transitions are called
directly; what a user notices is read back through the API.
"""

import pytest
from django.db import transaction

from apps.core.exceptions import Conflict
from apps.core.ids import format_id
from apps.runtime.services import turn_claim, turns_recover_stale
from apps.sessions import turns
from apps.sessions.models import Turn


@pytest.fixture
def paused(make_chat):
    """A chat whose turn worker-a claimed, then paused for client-side tool results."""
    chat = make_chat()
    chat.post("run the client tool")
    turn = turn_claim(session_id=chat.pk, worker_id="worker-a")
    assert turn is not None and turn.status == Turn.STATUS_RUNNING
    assert chat.refresh()["status"] == "active"
    request = {"tool_calls": [{"id": "call_1", "name": "client_tool", "arguments": {}}]}
    turns.pause(turn=turn, worker_id="worker-a", reason="tool_results", request=request)
    return chat, turn


def test_pause_makes_the_session_wait_for_the_client(paused):
    chat, turn = paused
    assert chat.refresh()["status"] == "waitingfortoolresults"
    events = chat.events()
    assert events[-1]["type"] == "turn.paused"
    assert events[-1]["data"] == {
        "turn_id": format_id("turn", turn.pk),
        "reason": "tool_results",
        "request": {"tool_calls": [{"id": "call_1", "name": "client_tool", "arguments": {}}]},
    }
    turn.refresh_from_db()
    assert (turn.status, turn.worker_id, turn.heartbeat_at) == (Turn.STATUS_PAUSED, None, None)
    # Nobody takes a paused turn: not a new task, not the recovery sweep, not a new message.
    assert turn_claim(session_id=chat.pk, worker_id="worker-b") is None
    assert turns_recover_stale() == 0
    chat.post("are you there?")
    assert Turn.objects.filter(session_id=chat.pk).count() == 1
    assert Turn.objects.get().status == Turn.STATUS_PAUSED
    assert chat.refresh()["status"] == "waitingfortoolresults"


def test_resume_hands_the_turn_to_a_fresh_claim(paused, django_capture_on_commit_callbacks, monkeypatch):
    chat, turn = paused
    enqueued: list = []
    monkeypatch.setattr("apps.sessions.tasks.enqueue_turn", enqueued.append)
    started = chat.types().count("turn.started")
    with django_capture_on_commit_callbacks(execute=True):
        resumed = turns.resume(session_id=chat.pk, reason="tool_results")
    assert enqueued == [chat.pk]  # the turn task is enqueued on commit
    assert resumed.status == Turn.STATUS_QUEUED
    assert chat.refresh()["status"] == "active"
    assert chat.types()[-1] == "turn.resumed"

    again = turn_claim(session_id=chat.pk, worker_id="worker-b")
    assert again is not None and again.pk == turn.pk
    assert (again.status, again.worker_id, again.resumed) == (Turn.STATUS_RUNNING, "worker-b", True)
    assert chat.types().count("turn.started") == started  # continued, not started again


def test_a_resumed_turn_runs_to_its_end_on_another_worker(paused):
    chat, turn = paused
    turns.resume(session_id=chat.pk)
    chat.run()
    assert chat.refresh()["status"] == "idle"
    assert chat.last_agent_text() == "You said: run the client tool"
    turn.refresh_from_db()
    assert turn.status == Turn.STATUS_COMPLETED
    assert chat.types()[-2:] == ["turn.completed", "session.idled"]
    assert chat.types().count("turn.started") == 1


def test_cancel_of_a_paused_turn(paused):
    chat, turn = paused
    response = chat.cancel()
    assert response.status_code == 200
    assert response.json() == {"status": "cancelled", "message": "Turn cancelled successfully"}
    turn.refresh_from_db()
    assert (turn.status, turn.cancel_requested) == (Turn.STATUS_QUEUED, True)
    assert chat.cancel().status_code == 200  # again: no duplicate events
    assert chat.types().count("turn.cancelled") == 1

    chat.run()  # the next worker runs the cancel sequence without calling the model
    types = chat.types()
    assert types[-2:] == ["output.message.completed", "session.idled"]
    assert "reason.started" not in types
    assert chat.last_agent_text() == "Work was cancelled by user."
    assert chat.refresh()["status"] == "idle"
    turn.refresh_from_db()
    assert turn.status == Turn.STATUS_CANCELLED

    chat.say("hello again")
    assert chat.last_agent_text() == "You said: hello again"


def test_only_the_owner_may_pause_and_only_a_paused_turn_resumes(make_chat):
    chat = make_chat()
    with pytest.raises(Conflict), transaction.atomic():
        turns.resume(session_id=chat.pk)
    chat.post("hi")
    turn = turn_claim(session_id=chat.pk, worker_id="worker-a")
    # Each transition is atomic without a savepoint of its own: a caller's transaction that sees it fail is
    # rolled back whole (here the caller's own savepoint).
    with pytest.raises(turns.TurnLost), transaction.atomic():
        turns.pause(turn=turn, worker_id="worker-b", reason="approval")
    with pytest.raises(ValueError), transaction.atomic():
        turns.pause(turn=turn, worker_id="worker-a", reason="nap")
    turn.refresh_from_db()
    assert turn.status == Turn.STATUS_RUNNING
    assert chat.refresh()["status"] == "active"


def test_resume_through_the_api_is_409_when_nothing_waits(make_chat):
    """The error shape a resume endpoint will answer with: {"error", "status": 409}."""
    chat = make_chat()
    with pytest.raises(Conflict) as caught:
        turns.resume(session_id=chat.pk)
    assert (caught.value.status_code, caught.value.message) == (409, "Session is not waiting for the client")
