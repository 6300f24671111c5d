"""Accounts tests see every database change at once: the credential cache is off unless a test turns it on."""

import pytest


@pytest.fixture(autouse=True)
def _no_credential_cache(settings):
    from apps.accounts.authentication import credential_cache

    settings.AUTH_CACHE_SECONDS = 0
    credential_cache.clear()
    yield
    credential_cache.clear()
