"""Agent admin: editing goes through the services' validation; export downloads Markdown; no hard delete."""

import io
import zipfile

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import DEFAULT_ORG_ID, User
from apps.agents.models import Agent
from apps.agents.services import agent_create

pytestmark = pytest.mark.django_db

ADMIN = "/admin/agents/agent/"


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(email="ops@example.com", password="S3cure-pass!"))
    return client


@pytest.fixture
def agent(default_org) -> Agent:
    return agent_create(
        organization=default_org, name="Admin Agent", system_prompt="Prompt", tags=["t"], capabilities=["noop"]
    )


def _form(**fields) -> dict:
    return {
        "organization": str(DEFAULT_ORG_ID),
        "name": "Via admin",
        "description": "",
        "system_prompt": "P",
        "default_model": "",
        "tags": "[]",
        "capabilities": "[]",
        "status": "active",
        **fields,
    }


def test_pages_render(staff, agent):
    for url in (
        ADMIN,
        f"{ADMIN}{agent.pk}/change/",
        f"{ADMIN}?q=Admin",
        f"{ADMIN}?status__exact=active",
        f"{ADMIN}add/",
    ):
        assert staff.get(url).status_code == 200, url


def test_add_with_capabilities_json(staff):
    response = staff.post(f"{ADMIN}add/", _form(capabilities='["current_time", {"ref": "test_math"}]'))
    assert response.status_code == 302
    agent = Agent.objects.get(name="Via admin")
    assert agent.capabilities == [{"ref": "current_time", "config": {}}, {"ref": "test_math", "config": {}}]
    assert APIClient().get("/v1/agents").json()["data"][0]["name"] == "Via admin"  # the API sees it too


def test_change_rejects_unknown_capability_and_oversized_name(staff, agent):
    response = staff.post(f"{ADMIN}{agent.pk}/change/", _form(capabilities='["teleport"]'))
    assert response.status_code == 200 and b"Unknown capability: teleport" in response.content
    response = staff.post(f"{ADMIN}{agent.pk}/change/", _form(name="é" * 1025))
    assert response.status_code == 200 and b"Input exceeds allowed limits" in response.content
    agent.refresh_from_db()
    assert agent.name == "Admin Agent" and agent.capabilities == [{"ref": "noop", "config": {}}]


def test_change_saves(staff, agent):
    response = staff.post(
        f"{ADMIN}{agent.pk}/change/", _form(name="Renamed", capabilities='["test_weather"]', status="archived")
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.name, agent.status) == ("Renamed", "archived")
    assert agent.capabilities == [{"ref": "test_weather", "config": {}}]


def test_export_action_downloads_markdown(staff, agent):
    response = staff.post(ADMIN, {"action": "export_markdown", "_selected_action": [str(agent.pk)]})
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="admin-agent.md"'
    assert response.content.decode().startswith('---\nname: "Admin Agent"\n')


def test_export_action_zips_several(staff, agent, default_org):
    other = agent_create(organization=default_org, name="Admin Agent", system_prompt="Other")
    response = staff.post(ADMIN, {"action": "export_markdown", "_selected_action": [str(agent.pk), str(other.pk)]})
    assert response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert len(names) == 2 and len(set(names)) == 2


def test_no_hard_delete_but_archive_action(staff, agent):
    assert staff.get(f"{ADMIN}{agent.pk}/delete/").status_code == 403
    staff.post(ADMIN, {"action": "archive", "_selected_action": [str(agent.pk)]})
    agent.refresh_from_db()
    assert agent.status == "archived"


def test_usage_is_read_only(staff, agent):
    Agent.objects.filter(pk=agent.pk).update(input_tokens=7)
    staff.post(f"{ADMIN}{agent.pk}/change/", _form(name="X", input_tokens="999"))
    agent.refresh_from_db()
    assert agent.input_tokens == 7
