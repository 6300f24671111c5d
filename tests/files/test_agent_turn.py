"""End to end: the simulated provider writes a file with write_file, and the API then reads it."""

import json

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(api_client):
    """A session (via the API) whose agent has the session_file_system capability."""
    agent = api_client.post(
        "/v1/agents",
        {"name": "Scribe", "system_prompt": "You keep notes.", "capabilities": ["session_file_system"]},
        format="json",
    )
    assert agent.status_code == 201, agent.content
    session = api_client.post("/v1/sessions", {"agent_id": agent.json()["id"]}, format="json")
    assert session.status_code == 201, session.content
    return session.json()["id"]


def say(api_client, session_id: str, text: str) -> None:
    from apps.core.ids import parse_id
    from apps.runtime.services import turn_run_pending

    body = {"message": {"role": "user", "content": [{"type": "text", "text": text}]}}
    response = api_client.post(f"/v1/sessions/{session_id}/messages", body, format="json")
    assert response.status_code == 201, response.content
    turn_run_pending(session_id=parse_id("session", session_id))


def test_agent_writes_a_file_that_the_api_then_reads(api_client, chat):
    directive = json.dumps({"path": "/notes.txt", "content": "hi"})
    say(api_client, chat, f"Please save a note.\n/tool write_file {directive}")

    response = api_client.get(f"/v1/sessions/{chat}/fs/notes.txt")
    assert response.status_code == 200, response.content
    assert response.json()["content"] == "hi" and response.json()["encoding"] == "text"

    events = api_client.get(f"/v1/sessions/{chat}/events").json()["data"]
    completed = [e for e in events if e["type"] == "tool.completed"]
    assert len(completed) == 1 and completed[0]["data"]["tool_name"] == "write_file"
    assert completed[0]["data"]["status"] == "success"
    created = [e for e in events if e["type"] == "file.created"]
    assert [e["data"]["path"] for e in created] == ["/notes.txt"]
    # The file event belongs to the turn that wrote it and sits between the tool's start and end.
    started = next(e for e in events if e["type"] == "tool.started")
    assert started["sequence"] < created[0]["sequence"] < completed[0]["sequence"]
    assert created[0]["context"]["turn_id"] == started["context"]["turn_id"]


def test_a_failing_tool_call_is_reported_to_the_model_not_raised(api_client, chat):
    directive = json.dumps({"path": "/missing.txt"})
    say(api_client, chat, f"/tool read_file {directive}")

    events = api_client.get(f"/v1/sessions/{chat}/events").json()["data"]
    completed = next(e for e in events if e["type"] == "tool.completed")
    assert completed["data"]["status"] == "error"
    assert "File not found: /missing.txt" in json.dumps(completed["data"])
    assert events[-1]["type"] == "session.idled"
