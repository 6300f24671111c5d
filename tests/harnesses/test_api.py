"""/v1/harnesses through the HTTP API: the built-in `generic` per organization, CRUD, parents, errors."""

import pytest

from apps.core.ids import format_id
from apps.harnesses.models import Harness

pytestmark = pytest.mark.django_db


def generic_of(org) -> Harness:
    return Harness.objects.get(organization=org, name="generic")


def test_a_new_organization_gets_its_generic_harness(make_org):
    org = make_org("Fresh")
    generic = generic_of(org)
    assert generic.is_built_in and generic.status == "active"
    assert generic.system_prompt is None and generic.capabilities == []


def test_the_default_organization_has_one_from_the_migration(api_client, default_org):
    body = api_client.get("/v1/harnesses").json()
    assert [h["name"] for h in body["data"]] == ["generic"]
    assert body["total"] == 1 and "offset" not in body  # every item without a limit (seed)
    assert body["data"][0]["id"] == format_id("harness", generic_of(default_org).pk)


def test_generic_is_read_only(api_client, default_org):
    url = f"/v1/harnesses/{format_id('harness', generic_of(default_org).pk)}"
    patched = api_client.patch(url, {"system_prompt": "x"}, format="json")
    assert patched.status_code == 403
    assert patched.json() == {"error": "Built-in harnesses are read-only", "status": 403}
    assert api_client.delete(url).status_code == 403
    assert generic_of(default_org).system_prompt is None


def test_create_with_parent_then_patch_and_archive(api_client, default_org):
    parent_id = format_id("harness", generic_of(default_org).pk)
    created = api_client.post(
        "/v1/harnesses",
        {"name": "ops", "system_prompt": "Ops.", "parent_harness_id": parent_id, "max_iterations": 7},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["parent_harness_id"] == parent_id and body["max_iterations"] == 7 and body["is_built_in"] is False

    url = f"/v1/harnesses/{body['id']}"
    patched = api_client.patch(url, {"capabilities": ["current_time"], "parallel_tool_calls": False}, format="json")
    assert patched.status_code == 200
    assert patched.json()["capabilities"] == [{"ref": "current_time", "config": {}}]
    assert Harness.objects.get(name="ops").parallel_tool_calls is False

    assert api_client.delete(url).status_code == 204
    assert api_client.delete(url).status_code == 404  # archiving an archived harness, like agents
    listed = api_client.get("/v1/harnesses").json()["data"]
    assert "ops" not in [h["name"] for h in listed]
    with_archived = api_client.get("/v1/harnesses?include_archived=true").json()["data"]
    assert "ops" in [h["name"] for h in with_archived]
    restored = api_client.patch(url, {"status": "active"}, format="json").json()
    assert restored["status"] == "active" and restored["archived_at"] is None


def test_a_harness_cannot_be_its_own_ancestor(api_client):
    a = api_client.post("/v1/harnesses", {"name": "a"}, format="json").json()
    b = api_client.post("/v1/harnesses", {"name": "b", "parent_harness_id": a["id"]}, format="json").json()
    cycle = api_client.patch(f"/v1/harnesses/{a['id']}", {"parent_harness_id": b["id"]}, format="json")
    assert cycle.status_code == 400
    assert cycle.json() == {"error": "A harness cannot be its own ancestor", "status": 400}


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({}, 400, "Invalid request"),
        ({"name": "Not A Slug"}, 400, "Invalid request"),
        ({"name": "x" * 65}, 400, "Input exceeds allowed limits"),
        ({"name": "ok", "capabilities": ["nope"]}, 422, "Unknown capability: nope"),
        ({"name": "ok", "max_iterations": 0}, 400, "Invalid request"),
        ({"name": "ok", "initial_files": [{"path": "/a"}]}, 400, "Invalid request"),
        ({"name": "ok", "network_access": {"allowed": "x"}}, 400, "Invalid request"),
        ({"name": "ok", "default_model_id": "model_" + "0" * 32}, 404, "Model not found"),
        ({"name": "ok", "parent_harness_id": "harness_" + "0" * 32}, 404, "Parent harness not found"),
        ({"name": "generic"}, 409, "A harness with this name already exists"),
        ([1, 2], 400, "Invalid request"),
    ],
)
def test_bad_input_gets_the_envelope(api_client, body, status, error):
    response = api_client.post("/v1/harnesses", body, format="json")
    assert response.status_code == status
    assert response.json() == {"error": error, "status": status}
    assert Harness.objects.filter(name="ok").count() == 0


