"""The official SDK's sessions, messages and events clients against a live server (issue 21 items 4 and 8).

Turns run in the test's thread (`run_turns`): the live server only enqueues them. Everything is asserted
through the SDK's own parsed models, so a field or status value the SDK cannot parse fails here.
"""

import hashlib
import json

import pytest

from apps.capabilities import registry
from apps.capabilities.base import Capability, Tool
from apps.core.ids import parse_id
from tests.sdk.conftest import everruns_sdk

SECRET = "ghp_sdk-secret-value-0123456789abcdef"


def run_turns(session_id: str) -> None:
    from apps.runtime.services import turn_run_pending

    turn_run_pending(session_id=parse_id("session", session_id))


def text_of(message) -> str:
    return "".join(part.text or "" for part in message.content if part.type == "text")


@pytest.fixture
def agent(sdk):
    return sdk.agents.create("sdk-helper", "You help.")


def test_create_with_every_session_field_and_read_it_back(sdk, agent):
    from everruns_sdk.models import AgentCapabilityConfig, InitialFile, ToolDefinition

    tool = ToolDefinition(name="open_url", description="Open a URL", parameters={"type": "object"})
    session = sdk.sessions.create(
        agent_id=agent.id,
        title="SDK session",
        locale="uk-UA",
        tags=["sdk", "t"],
        capabilities=[AgentCapabilityConfig(ref="current_time", config={})],
        tools=[tool],
        initial_files=[InitialFile(path="/notes.md", content="# hi")],
    )
    assert session.id.startswith("session_") and session.status == "started"
    got = sdk.sessions.get(session.id)
    assert (got.title, got.locale, got.tags, got.agent_id) == ("SDK session", "uk-UA", ["sdk", "t"], agent.id)
    assert [c.ref for c in got.capabilities] == ["current_time"]
    assert [(t.name, t.type) for t in got.tools] == [("open_url", "client_side")]
    assert [(f.path, f.content) for f in got.initial_files] == [("/notes.md", "# hi")]
    assert got.workspace_id is None and got.is_pinned is False and got.owner_principal_id.startswith("principal_")
    assert got.harness_id == session.harness_id
    assert session.id in [s.id for s in sdk.sessions.list()]
    assert [s.id for s in sdk.sessions.list(agent_id=agent.id, search="sdk sess")] == [session.id]
    assert sdk.sessions.list(search="no such title") == []


def test_messages_turn_events_and_statuses(sdk, agent):
    session = sdk.sessions.create(agent_id=agent.id)
    sent = sdk.messages.create(session.id, "Hello SDK")
    assert sent.role == "user" and text_of(sent) == "Hello SDK"
    assert sdk.sessions.get(session.id).status == "started"
    run_turns(session.id)
    after = sdk.sessions.get(session.id)
    assert after.status == "idle" and after.preview == "Hello SDK" and after.output_preview == "You said: Hello SDK"
    assert after.started_at is not None
    messages = sdk.messages.list(session.id)
    assert [(m.role, text_of(m)) for m in messages] == [("user", "Hello SDK"), ("agent", "You said: Hello SDK")]

    events = sdk.events.list(session.id)
    sequences = [e.sequence for e in events]
    assert sequences == sorted(sequences) and events[0].type == "session.started"
    turn_id = next(e.data["turn_id"] for e in events if e.type == "turn.started")
    assert [e.id for e in sdk.events.list(session.id, turn_id=turn_id)] == [
        e.id for e in events if e.context.turn_id == turn_id
    ]
    assert [e.sequence for e in sdk.events.list(session.id, limit=3)] == sequences[-3:]
    assert [e.sequence for e in sdk.events.list(session.id, after_sequence=2, before_sequence=5)] == [3, 4]
    assert [e.sequence for e in sdk.events.list(session.id, order_desc=True)] == sequences[::-1]
    assert [e.type for e in sdk.events.list(session.id, types=["turn.completed"])] == ["turn.completed"]
    assert [e.ts for e in sdk.events.list(session.id, from_ts=events[-1].ts, to_ts=events[-1].ts)] == [events[-1].ts]


def test_every_status_the_server_sends_parses(sdk, agent):
    from apps.sessions.models import Session

    session = sdk.sessions.create(agent_id=agent.id)
    for status, _ in Session.STATUSES:
        Session.objects.filter(pk=parse_id("session", session.id)).update(status=status)
        assert sdk.sessions.get(session.id).status == status
        assert [s.status for s in sdk.sessions.list()] == [status]


