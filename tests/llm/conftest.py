"""Fixtures of the LLM catalogue tests."""

import pytest

from tests.llm.helpers import PROVIDERS


@pytest.fixture
def create_provider(admin_client):
    """create_provider(**body) -> the JSON of a provider created through the API by an org admin."""

    def _create(client=None, **body):
        body = {"name": "OpenAI", "provider_type": "openai", **body}
        response = (client or admin_client).post(PROVIDERS, body, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return _create


@pytest.fixture
def create_model(admin_client):
    """create_model(provider_id, **body) -> the JSON of a model created through the API."""

    def _create(provider_id: str, client=None, **body):
        body = {"model_id": "gpt-4o", "display_name": "GPT-4o", **body}
        response = (client or admin_client).post(f"{PROVIDERS}/{provider_id}/models", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return _create


@pytest.fixture
def allow_private_base_urls(settings):
    """Let providers call the local fake servers on 127.0.0.1 (refused by default: provider_base_url_check)."""
    settings.LLM_ALLOW_PRIVATE_BASE_URLS = True