def test_another_organizations_harness_is_not_found(api_client, make_org):
    foreign = Harness.objects.create(organization=make_org("Other"), name="theirs")
    assert api_client.get(f"/v1/harnesses/{format_id('harness', foreign.pk)}").status_code == 404
    assert api_client.get("/v1/harnesses/theirs").status_code == 404
    assert "theirs" not in [h["name"] for h in api_client.get("/v1/harnesses").json()["data"]]


def test_search_and_paging(api_client):
    for name in ("alpha-one", "alpha-two", "beta"):
        api_client.post("/v1/harnesses", {"name": name}, format="json")
    assert [h["name"] for h in api_client.get("/v1/harnesses?search=ALPHA").json()["data"]] == [
        "alpha-one",
        "alpha-two",
    ]
    page = api_client.get("/v1/harnesses?offset=1&limit=2").json()
    assert (page["total"], page["offset"], page["limit"]) == (4, 1, 2)
    assert [h["name"] for h in page["data"]] == ["alpha-one", "alpha-two"]


def test_copy_makes_a_writable_harness(api_client, default_org):
    url = f"/v1/harnesses/{format_id('harness', generic_of(default_org).pk)}/copy"
    first, second = api_client.post(url).json(), api_client.post(url).json()
    assert (first["name"], second["name"]) == ("generic-copy", "generic-copy-2")
    assert first["is_built_in"] is False


def test_agent_harness_defaults_and_choices(api_client, default_org):
    generic_id = format_id("harness", generic_of(default_org).pk)
    custom = api_client.post("/v1/harnesses", {"name": "custom"}, format="json").json()
    agent = api_client.post("/v1/agents", {"name": "a", "system_prompt": "p"}, format="json").json()
    assert agent["harness_id"] == generic_id
    moved = api_client.patch(f"/v1/agents/{agent['id']}", {"harness_name": "custom"}, format="json").json()
    assert moved["harness_id"] == custom["id"]
    session = api_client.post("/v1/sessions", {"agent_id": agent["id"]}, format="json").json()
    assert session["harness_id"] == custom["id"]
    back = api_client.patch(f"/v1/agents/{agent['id']}", {"harness_id": None}, format="json").json()
    assert back["harness_id"] == generic_id
    both = api_client.post(
        "/v1/agents", {"name": "b", "system_prompt": "p", "harness_id": generic_id, "harness_name": "x"}, format="json"
    )
    assert both.status_code == 400


def test_stats_and_a_constant_cost_list(api_client, default_org, make_agent, django_assert_max_num_queries):
    from apps.sessions.services import session_create

    harness = api_client.post("/v1/harnesses", {"name": "counted"}, format="json").json()
    agent = make_agent()
    session_create(organization=default_org, agent=agent, harness_id=Harness.objects.get(name="counted").pk)
    stats = api_client.get(f"/v1/harnesses/{harness['id']}/stats").json()
    assert stats["session_count"] == 1 and stats["execution_count"] == 0
    assert api_client.get("/v1/harnesses/generic/stats").json()["session_count"] == 0
    assert api_client.get("/v1/harnesses/harness_" + "0" * 32 + "/stats").status_code == 404
    with django_assert_max_num_queries(3):
        api_client.get("/v1/harnesses")
    for i in range(20):
        api_client.post("/v1/harnesses", {"name": f"h{i}"}, format="json")
    with django_assert_max_num_queries(3):
        assert api_client.get("/v1/harnesses").json()["total"] == 22


def test_import_an_example_check_name_and_config(api_client, default_org):
    adopted = api_client.post("/v1/harnesses/import?from-example=file-worker")
    assert adopted.status_code == 201
    body = adopted.json()
    assert (body["name"], body["is_built_in"]) == ("file-worker", False)
    assert body["parent_harness_id"] == format_id("harness", generic_of(default_org).pk)
    assert [c["ref"] for c in body["capabilities"]] == ["session_file_system", "current_time"]
    assert api_client.post("/v1/harnesses/import?from-example=file-worker").json()["name"] == "file-worker-2"
    assert api_client.post("/v1/harnesses/import?from-example=nope").json() == {
        "error": "Example not found",
        "status": 404,
    }
    assert api_client.post("/v1/harnesses/import").status_code == 400

    assert api_client.get("/v1/harnesses/check-name?name=file-worker").json() == {"available": False}
    assert api_client.get(f"/v1/harnesses/check-name?name=file-worker&exclude_id={body['id']}").json() == {
        "available": True
    }
    assert api_client.get("/v1/harnesses/check-name?name=free").json() == {"available": True}
    assert api_client.get("/v1/harnesses/config").json()["policies"]["harness_manage"] is True
    assert api_client.get("/v1/agents/config").json() == {"policies": {"agent_manage": True}}
