"""Agent versions through the HTTP API: a snapshot per configuration change (deduplicated by the resolved
config's hash), list, get, diff, publish, set default, fork, rollback; sessions record theirs."""

import pytest

from apps.agents.models import AgentVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(api_client):
    return api_client.post("/v1/agents", {"name": "writer", "system_prompt": "One."}, format="json").json()


def versions(api_client, agent) -> list[dict]:
    response = api_client.get(f"/v1/agents/{agent['id']}/versions")
    assert response.status_code == 200
    return response.json()


def test_every_config_change_is_a_version_and_repeats_are_not(api_client, agent):
    url = f"/v1/agents/{agent['id']}"
    assert [v["version"] for v in versions(api_client, agent)] == ["1.0.0"]
    api_client.patch(url, {"system_prompt": "Two."}, format="json")
    api_client.patch(url, {"system_prompt": "Two."}, format="json")  # same resolved config: no new version
    api_client.patch(url, {"description": "only metadata"}, format="json")  # not part of what a turn runs with
    listed = versions(api_client, agent)
    assert [(v["version_number"], v["version"], v["change_kind"]) for v in listed] == [
        (2, "1.0.1", "auto"),
        (1, "1.0.0", "auto"),
    ]
    assert listed[0]["resolved_config"]["system_prompt"] == "Two."
    assert listed[0]["parent_version_id"] == listed[1]["id"]
    assert listed[0]["config_hash"].startswith("sha256:") and listed[0]["config_hash"] != listed[1]["config_hash"]
    got = api_client.get(f"{url}/versions/{listed[1]['id']}").json()
    assert got["authored_config"]["system_prompt"] == "One." and got["agent_id"] == agent["id"]


def test_diff_is_field_by_field(api_client, agent):
    url = f"/v1/agents/{agent['id']}"
    api_client.patch(
        url, {"system_prompt": "Two.", "capabilities": ["current_time"], "max_iterations": 5}, format="json"
    )
    new, old = versions(api_client, agent)
    diff = api_client.get(f"{url}/versions/{old['id']}/diff/{new['id']}").json()
    assert diff["from_version_id"] == old["id"] and diff["to_version_id"] == new["id"]
    assert diff["resolved_diff"] == {
        "system_prompt": {"from": "One.", "to": "Two."},
        "capabilities": {"from": [], "to": [{"ref": "current_time", "config": {}}]},
        "max_iterations": {"from": None, "to": 5},
    }
    assert set(diff["authored_diff"]) == {"system_prompt", "capabilities", "max_iterations"}
    missing = api_client.get(f"{url}/versions/{old['id']}/diff/agentver_{'0' * 32}")
    assert missing.json() == {"error": "Version not found", "status": 404}


def test_publish_then_semver_kinds(api_client, agent):
    url = f"/v1/agents/{agent['id']}"
    published = api_client.post(f"{url}/versions", {"summary": "first release"}, format="json").json()
    assert published["is_published"] is True and published["version"] == "1.0.0"  # unchanged: the latest, published
    assert published["summary"] == "first release"
    api_client.patch(url, {"system_prompt": "Two."}, format="json")
    minor = api_client.post(f"{url}/versions", {"change_kind": "minor"}, format="json").json()
    assert minor["version"] == "1.0.1"  # the PATCH already recorded 1.0.1; publishing it keeps its number
    api_client.patch(url, {"system_prompt": "Three."}, format="json")
    assert versions(api_client, agent)[0]["version"] == "1.0.2"
    bad = api_client.post(f"{url}/versions", {"change_kind": "fork"}, format="json")
    assert bad.status_code == 400


def test_default_version_pins_new_sessions(api_client, agent):
    url = f"/v1/agents/{agent['id']}"
    first = versions(api_client, agent)[0]
    api_client.patch(url, {"system_prompt": "Two."}, format="json")
    updated = api_client.post(f"{url}/versions/default", {"version_id": first["id"]}, format="json")
    assert updated.status_code == 200 and updated.json()["default_version_id"] == first["id"]
    session = api_client.post("/v1/sessions", {"agent_id": agent["id"]}, format="json").json()
    assert session["agent_version_id"] == first["id"]
    foreign = api_client.post(f"{url}/versions/default", {"version_id": f"agentver_{'0' * 32}"}, format="json")
    assert foreign.json() == {"error": "Version not found", "status": 404}


def test_rollback_restores_the_configuration_as_a_new_version(api_client, agent):
    url = f"/v1/agents/{agent['id']}"
    first = versions(api_client, agent)[0]
    api_client.patch(url, {"system_prompt": "Two.", "tags": ["x"]}, format="json")
    rolled = api_client.post(f"{url}/versions/{first['id']}/rollback", {"save_version": True}, format="json")
    assert rolled.status_code == 200
    assert rolled.json()["system_prompt"] == "One." and rolled.json()["name"] == "writer"
    latest = versions(api_client, agent)[0]
    assert (latest["change_kind"], latest["source_version_id"], latest["is_published"]) == (
        "rollback",
        first["id"],
        True,
    )
    assert latest["version_number"] == 3


def test_fork_makes_a_new_agent_with_lineage(api_client, agent):
    url = f"/v1/agents/{agent['id']}"
    first = versions(api_client, agent)[0]
    api_client.patch(url, {"system_prompt": "Two."}, format="json")
    forked = api_client.post(f"{url}/versions/{first['id']}/fork", {"name": "writer-fork"}, format="json")
    assert forked.status_code == 200, forked.content
    body = forked.json()
    assert body["id"] != agent["id"] and body["system_prompt"] == "One."
    assert (body["forked_from_agent_id"], body["forked_from_version_id"], body["root_agent_id"]) == (
        agent["id"],
        first["id"],
        agent["id"],
    )
    fork_versions = api_client.get(f"/v1/agents/{body['id']}/versions").json()
    assert [(v["change_kind"], v["source_version_id"]) for v in fork_versions] == [("fork", first["id"])]
    taken = api_client.post(f"{url}/versions/{first['id']}/fork", {"name": "writer"}, format="json")
    assert taken.json() == {"error": "An agent with this name already exists", "status": 409}
    assert api_client.post(f"{url}/versions/{first['id']}/fork", {}, format="json").status_code == 400


def test_versions_of_another_agent_are_not_found(api_client, agent):
    other = api_client.post("/v1/agents", {"name": "other", "system_prompt": "x"}, format="json").json()
    theirs = versions(api_client, other)[0]
    response = api_client.get(f"/v1/agents/{agent['id']}/versions/{theirs['id']}")
    assert response.json() == {"error": "Version not found", "status": 404}
    assert AgentVersion.objects.count() == 2
