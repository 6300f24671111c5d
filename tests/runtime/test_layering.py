"""Harness → agent → session layering and version pinning, seen from a real turn (llmsim model, inline runner)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.agents.models import Agent

pytestmark = pytest.mark.django_db


def system_prompt_of_last_generation(chat) -> str:
    generation = chat.events(types="llm.generation")[-1]["data"]
    first = generation["messages"][0]
    assert first["role"] == "system"
    return first["content"][0]["text"]


def test_harness_prompt_comes_first_then_the_agent(api_client, make_chat):
    harness = api_client.post(
        "/v1/harnesses", {"name": "house-style", "system_prompt": "House style: be brief."}, format="json"
    ).json()
    chat = make_chat(system_prompt="You answer questions.")
    agent_id = chat.refresh()["agent_id"]
    api_client.patch(f"/v1/agents/{agent_id}", {"harness_id": harness["id"]}, format="json")
    # The existing session keeps the version (and harness) it was created with ...
    chat.say("hi")
    assert system_prompt_of_last_generation(chat) == "You answer questions."
    # ... a new session of the agent runs on the new harness.
    session = api_client.post("/v1/sessions", {"agent_id": agent_id}, format="json").json()
    chat.id, chat.pk = session["id"], None
    from apps.core.ids import parse_id

    chat.pk = parse_id("session", session["id"])
    chat.say("hi")
    assert system_prompt_of_last_generation(chat) == "House style: be brief.\n\nYou answer questions."
    resolved = api_client.get(f"/v1/agents/{agent_id}/resolved-config").json()
    assert resolved["system_prompt"] == "House style: be brief.\n\nYou answer questions."


def test_a_session_keeps_running_on_its_pinned_version(api_client, make_chat):
    chat = make_chat(system_prompt="Version one.")
    session = chat.refresh()
    assert session["agent_version_id"].startswith("agentver_")
    api_client.patch(f"/v1/agents/{session['agent_id']}", {"system_prompt": "Version two."}, format="json")
    chat.say("hello")
    assert system_prompt_of_last_generation(chat) == "Version one."
    assert chat.refresh()["agent_version_id"] == session["agent_version_id"]

    newer = api_client.post("/v1/sessions", {"agent_id": session["agent_id"]}, format="json").json()
    assert newer["agent_version_id"] != session["agent_version_id"]


def test_initial_files_of_harness_and_agent_are_in_the_session_before_the_first_turn(api_client, make_chat):
    harness = api_client.post(
        "/v1/harnesses",
        {
            "name": "with-files",
            "initial_files": [{"path": "/a.md", "content": "harness a"}, {"path": "/b.md", "content": "b"}],
        },
        format="json",
    ).json()
    chat = make_chat()
    agent_id = chat.refresh()["agent_id"]
    api_client.patch(
        f"/v1/agents/{agent_id}",
        {"harness_id": harness["id"], "initial_files": [{"path": "/a.md", "content": "agent a"}]},
        format="json",
    )
    session = api_client.post("/v1/sessions", {"agent_id": agent_id}, format="json").json()
    from apps.core.ids import parse_id

    chat.id, chat.pk = session["id"], parse_id("session", session["id"])
    chat.say("hi")
    a = api_client.get(f"/v1/sessions/{session['id']}/fs/a.md").json()
    b = api_client.get(f"/v1/sessions/{session['id']}/fs/b.md").json()
    assert (a["content"], b["content"]) == ("agent a", "b")  # the agent's file wins at the same path


def test_a_turn_costs_the_same_queries_however_many_agents_and_versions_exist(api_client, make_chat):
    def turn_queries() -> int:
        chat = make_chat(system_prompt="Count me.")
        chat.post("hello")
        with CaptureQueriesContext(connection) as captured:
            chat.run()
        return len(captured)

    turn_queries()  # warm-up: the first turn of the process loads registries and caches
    # A turn's count varies by one between runs (a time-based checkpoint), so the bound is the most of three.
    few = max(turn_queries() for _ in range(3))
    for i in range(15):
        agent = api_client.post("/v1/agents", {"name": f"filler-{i}", "system_prompt": "x"}, format="json").json()
        for n in range(3):
            api_client.patch(f"/v1/agents/{agent['id']}", {"system_prompt": f"x{n}"}, format="json")
        api_client.post("/v1/sessions", {"agent_id": agent["id"]}, format="json")
    assert Agent.objects.count() > 15
    assert turn_queries() <= few
