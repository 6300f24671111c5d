"""/v1/llm-models and /v1/llm-providers/{id}/models: CRUD, one default per provider, filters, profiles, access."""

import pytest

from apps.llm.models import LlmModel
from tests.llm.helpers import MODELS, PROVIDERS, SIMULATED_MODEL, SIMULATED_PROVIDER

pytestmark = pytest.mark.django_db

MODEL_FIELDS = {
    "id",
    "provider_id",
    "model_id",
    "display_name",
    "capabilities",
    "is_default",
    "is_favorite",
    "source",
    "status",
    "is_stale",
    "input_price_per_mtok",
    "output_price_per_mtok",
    "cached_input_price_per_mtok",
    "created_at",
    "updated_at",
}


def _defaults(client, provider_id: str) -> list[str]:
    rows = client.get(f"{PROVIDERS}/{provider_id}/models").json()["data"]
    return [row["model_id"] for row in rows if row["is_default"]]


def test_fresh_install_has_the_simulated_default_model(member_client):
    body = member_client.get(MODELS).json()
    assert body["total"] == 1
    (model,) = body["data"]
    assert model["id"] == SIMULATED_MODEL
    assert model["provider_id"] == SIMULATED_PROVIDER
    assert model["model_id"] == "llmsim-default"
    assert model["is_default"] is True
    assert model["source"] == "predefined"
    assert model["provider_name"] == "Simulated"
    assert model["provider_type"] == "llmsim"


