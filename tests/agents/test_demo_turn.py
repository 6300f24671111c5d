"""End to end: the seeded demo agent's tools run in a real turn (simulated model, no network)."""

import io

import pytest
from django.core.management import call_command

from apps.core.ids import parse_id

pytestmark = pytest.mark.django_db


def test_demo_agent_runs_its_tools(api_client):
    from apps.runtime.services import turn_run_pending

    call_command("seed", stdout=io.StringIO())
    demo = next(a for a in api_client.get("/v1/agents").json()["data"] if a["name"] == "Demo Assistant")
    session = api_client.post("/v1/sessions", {"agent_id": demo["id"]}, format="json").json()
    text = '/tool add {"a": 2, "b": 3}\n/tool divide {"a": 1, "b": 0}'
    response = api_client.post(
        f"/v1/sessions/{session['id']}/messages",
        {"message": {"content": [{"type": "text", "text": text}]}},
        format="json",
    )
    assert response.status_code == 201
    turn_run_pending(session_id=parse_id("session", session["id"]))

    results = [
        part
        for message in api_client.get(f"/v1/sessions/{session['id']}/messages").json()["data"]
        if message["role"] == "tool_result"
        for part in message["content"]
    ]
    assert results[0]["result"] == {"result": 5} and results[0]["error"] is None
    assert "Division by zero" in str(results[1]["error"])
