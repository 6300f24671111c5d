"""Model create/update with the read-only profile fields: malformed -> 400, well-formed or null -> ignored.

The profile (cost, limits, modalities, reasoning_effort …) comes from the static catalogue and is
never written by a client; a body that carries a malformed copy is a client bug the API reports.
"""

import pytest

from apps.llm.catalogue import CATALOGUE
from apps.llm.serializers import LlmModelProfileSerializer
from tests.llm.helpers import MODELS, PROVIDERS

pytestmark = pytest.mark.django_db

INVALID = {"error": "Invalid request", "status": 400}

VALID_PROFILE = {
    "name": "GPT-4o",
    "family": "gpt-4o",
    "release_date": "2024-05-13",
    "last_updated": None,
    "attachment": True,
    "reasoning": False,
    "temperature": True,
    "knowledge": None,
    "tool_call": True,
    "structured_output": True,
    "open_weights": False,
    "cost": {"input": 2.5, "output": 10, "cache_read": None},
    "limits": {"context": 128000, "output": 16384},
    "modalities": {"input": ["text", "image"], "output": ["text"]},
    "reasoning_effort": {"values": [{"name": "Low", "value": "low"}], "default": "low"},
}

MALFORMED = [
    pytest.param({"limits": "x"}, id="limits-string"),
    pytest.param({"limits": []}, id="limits-list"),
    pytest.param({"limits": {"context": "128000", "output": 1}}, id="limits-string-int"),
    pytest.param({"limits": {"context": 1.5, "output": 1}}, id="limits-float"),
    pytest.param({"limits": {"context": True, "output": 1}}, id="limits-bool"),
    pytest.param({"limits": {"context": 1}}, id="limits-missing-output"),
    pytest.param({"cost": 3}, id="cost-number"),
    pytest.param({"cost": {"input": "2.5", "output": 10}}, id="cost-string-number"),
    pytest.param({"cost": {"input": 1, "output": 1, "cache_read": "0.1"}}, id="cost-cache-read-string"),
    pytest.param({"modalities": ["text"]}, id="modalities-list"),
    pytest.param({"modalities": {"input": "text", "output": ["text"]}}, id="modalities-string"),
    pytest.param({"modalities": {"input": [1], "output": ["text"]}}, id="modalities-int-item"),
    pytest.param({"modalities": {"input": ["smell"], "output": ["text"]}}, id="modalities-unknown-value"),
    pytest.param({"reasoning_effort": "high"}, id="reasoning-effort-string"),
    pytest.param({"reasoning_effort": {"values": {"name": "Low"}, "default": "low"}}, id="reasoning-values-object"),
    pytest.param(
        {"reasoning_effort": {"values": [{"name": "Low", "value": 1}], "default": "low"}}, id="reasoning-value-int"
    ),
    pytest.param({"reasoning_effort": {"values": [], "default": None}}, id="reasoning-default-null"),
    pytest.param({"profile": "x"}, id="profile-string"),
    pytest.param({"profile": {}}, id="profile-empty"),
    pytest.param({"profile": {**VALID_PROFILE, "limits": "x"}}, id="profile-nested-limits"),
    pytest.param({"profile": {**VALID_PROFILE, "tool_call": "yes"}}, id="profile-bool-string"),
]

ACCEPTED = [
    pytest.param({}, id="absent"),
    pytest.param(
        {"limits": None, "cost": None, "modalities": None, "reasoning_effort": None, "profile": None}, id="nulls"
    ),
    pytest.param(
        {key: VALID_PROFILE[key] for key in ("cost", "limits", "modalities", "reasoning_effort")}, id="well-formed"
    ),
    pytest.param({"cost": {"input": 1, "output": 2}}, id="cost-without-cache-read"),
    pytest.param({"profile": VALID_PROFILE}, id="profile"),
]


@pytest.fixture
def provider(create_provider):
    return create_provider()


@pytest.mark.parametrize("extra", MALFORMED)
def test_create_rejects_malformed_profile_field(admin_client, provider, extra):
    url = f"{PROVIDERS}/{provider['id']}/models"
    response = admin_client.post(url, {"model_id": "gpt-4o", "display_name": "GPT-4o", **extra}, format="json")
    assert response.status_code == 400
    assert response.json() == INVALID
    assert admin_client.get(url).json()["total"] == 0


