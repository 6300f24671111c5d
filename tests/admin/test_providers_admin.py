"""Provider actions in the admin: test connection and sync models, against the fake provider servers."""

import socket

import pytest
from django.contrib.admin.models import LogEntry

from apps.llm.models import LlmModel, LlmProvider
from apps.llm.services import llm_provider_create

pytestmark = pytest.mark.django_db

PROVIDERS = "/admin/llm/llmprovider/"


def _act(client, action: str, *providers: LlmProvider) -> list[str]:
    """Run an admin action; the messages the operator sees on the page it leads to."""
    selected = [str(p.pk) for p in providers]
    response = client.post(PROVIDERS, {"action": action, "_selected_action": selected}, follow=True)
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_test_connection_reports_each_providers_result(staff, make_provider, openai_server):
    openai_server.api_key = "sk-good"
    good = make_provider("Good", openai_server.base_url, "sk-good")
    bad_key = make_provider("Bad key", openai_server.base_url, "sk-no")
    down = make_provider("Down", f"http://127.0.0.1:{_closed_port()}/v1", "sk-good")
    shown = _act(staff, "test_connection", good, bad_key, down)
    assert f"Good: OK: Connected: {len(openai_server.models)} models listed" in shown
    assert "Bad key: FAILED: Provider rejected the API key" in shown
    assert "Down: FAILED: Could not reach the provider" in shown
    assert not LlmModel.objects.filter(provider=good).exists()  # a test stores nothing
    logged = {entry.object_repr: entry.change_message for entry in LogEntry.objects.all()}
    assert logged[str(good)].startswith("Tested connection: OK")
    assert "sk-good" not in " ".join(shown) + " ".join(logged.values())


def test_the_built_in_provider_needs_no_connection(staff, default_org):
    simulated = llm_provider_create(organization=default_org, name="Sim", provider_type="llmsim")
    assert _act(staff, "test_connection", simulated) == ["Sim: OK: Built in: no network connection needed"]


def test_sync_models_shows_what_changed(staff, make_provider, openai_server):
    provider = make_provider("Upstream", openai_server.base_url)
    openai_server.models = ["gpt-4o", "gpt-4o-mini"]
    assert _act(staff, "sync_models", provider) == ["Upstream: models synced: 2 new, 0 updated, 0 stale"]
    assert set(LlmModel.objects.filter(provider=provider).values_list("model_id", flat=True)) == {
        "gpt-4o",
        "gpt-4o-mini",
    }
    openai_server.models = ["gpt-4o"]
    assert _act(staff, "sync_models", provider) == ["Upstream: models synced: 0 new, 1 updated, 1 stale"]
    assert LogEntry.objects.filter(change_message__startswith="Synced models").count() == 2


def test_a_failed_sync_is_an_error_message(staff, make_provider):
    provider = make_provider("Gone", f"http://127.0.0.1:{_closed_port()}/v1")
    assert _act(staff, "sync_models", provider) == ["Gone: sync failed: Could not reach the provider"]
