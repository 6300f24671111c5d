"""The authenticated hot path: queries per request, the credential cache and the `last_used_at` throttle.

GET /v1/sessions costs the sessions view exactly 2 queries (count + page, asserted in
tests/sessions/test_sessions_list.py); everything above that is authentication and organization
resolution, which must stay at one query for a JWT and one for an API key, and at none while the
credential is in the per-process cache. A regression (a second lookup, an UPDATE per request, a
cache that never hits) fails here. tests/accounts/conftest.py turns the cache off; the `cache`
fixture turns it on with a clock the test moves.
"""

import datetime as dt

import pytest
from django.utils import timezone

from apps.accounts.models import ApiKey, Membership
from apps.accounts.services import api_key_create
from apps.core.ids import format_id

pytestmark = pytest.mark.django_db

SESSIONS_VIEW_QUERIES = 3  # count + one page query with agent and model joined + the page's mcpServers
AUTH_QUERIES = 1


@pytest.fixture
def ada(make_user):
    return make_user("ada@example.com")


@pytest.fixture
def sessions(default_org, make_org):
    """Three sessions in the default organization, one in another (never listed)."""
    from apps.agents.models import Agent
    from apps.sessions.services import session_create

    agent = Agent.objects.create(organization=default_org, name="Helper", system_prompt="You help.")
    rows = [session_create(organization=default_org, agent=agent, title=f"s{i}") for i in range(3)]
    other = make_org("Elsewhere")
    other_agent = Agent.objects.create(organization=other, name="Helper", system_prompt="You help.")
    session_create(organization=other, agent=other_agent, title="foreign")
    return rows


@pytest.fixture
def ada_key(full_auth, ada, default_org) -> str:
    return api_key_create(user=ada, organization=default_org, name="ci")[1]


@pytest.fixture
def cache(settings, monkeypatch):
    """The credential cache on (2 s) with a fake clock: `cache.advance(seconds)`."""
    from apps.accounts.authentication import credential_cache

    settings.AUTH_CACHE_SECONDS = 2
    now = [1000.0]
    monkeypatch.setattr(credential_cache, "clock", lambda: now[0])

    class Clock:
        @staticmethod
        def advance(seconds: float) -> None:
            now[0] += seconds

    return Clock


def list_sessions(api_client, **headers):
    response = api_client.get("/v1/sessions?limit=20", **headers)
    assert response.status_code == 200, response.content
    return response.json()


def test_api_key_list_costs_one_auth_query(api_client, ada_key, sessions, django_assert_num_queries):
    list_sessions(api_client, HTTP_AUTHORIZATION=f"Bearer {ada_key}")  # first use records last_used_at
    with django_assert_num_queries(AUTH_QUERIES + SESSIONS_VIEW_QUERIES):
        body = list_sessions(api_client, HTTP_AUTHORIZATION=f"Bearer {ada_key}")
    assert body["total"] == 3


@pytest.mark.parametrize("form", ["{key}", "ApiKey {key}"])
def test_every_api_key_form_costs_the_same(form, api_client, ada_key, sessions, django_assert_num_queries):
    ApiKey.objects.update(last_used_at=timezone.now())
    with django_assert_num_queries(AUTH_QUERIES + SESSIONS_VIEW_QUERIES):
        list_sessions(api_client, HTTP_AUTHORIZATION=form.format(key=ada_key))


def test_jwt_list_costs_one_auth_query(full_auth, ada, sessions, bearer_client_for, django_assert_num_queries):
    client = bearer_client_for(ada)
    with django_assert_num_queries(AUTH_QUERIES + SESSIONS_VIEW_QUERIES):
        body = list_sessions(client)
    assert body["total"] == 3


def test_jwt_with_org_header_costs_one_auth_query_and_acts_there(
    full_auth, ada, sessions, make_org, bearer_client_for, django_assert_num_queries
):
    from apps.agents.models import Agent
    from apps.sessions.services import session_create

    second = make_org("Second")
    Membership.objects.create(user=ada, organization=second, role="admin")
    agent = Agent.objects.create(organization=second, name="Helper", system_prompt="You help.")
    session_create(organization=second, agent=agent, title="in second")
    client = bearer_client_for(ada, org=second)
    with django_assert_num_queries(AUTH_QUERIES + SESSIONS_VIEW_QUERIES):
        body = list_sessions(client)
    assert [row["title"] for row in body["data"]] == ["in second"]  # not the 3 of her first organization
    assert client.get("/v1/auth/me").json()["roles"] == ["admin"]  # the role of the named organization


