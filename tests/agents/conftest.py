import pytest


@pytest.fixture
def create_agent(api_client):
    """create_agent(**fields) -> the JSON of a newly created agent in the default org (via the API)."""

    def _create(client=None, **fields):
        body = {"name": "Helper", "system_prompt": "You help."} | fields
        response = (client or api_client).post("/v1/agents", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return _create


@pytest.fixture
def make_model(db):
    """make_model(org, model_id="gpt-test") -> an LlmModel (with its provider) in `org`."""
    from apps.llm.models import LlmModel, LlmProvider

    def _make(org, model_id: str = "gpt-test"):
        provider = LlmProvider.objects.create(organization=org, name="Sim", provider_type="llmsim")
        return LlmModel.objects.create(organization=org, provider=provider, model_id=model_id, display_name=model_id)

    return _make
