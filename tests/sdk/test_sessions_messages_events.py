"""SDK sessions, messages, events and capabilities around one real turn (the built-in simulator model, the turn
run inline), and `with_reason`: the SDK's calls work unchanged and return what was created."""

import pytest

from apps.core.ids import parse_id
from apps.runtime.services import turn_run_pending
from tests.sdk.conftest import everruns_sdk


def test_a_conversation_through_the_sdk(sdk):
    agent = sdk.agents.create("talker", "You answer briefly.")
    session = sdk.sessions.create(agent_id=agent.id, title="Chat", tags=["sdk"])
    assert session.agent_version_id == sdk.agents.list_versions(agent.id)[0].id
    assert [s.id for s in sdk.sessions.list(agent_id=agent.id)] == [session.id]

    sent = sdk.messages.create(session.id, "hello there")
    assert sent.role == "user"
    turn_run_pending(session_id=parse_id("session", session.id))

    messages = sdk.messages.list(session.id)
    assert [m.role for m in messages] == ["user", "agent"]
    assert messages[0].content[0].text == "hello there"
    types = [e.type for e in sdk.events.list(session.id)]
    assert types[0] == "session.started" and "input.message" in types and "output.message.completed" in types
    assert all(e.session_id == session.id for e in sdk.events.list(session.id, types=["input.message"]))

    sdk.sessions.delete(session.id)
    with pytest.raises(everruns_sdk.NotFoundError):
        sdk.sessions.get(session.id)


def test_capabilities_list_page_and_get(sdk):
    listed = sdk.capabilities.list()
    assert "current_time" in [c.id for c in listed]
    page = sdk.capabilities.list_page(offset=1, limit=2)
    assert (page.offset, page.limit, len(page.data), page.total) == (1, 2, 2, len(listed))
    assert [c.id for c in sdk.capabilities.list(search="weather")] == ["test_weather"]
    detail = sdk.capabilities.get("current_time")
    assert detail.id == "current_time" and detail.tool_definitions


def test_with_reason_changes_like_any_call(sdk):
    harness = sdk.harnesses.create("reasoned", "Base.")
    updated = sdk.with_reason("tighten the base prompt").harnesses.update(harness.id, system_prompt="Tighter.")
    assert updated.system_prompt == "Tighter."
    assert sdk.harnesses.get(harness.id).system_prompt == "Tighter."
