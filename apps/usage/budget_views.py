"""The budgets API, in the official SDK's shapes (`budgets`, `sessions.budgets`, `sessions.budget_check`).

*Choice*: the SDK reads the budget list, the ledger and a session's budgets as bare JSON arrays (it
iterates the body), so these three answer arrays rather than the `{data, total}` envelope of other lists.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from apps.core.exceptions import InvalidRequest, NotFound
from apps.core.ids import parse_id
from apps.core.permissions import IsAdminForWrites, OrgScopedMixin, request_organization
from apps.core.scoping import get_in_org
from apps.sessions.models import Session

from . import budgets as services
from .models import Budget
from .serializers import (
    BudgetCheckResultSerializer,
    BudgetCreateSerializer,
    BudgetSerializer,
    BudgetUpdateSerializer,
    LedgerEntrySerializer,
    TopUpSerializer,
)

LEDGER_DEFAULT_LIMIT, LEDGER_MAX_LIMIT = 50, 500


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _int_param(request, name: str, default: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    try:
        value = default if raw is None else int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise InvalidRequest(log_detail=f"bad {name}: {raw!r}"[:200])
    return min(value, maximum)


class BudgetViewSet(OrgScopedMixin, GenericViewSet):
    """Budgets: spending caps in usd or tokens for an organization, agent, session, API key or user."""

    queryset = Budget.objects.filter(deleted_at__isnull=True)
    serializer_class = BudgetSerializer
    permission_classes = [IsAuthenticated, IsAdminForWrites]
    id_prefix = "bdgt"
    not_found_message = "Budget not found"

    @extend_schema(
        parameters=[OpenApiParameter("subject_type", str), OpenApiParameter("subject_id", str)],
        responses=BudgetSerializer(many=True),
    )
    def list(self, request):
        """The organization's budgets, optionally of one subject (a bare array, as the SDK reads it)."""
        budgets = self.get_queryset()
        subject_type, subject_id = request.query_params.get("subject_type"), request.query_params.get("subject_id")
        if subject_type:
            subject_type = services.SUBJECT_ALIASES.get(subject_type, subject_type)
            budgets = budgets.filter(subject_type=subject_type)
        if subject_id:
            try:
                _, key = services.budget_subject_resolve(
                    organization=request_organization(request),
                    subject_type=subject_type or "",
                    subject_id=subject_id,
                )
            except NotFound:
                return Response([])
            budgets = budgets.filter(subject_id=key)
        return Response(BudgetSerializer(budgets, many=True).data)

    @extend_schema(request=BudgetCreateSerializer, responses={201: BudgetSerializer})
    def create(self, request):
        """Create a budget (admin)."""
        budget = services.budget_create(
            organization=request_organization(request), **_validated(BudgetCreateSerializer, request)
        )
        return Response(BudgetSerializer(budget).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        """A budget."""
        return Response(BudgetSerializer(self.get_object()).data)

    @extend_schema(request=BudgetUpdateSerializer, responses=BudgetSerializer)
    def partial_update(self, request, pk=None):
        """Change the limit, soft limit (null removes it), status (active, paused, disabled) or metadata (admin)."""
        budget = services.budget_update(budget=self.get_object(), data=_validated(BudgetUpdateSerializer, request))
        return Response(BudgetSerializer(budget).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Delete a budget (admin): it stops applying; its ledger is kept."""
        services.budget_delete(budget=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=TopUpSerializer, responses=BudgetSerializer)
    @action(detail=True, methods=["post"], url_path="top-up")
    def top_up(self, request, pk=None):
        """Credit an amount back to the budget (admin); the ledger records it as a negative entry."""
        budget = services.budget_top_up(budget=self.get_object(), **_validated(TopUpSerializer, request))
        return Response(BudgetSerializer(budget).data)

    @extend_schema(
        parameters=[OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
        responses=LedgerEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def ledger(self, request, pk=None):
        """The budget's movements, newest first (a bare array; `limit` default 50, max 500, `offset`)."""
        budget = self.get_object()
        limit = _int_param(request, "limit", LEDGER_DEFAULT_LIMIT, LEDGER_MAX_LIMIT)
        offset = _int_param(request, "offset", 0, 10**9)
        entries = budget.entries.all()[offset : offset + limit]
        return Response(LedgerEntrySerializer(entries, many=True).data)

    @extend_schema(responses=BudgetCheckResultSerializer)
    @action(detail=True, methods=["get"])
    def check(self, request, pk=None):
        """The budget's verdict now: continue, warn (below its soft limit) or stop."""
        return Response(services.budget_check(budget=self.get_object()).as_check_result())


def _session(request, pk: str) -> Session:
    return get_in_org(
        Session.objects.select_related("agent"),
        organization=request_organization(request),
        not_found="Session not found",
        pk=parse_id("session", pk),
    )


class SessionBudgetsView(APIView):
    """The budgets that apply to a session: its organization's, agent's, owner's, API key's and its own."""

    id_prefix = "session"  # the path's `pk`

    @extend_schema(responses=BudgetSerializer(many=True))
    def get(self, request, pk: str):
        """Every budget that applies to the session (a bare array, as the SDK reads it)."""
        return Response(BudgetSerializer(services.session_budgets(_session(request, pk)), many=True).data)


class SessionBudgetCheckView(APIView):
    """The most restrictive verdict over a session's budgets."""

    id_prefix = "session"

    @extend_schema(responses=BudgetCheckResultSerializer)
    def get(self, request, pk: str):
        """continue, warn or stop, with the budget that decided."""
        return Response(services.session_budget_check(session=_session(request, pk)).as_check_result())
