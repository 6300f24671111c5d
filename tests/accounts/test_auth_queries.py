"""The authenticated hot path: queries per request and the `last_used_at` write throttle.

GET /v1/sessions costs the sessions view exactly 2 queries (count + page, asserted in
tests/sessions/test_sessions_list.py); everything above that is authentication and organization
resolution, which must stay at one query for a JWT and one for an API key. A regression (a second
lookup, an UPDATE per request) fails here.
"""

import datetime as dt

import pytest
from django.utils import timezone

from apps.accounts.models import ApiKey, Membership
from apps.accounts.services import api_key_create
from apps.core.ids import format_id

pytestmark = pytest.mark.django_db

SESSIONS_VIEW_QUERIES = 2  # count + one page query with agent and model joined
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


def test_jwt_of_a_member_elsewhere_is_403_and_of_an_inactive_user_401(
    full_auth, ada, make_org, bearer_client_for
):
    foreign = bearer_client_for(ada, org=make_org("Not hers"))
    assert foreign.get("/v1/sessions").json() == {"error": "Forbidden", "status": 403}
    client = bearer_client_for(ada)
    ada.is_active = False
    ada.save()
    assert client.get("/v1/sessions").json() == {"error": "Unauthorized", "status": 401}
