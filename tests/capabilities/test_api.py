"""GET /v1/capabilities and /v1/capabilities/{id} (contract 2.7, 3.8)."""

import pytest

pytestmark = pytest.mark.django_db

BUILTINS = {
    "current_time",
    "web_fetch",
    "session_file_system",
    "stateless_todo_list",
    "noop",
    "test_math",
    "test_weather",
}


def test_list_has_items_data_and_total(api_client):
    response = api_client.get("/v1/capabilities")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "data", "total"}
    assert body["items"] == body["data"] and body["total"] == len(body["items"])
    assert {item["id"] for item in body["items"]} >= BUILTINS


def test_list_item_shape(api_client):
    items = {item["id"]: item for item in api_client.get("/v1/capabilities").json()["items"]}
    assert items["web_fetch"] == {
        "id": "web_fetch",
        "name": "Web Fetch",
        "description": items["web_fetch"]["description"],
        "status": "available",
        "icon": "globe",
        "category": "Network",
        "is_mcp": False,
        "is_skill": False,
        "dependencies": [],
        "features": [],
        "risk_level": "high",
    }
    assert items["session_file_system"]["features"] == ["file_system"]
    assert items["current_time"]["category"] == "Utilities" and items["current_time"]["icon"] == "clock"
    assert items["research"]["status"] == "coming_soon"
    assert "system_prompt" not in items["current_time"]  # only on the detail endpoint


def test_detail_includes_prompt_and_tool_definitions(api_client):
    response = api_client.get("/v1/capabilities/test_math")
    assert response.status_code == 200
    body = response.json()
    assert body["system_prompt"].startswith("Use the math tools")
    assert [tool["name"] for tool in body["tool_definitions"]] == ["add", "subtract", "multiply", "divide"]
    assert body["tool_definitions"][3]["parameters"] == {
        "type": "object",
        "properties": {
            "a": {"type": "number", "description": "First operand."},
            "b": {"type": "number", "description": "Second operand."},
        },
        "required": ["a", "b"],
        "additionalProperties": False,
    }


def test_session_file_system_definitions(api_client):
    body = api_client.get("/v1/capabilities/session_file_system").json()
    tools = {tool["name"]: tool["parameters"] for tool in body["tool_definitions"]}
    assert list(tools) == [
        "read_file",
        "write_file",
        "list_directory",
        "grep_files",
        "delete_file",
        "stat_file",
        "move_file",
        "copy_file",
    ]
    assert tools["write_file"]["required"] == ["path", "content"]
    assert tools["write_file"]["properties"]["encoding"]["enum"] == ["text", "base64"]
    assert tools["move_file"]["required"] == ["src_path", "dst_path"]


def test_placeholder_has_no_tools(api_client):
    body = api_client.get("/v1/capabilities/sandbox").json()
    assert (body["status"], body["tool_definitions"], body["system_prompt"]) == ("coming_soon", [], None)


@pytest.mark.parametrize("capability_id", ["nope", "mcp:unknown", "CURRENT_TIME"])
def test_unknown_capability_is_404(api_client, capability_id):
    response = api_client.get(f"/v1/capabilities/{capability_id}")
    assert response.status_code == 404
    assert response.json() == {"error": "Capability not found", "status": 404}


def test_anonymous_is_401_when_auth_is_on(api_client, settings):
    settings.AUTH_MODE = "full"
    assert api_client.get("/v1/capabilities").json() == {"error": "Unauthorized", "status": 401}


def test_members_can_read(member_client):
    assert member_client.get("/v1/capabilities/noop").status_code == 200
