"""/v1/agents CRUD, upsert, archive and every error envelope (contract 2.3, 3.1)."""

import re

import pytest

from apps.core.ids import format_id
from apps.harnesses.models import Harness

pytestmark = pytest.mark.django_db

ID_RE = re.compile(r"^agent_[0-9a-f]{32}$")
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
AGENT_NOT_FOUND = {"error": "Agent not found", "status": 404}
INVALID = {"error": "Invalid request", "status": 400}
TOO_LARGE = {"error": "Input exceeds allowed limits", "status": 400}


def test_create_returns_the_full_agent(api_client):
    """The spec's Agent (SDK 0.3.1 wins over api-contract.md's shorter one): the contract's fields plus harness_id,
    display_name, tools, initial_files, max_iterations, parallel_tool_calls, network_access, versions, lineage."""
    response = api_client.post(
        "/v1/agents",
        {
            "name": "Release Notes Writer",
            "system_prompt": "You write release notes.",
            "description": "Notes",
            "tags": ["docs"],
            "capabilities": ["current_time", {"ref": "test_math", "config": {"precision": 2}}],
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert ID_RE.match(body.pop("id"))
    assert TS_RE.match(body.pop("created_at")) and TS_RE.match(body.pop("updated_at"))
    # SDK 0.3.1 requires harness_id: an agent created without one runs on its organization's `generic` harness.
    assert body.pop("harness_id") == format_id("harness", Harness.objects.get(name="generic", is_built_in=True).pk)
    assert body == {
        "name": "Release Notes Writer",
        "description": "Notes",
        "system_prompt": "You write release notes.",
        "default_model_id": None,
        "tags": ["docs"],
        "capabilities": [{"ref": "current_time", "config": {}}, {"ref": "test_math", "config": {"precision": 2}}],
        "status": "active",
        "usage": None,
        "display_name": None,
        "tools": [],
        "initial_files": [],
        "max_iterations": None,
        "parallel_tool_calls": None,
        "network_access": None,
        "default_version_id": None,
        "forked_from_agent_id": None,
        "forked_from_version_id": None,
        "root_agent_id": None,
        "archived_at": None,
        "deleted_at": None,
    }


def test_minimal_create_has_defaults(create_agent):
    agent = create_agent()
    assert (agent["description"], agent["tags"], agent["capabilities"]) == (None, [], [])


def test_get_returns_what_create_returned(api_client, create_agent):
    agent = create_agent()
    response = api_client.get(f"/v1/agents/{agent['id']}")
    assert response.status_code == 200
    assert response.json() == agent


def test_usage_reports_cumulative_tokens(api_client, create_agent):
    from apps.agents.models import Agent

    agent = create_agent()
    Agent.objects.all().update(input_tokens=12, output_tokens=5)
    usage = api_client.get(f"/v1/agents/{agent['id']}").json()["usage"]
    assert usage == {"input_tokens": 12, "output_tokens": 5, "cache_read_tokens": 0, "cache_creation_tokens": 0}


@pytest.mark.parametrize("raw", ["agent_" + "0" * 31 + "9", "invalid-id", "agent_xyz", "session_" + "0" * 32])
def test_get_unknown_or_malformed_id_is_404(api_client, raw):
    response = api_client.get(f"/v1/agents/{raw}")
    assert response.status_code == 404
    assert response.json() == AGENT_NOT_FOUND


def test_hyphenated_id_is_tolerated(api_client, create_agent):
    agent = create_agent()
    hexid = agent["id"].removeprefix("agent_")
    hyphenated = f"agent_{hexid[:8]}-{hexid[8:12]}-{hexid[12:16]}-{hexid[16:20]}-{hexid[20:]}"
    assert api_client.get(f"/v1/agents/{hyphenated}").json()["id"] == agent["id"]


# ---------------------------------------------------------------- list


def test_list_is_newest_first_with_total_and_includes_archived(api_client, create_agent):
    """The spec's GET /v1/agents lists active agents unless `include_archived=true` (SDK/spec win over
    api-contract.md, whose list included archived agents by default)."""
    first, second, third = create_agent(name="one"), create_agent(name="two"), create_agent(name="three")
    assert api_client.delete(f"/v1/agents/{second['id']}").status_code == 204
    assert [a["id"] for a in api_client.get("/v1/agents").json()["data"]] == [third["id"], first["id"]]
    body = api_client.get("/v1/agents?include_archived=true").json()
    assert body["total"] == 3
    assert [a["id"] for a in body["data"]] == [third["id"], second["id"], first["id"]]
    assert [a["status"] for a in body["data"]] == ["active", "archived", "active"]


def test_list_status_filter(api_client, create_agent):
    kept, archived = create_agent(name="kept"), create_agent(name="gone")
    api_client.delete(f"/v1/agents/{archived['id']}")
    active = api_client.get("/v1/agents?status=active").json()
    assert [a["id"] for a in active["data"]] == [kept["id"]] and active["total"] == 1
    only_archived = api_client.get("/v1/agents?status=archived").json()
    assert [a["id"] for a in only_archived["data"]] == [archived["id"]]


def test_list_invalid_status_filter_is_400(api_client):
    response = api_client.get("/v1/agents?status=deleted")
    assert response.status_code == 400 and response.json() == INVALID


def test_empty_list(api_client):
    assert api_client.get("/v1/agents").json() == {"data": [], "total": 0}


# ---------------------------------------------------------------- client-chosen ids: POST with id and PUT


def test_post_with_new_id_creates_it(api_client):
    chosen = "agent_" + "ab" * 16
    response = api_client.post("/v1/agents", {"id": chosen, "name": "A", "system_prompt": "p"}, format="json")
    assert response.status_code == 201 and response.json()["id"] == chosen


def test_post_with_existing_id_updates_and_answers_200(api_client, create_agent):
    agent = create_agent(tags=["old"])
    response = api_client.post(
        "/v1/agents", {"id": agent["id"], "name": "Renamed", "system_prompt": "New"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["name"], body["system_prompt"], body["tags"]) == (agent["id"], "Renamed", "New", [])
    assert api_client.get("/v1/agents").json()["total"] == 1


def test_post_with_malformed_id_is_400(api_client):
    response = api_client.post("/v1/agents", {"id": "agent_nope", "name": "A", "system_prompt": "p"}, format="json")
    assert response.status_code == 400 and response.json() == INVALID


def test_put_creates_then_replaces(api_client):
    url = "/v1/agents/agent_" + "cd" * 16
    created = api_client.put(url, {"name": "A", "system_prompt": "p", "tags": ["x"], "description": "d"}, format="json")
    assert created.status_code == 201
    assert created.json()["id"] == "agent_" + "cd" * 16
    replaced = api_client.put(url, {"name": "B", "system_prompt": "q"}, format="json")
    assert replaced.status_code == 200
    body = replaced.json()
    # A full replace: optional fields not sent go back to their defaults.
    assert (body["name"], body["system_prompt"], body["tags"], body["description"]) == ("B", "q", [], None)
    assert body["created_at"] == created.json()["created_at"]


def test_put_path_id_wins_over_body_id(api_client):
    path_id, body_id = "agent_" + "11" * 16, "agent_" + "22" * 16
    response = api_client.put(
        f"/v1/agents/{path_id}", {"id": body_id, "name": "A", "system_prompt": "p"}, format="json"
    )
    assert response.status_code == 201 and response.json()["id"] == path_id
    assert api_client.get(f"/v1/agents/{body_id}").status_code == 404


def test_put_with_malformed_path_id_is_404(api_client):
    response = api_client.put("/v1/agents/not-an-id", {"name": "A", "system_prompt": "p"}, format="json")
    assert response.status_code == 404 and response.json() == AGENT_NOT_FOUND


def test_put_validates_like_create(api_client):
    response = api_client.put("/v1/agents/agent_" + "33" * 16, {"name": "", "system_prompt": "p"}, format="json")
    assert response.status_code == 400 and response.json() == INVALID
    response = api_client.put(
        "/v1/agents/agent_" + "33" * 16, {"name": "a", "system_prompt": "p", "capabilities": ["nope"]}, format="json"
    )
    assert response.status_code == 422


def test_same_client_id_in_two_orgs_makes_two_agents(api_client, other_org_client):
    chosen = "agent_" + "44" * 16
    mine = api_client.put(f"/v1/agents/{chosen}", {"name": "Mine", "system_prompt": "p"}, format="json")
    theirs = other_org_client.put(f"/v1/agents/{chosen}", {"name": "Theirs", "system_prompt": "p"}, format="json")
    assert mine.status_code == 201 and theirs.status_code == 201
    assert api_client.get(f"/v1/agents/{chosen}").json()["name"] == "Mine"
    assert other_org_client.get(f"/v1/agents/{chosen}").json()["name"] == "Theirs"


# ---------------------------------------------------------------- PATCH


def test_patch_changes_only_given_fields(api_client, create_agent):
    agent = create_agent(description="keep", tags=["a"], capabilities=["noop"])
    response = api_client.patch(f"/v1/agents/{agent['id']}", {"name": "New name", "tags": ["b", "c"]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["tags"], body["description"], body["system_prompt"]) == (
        "New name",
        ["b", "c"],
        "keep",
        "You help.",
    )
    assert body["capabilities"] == [{"ref": "noop", "config": {}}]
    assert body["updated_at"] >= agent["updated_at"]


def test_patch_replaces_capabilities_in_order(api_client, create_agent):
    agent = create_agent(capabilities=["noop"])
    body = api_client.patch(
        f"/v1/agents/{agent['id']}", {"capabilities": ["test_math", "current_time"]}, format="json"
    ).json()
    assert [c["ref"] for c in body["capabilities"]] == ["test_math", "current_time"]


def test_patch_status_active_restores_archived_agent(api_client, create_agent):
    agent = create_agent()
    api_client.delete(f"/v1/agents/{agent['id']}")
    response = api_client.patch(f"/v1/agents/{agent['id']}", {"status": "active"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert api_client.delete(f"/v1/agents/{agent['id']}").status_code == 204


@pytest.mark.parametrize(
    "body",
    [
        {"status": "deleted"},
        {"name": ""},
        {"name": None},
        {"tags": "x"},
        {"system_prompt": 5},
        {"capabilities": [{"config": {}}]},
        {"capabilities": [{"ref": "noop", "config": []}]},
        {"capabilities": [7]},
    ],
)
def test_patch_invalid_body_is_400(api_client, create_agent, body):
    agent = create_agent()
    response = api_client.patch(f"/v1/agents/{agent['id']}", body, format="json")
    assert response.status_code == 400 and response.json() == INVALID


def test_patch_unknown_agent_is_404(api_client):
    response = api_client.patch("/v1/agents/agent_" + "5" * 32, {"name": "x"}, format="json")
    assert response.status_code == 404 and response.json() == AGENT_NOT_FOUND


# ---------------------------------------------------------------- DELETE


def test_delete_archives(api_client, create_agent):
    agent = create_agent()
    response = api_client.delete(f"/v1/agents/{agent['id']}")
    assert response.status_code == 204 and response.content == b""
    assert api_client.get(f"/v1/agents/{agent['id']}").json()["status"] == "archived"


def test_delete_twice_is_404(api_client, create_agent):
    agent = create_agent()
    api_client.delete(f"/v1/agents/{agent['id']}")
    response = api_client.delete(f"/v1/agents/{agent['id']}")
    assert response.status_code == 404 and response.json() == AGENT_NOT_FOUND


def test_delete_unknown_is_404(api_client):
    response = api_client.delete("/v1/agents/agent_" + "6" * 32)
    assert response.status_code == 404 and response.json() == AGENT_NOT_FOUND


# ---------------------------------------------------------------- validation and limits


@pytest.mark.parametrize(
    "body",
    [
        {"system_prompt": "p"},
        {"name": "A"},
        {"name": "", "system_prompt": "p"},
        {"name": "   ", "system_prompt": "p"},
        {"name": 42, "system_prompt": "p"},
        {"name": "A", "system_prompt": ""},
        {"name": "A", "system_prompt": "p", "tags": [1]},
        {"name": "A", "system_prompt": "p", "tags": "docs"},
        {"name": "A", "system_prompt": "p", "description": ["x"]},
        {"name": "A", "system_prompt": "p", "capabilities": "current_time"},
        {"name": "A", "system_prompt": "p", "capabilities": [{"ref": 1}]},
        {"name": "A", "system_prompt": "p", "capabilities": [None]},
    ],
)
def test_invalid_create_is_400_invalid_request(api_client, body):
    response = api_client.post("/v1/agents", body, format="json")
    assert response.status_code == 400 and response.json() == INVALID


def test_malformed_json_is_400(api_client):
    response = api_client.post("/v1/agents", '{"name": "x",', content_type="application/json")
    assert response.status_code == 400 and response.json() == INVALID


@pytest.mark.parametrize(("field", "limit"), [("name", 2048), ("description", 10_240), ("system_prompt", 1_048_576)])
def test_limits_are_utf8_bytes(api_client, field, limit):
    # "é" is 2 bytes: limit/2 of them fit exactly, one more is over the limit in bytes, not in characters.
    fits = {"name": "A", "system_prompt": "p", field: "é" * (limit // 2)}
    assert api_client.post("/v1/agents", fits, format="json").status_code == 201
    over = {"name": "A", "system_prompt": "p", field: "é" * (limit // 2) + "x"}
    response = api_client.post("/v1/agents", over, format="json")
    assert response.status_code == 400 and response.json() == TOO_LARGE


def test_limit_counts_four_byte_characters(api_client):
    response = api_client.post("/v1/agents", {"name": "🙂" * 513, "system_prompt": "p"}, format="json")
    assert response.json() == TOO_LARGE  # 513 characters, 2052 bytes


def test_limits_apply_to_patch_and_put(api_client, create_agent):
    agent = create_agent()
    response = api_client.patch(f"/v1/agents/{agent['id']}", {"description": "ж" * 5121}, format="json")
    assert response.json() == TOO_LARGE
    response = api_client.put(f"/v1/agents/{agent['id']}", {"name": "n" * 2049, "system_prompt": "p"}, format="json")
    assert response.json() == TOO_LARGE


def test_more_than_250_capabilities_is_400_limits(api_client):
    response = api_client.post(
        "/v1/agents", {"name": "A", "system_prompt": "p", "capabilities": ["noop"] * 251}, format="json"
    )
    assert response.status_code == 400 and response.json() == TOO_LARGE
    response = api_client.post(
        "/v1/agents", {"name": "A", "system_prompt": "p", "capabilities": ["noop"] * 250}, format="json"
    )
    assert response.status_code == 201


def test_unknown_capability_is_422(api_client, create_agent):
    response = api_client.post(
        "/v1/agents", {"name": "A", "system_prompt": "p", "capabilities": ["current_time", "teleport"]}, format="json"
    )
    assert response.status_code == 422
    assert response.json() == {"error": "Unknown capability: teleport", "status": 422}
    agent = create_agent()
    response = api_client.patch(f"/v1/agents/{agent['id']}", {"capabilities": [{"ref": "teleport"}]}, format="json")
    assert response.json() == {"error": "Unknown capability: teleport", "status": 422}
    assert api_client.get("/v1/agents").json()["total"] == 1  # nothing was created by the failed POST


# ---------------------------------------------------------------- default model


def test_default_model_is_set_and_cleared(api_client, create_agent, default_org, make_model):
    model_id = format_id("model", make_model(default_org).pk)
    agent = create_agent(default_model_id=model_id)
    assert agent["default_model_id"] == model_id
    cleared = api_client.patch(f"/v1/agents/{agent['id']}", {"default_model_id": None}, format="json").json()
    assert cleared["default_model_id"] is None


def test_malformed_default_model_is_400(api_client):
    response = api_client.post(
        "/v1/agents", {"name": "A", "system_prompt": "p", "default_model_id": "gpt-4o"}, format="json"
    )
    assert response.status_code == 400 and response.json() == INVALID


def test_unknown_or_foreign_default_model_is_404(api_client, make_org, make_model):
    foreign = format_id("model", make_model(make_org("Elsewhere")).pk)
    for model_id in ("model_" + "7" * 32, foreign):
        response = api_client.post(
            "/v1/agents", {"name": "A", "system_prompt": "p", "default_model_id": model_id}, format="json"
        )
        assert response.status_code == 404
        assert response.json() == {"error": "Model not found", "status": 404}


# ---------------------------------------------------------------- access


def test_anonymous_is_401_when_auth_is_on(api_client, settings):
    settings.AUTH_MODE = "full"
    for method, url in [("get", "/v1/agents"), ("post", "/v1/agents"), ("post", "/v1/agents/import")]:
        response = getattr(api_client, method)(url)
        assert response.status_code == 401
        assert response.json() == {"error": "Unauthorized", "status": 401}


def test_plain_members_may_manage_agents(member_client):
    response = member_client.post("/v1/agents", {"name": "A", "system_prompt": "p"}, format="json")
    assert response.status_code == 201
    assert member_client.delete(f"/v1/agents/{response.json()['id']}").status_code == 204


def test_other_org_sees_404_everywhere(create_agent, other_org_client, api_client):
    agent = create_agent()
    url = f"/v1/agents/{agent['id']}"
    assert other_org_client.get("/v1/agents").json() == {"data": [], "total": 0}
    for method, path, body in [
        ("get", url, None),
        ("patch", url, {"name": "x"}),
        ("delete", url, None),
        ("get", f"{url}/export", None),
        ("post", f"{url}/copy", None),
    ]:
        response = getattr(other_org_client, method)(path, body, format="json")
        assert response.status_code == 404, (method, path)
        assert response.json() == AGENT_NOT_FOUND
    assert api_client.get(url).json() == agent  # untouched


def _config_of(size: int) -> dict:
    """A capability config whose JSON form (`{"x": "..."}`) is exactly `size` UTF-8 bytes."""
    return {"x": "é" * ((size - 9) // 2) + "a" * ((size - 9) % 2)}


def test_capability_config_is_limited_to_64_kib_of_json(api_client, create_agent):
    fits = {"name": "A", "system_prompt": "p", "capabilities": [{"ref": "noop", "config": _config_of(65_536)}]}
    created = api_client.post("/v1/agents", fits, format="json")
    assert created.status_code == 201
    over = [{"ref": "noop", "config": {}}, {"ref": "noop", "config": _config_of(65_537)}]
    response = api_client.post("/v1/agents", {"name": "A", "system_prompt": "p", "capabilities": over}, format="json")
    assert response.status_code == 400 and response.json() == TOO_LARGE
    agent_url = f"/v1/agents/{created.json()['id']}"
    assert api_client.patch(agent_url, {"capabilities": over}, format="json").json() == TOO_LARGE
    assert (
        api_client.put(agent_url, {"name": "A", "system_prompt": "p", "capabilities": over}, format="json").json()
        == TOO_LARGE
    )
    assert api_client.get(agent_url).json()["capabilities"] == fits["capabilities"]  # unchanged


def test_tags_are_limited_to_100_of_256_bytes(api_client, create_agent):
    agent = create_agent(tags=["ü" * 128] * 100)
    assert len(agent["tags"]) == 100
    agent_url = f"/v1/agents/{agent['id']}"
    assert api_client.patch(agent_url, {"tags": ["t"] * 101}, format="json").json() == TOO_LARGE
    assert api_client.patch(agent_url, {"tags": ["ok", "ü" * 128 + "x"]}, format="json").json() == TOO_LARGE
    response = api_client.post("/v1/agents", {"name": "A", "system_prompt": "p", "tags": ["t"] * 101}, format="json")
    assert response.status_code == 400 and response.json() == TOO_LARGE
    assert api_client.get(agent_url).json()["tags"] == agent["tags"]
