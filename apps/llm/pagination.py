"""Optional paging for the lists of /v1/providers and /v1/models.

The seed pages only the sessions list by default; SDK 0.3.1 and the published spec add `offset`/`limit`
to the other lists. So: without `limit` and `offset` the list is every row as `{data, total}` (as
before); with either of them it is a page as `{data, total, offset, limit}` with the sessions' rules
(limit 1..100, larger values clamped; bad values 400). A missing `limit` on a paged request is the
maximum page (100), so `?offset=n` alone means "from n on, as much as one page holds".
"""

from rest_framework.response import Response

from apps.core.pagination import SessionPagination


class OptionalPagination(SessionPagination):
    """`SessionPagination` when `offset` or `limit` is given, else every row as `{data, total}`."""

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
            return Response({"data": data, "total": len(data)})
        return super().get_paginated_response(data)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paged = super().get_paginated_response_schema(schema)
        paged["required"] = ["data", "total"]
        paged["description"] = "`offset` and `limit` are present only when the request gave either of them."
        return paged

    def get_schema_operation_parameters(self, view) -> list[dict]:
        offset, limit = super().get_schema_operation_parameters(view)
        offset["description"] = "Items to skip (>= 0). Giving `offset` or `limit` pages the list."
        limit["description"] = "Page size, 1..100 (larger values are clamped). Without offset and limit: every item."
        limit["schema"] = {"type": "integer", "minimum": 1}
        return [offset, limit]
