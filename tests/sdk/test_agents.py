"""SDK `client.agents`, every method of 0.3.1, unchanged, against a live server."""

import pytest

from tests.sdk.conftest import everruns_sdk

Cap = everruns_sdk.AgentCapabilityConfig


def test_create_with_every_field_then_get_and_list(sdk):
    tool = everruns_sdk.ToolDefinition(
        name="open_url", description="Open a URL", parameters={"type": "object", "properties": {}}
    )
    created = sdk.agents.create(
        "support",
        "You help customers.",
        display_name="Support",
        description="Orders and refunds",
        tags=["support"],
        capabilities=[Cap(ref="current_time")],
        tools=[tool],
        initial_files=[everruns_sdk.InitialFile(path="/README.md", content="hi")],
        parallel_tool_calls=False,
    )
    got = sdk.agents.get(created.id)
    assert got.model_dump() == created.model_dump()
    assert (got.display_name, got.parallel_tool_calls, [t.name for t in got.tools]) == ("Support", False, ["open_url"])
    assert [f.path for f in got.initial_files] == ["/README.md"]
    assert sdk.agents.get("support").id == created.id  # by name
    assert [a.id for a in sdk.agents.list(search="refund")] == [created.id]


def test_apply_and_apply_by_name_upsert(sdk):
    agent_id = everruns_sdk.generate_agent_id()
    applied = sdk.agents.apply(agent_id, "my-agent", "First.")
    assert applied.id == agent_id
    again = sdk.agents.apply(agent_id, "my-agent", "Second.")
    assert again.id == agent_id and again.system_prompt == "Second."

    by_name = sdk.agents.apply_by_name("named", "One.")
    replaced = sdk.agents.apply_by_name("named", "Two.", tags=["v2"])
    assert replaced.id == by_name.id and replaced.system_prompt == "Two." and replaced.tags == ["v2"]
    assert sorted(a.name for a in sdk.agents.list()) == ["my-agent", "named"]


def test_copy_delete_and_gone_from_the_list(sdk):
    original = sdk.agents.create("original", "Copy me.", capabilities=[Cap(ref="test_math")])
    copy = sdk.agents.copy(original.id)
    assert copy.id != original.id and copy.system_prompt == "Copy me."
    assert [c.ref for c in copy.capabilities] == ["test_math"]
    sdk.with_reason("retire the copy").agents.delete(copy.id)
    assert copy.id not in [a.id for a in sdk.agents.list()]
    assert sdk.agents.get(copy.id).status == "archived"


def test_import_export_and_examples(sdk):
    imported = sdk.agents.import_agent("---\nname: imported\ntags: [a]\n---\nYou were imported.")
    assert (imported.name, imported.tags, imported.system_prompt) == ("imported", ["a"], "You were imported.")
    markdown = sdk.agents.export(imported.id)
    assert markdown.startswith("---\n") and "You were imported." in markdown
    example = sdk.agents.import_example("dad-jokes-agent")
    assert example.name == "dad-jokes-agent" and "dad joke" in example.system_prompt
    with pytest.raises(everruns_sdk.NotFoundError):
        sdk.agents.import_example("no-such-example")


def test_analyze_and_stats(sdk):
    report = sdk.agents.analyze("TODO", capabilities=[Cap(ref="current_time"), Cap(ref="current_time")])
    assert {f.rule_id for f in report.findings} >= {"prompt-placeholder", "capability-duplicate"}
    agent = sdk.agents.create("counted", "Count my sessions.")
    sdk.sessions.create(agent_id=agent.id)
    stats = sdk.agents.stats(agent.id)
    assert stats.session_count == 1 and stats.execution_count == 0


def test_versions_diff_default_fork_rollback(sdk):
    agent = sdk.agents.create("versioned", "Version one.")
    first = sdk.agents.list_versions(agent.id)[0]
    pinned = sdk.sessions.create(agent_id=agent.id)
    assert pinned.agent_version_id == first.id

    sdk.agents.apply_by_name("versioned", "Version two.")
    second = sdk.agents.create_version(agent.id, change_kind="minor", summary="better")
    assert second.id != first.id and second.is_published
    assert [v.id for v in sdk.agents.list_versions(agent.id)] == [second.id, first.id]

    diff = sdk.agents.diff_versions(agent.id, first.id, second.id)
    assert diff.resolved_diff["system_prompt"] == {"from": "Version one.", "to": "Version two."}
    assert sdk.sessions.get(pinned.id).agent_version_id == first.id  # the session keeps its version

    with_default = sdk.agents.set_default_version(agent.id, first.id)
    assert with_default.default_version_id == first.id
    assert sdk.sessions.create(agent_id=agent.id).agent_version_id == first.id

    fork = sdk.agents.fork_version(agent.id, first.id, name="versioned-fork", display_name="Fork")
    assert fork.system_prompt == "Version one." and fork.forked_from_version_id == first.id

    rolled = sdk.agents.rollback_version(agent.id, first.id, summary="back to one")
    assert rolled.system_prompt == "Version one."
    assert sdk.agents.list_versions(agent.id)[0].change_kind == "rollback"


def test_unknown_agent_is_not_found(sdk):
    with pytest.raises(everruns_sdk.NotFoundError):
        sdk.agents.get("agent_" + "0" * 32)
    with pytest.raises(everruns_sdk.NotFoundError):
        sdk.agents.list_versions("agent_" + "0" * 32)


def test_health_checks(sdk):
    from apps.core.ids import parse_id
    from apps.healthchecks.models import HealthCheckRun
    from apps.runtime.services import turn_run_pending

    agent = sdk.agents.create("checked", "You are ready.")
    run = sdk.agents.trigger_health_check(agent.id)
    assert run.status == "pending" and run.agent_id == agent.id
    turn_run_pending(session_id=HealthCheckRun.objects.get(pk=parse_id("healthcheck", run.id)).session_id)
    done = sdk.agents.get_health_check(agent.id, run.id)
    assert done.status == "completed" and done.results and done.results[0].passed
    assert done.summary is not None and done.summary.passed == 1
    assert [r.id for r in sdk.agents.list_health_checks(agent.id)] == [run.id]