def test_anonymous_mode_costs_one_auth_query(api_client, sessions, django_assert_num_queries):
    with django_assert_num_queries(AUTH_QUERIES + SESSIONS_VIEW_QUERIES):
        assert list_sessions(api_client)["total"] == 3


def test_recently_used_key_is_not_written(api_client, ada_key, sessions, django_assert_num_queries):
    recent = timezone.now() - dt.timedelta(seconds=30)
    ApiKey.objects.update(last_used_at=recent)
    with django_assert_num_queries(AUTH_QUERIES + SESSIONS_VIEW_QUERIES) as captured:
        list_sessions(api_client, HTTP_AUTHORIZATION=ada_key)
    assert not [q for q in captured.captured_queries if q["sql"].upper().startswith("UPDATE")]
    assert ApiKey.objects.get().last_used_at == recent


def test_stale_last_used_at_is_written_once(api_client, ada_key, sessions):
    stale = timezone.now() - dt.timedelta(minutes=5)
    ApiKey.objects.update(last_used_at=stale)
    list_sessions(api_client, HTTP_AUTHORIZATION=ada_key)
    written = ApiKey.objects.get().last_used_at
    assert written > stale + dt.timedelta(minutes=4)
    list_sessions(api_client, HTTP_AUTHORIZATION=ada_key)
    assert ApiKey.objects.get().last_used_at == written


def test_key_stops_working_when_its_user_leaves_the_organization(api_client, ada, ada_key, default_org):
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key).status_code == 200
    Membership.objects.filter(user=ada, organization=default_org).delete()
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key).json() == {"error": "Forbidden", "status": 403}


def test_key_with_its_own_org_header_works_and_a_malformed_one_is_403(api_client, ada_key, default_org):
    own = format_id("org", default_org.pk)
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key, HTTP_X_ORG_ID=own).status_code == 200
    response = api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key, HTTP_X_ORG_ID="org_nope")
    assert response.json() == {"error": "Forbidden", "status": 403}


def test_key_role_comes_from_the_membership(api_client, ada, ada_key, default_org):
    assert api_client.get("/v1/users", HTTP_AUTHORIZATION=ada_key).status_code == 403  # member
    Membership.objects.filter(user=ada, organization=default_org).update(role="admin")
    assert api_client.get("/v1/users", HTTP_AUTHORIZATION=ada_key).status_code == 200


def test_jwt_of_a_member_elsewhere_is_403_and_of_an_inactive_user_401(full_auth, ada, make_org, bearer_client_for):
    foreign = bearer_client_for(ada, org=make_org("Not hers"))
    assert foreign.get("/v1/sessions").json() == {"error": "Forbidden", "status": 403}
    client = bearer_client_for(ada)
    ada.is_active = False
    ada.save()
    assert client.get("/v1/sessions").json() == {"error": "Unauthorized", "status": 401}


# --------------------------------------------------------------------------- the credential cache
def test_cached_api_key_costs_no_auth_query(cache, api_client, ada_key, sessions, django_assert_num_queries):
    list_sessions(api_client, HTTP_AUTHORIZATION=ada_key)  # lookup + first last_used_at write
    with django_assert_num_queries(SESSIONS_VIEW_QUERIES):
        assert list_sessions(api_client, HTTP_AUTHORIZATION=ada_key)["total"] == 3


def test_cached_jwt_costs_no_auth_query(cache, full_auth, ada, sessions, bearer_client_for, django_assert_num_queries):
    client = bearer_client_for(ada)
    list_sessions(client)
    with django_assert_num_queries(SESSIONS_VIEW_QUERIES):
        assert list_sessions(client)["total"] == 3
    cache.advance(2)  # past the TTL: looked up again
    with django_assert_num_queries(AUTH_QUERIES + SESSIONS_VIEW_QUERIES):
        list_sessions(client)


def test_key_revoked_through_the_api_is_401_at_once(cache, api_client, ada, ada_key, bearer_client_for):
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key).status_code == 200
    key_id = bearer_client_for(ada).get("/v1/auth/api-keys").json()[0]["id"]
    assert bearer_client_for(ada).delete(f"/v1/auth/api-keys/{key_id}").status_code == 204
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key).json() == {
        "error": "Invalid API key",
        "status": 401,
    }


def test_cached_key_still_expires_on_time(cache, api_client, ada_key, monkeypatch):
    ApiKey.objects.update(expires_at=timezone.now() + dt.timedelta(minutes=10))
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key).status_code == 200
    later = timezone.now() + dt.timedelta(minutes=11)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key).json() == {
        "error": "API key expired",
        "status": 401,
    }


