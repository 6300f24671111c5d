"""End to end: the simulated model calls an MCP server's tool through an agent; results, events, errors."""

import json
import logging

import pytest

pytestmark = pytest.mark.django_db

SECRET = "sk-mcp-turn-secret-987654321"


def say(api_client, session_id: str, text: str) -> list[dict]:
    """Post a user message, run the turn inline, return the session's events."""
    from apps.core.ids import parse_id
    from apps.runtime.services import turn_run_pending

    body = {"message": {"role": "user", "content": [{"type": "text", "text": text}]}}
    response = api_client.post(f"/v1/sessions/{session_id}/messages", body, format="json")
    assert response.status_code == 201, response.content
    turn_run_pending(session_id=parse_id("session", session_id))
    return api_client.get(f"/v1/sessions/{session_id}/events").json()["data"]


def make_server(api_client, url: str, **extra) -> dict:
    response = api_client.post("/v1/mcp-servers", {"name": "calc", "url": url, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def make_session(api_client, **agent_fields) -> tuple[dict, str]:
    agent = api_client.post(
        "/v1/agents", {"name": "Mathematician", "system_prompt": "You compute.", **agent_fields}, format="json"
    )
    assert agent.status_code == 201, agent.content
    session = api_client.post("/v1/sessions", {"agent_id": agent.json()["id"]}, format="json")
    assert session.status_code == 201, session.content
    return agent.json(), session.json()["id"]


def last_reply(events: list[dict]) -> str:
    completed = [e for e in events if e["type"] == "output.message.completed"]
    return completed[-1]["data"]["message"]["content"][0]["text"]


def test_the_model_calls_an_mcp_tool_and_the_result_is_in_the_reply(api_client, local_mcp, caplog):
    caplog.set_level(logging.DEBUG)
    server = make_server(api_client, local_mcp.url, api_key=SECRET)
    agent, session = make_session(api_client, mcpServers={"maths": {"server_id": server["id"], "tools": ["add"]}})
    assert agent["mcpServers"] == {"maths": {"server_id": server["id"], "name": "calc", "tools": ["add"]}}

    events = say(api_client, session, 'Add these.\n/tool mcp__calc__add {"a": 2, "b": 40}')

    started = next(e for e in events if e["type"] == "tool.started")
    assert started["data"]["tool_call"]["name"] == "mcp__calc__add"
    assert started["data"]["tool_call"]["arguments"] == {"a": 2, "b": 40}
    completed = next(e for e in events if e["type"] == "tool.completed")
    assert completed["data"]["tool_name"] == "mcp__calc__add" and completed["data"]["status"] == "success"
    assert json.loads(completed["data"]["result"][0]["text"]) == {"result": 42}
    assert last_reply(events) == 'Tool results:\nmcp__calc__add: {"result":42}'
    assert [e["type"] for e in events][-2:] == ["turn.completed", "session.idled"]
    # The model was offered the allowed tool only, and the credential went to the server, nowhere else.
    generation = next(e for e in events if e["type"] == "llm.generation")
    assert [t["name"] for t in generation["data"]["tools"]] == ["mcp__calc__add"]
    assert any(h.get("authorization") == f"Bearer {SECRET}" for h in local_mcp.seen_headers)
    assert SECRET not in json.dumps(events) and SECRET not in caplog.text


def test_a_tool_outside_the_allow_list_is_unknown_to_the_turn(api_client, local_mcp):
    server = make_server(api_client, local_mcp.url)
    _, session = make_session(api_client, mcpServers={"maths": {"server_id": server["id"], "tools": ["add"]}})
    events = say(api_client, session, '/tool mcp__calc__shout {"text": "hi"}')
    completed = next(e for e in events if e["type"] == "tool.completed")
    assert completed["data"]["status"] == "error" and completed["data"]["error"] == "Unknown tool: mcp__calc__shout"


def test_an_mcp_capability_reference_attaches_every_tool(api_client, local_mcp):
    server = make_server(api_client, local_mcp.url)
    agent, session = make_session(api_client, capabilities=[server["capability_id"]])
    assert agent["capabilities"] == [{"ref": server["capability_id"], "config": {}}]
    events = say(api_client, session, '/tool mcp__calc__shout {"text": "hello"}')
    assert last_reply(events) == 'Tool results:\nmcp__calc__shout: {"result":"HELLO!"}'


def test_an_error_result_of_the_server_is_a_tool_error(api_client, local_mcp):
    server = make_server(api_client, local_mcp.url)
    _, session = make_session(api_client, mcpServers={"m": {"server_id": server["id"]}})
    events = say(api_client, session, "/tool mcp__calc__explode {}")
    completed = next(e for e in events if e["type"] == "tool.completed")
    assert completed["data"]["status"] == "error" and "Error executing tool explode" in completed["data"]["error"]
    assert events[-1]["type"] == "session.idled"


def test_an_unreachable_server_fails_the_tool_call_not_the_turn(api_client, local_mcp):
    server = make_server(api_client, local_mcp.url)  # tools listed while it runs...
    _, session = make_session(api_client, mcpServers={"m": {"server_id": server["id"]}})
    local_mcp.stop()  # ...then it goes away

    events = say(api_client, session, '/tool mcp__calc__add {"a": 1, "b": 1}')
    completed = next(e for e in events if e["type"] == "tool.completed")
    assert completed["data"]["status"] == "error"
    assert completed["data"]["error"] == "MCP server 'calc' is unreachable (connection failed)"
    assert [e["type"] for e in events][-2:] == ["turn.completed", "session.idled"]
    assert "mcp__calc__add" in last_reply(events)


def test_a_turn_picks_up_a_changed_tool_list_after_refresh(api_client, local_mcp):
    server = make_server(api_client, local_mcp.url)
    _, session = make_session(api_client, mcpServers={"m": {"server_id": server["id"]}})

    def reverse(text: str) -> str:
        return text[::-1]

    local_mcp.server.add_tool(reverse, description="Reverse a string.")
    assert api_client.post(f"/v1/mcp-servers/{server['id']}/refresh").status_code == 200
    events = say(api_client, session, '/tool mcp__calc__reverse {"text": "abc"}')
    assert last_reply(events) == 'Tool results:\nmcp__calc__reverse: {"result":"cba"}'


def test_a_stale_tool_cache_is_listed_again_by_the_turn(api_client, local_mcp, settings):
    server = make_server(api_client, local_mcp.url)
    _, session = make_session(api_client, mcpServers={"m": {"server_id": server["id"]}})
    local_mcp.server.remove_tool("add")
    settings.MCP_TOOLS_CACHE_SECS = 0
    events = say(api_client, session, '/tool mcp__calc__add {"a": 1, "b": 1}')
    completed = next(e for e in events if e["type"] == "tool.completed")
    assert completed["data"]["error"] == "Unknown tool: mcp__calc__add"


def test_mcp_servers_are_validated_and_replaced(api_client, local_mcp, other_org_client):
    server = make_server(api_client, local_mcp.url)
    agent, _ = make_session(api_client)
    assert agent["mcpServers"] == {}

    unknown = api_client.patch(
        f"/v1/agents/{agent['id']}", {"mcpServers": {"x": {"server_id": "mcp_" + "0" * 32}}}, format="json"
    )
    assert unknown.status_code == 422 and unknown.json()["error"].startswith("Unknown MCP server")
    inline = api_client.patch(
        f"/v1/agents/{agent['id']}", {"mcpServers": {"x": {"type": "http", "url": local_mcp.url}}}, format="json"
    )
    assert inline.status_code == 422 and "Inline MCP servers are not supported" in inline.json()["error"]
    bad_ref = api_client.patch(f"/v1/agents/{agent['id']}", {"capabilities": ["mcp:mcp_" + "1" * 32]}, format="json")
    assert bad_ref.json() == {"error": f"Unknown capability: mcp:mcp_{'1' * 32}", "status": 422}

    attach = {"mcpServers": {"a": {"server_id": server["id"]}}}
    ok = api_client.patch(f"/v1/agents/{agent['id']}", attach, format="json")
    assert ok.json()["mcpServers"] == {"a": {"server_id": server["id"], "name": "calc", "tools": None}}
    copy = api_client.post(f"/v1/agents/{agent['id']}/copy").json()
    assert copy["mcpServers"] == ok.json()["mcpServers"]
    listed = {a["id"]: a["mcpServers"] for a in api_client.get("/v1/agents").json()["data"]}
    assert listed[agent["id"]] == ok.json()["mcpServers"]

    cleared = api_client.patch(f"/v1/agents/{agent['id']}", {"mcpServers": {}}, format="json")
    assert cleared.json()["mcpServers"] == {}
    # Another organization cannot attach this server.
    theirs = other_org_client.post(
        "/v1/agents",
        {"name": "T", "system_prompt": "p", "mcpServers": {"a": {"server_id": server["id"]}}},
        format="json",
    )
    assert theirs.status_code == 422
    # A deleted server drops out of the agents that used it.
    api_client.patch(f"/v1/agents/{agent['id']}", {"mcpServers": {"a": {"server_id": server["id"]}}}, format="json")
    assert api_client.delete(f"/v1/mcp-servers/{server['id']}").status_code == 204
    assert api_client.get(f"/v1/agents/{agent['id']}").json()["mcpServers"] == {}


def test_a_call_past_the_timeout_is_a_tool_error(api_client, local_mcp, settings):
    server = make_server(api_client, local_mcp.url)
    _, session = make_session(api_client, mcpServers={"m": {"server_id": server["id"]}})
    settings.MCP_TOOL_TIMEOUT_SECS = 1
    events = say(api_client, session, "/tool mcp__calc__hang {}")
    completed = next(e for e in events if e["type"] == "tool.completed")
    assert completed["data"]["status"] == "error"
    assert completed["data"]["error"] == "MCP server 'calc' did not answer within 1 s"
    assert events[-1]["type"] == "session.idled"


def test_session_mcp_servers_add_to_the_agents(api_client, local_mcp):
    server = make_server(api_client, local_mcp.url)
    agent, _ = make_session(api_client)
    body = {"agent_id": agent["id"], "mcpServers": {"extra": {"server_id": server["id"], "tools": ["shout"]}}}
    created = api_client.post("/v1/sessions", body, format="json")
    assert created.status_code == 201, created.content
    expected = {"extra": {"server_id": server["id"], "name": "calc", "tools": ["shout"]}}
    assert created.json()["mcpServers"] == expected
    session = created.json()["id"]
    assert api_client.get(f"/v1/sessions/{session}").json()["mcpServers"] == expected
    listed = {s["id"]: s["mcpServers"] for s in api_client.get("/v1/sessions").json()["data"]}
    assert listed[session] == expected

    events = say(api_client, session, '/tool mcp__calc__shout {"text": "hey"}')
    assert last_reply(events) == 'Tool results:\nmcp__calc__shout: {"result":"HEY!"}'

    unknown = api_client.post(
        "/v1/sessions", {"agent_id": agent["id"], "mcpServers": {"x": {"server_id": "mcp_" + "2" * 32}}}, format="json"
    )
    assert unknown.status_code == 422
