"""Agent health checks through the HTTP API: trigger runs a short test turn (the built-in simulator model),
the run follows the turn, list and get show the result."""

import pytest

from apps.core.ids import parse_id
from apps.runtime.services import turn_run_pending

pytestmark = pytest.mark.django_db


def test_trigger_then_the_turn_decides_the_result(api_client):
    agent = api_client.post("/v1/agents", {"name": "checked", "system_prompt": "You are ready."}, format="json").json()
    url = f"/v1/agents/{agent['id']}/health-checks"
    run = api_client.post(url).json()
    assert run["id"].startswith("healthcheck_") and run["agent_id"] == agent["id"]
    assert run["status"] == "pending" and run["results"] is None and run["config_hash"].startswith("sha256:")

    session_id = api_client.get("/v1/sessions").json()["data"][0]["id"]
    turn_run_pending(session_id=parse_id("session", session_id))

    done = api_client.get(f"{url}/{run['id']}").json()
    assert done["status"] == "completed" and done["completed_at"] is not None
    (case,) = done["results"]
    assert case["passed"] is True and case["score"] == 1.0 and case["session_id"] == session_id
    assert done["summary"]["pass_rate"] == 1.0 and done["summary"]["total"] == 1
    assert [r["id"] for r in api_client.get(url).json()] == [run["id"]]


def test_unknown_agent_and_run_are_not_found(api_client):
    assert api_client.post("/v1/agents/agent_" + "0" * 32 + "/health-checks").json() == {
        "error": "Agent not found",
        "status": 404,
    }
    agent = api_client.post("/v1/agents", {"name": "x", "system_prompt": "p"}, format="json").json()
    missing = api_client.get(f"/v1/agents/{agent['id']}/health-checks/healthcheck_{'0' * 32}")
    assert missing.json() == {"error": "Health check not found", "status": 404}
    assert api_client.get(f"/v1/agents/{agent['id']}/health-checks").json() == []
