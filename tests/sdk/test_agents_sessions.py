"""SDK agents and sessions carry `harness_id`: agents default to the organization's `generic` harness and
sessions to their agent's harness (the SDK's models require the field; without it every call failed)."""

from tests.sdk.conftest import everruns_sdk


def test_agent_create_list_get_default_to_the_generic_harness(sdk):
    generic = sdk.harnesses.get("generic")
    agent = sdk.agents.create("helper", "You help.", description="A helper", tags=["a"])
    assert agent.id.startswith("agent_") and agent.harness_id == generic.id
    assert agent.id in [a.id for a in sdk.agents.list()]
    got = sdk.agents.get(agent.id)
    assert (got.name, got.system_prompt, got.description, got.tags) == ("helper", "You help.", "A helper", ["a"])
    assert got.harness_id == generic.id


def test_agent_on_a_named_harness_and_its_sessions(sdk):
    base = sdk.harnesses.create("research-base", "Cite sources.")
    agent = sdk.agents.create("researcher", "You research.", harness_name="research-base")
    assert agent.harness_id == base.id

    session = sdk.sessions.create(agent_id=agent.id, title="First")
    assert session.harness_id == base.id and session.agent_id == agent.id
    assert session.id in [s.id for s in sdk.sessions.list()]
    got = sdk.sessions.get(session.id)
    assert got.title == "First" and got.harness_id == base.id

    other = sdk.harnesses.create("other-base", "Be brief.")
    pinned = sdk.sessions.create(other.id, agent_id=agent.id)
    assert pinned.harness_id == other.id


def test_an_unknown_harness_is_not_found(sdk):
    try:
        sdk.agents.create("lost", "x", harness_id="harness_" + "1" * 32)
    except everruns_sdk.NotFoundError:
        pass
    else:  # pragma: no cover
        raise AssertionError("expected 404")
    assert "lost" not in [a.name for a in sdk.agents.list()]
