"""Cancel (6.4) and messages posted while a turn runs (6.1): checked at checkpoints, never dropped.

Test-only tools act as "the user, meanwhile": they call the API-side services while the turn runs, so the
interleavings are exact rather than timing-dependent.
"""

import threading
import time

import pytest

from apps.capabilities import registry
from apps.capabilities.base import Capability, Tool
from apps.sessions.models import Session, Turn


def _cancel(arguments, context):
    from apps.sessions.services import session_cancel

    session_cancel(session=Session.objects.get(pk=context.session_id))
    return {"ok": True}


def _post(arguments, context):
    from apps.sessions.services import message_create

    message_create(
        session=Session.objects.get(pk=context.session_id), content=[{"type": "text", "text": arguments["text"]}]
    )
    return {"posted": arguments["text"]}


def _taken_over(arguments, context):
    # Another worker takes the turn over (as turn_claim does after our lease expired).
    from apps.core.ids import parse_id

    Turn.objects.filter(pk=parse_id("turn", context.turn_id)).update(worker_id="other-worker")
    return {"ok": True}


def _slow(arguments, context):
    time.sleep(float(arguments.get("seconds", 1)))
    return {"slept": True}


@pytest.fixture
def meanwhile():
    schema = {"type": "object", "properties": {}}
    capability = Capability(
        id="test_meanwhile",
        name="Meanwhile",
        description="test helpers",
        tools=(
            Tool("user_cancels", "cancel", schema, _cancel),
            Tool("user_posts", "post", schema, _post),
            Tool("slow", "sleep", schema, _slow),
            Tool("taken_over", "lose the turn", schema, _taken_over),
        ),
    )
    registry.register(capability)
    yield "test_meanwhile"
    registry.unregister("test_meanwhile")


def test_cancel_between_steps(make_chat, meanwhile):
    chat = make_chat(capabilities=[meanwhile])
    chat.say("/tool user_cancels {}")
    types = chat.types()
    assert "turn.cancelled" in types
    tail = types[types.index("turn.cancelled") :]
    assert tail[:2] == ["turn.cancelled", "input.message"]
    assert tail[-2:] == ["output.message.completed", "session.idled"]
    assert "reason.started" not in tail  # no further reasoning step after the cancel
    assert chat.last_agent_text() == "Work was cancelled by user."
    assert chat.refresh()["status"] == "idle"
    assert Turn.objects.get().status == "cancelled"
    # The cancellation notice never starts a turn; a new message does.
    chat.run()
    assert Turn.objects.count() == 1
    chat.say("hello again")
    assert chat.last_agent_text() == "You said: hello again"


def test_a_worker_that_lost_the_turn_during_act_writes_nothing_more(make_chat, meanwhile):
    chat = make_chat(capabilities=[meanwhile])
    chat.say("/tool taken_over {}")
    types = chat.types()
    assert types[-1] == "tool.started"  # neither the tool result nor act.completed was written
    assert "act.completed" not in types and "tool.completed" not in types
    assert Turn.objects.get().worker_id == "other-worker"


def test_cancel_not_active_is_422(make_chat):
    chat = make_chat()
    response = chat.cancel()
    assert response.status_code == 422
    assert response.json() == {"error": "Cannot cancel session: session is not active", "status": 422}


def test_message_posted_during_act_is_seen_by_the_next_step(make_chat, meanwhile):
    chat = make_chat(capabilities=[meanwhile])
    chat.say('/tool user_posts {"text": "also this"}')
    generations = chat.events(types="llm.generation")
    assert len(generations) == 2
    texts = [p.get("text") for m in generations[1]["data"]["messages"] for p in m["content"]]
    assert "also this" in texts
    assert Turn.objects.count() == 1  # answered by the same turn: no follow-up needed
    chat.run()
    assert Turn.objects.count() == 1