def test_cached_key_still_checks_the_org_header(cache, api_client, ada_key, make_org):
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key).status_code == 200
    foreign = format_id("org", make_org("Foreign").pk)
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key, HTTP_X_ORG_ID=foreign).status_code == 403


def test_deactivating_or_removing_the_user_through_the_orm_applies_at_once(
    cache, full_auth, api_client, ada, ada_key, default_org, bearer_client_for
):
    client = bearer_client_for(ada)
    assert client.get("/v1/auth/me").status_code == 200
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key).status_code == 200
    membership = Membership.objects.get(user=ada, organization=default_org)
    membership.role = "admin"
    membership.save()
    assert client.get("/v1/users").status_code == 200  # the new role, not the cached one
    ada.is_active = False
    ada.save()
    assert client.get("/v1/auth/me").status_code == 401
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key).status_code == 401


def test_bulk_updates_apply_within_the_ttl(cache, api_client, ada, ada_key):
    """QuerySet.update() sends no signal, like a revocation in another worker: the documented delay, <= the TTL."""
    from apps.accounts.models import User

    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key).status_code == 200
    User.objects.filter(pk=ada.pk).update(is_active=False)
    cache.advance(1.9)
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key).status_code == 200  # still cached
    cache.advance(0.1)
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key).status_code == 401


def test_ttl_is_capped_at_five_seconds(cache, settings, api_client, ada, ada_key):
    settings.AUTH_CACHE_SECONDS = 3600
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key).status_code == 200
    ApiKey.objects.update(key_hash="0" * 64)  # gone for this key, and no signal says so
    cache.advance(5)
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=ada_key).status_code == 401


def test_cached_jwt_still_expires_on_time(cache, full_auth, ada, access_token_for, api_client, settings):
    """The signature check is cached for the TTL, the expiry never: a token that expires while its
    verified claims are cached is refused at once, with the expired-token answer."""
    import time

    from apps.accounts import tokens
    from apps.accounts.authentication import credential_cache

    token = access_token_for(ada)
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    claims = credential_cache.get(("jwt-claims", settings.AUTH_JWT_SECRET, token))
    assert claims is not None and claims["sub"] == str(ada.pk)

    issued = int(time.time()) - 3600  # a token of the same user that expired a few seconds ago
    expired = tokens.encode_access(user_id=str(ada.pk), email=ada.email, name=ada.name, roles=["user"], now=issued)
    stale_claims = {**claims, "iat": issued, "exp": int(time.time()) - 5}
    stale_key = ("jwt-claims", settings.AUTH_JWT_SECRET, expired)
    credential_cache.put(stale_key, stale_claims)  # as if cached while it was still valid
    response = api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {expired}")
    assert response.status_code == 401
    assert credential_cache.get(stale_key) is stale_claims  # nothing better was cached


def test_cached_jwt_is_still_bound_to_its_signature(cache, full_auth, ada, access_token_for, api_client):
    token = access_token_for(ada)
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {forged}").status_code == 401


def test_cached_jwt_is_refused_once_the_signing_secret_changes(
    cache, full_auth, ada, access_token_for, api_client, settings
):
    token = access_token_for(ada)
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    settings.AUTH_JWT_SECRET = "rotated-" + "s" * 40
    assert api_client.get("/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_each_request_gets_its_own_copy_of_cached_claims(cache, full_auth, ada, access_token_for, rf):
    from apps.accounts.authentication import EverrunsAuthentication

    token = access_token_for(ada)
    authenticate = EverrunsAuthentication().authenticate
    _, first = authenticate(rf.get("/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}"))
    first["roles"].append("admin")  # whatever a request does to its claims
    _, second = authenticate(rf.get("/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}"))
    assert "admin" not in second["roles"]


def test_a_full_cache_drops_expired_entries_before_live_ones(cache, monkeypatch):
    from apps.accounts.authentication import credential_cache

    monkeypatch.setattr(credential_cache, "MAX_ENTRIES", 3)
    credential_cache.put(("old",), 1)
    cache.advance(2)  # past the 2 s TTL
    credential_cache.put(("a",), 2)
    credential_cache.put(("b",), 3)
    credential_cache.put(("c",), 4)  # full: the expired entry goes, the live ones stay
    assert [credential_cache.get((key,)) for key in ("old", "a", "b", "c")] == [None, 2, 3, 4]
