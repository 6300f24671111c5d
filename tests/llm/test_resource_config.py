"""GET /v1/providers/config and /v1/models/config (published spec, issue 21 item 5): policies and drivers."""

import pytest

from apps.llm.clients.base import CLIENTS

pytestmark = pytest.mark.django_db


def test_provider_config_lists_every_driver_and_the_callers_policy(admin_client, member_client):
    admin = admin_client.get("/v1/providers/config")
    assert admin.status_code == 200
    body = admin.json()
    assert body["policies"] == {"llm_provider_manage": True}
    assert [d["driver"] for d in body["drivers"]] == sorted(CLIENTS)
    by_driver = {d["driver"]: d for d in body["drivers"]}
    openai_fields = {f["name"]: f for f in by_driver["openai"]["credential_schema"]["fields"]}
    assert openai_fields["api_key"]["field_type"] == "password"
    assert openai_fields["base_url"]["field_type"] == "url"
    assert [f["name"] for f in by_driver["llmsim"]["credential_schema"]["fields"]] == ["base_url"]
    assert all(d["supports_oauth"] is False for d in body["drivers"])
    assert all(d["credential_schema"]["instructions_markdown"] for d in body["drivers"])
    member = member_client.get("/v1/providers/config").json()
    assert member["policies"] == {"llm_provider_manage": False}
    assert member["drivers"] == body["drivers"]


def test_model_config_says_whether_the_caller_may_manage_models(admin_client, member_client):
    assert admin_client.get("/v1/models/config").json() == {"policies": {"llm_provider_manage": True}}
    assert member_client.get("/v1/models/config").json() == {"policies": {"llm_provider_manage": False}}


def test_config_is_not_taken_for_an_id(admin_client):
    # "config" is its own route, not a malformed provider/model id (which would be 404).
    assert admin_client.get("/v1/providers/config").status_code == 200
    assert admin_client.get("/v1/providers/provider_config").status_code == 404
    assert admin_client.patch("/v1/models/config", {}, format="json").status_code == 405