def test_message_arriving_after_the_last_step_gets_a_follow_up_turn(make_chat, monkeypatch):
    """A message stored while the final answer streams is answered by a follow-up turn of the same task."""
    from apps.runtime import services
    from apps.sessions.services import message_create

    chat = make_chat()
    original = services.TurnRunner.persist_step
    posted = []

    def persist_then_post(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if not posted:
            posted.append(True)
            message_create(session=Session.objects.get(pk=self.session_id), content=[{"type": "text", "text": "late"}])

    monkeypatch.setattr(services.TurnRunner, "persist_step", persist_then_post)
    chat.say("early")
    assert [m["role"] for m in chat.messages()] == ["user", "agent", "user", "agent"]
    assert chat.last_agent_text() == "You said: late"
    assert Turn.objects.filter(status="completed").count() == 2
    types = chat.types()
    assert types.count("session.activated") == 2 and types.count("session.idled") == 2


def test_second_worker_does_not_start_a_second_turn(make_chat, default_org):
    from apps.runtime.services import turn_claim

    chat = make_chat()
    chat.post("one")
    first = turn_claim(session_id=chat.pk, worker_id="worker-a")
    assert first is not None
    chat.post("two")
    assert turn_claim(session_id=chat.pk, worker_id="worker-b") is None  # A's heartbeat is fresh
    assert Turn.objects.filter(session_id=chat.pk, status__in=Turn.OPEN_STATUSES).count() == 1


def test_cancel_is_noticed_while_the_model_streams(make_model, make_chat, monkeypatch):
    """The cancel lands after the first deltas: the turn stops mid-stream, not after the whole answer."""
    from apps.runtime import services
    from apps.sessions.services import session_cancel

    slow = make_model("llmsim", api_key=None, model_id="llmsim-default?chunk_delay_ms=50")
    chat = make_chat(model=slow)
    original = services.TurnRunner.checkpoint

    def user_cancels_after_first_delta(self, force=False):
        if not Turn.objects.filter(cancel_requested=True).exists() and "output.message.delta" in chat.types():
            session_cancel(session=Session.objects.get(pk=self.session_id))
        return original(self, force)

    monkeypatch.setattr(services.TurnRunner, "checkpoint", user_cancels_after_first_delta)
    chat.say(" ".join(f"word{i}" for i in range(60)))  # ~3 s if streamed to the end
    deltas = chat.events(types="output.message.delta")
    assert deltas and "word59" not in deltas[-1]["data"]["accumulated"]
    assert chat.last_agent_text() == "Work was cancelled by user."
    assert chat.types()[-2:] == ["output.message.completed", "session.idled"]
    assert chat.refresh()["status"] == "idle"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_cancel_while_streaming_from_another_thread(make_model, make_chat, api_client):
    """The same with a real second thread (API client) - PostgreSQL only: in-memory SQLite's shared
    cache raises 'table is locked' instead of waiting when two threads write."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (concurrent writers)")
    slow = make_model("llmsim", api_key=None, model_id="llmsim-default?chunk_delay_ms=100")
    chat = make_chat(model=slow)
    chat.post(" ".join(f"word{i}" for i in range(60)))  # ~6 s of streaming
    worker = threading.Thread(target=chat.run)
    worker.start()
    deadline = time.monotonic() + 5
    while "output.message.delta" not in chat.types() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert chat.cancel().json() == {"status": "cancelled", "message": "Turn cancelled successfully"}
    worker.join(timeout=5)
    assert not worker.is_alive()
    # Noticed mid-stream, not at the end (what the user saw stops short of the last word; no wall-clock bound,
    # which a loaded machine breaks).
    deltas = chat.events(types="output.message.delta")
    assert deltas and "word59" not in deltas[-1]["data"]["accumulated"]
    assert chat.last_agent_text() == "Work was cancelled by user."
    assert chat.refresh()["status"] == "idle"
    assert chat.types()[-1] == "session.idled"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_tools_run_in_parallel_with_a_timeout(make_chat, meanwhile, settings):
    settings.RUNTIME_TOOL_TIMEOUT_SECS = 1
    chat = make_chat(capabilities=[meanwhile])
    chat.say('/tool slow {"seconds": 0.6}\n/tool slow {"seconds": 0.6}\n/tool slow {"seconds": 3}')
    completed = [e["data"] for e in chat.events(types="tool.completed")]
    assert sorted(c["status"] for c in completed) == ["success", "success", "timeout"]
    # Parallel: the act took less than its calls one after another (measured by the runtime itself, so a loaded
    # machine slows both sides alike); the 3 s call was abandoned at its 1 s deadline, not waited for.
    (act,) = [e["data"] for e in chat.events(types="act.completed")]
    assert act["duration_ms"] < sum(c["duration_ms"] for c in completed)
    assert [c["duration_ms"] < 3000 for c in completed if c["status"] == "timeout"] == [True]
    timeout = [e["data"] for e in chat.events(types="tool.completed") if e["data"]["status"] == "timeout"][0]
    assert timeout["error"] == "Tool timed out after 1 seconds"
    assert "slow: Tool timed out after 1 seconds" in chat.last_agent_text()
    assert chat.refresh()["status"] == "idle"


def test_deleting_a_session_mid_turn_stops_its_turn_quietly(make_model, make_chat, monkeypatch, caplog):
    """DELETE /v1/sessions/{id} while the model streams: 204, the worker stops at its next write, and the
    log carries no error or "taken over" warning (the deletion is not a failure)."""
    from apps.runtime import services

    slow = make_model("llmsim", api_key=None, model_id="llmsim-default?chunk_delay_ms=20")
    chat = make_chat(model=slow)
    original = services.TurnRunner.checkpoint
    deleted = []

    def user_deletes_after_first_delta(self, force=False):
        if not deleted and "output.message.delta" in chat.types():
            deleted.append(chat.client.delete(f"/v1/sessions/{chat.id}").status_code)
        return original(self, force)

    monkeypatch.setattr(services.TurnRunner, "checkpoint", user_deletes_after_first_delta)
    chat.post(" ".join(f"word{i}" for i in range(30)))
    with caplog.at_level("INFO", logger="everruns.runtime"):
        chat.run()
    assert deleted == [204]
    assert chat.client.get(f"/v1/sessions/{chat.id}").status_code == 404
    assert not Turn.objects.filter(session_id=chat.pk).exists()
    runtime = [r for r in caplog.records if r.name == "everruns.runtime"]
    assert [r.levelname for r in runtime if r.levelno >= 30] == []
    assert any("its session was deleted" in r.getMessage() for r in runtime)
