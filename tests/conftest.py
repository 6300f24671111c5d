"""Shared fixtures. Test-only setting tweaks live here, not in a second settings module."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    # Argon2 is deliberately slow; tests hash many passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AUTH_MODE = "none"


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def default_org(db):
    from apps.accounts.models import DEFAULT_ORG_ID, Organization

    return Organization.objects.get(pk=DEFAULT_ORG_ID)
