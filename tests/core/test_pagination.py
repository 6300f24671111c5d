"""SessionPagination's parsing of limit/offset (the full envelope is tested on GET /v1/sessions)."""

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.core.exceptions import InvalidRequest
from apps.core.pagination import SessionPagination


def _parse(query: str) -> tuple[int, int]:
    request = Request(APIRequestFactory().get("/v1/sessions?" + query))
    paginator = SessionPagination()
    return paginator.get_limit(request), paginator.get_offset(request)


def test_defaults_and_clamp():
    assert _parse("") == (20, 0)
    assert _parse("limit=500&offset=3") == (100, 3)


@pytest.mark.parametrize(
    "query",
    [
        "limit=abc",
        "limit=-1",
        "limit=0",
        "offset=-5",
        "limit=+5",
        "limit=%205",
        "limit=1_0",
        "limit=%D9%A3",
        "limit=%EF%BC%95",
        "offset=99999999999999999999999",
        "offset=1.5",
    ],
)
def test_rejects_anything_but_plain_non_negative_integers(query):
    with pytest.raises(InvalidRequest):
        _parse(query)