@pytest.mark.parametrize("extra", MALFORMED)
def test_update_rejects_malformed_profile_field(admin_client, provider, create_model, extra):
    model = create_model(provider["id"])
    response = admin_client.patch(f"{MODELS}/{model['id']}", {"display_name": "Renamed", **extra}, format="json")
    assert response.status_code == 400
    assert response.json() == INVALID
    assert admin_client.get(f"{MODELS}/{model['id']}").json()["display_name"] == "GPT-4o"


@pytest.mark.parametrize("extra", ACCEPTED)
def test_create_accepts_well_formed_null_or_absent_profile_fields(admin_client, provider, extra):
    response = admin_client.post(
        f"{PROVIDERS}/{provider['id']}/models",
        {"model_id": "gpt-4o", "display_name": "GPT-4o", **extra},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    # Read-only: nothing of it is stored or echoed; the profile still comes from the catalogue.
    assert not set(body) & {"cost", "limits", "modalities", "reasoning_effort", "profile"}
    profile = admin_client.get(f"{MODELS}/{body['id']}").json()["profile"]
    assert profile["name"] == "GPT-4o"
    assert profile["limits"]["context"] != 1


@pytest.mark.parametrize("extra", ACCEPTED)
def test_update_accepts_well_formed_null_or_absent_profile_fields(admin_client, provider, create_model, extra):
    model = create_model(provider["id"])
    response = admin_client.patch(f"{MODELS}/{model['id']}", {"display_name": "Renamed", **extra}, format="json")
    assert response.status_code == 200
    assert response.json()["display_name"] == "Renamed"


def test_a_get_response_echoed_into_patch_is_accepted(admin_client, provider, create_model):
    model = create_model(provider["id"], model_id="gpt-4o-2024-11-20")
    body = admin_client.get(f"{MODELS}/{model['id']}").json()
    assert body["profile"] is not None
    response = admin_client.patch(f"{MODELS}/{model['id']}", {**body, "is_favorite": True}, format="json")
    assert response.status_code == 200
    assert response.json()["is_favorite"] is True


def test_malformed_capabilities_are_still_rejected(admin_client, provider, create_model):
    model = create_model(provider["id"])
    for capabilities in ("chat", None, [1], {"chat": True}):
        response = admin_client.patch(f"{MODELS}/{model['id']}", {"capabilities": capabilities}, format="json")
        assert response.status_code == 400, capabilities
        assert response.json() == INVALID


def test_every_catalogue_profile_passes_as_input():
    # A client that echoes any GET response back must never be refused because of the profile.
    for table in CATALOGUE.values():
        for profile in table.values():
            serializer = LlmModelProfileSerializer(data=profile)
            assert serializer.is_valid(), (profile["name"], serializer.errors)


@pytest.mark.parametrize("value", ["true", 1, "yes", None])
def test_is_default_and_is_favorite_take_json_booleans_only(admin_client, provider, create_model, value):
    model = create_model(provider["id"])
    for field in ("is_default", "is_favorite"):
        response = admin_client.patch(f"{MODELS}/{model['id']}", {field: value}, format="json")
        assert response.json() == INVALID, field
    assert admin_client.patch(f"{MODELS}/{model['id']}", {"is_favorite": True}, format="json").status_code == 200


def test_provider_id_is_immutable(admin_client, provider, create_provider, create_model):
    """As a session's agent_id: the model's own provider is accepted (a GET echoed back), another one is 400."""
    model = create_model(provider["id"])
    other = create_provider(name="Other")
    moved = admin_client.patch(f"{MODELS}/{model['id']}", {"provider_id": other["id"]}, format="json")
    assert moved.json() == INVALID
    assert admin_client.patch(f"{MODELS}/{model['id']}", {"provider_id": "provider_x"}, format="json").json() == INVALID
    same = admin_client.patch(
        f"{MODELS}/{model['id']}", {"provider_id": provider["id"], "display_name": "Kept"}, format="json"
    )
    assert same.status_code == 200 and same.json()["provider_id"] == provider["id"]
