"""`manage.py seed` creates the demo agent exactly once."""

import io

import pytest
from django.core.management import call_command

from apps.agents import seeds
from apps.agents.models import Agent

pytestmark = pytest.mark.django_db


def test_demo_agent_is_created_once_even_after_rename_and_archive(api_client):
    seeds.run(io.StringIO())
    body = api_client.get("/v1/agents").json()
    assert body["total"] == 1
    demo = body["data"][0]
    assert demo["name"] == "Demo Assistant"
    assert [c["ref"] for c in demo["capabilities"]] == ["current_time", "test_math", "session_file_system"]

    api_client.patch(f"/v1/agents/{demo['id']}", {"name": "Mine now"}, format="json")
    api_client.delete(f"/v1/agents/{demo['id']}")
    seeds.run(io.StringIO())
    call_command("seed", stdout=io.StringIO())
    assert Agent.objects.count() == 1
    assert Agent.objects.get().name == "Mine now"


def test_seed_command_reports_creation():
    out = io.StringIO()
    seeds.run(out)
    assert "Demo Assistant" in out.getvalue()
    second = io.StringIO()
    seeds.run(second)
    assert second.getvalue() == ""
