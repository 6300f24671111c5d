"""The simulated provider seed and `llm_default_model`, the last step of a turn's model resolution."""

import io

import pytest

from apps.llm import seeds
from apps.llm.models import LlmModel, LlmProvider
from apps.llm.services import (
    NoModelAvailable,
    llm_default_model,
    llm_model_create,
    llm_model_update,
    llm_provider_create,
    llm_provider_update,
)
from tests.llm.helpers import PROVIDERS, SIMULATED_MODEL

pytestmark = pytest.mark.django_db


def test_default_org_resolves_to_the_seeded_simulator(default_org):
    model = llm_default_model(organization=default_org)
    assert f"model_{model.pk.hex}" == SIMULATED_MODEL
    assert (model.model_id, model.provider.provider_type) == ("llmsim-default", "llmsim")


def test_new_organization_gets_a_simulator_on_first_use(make_org):
    org = make_org("Fresh")
    assert not LlmProvider.objects.filter(organization=org).exists()
    model = llm_default_model(organization=org)
    assert model.organization == org
    assert model.provider.organization == org
    assert (model.provider.name, model.provider.provider_type, model.provider.status) == (
        "Simulated",
        "llmsim",
        "active",
    )
    assert (model.model_id, model.is_default, model.source) == ("llmsim-default", True, "predefined")
    # Idempotent: the same model, nothing new created.
    assert llm_default_model(organization=org) == model
    assert LlmProvider.objects.filter(organization=org).count() == 1
    assert LlmModel.objects.filter(organization=org).count() == 1


def test_new_organization_sees_its_simulator_through_the_api(make_org, make_user, client_for):
    org = make_org("Fresh")
    client = client_for(make_user("fresh@example.com", org=org, role="admin"))
    assert client.get(PROVIDERS).json()["total"] == 0
    llm_default_model(organization=org)
    assert [p["name"] for p in client.get(PROVIDERS).json()["data"]] == ["Simulated"]


def test_a_real_providers_default_wins_over_the_simulator(default_org):
    openai = llm_provider_create(organization=default_org, name="OpenAI", provider_type="openai")
    gpt = llm_model_create(provider=openai, model_id="gpt-4o", display_name="GPT-4o", is_default=True)
    assert llm_default_model(organization=default_org) == gpt

    # Disabled model or disabled provider: back to the simulator.
    llm_model_update(model=gpt, data={"status": "disabled"})
    assert llm_default_model(organization=default_org).model_id == "llmsim-default"
    llm_model_update(model=gpt, data={"status": "active"})
    llm_provider_update(provider=openai, data={"status": "disabled"})
    assert llm_default_model(organization=default_org).model_id == "llmsim-default"


def test_simulator_without_models_gets_its_default_model_back(default_org, admin_client):
    admin_client.delete(f"/v1/llm-models/{SIMULATED_MODEL}")
    model = llm_default_model(organization=default_org)
    assert (model.model_id, model.is_default) == ("llmsim-default", True)
    assert model.provider.name == "Simulated"


def test_every_simulator_disabled_and_no_default_is_an_error(default_org):
    llm_provider_update(
        provider=LlmProvider.objects.get(organization=default_org, provider_type="llmsim"), data={"status": "disabled"}
    )
    with pytest.raises(NoModelAvailable) as excinfo:
        llm_default_model(organization=default_org)
    assert excinfo.value.status_code == 422
    assert excinfo.value.message == "No active LLM model available"


def test_seed_command_restores_a_deleted_simulator_idempotently(default_org, admin_client):
    admin_client.delete(f"{PROVIDERS}/provider_{'0' * 31}1")
    assert not LlmProvider.objects.filter(organization=default_org).exists()
    out = io.StringIO()
    seeds.run(out)
    seeds.run(out)
    assert "llmsim-default" in out.getvalue()
    assert LlmProvider.objects.filter(organization=default_org, provider_type="llmsim").count() == 1
    assert LlmModel.objects.filter(organization=default_org, is_default=True).count() == 1
