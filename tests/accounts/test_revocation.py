"""Revocation, role changes and deactivation apply on the very next request in every process.

The changes below are made the way another process's change looks from here: straight in the
database, bypassing this process's model signals (which only ever reached this process).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from apps.accounts.models import ApiKey, Membership, User
from apps.accounts.services import api_key_create

pytestmark = pytest.mark.django_db


def test_credentials_are_not_cached_by_default():
    env = {k: v for k, v in os.environ.items() if k != "AUTH_CACHE_SECONDS"}
    code = "import everruns.settings as s; print(s.AUTH_CACHE_SECONDS)"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0.0"


def test_api_key_deleted_elsewhere_is_401_on_the_next_request(full_auth, make_user, default_org, api_client):
    user = make_user("keyholder@example.com")
    api_key, raw = api_key_create(user=user, organization=default_org, name="ci")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api_client.get("/v1/agents").status_code == 200
    ApiKey.objects.filter(pk=api_key.pk)._raw_delete(ApiKey.objects.db)  # no signal: another process did it
    assert api_client.get("/v1/agents").json() == {"error": "Invalid API key", "status": 401}


def test_role_change_elsewhere_applies_on_the_next_request(full_auth, make_user, default_org, api_client):
    user = make_user("boss@example.com", role="admin")
    _, raw = api_key_create(user=user, organization=default_org, name="ci")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api_client.get("/v1/users").status_code == 200
    Membership.objects.filter(user=user).update(role="member")
    assert api_client.get("/v1/users").json() == {"error": "Forbidden", "status": 403}


def test_deactivation_elsewhere_applies_on_the_next_request(full_auth, make_user, bearer_client_for):
    user = make_user("leaving@example.com")
    client = bearer_client_for(user)
    assert client.get("/v1/agents").status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get("/v1/agents").json() == {"error": "Unauthorized", "status": 401}
