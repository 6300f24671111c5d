"""The usage API: totals per day, model, agent, session, API key or user over a window, and a CSV export."""

import csv
from collections.abc import Iterator
from decimal import Decimal

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.fields import format_ts
from apps.core.ids import format_id
from apps.core.permissions import request_organization

from .selectors import UsageFilter, usage_records, usage_summary
from .serializers import UsageQuerySerializer, UsageReportSerializer

CSV_COLUMNS = (
    "created_at",
    "agent_id",
    "agent_version_id",
    "session_id",
    "turn_id",
    "user_id",
    "api_key_id",
    "model_id",
    "model",
    "provider",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "cost_usd",
)


def money(value: Decimal | None) -> str:
    """A USD amount as an exact decimal string (no float on the way)."""
    return format(value or Decimal(0), "f")


def _str(value) -> str | None:
    return None if value is None else str(value)


def group_to_dict(row: dict) -> dict:
    out = dict(row)
    if "day" in row:
        out["day"] = row["day"].isoformat()
    if "model_id" in row:
        out["model_id"] = format_id("model", row["model_id"])
    if "agent__public_id" in row:
        out["agent_id"] = format_id("agent", out.pop("agent__public_id"))
    if "session_id" in row:
        out["session_id"] = format_id("session", row["session_id"])
    for key in ("api_key_id", "user_id"):
        if key in row:
            out[key] = _str(row[key])
    out["cost_usd"] = money(row["cost_usd"])
    return out


def parsed_query(request) -> tuple[UsageQuerySerializer, UsageFilter]:
    serializer = UsageQuerySerializer(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    return serializer, UsageFilter(start=data["start"], end=data["end"], filters=serializer.query_filters())


class UsageView(APIView):
    """Token usage and cost of the caller's organization, summed over a window, optionally grouped."""

    @extend_schema(parameters=[UsageQuerySerializer], responses={200: UsageReportSerializer})
    def get(self, request):
        """Sums of the usage ledger (every model call, priced) over [start, end), grouped by `group_by`."""
        serializer, query = parsed_query(request)
        group_by = serializer.validated_data.get("group_by")
        groups, totals = usage_summary(organization=request_organization(request), query=query, group_by=group_by)
        return Response(
            {
                "data": [group_to_dict(row) for row in groups],
                "total": len(groups),
                "totals": {**totals, "cost_usd": money(totals["cost_usd"])},
                "start": format_ts(query.start),
                "end": format_ts(query.end),
                "group_by": group_by,
            }
        )


class _Echo:
    def write(self, value: str) -> str:
        return value


class UsageExportView(APIView):
    """The usage ledger as CSV: one line per model call in the window (same filters as GET /v1/usage)."""

    @extend_schema(
        parameters=[UsageQuerySerializer],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One line per model call")},
    )
    def get(self, request):
        """Every model call of the window as a CSV line (header first); cost in USD, exact."""
        _, query = parsed_query(request)
        rows = usage_records(organization=request_organization(request), query=query).select_related("agent")
        writer = csv.writer(_Echo())

        def lines() -> Iterator[str]:
            yield writer.writerow(CSV_COLUMNS)
            for r in rows.iterator(chunk_size=500):
                yield writer.writerow(
                    [
                        format_ts(r.created_at),
                        format_id("agent", r.agent.public_id) if r.agent else "",
                        _str(r.agent_version_id) or "",
                        format_id("session", r.session_id) or "",
                        format_id("turn", r.turn_id) or "",
                        _str(r.user_id) or "",
                        _str(r.api_key_id) or "",
                        format_id("model", r.model_id) or "",
                        r.model_name,
                        r.provider_type,
                        r.input_tokens,
                        r.output_tokens,
                        r.cache_read_tokens,
                        r.cache_creation_tokens,
                        money(r.cost_usd),
                    ]
                )

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="usage.csv"'
        return response
