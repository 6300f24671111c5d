"""The auth rate limit holds per deployment, not per process: buckets live in a shared cache
(the database cache table by default, Redis with REDIS_URL), and throttled routes send RateLimit headers."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

DATABASE_CACHE = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "everruns_cache"}


@pytest.fixture
def rate_3_per_min(full_auth, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "3/min"}}


def login(client):
    return client.post("/v1/auth/login", {"email": "x@example.com", "password": "wrong-password"}, format="json")


def test_production_cache_is_shared_never_process_memory():
    from django.conf import settings as django_settings

    from everruns import settings as configured

    # The suite swaps in a memory cache per test (tests/conftest.py); the configured default is shared.
    assert configured.CACHES["default"]["BACKEND"] in {
        "django.core.cache.backends.db.DatabaseCache",
        "django.core.cache.backends.redis.RedisCache",
    }
    assert django_settings.CACHE_TABLE == "everruns_cache"


def test_throttled_routes_send_ratelimit_headers(rate_3_per_min, api_client):
    first = login(api_client)
    assert first.status_code == 401
    assert first["RateLimit-Policy"] == '"auth";q=3;w=60'
    assert first["RateLimit"].startswith('"auth";r=2;t=')
    assert login(api_client)["RateLimit"].startswith('"auth";r=1;t=')
    assert login(api_client)["RateLimit"].startswith('"auth";r=0;t=')
    refused = login(api_client)
    assert refused.status_code == 429
    assert refused.json() == {"error": "Too many requests", "status": 429}
    assert refused["RateLimit"].startswith('"auth";r=0;t=')
    reset = int(refused["RateLimit"].rsplit("t=", 1)[1])
    assert 0 < reset <= 60 and 0 < int(refused["Retry-After"]) <= 60
    # Unthrottled routes say nothing about limits.
    assert "RateLimit" not in api_client.get("/v1/auth/config")


def _shared_by_two_clients(settings, monkeypatch, api_client, cache_settings: dict) -> list[int]:
    """3 logins counted through one cache client, then 2 through a second, independent one (as another
    process has): the second client must see the first one's count."""
    from django.core.cache import caches

    from apps.accounts.throttling import AuthRateThrottle

    settings.CACHES = {"default": cache_settings}
    statuses = []
    for _ in range(2):
        client = caches.create_connection("default")  # its own connection/pool, like another process
        monkeypatch.setattr(AuthRateThrottle, "cache", client)
        statuses += [login(api_client).status_code for _ in range(2)]
    return statuses


def test_database_cache_limit_is_shared_by_two_cache_clients(rate_3_per_min, settings, monkeypatch, api_client):
    statuses = _shared_by_two_clients(settings, monkeypatch, api_client, DATABASE_CACHE)
    assert statuses == [401, 401, 401, 429]


def test_redis_cache_limit_is_shared_by_two_cache_clients(rate_3_per_min, settings, monkeypatch, api_client):
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("set TEST_REDIS_URL (.ci/run starts Redis and sets it)")
    prefix = f"everruns-test-{uuid.uuid4().hex}"  # a fresh bucket: the Redis server outlives the test
    cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": prefix}
    try:
        assert _shared_by_two_clients(settings, monkeypatch, api_client, cache) == [401, 401, 401, 429]
    finally:
        import redis

        client = redis.Redis.from_url(url)  # never FLUSHDB a shared server: delete our own keys only
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


CHILD = """
import django, sys
django.setup()
from rest_framework.test import APIClient
client = APIClient()
codes = [client.post("/v1/auth/login", {"email": "x@example.com", "password": "wrong"}, format="json").status_code
         for _ in range(int(sys.argv[1]))]
print(" ".join(map(str, codes)))
"""


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_processes_share_one_limit_on_postgresql(full_auth, settings):
    """Another OS process (its own connection and cache client) spends 2 of 3 attempts; this one gets 1."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    from rest_framework.test import APIClient

    settings.CACHES = {"default": DATABASE_CACHE}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "3/min"}}
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "everruns.settings",
        "AUTH_MODE": "full",
        "THROTTLE_AUTH_RATE": "3/min",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "testserver",
    }
    env.pop("REDIS_URL", None)
    root = Path(__file__).resolve().parents[2]
    child = subprocess.run(
        [sys.executable, "-c", CHILD, "2"], env=env, cwd=root, capture_output=True, text=True, timeout=60
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.split() == ["401", "401"]
    client = APIClient()
    assert [login(client).status_code for _ in range(2)] == [401, 429]