def test_stream_replays_the_turn(sdk, agent):
    import asyncio

    session = sdk.sessions.create(agent_id=agent.id)
    sdk.messages.create(session.id, "stream me")
    run_turns(session.id)

    async def collect():
        seen = []
        stream = sdk._target.events.stream(session.id, exclude=["output.message.delta"])
        async with asyncio.timeout(20):
            async for event in stream:
                seen.append(event.type)
                if event.type == "session.idled":
                    break
        await stream.aclose()
        return seen

    seen = sdk._loop.run_until_complete(collect())
    assert seen[0] == "session.started" and seen[-1] == "session.idled"
    assert "output.message.completed" in seen and "output.message.delta" not in seen


def test_pin_unpin_cancel_delete(sdk, agent):
    session = sdk.sessions.create(agent_id=agent.id)
    sdk.sessions.pin(session.id)
    assert sdk.sessions.get(session.id).is_pinned is True
    assert [s.is_pinned for s in sdk.sessions.list()] == [True]
    sdk.sessions.unpin(session.id)
    assert sdk.sessions.get(session.id).is_pinned is False

    with pytest.raises(everruns_sdk.ApiError) as idle:
        sdk.sessions.cancel(session.id)
    assert idle.value.status_code == 422
    sdk.messages.create(session.id, "cancel me")
    sdk.sessions.cancel(session.id)
    run_turns(session.id)
    assert text_of(sdk.messages.list(session.id)[-1]) == "Work was cancelled by user."

    sdk.sessions.delete(session.id)
    with pytest.raises(everruns_sdk.NotFoundError):
        sdk.sessions.get(session.id)
    assert session.id not in [s.id for s in sdk.sessions.list()]


def test_resume_reruns_a_cancelled_turn(sdk, agent):
    session = sdk.sessions.create(agent_id=agent.id)
    with pytest.raises(everruns_sdk.ApiError) as nothing:
        sdk.sessions.resume(session.id)
    assert nothing.value.status_code == 422
    sdk.messages.create(session.id, "again please")
    sdk.sessions.cancel(session.id)
    run_turns(session.id)
    resumed = sdk.sessions.resume(session.id)
    assert (resumed.session_id, resumed.resumed_budgets) == (session.id, 0)
    run_turns(session.id)
    events = sdk.events.list(session.id, types=["turn.completed", "session.idled"])
    assert [e.type for e in events][-2:] == ["turn.completed", "session.idled"]


def test_export_is_the_conversation_as_jsonl(sdk, agent):
    session = sdk.sessions.create(agent_id=agent.id)
    sdk.messages.create(session.id, "export me")
    run_turns(session.id)
    lines = [json.loads(line) for line in sdk.sessions.export(session.id).splitlines()]
    assert [(m["role"], m["content"][0]["text"]) for m in lines] == [
        ("user", "export me"),
        ("agent", "You said: export me"),
    ]
    assert [m["id"] for m in lines] == [m.id for m in sdk.messages.list(session.id)]


def _digest(arguments, context):
    return {"sha256": hashlib.sha256(context.secrets["GITHUB_TOKEN"].encode()).hexdigest()}


@pytest.fixture
def secret_tool():
    tool = Tool("digest_secret", "digest of a secret", {"type": "object", "properties": {}}, _digest)
    registry.register(Capability(id="sdk_secret_reader", name="Secret reader", description="t", tools=(tool,)))
    yield "sdk_secret_reader"
    registry.unregister("sdk_secret_reader")


def test_set_secrets_reach_tools_and_never_come_back(sdk, secret_tool):
    from everruns_sdk.models import AgentCapabilityConfig

    agent = sdk.agents.create("sdk-secrets", "You help.")
    session = sdk.sessions.create(agent_id=agent.id, capabilities=[AgentCapabilityConfig(ref=secret_tool)])
    sdk.sessions.set_secrets(session.id, {"GITHUB_TOKEN": SECRET})
    sdk.messages.create(session.id, "/tool digest_secret {}")
    run_turns(session.id)
    completed = sdk.events.list(session.id, tool_name="digest_secret")
    assert hashlib.sha256(SECRET.encode()).hexdigest() in json.dumps(completed[0].data)
    everything = [
        sdk.sessions.get(session.id).model_dump_json(),
        json.dumps([e.model_dump() for e in sdk.events.list(session.id)]),
        json.dumps([m.model_dump() for m in sdk.messages.list(session.id)]),
        sdk.sessions.export(session.id),
    ]
    assert not any(SECRET in body for body in everything)


def test_errors_come_back_as_the_sdks_errors(sdk, agent):
    missing = "session_" + "0" * 32
    for call in (sdk.sessions.get, sdk.sessions.pin, sdk.sessions.export, sdk.messages.list, sdk.events.list):
        with pytest.raises(everruns_sdk.NotFoundError):
            call(missing)
    session = sdk.sessions.create(agent_id=agent.id)
    with pytest.raises(everruns_sdk.ApiError) as bad:
        sdk.events.list(session.id, limit=5000)
    assert bad.value.status_code == 400
