"""The spec's Agent beyond the contract (SDK 0.3.1): every field round-trips, name upsert, lookup by name,
search and paging, check-name, import from an example, analyze, stats; and GET /v1/agents' query count."""

import pytest

from apps.core.ids import format_id

pytestmark = pytest.mark.django_db

FULL = {
    "name": "support",
    "display_name": "Support Agent",
    "system_prompt": "You help customers with orders and refunds, politely and precisely.",
    "tags": ["support"],
    "tools": [
        {
            "name": "open_url",
            "description": "Open a URL in the user's browser",
            "parameters": {"type": "object", "properties": {"url": {"type": "string"}}},
        }
    ],
    "initial_files": [{"path": "INSTRUCTIONS.md", "content": "Be formal.\n"}],
    "max_iterations": 12,
    "parallel_tool_calls": False,
    "network_access": {"allowed": ["api.example.com"], "blocked": []},
}


def test_every_field_round_trips(api_client):
    created = api_client.post("/v1/agents", FULL, format="json")
    assert created.status_code == 201, created.content
    body = api_client.get(f"/v1/agents/{created.json()['id']}").json()
    assert body["display_name"] == "Support Agent"
    assert body["tools"] == [{"type": "client_side", **FULL["tools"][0]}]
    assert body["initial_files"] == [{"path": "/INSTRUCTIONS.md", "content": "Be formal.\n"}]
    assert (body["max_iterations"], body["parallel_tool_calls"]) == (12, False)
    assert body["network_access"] == {"allowed": ["api.example.com"], "blocked": []}
    assert body["archived_at"] is None and body["deleted_at"] is None


