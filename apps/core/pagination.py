"""List envelopes (contract 1.5 / 1.6), decided once and set per view.

- `SessionPagination`: `{data, total, offset, limit}`, default 20, max 100 (larger values are
  clamped), newest first is the view's ordering. Non-integer or negative values -> 400; we also
  answer 400 for `limit=0` (the contract allows "treat as 1 or 400"; a zero page is never useful
  and silently changing it would hide a client bug).
- `DataEnvelope`: every other list, `{data, total}` with all rows.
- `OptionalPagination`: the other resource lists (see there); `ItemsOptionalPagination` for capabilities,
  whose rows also go under `items` (the docs' key) next to the SDKs' `data`.
"""

import re
from collections.abc import Sequence
from typing import Any

from django.db.models import Q, QuerySet
from rest_framework.pagination import BasePagination, LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .exceptions import InvalidRequest

# Plain ASCII digits only: int() would also take "+5", " 5", "1_0" and non-ASCII digits.
_DIGITS = re.compile(r"^[0-9]{1,18}$")
MAX_OFFSET = 2**31 - 1  # far past any real page; keeps OFFSET inside every database's integer range


def _non_negative_int(raw: str, name: str) -> int:
    if raw.startswith("-") and _DIGITS.match(raw[1:]):
        raise InvalidRequest(log_detail=f"{name} must not be negative")
    if not _DIGITS.match(raw):
        raise InvalidRequest(log_detail=f"{name} must be a non-negative integer, got {raw!r}"[:120])
    value = int(raw)
    if value > MAX_OFFSET:
        raise InvalidRequest(log_detail=f"{name} is out of range")
    return value


class SessionPagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = 100

    def get_limit(self, request: Request) -> int:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None or raw == "":
            return self.default_limit
        value = _non_negative_int(raw, "limit")
        if value == 0:
            raise InvalidRequest(log_detail="limit must be at least 1")
        return min(value, self.max_limit)

    def get_offset(self, request: Request) -> int:
        raw = request.query_params.get(self.offset_query_param)
        if raw is None or raw == "":
            return 0
        return _non_negative_int(raw, "offset")

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"data": data, "total": self.count, "offset": self.offset, "limit": self.limit})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["data", "total", "offset", "limit"],
            "properties": {
                "data": schema,
                "total": {"type": "integer", "example": 37},
                "offset": {"type": "integer", "example": 0},
                "limit": {"type": "integer", "example": 20},
            },
        }

    def get_schema_operation_parameters(self, view: APIView) -> list[dict]:
        return [
            {
                "name": "offset",
                "required": False,
                "in": "query",
                "description": "Items to skip (>= 0).",
                "schema": {"type": "integer", "minimum": 0, "default": 0},
            },
            {
                "name": "limit",
                "required": False,
                "in": "query",
                "description": "Page size, 1..100; larger values are clamped to 100.",
                "schema": {"type": "integer", "minimum": 1, "default": 20},
            },
        ]


class DataEnvelope(BasePagination):
    """Not paging at all: the whole (ordered) queryset as `{data, total}`."""

    envelope_keys: tuple[str, ...] = ("data",)

    def paginate_queryset(
        self, queryset: QuerySet[Any] | Sequence[Any], request: Request, view: APIView | None = None
    ) -> list[Any]:
        self.rows = list(queryset)
        return self.rows

    def get_paginated_response(self, data: Any) -> Response:
        body = {key: data for key in self.envelope_keys}
        body["total"] = len(data)
        return Response(body)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        properties = {key: schema for key in self.envelope_keys}
        properties["total"] = {"type": "integer"}
        return {"type": "object", "required": [*self.envelope_keys, "total"], "properties": properties}


def data_envelope(rows: list) -> dict:
    """`{data, total}` for lists built outside a viewset's list() (fs listings, grep results)."""
    return {"data": rows, "total": len(rows)}


# Optional paging for every list but sessions (providers, models, agents, harnesses, capabilities…): the seed
# pages only the sessions list by default; SDK 0.3.1 and the published spec add `offset`/`limit` to the
# others. Without `limit` and `offset` the list is every row as `{data, total}` (as before); with either it
# is a page as `{data, total, offset, limit}` with the sessions' rules (limit 1..100, larger values clamped;
# bad values 400). A missing `limit` on a paged request is the maximum page (100), so `?offset=n` alone
# means "from n on, as much as one page holds".
class OptionalPagination(SessionPagination):
    """`SessionPagination` when `offset` or `limit` is given, else every row as `{data, total}`."""

    envelope_keys: tuple[str, ...] = ("data",)

    def _envelope(self, data: Any, **more: Any) -> Response:
        body = {key: data for key in self.envelope_keys}
        body.update(more)
        return Response(body)

    def paginate_queryset(self, queryset, request, view=None):
        self.paged = any(request.query_params.get(name) for name in (self.limit_query_param, self.offset_query_param))
        if not self.paged:
            self.rows = list(queryset)
            return self.rows
        return super().paginate_queryset(queryset, request, view)

    def get_limit(self, request) -> int:
        if not request.query_params.get(self.limit_query_param):
            return self.max_limit
        return super().get_limit(request)

    def get_paginated_response(self, data) -> Response:
        if not self.paged:
            return self._envelope(data, total=len(data))
        return self._envelope(data, total=self.count, offset=self.offset, limit=self.limit)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paged = super().get_paginated_response_schema(schema)
        for key in self.envelope_keys:
            paged["properties"][key] = schema
        paged["required"] = [*self.envelope_keys, "total"]
        paged["description"] = "`offset` and `limit` are present only when the request gave either of them."
        return paged

    def get_schema_operation_parameters(self, view) -> list[dict]:
        offset, limit = super().get_schema_operation_parameters(view)
        offset["description"] = "Items to skip (>= 0). Giving `offset` or `limit` pages the list."
        limit["description"] = "Page size, 1..100 (larger values are clamped). Without offset and limit: every item."
        limit["schema"] = {"type": "integer", "minimum": 1}
        return [offset, limit]


class ItemsOptionalPagination(OptionalPagination):
    envelope_keys = ("items", "data")


# List query parameters shared by the optionally paged lists (agents, harnesses, capabilities, models).
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no", "")


def query_bool(params: Any, name: str, default: bool = False) -> bool:
    """`?name=true|false|1|0` (absent: `default`); anything else is 400."""
    raw = params.get(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise InvalidRequest(log_detail=f"{name} must be true or false")


def search_filter(queryset: QuerySet[Any], params: Any, fields: Sequence[str]) -> QuerySet[Any]:
    """`?search=` as a case-insensitive substring of any of `fields` (absent or empty: no filter)."""
    term = params.get("search")
    if not term:
        return queryset
    if "\x00" in term:  # PostgreSQL cannot hold NUL in a string: 400, not a database error
        raise InvalidRequest(log_detail="search contains NUL")
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__icontains": term})
    return queryset.filter(condition)
