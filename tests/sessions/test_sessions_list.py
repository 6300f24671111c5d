"""GET /v1/sessions: exact pagination (contract 1.5) and a constant number of queries."""

import pytest

from apps.core.ids import format_id

pytestmark = pytest.mark.django_db

INVALID = {"error": "Invalid request", "status": 400}


@pytest.fixture
def sessions(make_session):
    """25 sessions, oldest first."""
    return [make_session(title=f"s{i}") for i in range(25)]


def ids_of(body) -> list[str]:
    return [row["id"] for row in body["data"]]


def newest_first(sessions) -> list[str]:
    return [format_id("session", s.pk) for s in reversed(sessions)]


def test_default_page_is_20_newest_first(api_client, sessions):
    body = api_client.get("/v1/sessions").json()
    assert set(body) == {"data", "total", "offset", "limit"}
    assert (body["total"], body["offset"], body["limit"]) == (25, 0, 20)
    assert ids_of(body) == newest_first(sessions)[:20]


def test_offset_and_limit_are_echoed(api_client, sessions):
    body = api_client.get("/v1/sessions?offset=20&limit=10").json()
    assert (body["total"], body["offset"], body["limit"]) == (25, 20, 10)
    assert ids_of(body) == newest_first(sessions)[20:]
    past_the_end = api_client.get("/v1/sessions?offset=100").json()
    assert past_the_end == {"data": [], "total": 25, "offset": 100, "limit": 20}


def test_limit_above_100_is_clamped(api_client, make_session):
    for _ in range(102):
        make_session()
    body = api_client.get("/v1/sessions?limit=1000").json()
    assert body["limit"] == 100
    assert len(body["data"]) == 100
    assert body["total"] == 102


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=-1", "offset=-1", "limit=abc", "offset=1.5", "limit=2e1", "offset=ten"]
)
def test_bad_pagination_values_are_400(api_client, sessions, query):
    response = api_client.get(f"/v1/sessions?{query}")
    assert response.status_code == 400
    assert response.json() == INVALID


def test_agent_filter(api_client, make_agent, make_session):
    first, second = make_agent(name="A"), make_agent(name="B")
    mine = [make_session(for_agent=first) for _ in range(3)]
    make_session(for_agent=second)
    body = api_client.get(f"/v1/sessions?agent_id={format_id('agent', first.public_id)}&limit=2").json()
    assert body["total"] == 3
    assert ids_of(body) == newest_first(mine)[:2]
    assert all(row["agent_id"] == format_id("agent", first.public_id) for row in body["data"])


def test_agent_filter_unknown_agent_is_an_empty_page(api_client, sessions):
    body = api_client.get("/v1/sessions?agent_id=agent_" + "0" * 31 + "3").json()
    assert body == {"data": [], "total": 0, "offset": 0, "limit": 20}


def test_agent_filter_malformed_is_400(api_client, sessions):
    assert api_client.get("/v1/sessions?agent_id=bogus").json() == INVALID


def test_list_is_scoped_to_the_organization(other_org_client, sessions):
    assert other_org_client.get("/v1/sessions").json() == {"data": [], "total": 0, "offset": 0, "limit": 20}


def test_queries_per_list_request_do_not_grow_with_page_size_or_sessions(
    api_client, make_agent, make_session, make_model, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    make_session()
    baseline = count("/v1/sessions?limit=1")
    model = make_model()
    for i in range(30):
        make_session(for_agent=make_agent(name=f"a{i}", capabilities=["current_time"]), model=model)
    # Same number with 1 or 100 rows per page and 31 sessions over 31 agents: no per-row queries.
    with django_assert_num_queries(baseline):
        api_client.get("/v1/sessions?limit=100")
    assert count("/v1/sessions?limit=20") == baseline
    # count + page; the rest is authentication / organization resolution.
    assert baseline <= 4