def test_post_with_an_existing_name_replaces_that_agent(api_client):
    first = api_client.post("/v1/agents", FULL, format="json").json()
    again = api_client.post("/v1/agents", {"name": "support", "system_prompt": "New prompt."}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["system_prompt"] == "New prompt." and again.json()["tools"] == []  # a full replace
    assert api_client.get("/v1/agents").json()["total"] == 1


def test_get_by_name_and_check_name(api_client):
    agent = api_client.post("/v1/agents", FULL, format="json").json()
    assert api_client.get("/v1/agents/support").json()["id"] == agent["id"]
    assert api_client.get("/v1/agents/nobody").json() == {"error": "Agent not found", "status": 404}
    assert api_client.get("/v1/agents/check-name?name=support").json() == {"available": False}
    assert api_client.get(f"/v1/agents/check-name?name=support&exclude_id={agent['id']}").json() == {"available": True}
    assert api_client.get("/v1/agents/check-name?name=other").json() == {"available": True}
    assert api_client.get("/v1/agents/check-name").status_code == 400
    assert api_client.get("/v1/agents/check-name?name=x&exclude_id=nope").status_code == 400


def test_search_and_optional_paging(api_client):
    for name in ("alpha", "beta", "alphabet"):
        api_client.post("/v1/agents", {"name": name, "system_prompt": "p"}, format="json")
    assert [a["name"] for a in api_client.get("/v1/agents?search=ALPHA").json()["data"]] == ["alphabet", "alpha"]
    everything = api_client.get("/v1/agents").json()
    assert set(everything) == {"data", "total"} and everything["total"] == 3
    page = api_client.get("/v1/agents?limit=2&offset=1").json()
    assert (page["total"], page["offset"], page["limit"], [a["name"] for a in page["data"]]) == (
        3,
        1,
        2,
        ["beta", "alpha"],
    )
    assert api_client.get("/v1/agents?limit=0").status_code == 400


@pytest.mark.parametrize(
    ("patch", "status"),
    [
        ({"max_iterations": 0}, 400),
        ({"max_iterations": "5"}, 400),
        ({"parallel_tool_calls": "yes"}, 400),
        ({"tools": [{"name": "bad name", "description": "d"}]}, 400),
        ({"tools": [{"name": "t", "description": "d"}, {"name": "t", "description": "d"}]}, 400),
        ({"initial_files": [{"path": "", "content": "x"}]}, 400),
        ({"network_access": ["x"]}, 400),
        ({"harness_id": "harness_" + "0" * 32}, 404),
        ({"harness_name": "missing"}, 404),
    ],
)
def test_bad_values_are_clear_errors(api_client, patch, status):
    agent = api_client.post("/v1/agents", FULL, format="json").json()
    response = api_client.patch(f"/v1/agents/{agent['id']}", patch, format="json")
    assert response.status_code == status
    assert response.json()["status"] == status and isinstance(response.json()["error"], str)
    assert api_client.get(f"/v1/agents/{agent['id']}").json()["max_iterations"] == 12  # unchanged


def test_import_from_an_example(api_client):
    created = api_client.post("/v1/agents/import?from-example=time-keeper", "", content_type="text/plain")
    assert created.status_code == 201
    assert created.json()["name"] == "time-keeper"
    assert [c["ref"] for c in created.json()["capabilities"]] == ["current_time", "test_math"]
    again = api_client.post("/v1/agents/import?from-example=time-keeper", "", content_type="text/plain")
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    missing = api_client.post("/v1/agents/import?from-example=nope", "", content_type="text/plain")
    assert missing.json() == {"error": "Example not found", "status": 404}


def test_analyze_is_a_deterministic_report(api_client):
    body = {
        "system_prompt": "TODO",
        "capabilities": ["current_time", "current_time", "research"],
        "tools": [{"name": "get_current_time", "parameters": {}}],
    }
    first = api_client.post("/v1/agents/analyze", body, format="json")
    assert first.status_code == 200
    rules = [f["rule_id"] for f in first.json()["findings"]]
    assert rules == [
        "prompt-short",
        "prompt-placeholder",
        "capability-duplicate",
        "capability-unavailable",
        "tool-name-conflict",
        "tool-no-description",
        "tool-bad-parameters",
    ]
    assert api_client.post("/v1/agents/analyze", body, format="json").json() == first.json()
    clean = {"system_prompt": "You are a careful assistant who answers billing questions for Acme customers."}
    assert api_client.post("/v1/agents/analyze", clean, format="json").json() == {"findings": []}
    assert api_client.post("/v1/agents/analyze", {"capabilities": []}, format="json").status_code == 400


def test_stats_count_sessions_turns_and_tokens(api_client, make_session, agent):
    from apps.sessions.models import Session

    make_session()
    make_session()
    Session.objects.filter(agent=agent).update(input_tokens=10, output_tokens=5)
    stats = api_client.get(f"/v1/agents/{format_id('agent', agent.public_id)}/stats").json()
    assert stats["session_count"] == 2 and stats["started_session_count"] == 2
    assert (stats["total_input_tokens"], stats["total_output_tokens"]) == (20, 10)
    assert stats["execution_count"] == 0 and stats["total_cost_usd"] is None
    future = api_client.get(f"/v1/agents/{format_id('agent', agent.public_id)}/stats?from=2999-01-01T00:00:00Z")
    assert future.json()["session_count"] == 0
    assert api_client.get(f"/v1/agents/{format_id('agent', agent.public_id)}/stats?from=yesterday").status_code == 400
    assert api_client.get("/v1/agents/agent_" + "0" * 32 + "/stats").status_code == 404


def test_listing_agents_costs_the_same_queries_for_3_or_30(api_client, django_assert_max_num_queries):
    def create(n: int) -> None:
        for i in range(n):
            agent = api_client.post("/v1/agents", {"name": f"a{i}-{n}", "system_prompt": "p"}, format="json").json()
            api_client.patch(f"/v1/agents/{agent['id']}", {"system_prompt": "q"}, format="json")

    create(3)
    with django_assert_max_num_queries(3):
        assert api_client.get("/v1/agents").json()["total"] == 3
    create(27)
    with django_assert_max_num_queries(3):
        assert api_client.get("/v1/agents").json()["total"] == 30
    with django_assert_max_num_queries(4):
        assert len(api_client.get("/v1/agents?limit=5").json()["data"]) == 5


def test_export_import_round_trips_the_spec_fields(api_client):
    harness = api_client.post("/v1/harnesses", {"name": "portable"}, format="json").json()
    agent = api_client.post("/v1/agents", {**FULL, "harness_id": harness["id"]}, format="json").json()
    markdown = api_client.get(f"/v1/agents/{agent['id']}/export").content.decode()
    assert 'harness: "portable"' in markdown
    api_client.patch(f"/v1/agents/{agent['id']}", {"status": "archived"}, format="json")
    imported = api_client.post("/v1/agents/import", markdown, content_type="text/markdown").json()
    keys = ("display_name", "tools", "initial_files", "max_iterations", "parallel_tool_calls", "network_access")
    assert {k: imported[k] for k in keys} == {k: agent[k] for k in keys}
    assert imported["harness_id"] == harness["id"]
    versions = api_client.get(f"/v1/agents/{imported['id']}/versions").json()
    assert [v["change_kind"] for v in versions] == ["import"]
