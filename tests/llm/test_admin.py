"""Django admin: the provider key is a write-only field, never rendered; model defaults stay unique."""

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from apps.accounts.models import DEFAULT_ORG_ID, User
from apps.llm.models import LlmModel, LlmProvider
from apps.llm.services import llm_model_create, llm_provider_create, provider_api_key
from tests.llm.helpers import SECRET

pytestmark = pytest.mark.django_db

ADMIN = "/admin/llm/llmprovider/"
NO_INLINES = {
    "models-TOTAL_FORMS": "0",
    "models-INITIAL_FORMS": "0",
    "models-MIN_NUM_FORMS": "0",
    "models-MAX_NUM_FORMS": "1000",
}


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(email="ops@example.com", password="S3cure-pass!"))
    return client


@pytest.fixture
def keyed(default_org) -> LlmProvider:
    return llm_provider_create(organization=default_org, name="Keyed", provider_type="openai", api_key=SECRET)


def _form(**fields) -> dict:
    return {
        "organization": str(DEFAULT_ORG_ID),
        "name": "Via admin",
        "provider_type": "openai",
        "base_url": "",
        "status": "active",
        "api_key": "",
        **NO_INLINES,
        **fields,
    }


def test_list_and_change_pages_never_show_the_key(staff, keyed):
    assert keyed.api_key_encrypted and keyed.api_key_encrypted != SECRET
    model = llm_model_create(provider=keyed, model_id="gpt-4o", display_name="GPT-4o")
    for url in (
        ADMIN,
        f"{ADMIN}{keyed.pk}/change/",
        f"{ADMIN}?q=Keyed",
        "/admin/llm/llmmodel/",
        f"/admin/llm/llmmodel/{model.pk}/change/",
    ):
        response = staff.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "Keyed" in html
        assert SECRET not in html
        assert keyed.api_key_encrypted not in html
    change = staff.get(f"{ADMIN}{keyed.pk}/change/").content.decode()
    assert 'type="password"' in change and 'name="api_key"' in change


def test_add_through_admin_encrypts_the_key(staff):
    response = staff.post(f"{ADMIN}add/", _form(api_key=SECRET))
    assert response.status_code == 302, response.content.decode()[:2000]
    provider = LlmProvider.objects.get(name="Via admin")
    assert provider.api_key_encrypted and SECRET not in provider.api_key_encrypted
    assert provider_api_key(provider) == SECRET
    assert SECRET not in staff.get(f"{ADMIN}{provider.pk}/change/").content.decode()
    assert all(SECRET not in entry.change_message for entry in LogEntry.objects.all())


def test_blank_key_keeps_it_and_clear_removes_it(staff, keyed):
    url = f"{ADMIN}{keyed.pk}/change/"
    assert staff.post(url, _form(name="Renamed")).status_code == 302
    keyed.refresh_from_db()
    assert keyed.name == "Renamed"
    assert provider_api_key(keyed) == SECRET

    assert staff.post(url, _form(api_key="sk-replaced")).status_code == 302
    keyed.refresh_from_db()
    assert provider_api_key(keyed) == "sk-replaced"

    assert staff.post(url, _form(clear_api_key="on")).status_code == 302
    keyed.refresh_from_db()
    assert keyed.api_key_encrypted is None and keyed.api_key_key_id is None


def test_admin_refuses_a_key_without_encryption(staff, settings):
    settings.ENCRYPTION_KEYS = ""
    response = staff.post(f"{ADMIN}add/", _form(api_key=SECRET))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Encryption not configured. Cannot store API key." in html
    assert SECRET not in html  # the password field is not re-rendered with the submitted value
    assert not LlmProvider.objects.filter(name="Via admin").exists()


def test_admin_rejects_a_bad_base_url(staff):
    response = staff.post(f"{ADMIN}add/", _form(base_url="ftp://files.example.com"))
    assert response.status_code == 200
    assert not LlmProvider.objects.filter(name="Via admin").exists()


def test_model_admin_moves_the_default(staff, keyed, default_org):
    first = llm_model_create(provider=keyed, model_id="gpt-4o", display_name="GPT-4o", is_default=True)
    second = llm_model_create(provider=keyed, model_id="gpt-4o-mini", display_name="Mini")
    response = staff.post(
        f"/admin/llm/llmmodel/{second.pk}/change/",
        {
            "organization": str(default_org.pk),
            "provider": str(keyed.pk),
            "model_id": "gpt-4o-mini",
            "display_name": "Mini",
            "capabilities": '["chat"]',
            "is_default": "on",
            "source": "manual",
            "status": "active",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(LlmModel.objects.filter(provider=keyed, is_default=True)) == [second]
    first.refresh_from_db()
    assert first.is_default is False
