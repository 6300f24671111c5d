"""API keys: creation shown once, hashed storage, the three header forms, expiry, revocation (contract 3.10)."""

import datetime as dt
import hashlib
import re

import pytest
from django.utils import timezone

from apps.accounts.models import ApiKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def grace(make_user):
    return make_user("grace@example.com")


@pytest.fixture
def grace_client(full_auth, grace, bearer_client_for):
    return bearer_client_for(grace)


def create_key(client, **body):
    response = client.post("/v1/auth/api-keys", {"name": "ci", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_shows_the_key_once_and_stores_only_its_hash(grace_client):
    created = create_key(grace_client)
    assert set(created) == {"id", "name", "key", "key_prefix", "scopes", "expires_at", "created_at"}
    assert re.fullmatch(r"evr_[0-9a-f]{64}", created["key"])
    assert created["key_prefix"] == created["key"][:12] + "..."
    assert created["scopes"] == ["*"]
    assert created["expires_at"] is None

    row = ApiKey.objects.get()
    assert str(row.pk) == created["id"]
    assert row.key_hash == hashlib.sha256(created["key"].encode()).hexdigest()
    assert created["key"] not in str(ApiKey.objects.values().get())

    listed = grace_client.get("/v1/auth/api-keys").json()
    assert isinstance(listed, list)  # a bare array (contract 1.6)
    assert listed[0]["key_prefix"] == created["key_prefix"]
    assert "key" not in listed[0] and "key_hash" not in listed[0]
    assert set(listed[0]) == {"id", "name", "key_prefix", "scopes", "expires_at", "last_used_at", "created_at"}


def test_list_is_newest_first_and_only_the_callers(grace_client, make_user, bearer_client_for):
    first = create_key(grace_client, name="first")
    second = create_key(grace_client, name="second")
    create_key(bearer_client_for(make_user("someone@example.com")), name="not mine")
    names = [key["name"] for key in grace_client.get("/v1/auth/api-keys").json()]
    assert names == ["second", "first"]
    assert {first["id"], second["id"]} == {key["id"] for key in grace_client.get("/v1/auth/api-keys").json()}


@pytest.mark.parametrize("form", ["{key}", "ApiKey {key}", "Bearer {key}"])
def test_the_three_header_forms_authenticate(grace_client, api_client, form):
    key = create_key(grace_client)["key"]
    response = api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=form.format(key=key))
    assert response.status_code == 200
    assert response.json()["email"] == "grace@example.com"


def test_use_records_last_used_at(grace_client, api_client):
    created = create_key(grace_client)
    assert ApiKey.objects.get().last_used_at is None
    api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=created["key"])
    assert ApiKey.objects.get().last_used_at is not None
    assert grace_client.get("/v1/auth/api-keys").json()[0]["last_used_at"] is not None


def test_expiry(grace_client, api_client):
    created = create_key(grace_client, expires_in_days=30)
    expires_at = dt.datetime.fromisoformat(created["expires_at"])
    assert abs(expires_at - (timezone.now() + dt.timedelta(days=30))) < dt.timedelta(minutes=1)
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=created["key"]).status_code == 200

    ApiKey.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=created["key"])
    assert response.json() == {"error": "API key expired", "status": 401}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("evr_" + "0" * 64, "Invalid API key"),
        ("ApiKey evr_" + "0" * 64, "Invalid API key"),
        ("Bearer evr_" + "0" * 64, "Invalid API key"),
        ("evr_short", "Invalid API key format"),
        ("ApiKey evr_" + "G" * 64, "Invalid API key format"),
        ("ApiKey", "Invalid API key format"),
        ("Basic dXNlcjpwYXNz", "Unauthorized"),
    ],
)
def test_bad_keys_are_401(full_auth, api_client, header, message):
    response = api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=header)
    assert response.json() == {"error": message, "status": 401}


def test_scopes_and_validation(grace_client):
    assert create_key(grace_client, scopes=["sessions:read"])["scopes"] == ["sessions:read"]
    assert create_key(grace_client, scopes=[])["scopes"] == ["*"]
    for body in (
        {"name": ""},
        {"name": "x", "expires_in_days": 0},
        {"name": "x", "expires_in_days": "soon"},
        {"name": "x", "scopes": "all"},
        {},
    ):
        response = grace_client.post("/v1/auth/api-keys", body, format="json")
        assert response.json() == {"error": "Invalid request", "status": 400}, body


def test_delete_revokes_the_key(grace_client, api_client):
    created = create_key(grace_client)
    response = grace_client.delete(f"/v1/auth/api-keys/{created['id']}")
    assert response.status_code == 204
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=created["key"]).json() == {
        "error": "Invalid API key",
        "status": 401,
    }
    assert grace_client.get("/v1/auth/api-keys").json() == []


def test_delete_unknown_or_someone_elses_key_is_404(grace_client, make_user, bearer_client_for):
    theirs = create_key(bearer_client_for(make_user("someone@example.com")))
    for key_id in (theirs["id"], "00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        response = grace_client.delete(f"/v1/auth/api-keys/{key_id}")
        assert response.json() == {"error": "API key not found", "status": 404}, key_id
    assert ApiKey.objects.filter(pk=theirs["id"]).exists()


def test_key_acts_only_in_its_organization(grace, grace_client, api_client, make_org):
    from apps.accounts.models import Membership
    from apps.core.ids import format_id

    second = make_org("Second")
    Membership.objects.create(user=grace, organization=second, role="member")
    key = create_key(grace_client)["key"]  # created while acting in grace's first organization
    response = api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=key, HTTP_X_ORG_ID=format_id("org", second.pk))
    assert response.json() == {"error": "Forbidden", "status": 403}


def test_key_of_deactivated_user_is_401(grace, grace_client, api_client):
    key = create_key(grace_client)["key"]
    grace.is_active = False
    grace.save()
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=key).status_code == 401