def test_create_model_under_provider(admin_client, create_provider):
    provider = create_provider()
    response = admin_client.post(
        f"{PROVIDERS}/{provider['id']}/models",
        {
            "model_id": "gpt-4o",
            "display_name": "GPT-4o",
            "capabilities": ["chat", "vision", "tools"],
            "is_favorite": True,
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == MODEL_FIELDS
    assert body["id"].startswith("model_")
    assert body["provider_id"] == provider["id"]
    assert body["capabilities"] == ["chat", "vision", "tools"]
    assert (body["is_default"], body["is_favorite"], body["source"], body["status"], body["is_stale"]) == (
        False,
        True,
        "manual",
        "active",
        False,
    )

    listed = admin_client.get(f"{PROVIDERS}/{provider['id']}/models").json()
    assert listed == {"data": [body], "total": 1}


def test_get_model_includes_provider_and_profile(member_client, create_provider, create_model):
    provider = create_provider(name="My OpenAI")
    model = create_model(provider["id"], model_id="gpt-4o-2024-11-20", display_name="GPT-4o (Nov)")
    response = member_client.get(f"{MODELS}/{model['id']}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == MODEL_FIELDS | {"provider_name", "provider_type", "profile"}
    assert body["provider_name"] == "My OpenAI"
    assert body["provider_type"] == "openai"
    profile = body["profile"]
    assert profile["name"] == "GPT-4o"
    assert profile["family"] == "gpt-4o"
    assert profile["limits"] == {"context": 128000, "output": 16384}
    assert profile["cost"]["input"] == 2.5
    assert profile["modalities"]["input"] == ["text", "image"]
    assert profile["tool_call"] is True and profile["attachment"] is True


def test_unknown_model_has_null_profile(member_client, create_provider, create_model):
    model = create_model(create_provider()["id"], model_id="my-finetune", display_name="Mine")
    assert member_client.get(f"{MODELS}/{model['id']}").json()["profile"] is None


def test_profile_depends_on_provider_type(member_client, create_provider, create_model):
    # A Claude model id offered by an OpenAI-type provider is not the Anthropic catalogue entry.
    anthropic = create_model(
        create_provider(provider_type="anthropic")["id"], model_id="claude-3-7-sonnet-20250219", display_name="Sonnet"
    )
    mislabeled = create_model(create_provider()["id"], model_id="claude-3-7-sonnet-20250219", display_name="x")
    assert member_client.get(f"{MODELS}/{anthropic['id']}").json()["profile"]["name"] == "Claude Sonnet 3.7"
    assert member_client.get(f"{MODELS}/{mislabeled['id']}").json()["profile"] is None


def test_duplicate_model_id_per_provider_is_409(admin_client, create_provider, create_model):
    provider = create_provider()
    create_model(provider["id"], model_id="gpt-4o")
    response = admin_client.post(
        f"{PROVIDERS}/{provider['id']}/models", {"model_id": "gpt-4o", "display_name": "Again"}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {"error": "Model already exists", "status": 409}
    # The same model_id under another provider is fine.
    create_model(create_provider(name="Second")["id"], model_id="gpt-4o")


def test_renaming_to_an_existing_model_id_is_409(admin_client, create_provider, create_model):
    provider = create_provider()
    create_model(provider["id"], model_id="gpt-4o")
    other = create_model(provider["id"], model_id="gpt-4o-mini")
    response = admin_client.patch(f"{MODELS}/{other['id']}", {"model_id": "gpt-4o"}, format="json")
    assert response.status_code == 409
    assert admin_client.get(f"{MODELS}/{other['id']}").json()["model_id"] == "gpt-4o-mini"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"model_id": "gpt-4o"},
        {"display_name": "GPT"},
        {"model_id": "", "display_name": "GPT"},
        {"model_id": "x" * 256, "display_name": "GPT"},
        {"model_id": "gpt-4o", "display_name": "GPT", "capabilities": "chat"},
        {"model_id": "gpt-4o", "display_name": "GPT", "capabilities": [{"x": 1}]},
        {"model_id": "gpt-4o", "display_name": "GPT", "is_default": "maybe"},
        {"model_id": "gpt-4o", "display_name": "GPT", "status": "stale"},
    ],
)
def test_invalid_model_create_is_400(admin_client, create_provider, body):
    provider = create_provider()
    response = admin_client.post(f"{PROVIDERS}/{provider['id']}/models", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request", "status": 400}
    assert not LlmModel.objects.filter(provider_id=provider["id"].removeprefix("provider_")).exists()


def test_one_default_per_provider_on_create_and_patch(admin_client, create_provider, create_model):
    provider = create_provider()
    first = create_model(provider["id"], model_id="gpt-4o", is_default=True)
    assert _defaults(admin_client, provider["id"]) == ["gpt-4o"]

    create_model(provider["id"], model_id="gpt-4o-mini", is_default=True)
    assert _defaults(admin_client, provider["id"]) == ["gpt-4o-mini"]

    response = admin_client.patch(f"{MODELS}/{first['id']}", {"is_default": True}, format="json")
    assert response.status_code == 200
    assert response.json()["is_default"] is True
    assert _defaults(admin_client, provider["id"]) == ["gpt-4o"]

    # Another provider's default is untouched.
    assert _defaults(admin_client, SIMULATED_PROVIDER) == ["llmsim-default"]

    admin_client.patch(f"{MODELS}/{first['id']}", {"is_default": False}, format="json")
    assert _defaults(admin_client, provider["id"]) == []


def test_patch_model_returns_plain_model(admin_client, create_provider, create_model):
    model = create_model(create_provider()["id"])
    response = admin_client.patch(
        f"{MODELS}/{model['id']}",
        {"display_name": "Omni", "capabilities": ["chat"], "is_favorite": True, "status": "disabled"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == MODEL_FIELDS
    assert (body["display_name"], body["capabilities"], body["is_favorite"], body["status"]) == (
        "Omni",
        ["chat"],
        True,
        "disabled",
    )
    assert admin_client.get(f"{MODELS}/{model['id']}").json()["display_name"] == "Omni"


@pytest.mark.parametrize(
    "body",
    [
        {"display_name": ""},
        {"status": "gone"},
        {"capabilities": None},
        {"model_id": None},
        {"is_favorite": "sometimes"},
    ],
)
def test_invalid_model_patch_is_400(admin_client, create_provider, create_model, body):
    model = create_model(create_provider()["id"])
    response = admin_client.patch(f"{MODELS}/{model['id']}", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request", "status": 400}


def test_delete_model(admin_client, create_provider, create_model):
    provider = create_provider()
    model = create_model(provider["id"])
    response = admin_client.delete(f"{MODELS}/{model['id']}")
    assert response.status_code == 204
    assert admin_client.get(f"{MODELS}/{model['id']}").json() == {"error": "Model not found", "status": 404}
    assert admin_client.get(f"{PROVIDERS}/{provider['id']}/models").json()["total"] == 0


@pytest.mark.parametrize("bad_id", ["x", "model_42", SIMULATED_PROVIDER, "model_0195f0a1b2c37d4e8f90a1b2c3d4e5f6"])
def test_unknown_or_malformed_model_id_is_404(admin_client, bad_id):
    for method in ("get", "patch", "delete"):
        response = getattr(admin_client, method)(f"{MODELS}/{bad_id}", {}, format="json")
        assert response.status_code == 404
        assert response.json() == {"error": "Model not found", "status": 404}


def test_models_of_unknown_provider_is_404(admin_client):
    for response in (
        admin_client.get(f"{PROVIDERS}/provider_{'0' * 32}/models"),
        admin_client.post(f"{PROVIDERS}/nope/models", {"model_id": "a", "display_name": "a"}, format="json"),
    ):
        assert response.json() == {"error": "Provider not found", "status": 404}


def _seed_filter_rows(provider_id: str) -> None:
    pk = provider_id.removeprefix("provider_")
    LlmModel.objects.filter(provider_id=pk, model_id="found").update(source="discovered")
    LlmModel.objects.filter(provider_id=pk, model_id="gone").update(source="discovered", is_stale=True)


def test_list_filters(admin_client, create_provider, create_model):
    provider = create_provider()
    for model_id in ("manual-fav", "found", "gone"):
        create_model(provider["id"], model_id=model_id, is_favorite=model_id == "manual-fav")
    _seed_filter_rows(provider["id"])

    def ids(query: str, base: str = MODELS) -> set[str]:
        response = admin_client.get(f"{base}?{query}")
        assert response.status_code == 200
        body = response.json()
        assert body["total"] == len(body["data"])
        return {row["model_id"] for row in body["data"]}

    assert ids("") == {"llmsim-default", "manual-fav", "found", "gone"}
    assert ids("include_stale=true") == ids("")
    assert ids("include_stale=false") == {"llmsim-default", "manual-fav", "found"}
    assert ids("source=discovered") == {"found", "gone"}
    assert ids("source=discovered&include_stale=false") == {"found"}
    assert ids("source=predefined") == {"llmsim-default"}
    assert ids("favorites_only=true") == {"manual-fav"}
    assert ids("favorites_only=0") == ids("")
    # The provider-scoped list takes the same filters.
    assert ids("include_stale=false", f"{PROVIDERS}/{provider['id']}/models") == {"manual-fav", "found"}


@pytest.mark.parametrize(
    "query", ["include_stale=maybe", "favorites_only=2", "source=imported", "favorites_only=yesplease"]
)
def test_bad_filter_values_are_400(member_client, query):
    response = member_client.get(f"{MODELS}?{query}")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request", "status": 400}


def test_empty_filter_value_means_not_given(member_client):
    assert member_client.get(f"{MODELS}?include_stale=&favorites_only=").json()["total"] == 1
    # An enum is different: `?source=` names no source (schemathesis found it accepted), like `?status=`.
    assert member_client.get(f"{MODELS}?source=").json() == {"error": "Invalid request", "status": 400}


def test_member_can_read_but_not_mutate_models(member_client, create_provider, create_model):
    provider = create_provider()
    model = create_model(provider["id"])
    assert member_client.get(f"{MODELS}/{model['id']}").status_code == 200
    assert member_client.get(f"{PROVIDERS}/{provider['id']}/models").status_code == 200
    for response in (
        member_client.post(
            f"{PROVIDERS}/{provider['id']}/models", {"model_id": "a", "display_name": "a"}, format="json"
        ),
        member_client.patch(f"{MODELS}/{model['id']}", {"is_default": True}, format="json"),
        member_client.delete(f"{MODELS}/{model['id']}"),
    ):
        assert response.status_code == 403
        assert response.json() == {"error": "Forbidden", "status": 403}
    assert member_client.get(f"{MODELS}/{model['id']}").json()["is_default"] is False


def test_other_organization_cannot_see_or_touch_models(other_org_client, create_provider, create_model):
    model = create_model(create_provider()["id"])
    assert model["id"] not in {m["id"] for m in other_org_client.get(MODELS).json()["data"]}
    for response in (
        other_org_client.get(f"{MODELS}/{model['id']}"),
        other_org_client.patch(f"{MODELS}/{model['id']}", {"display_name": "x"}, format="json"),
        other_org_client.delete(f"{MODELS}/{model['id']}"),
    ):
        assert response.status_code == 404
        assert response.json() == {"error": "Model not found", "status": 404}


def test_lists_do_not_query_per_row(admin_client, create_provider, create_model, django_assert_max_num_queries):
    for index in range(3):
        provider = create_provider(name=f"P{index}", api_key="sk-x")
        for model_id in ("gpt-4o", "o3", "custom"):
            create_model(provider["id"], model_id=model_id)
    # Auth/org resolution + one query for the rows, independent of the 10 models / 4 providers listed.
    with django_assert_max_num_queries(4):
        assert admin_client.get(MODELS).json()["total"] == 10
    with django_assert_max_num_queries(4):
        assert admin_client.get(PROVIDERS).json()["total"] == 4
