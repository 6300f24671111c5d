"""Budgets: caps on usage, enforced before every model call (docs/usage.md, "Budgets").

Which budgets apply to a session: those of its organization, its agent, the session itself, and its
owner (the user who created it and the API key it was created with). Disabled budgets are not enforced
(they still count what is spent); a paused one refuses calls like an exhausted one.

Enforcement, the three moments:
- a message that would start a turn (`budget_admission`, registered with apps.sessions.turns): refused
  with 422 "Cannot start turn: budget exceeded" and a `budget.exceeded` event when a budget is exhausted;
- before every model call of a running turn (`budget_gate`, the runtime): "stop" ends the turn as failed
  with the reason; "wait" while calls already in flight could use up what is left;
- after every call (`budget_charge`, from apps.usage.services.usage_record): the call's cost (usd) or
  tokens are added, a ledger entry written, and `budget.warning` appended once per period when the
  balance drops below the warning threshold (soft_limit, default 20% of the limit: 80% used).

Concurrency: a call in flight holds each of its budgets (`BudgetHold`), counted at the budget's largest
single charge so far (`max_charge`; while that is unknown, one call at a time). A call starts only if the
balance minus what the calls in flight are assumed to cost is positive, under the budget rows' lock; so
parallel turns overspend a budget by at most about one model call, not one per turn.
Lock order: budget rows are locked alone (gate, admission) or after the session row (charge, which runs
in the runtime's step transaction); no transaction takes a budget and then a session.
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Subquery
from django.utils import timezone

from apps.accounts.models import ApiKey, Membership, Organization
from apps.agents.models import Agent
from apps.core.exceptions import InvalidRequest, NotFound, Unprocessable
from apps.core.ids import format_id, parse_id_or_400
from apps.core.scoping import get_in_org
from apps.core.services import model_update
from apps.sessions.event_types import EventType
from apps.sessions.events import event_append
from apps.sessions.models import Session, Turn

from .models import Budget, BudgetHold, BudgetLedgerEntry, UsageRecord

EXCEEDED_MESSAGE = "Cannot start turn: budget exceeded"
ENFORCED = ("active", "paused")


class BudgetExceeded(Unprocessable):
    default_message = EXCEEDED_MESSAGE


# --------------------------------------------------------------------------- periods
def period_start(period: str | None, now: datetime) -> datetime | None:
    """The start (UTC) of the calendar period containing `now`; None for a budget without a period."""
    if period is None:
        return None
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day if period == "day" else day.replace(day=1)


def period_end(period: str | None, start: datetime | None) -> datetime | None:
    if period is None or start is None:
        return None
    if period == "day":
        return start + timedelta(days=1)
    return start + timedelta(days=calendar.monthrange(start.year, start.month)[1])


def _rollover(budget: Budget, now: datetime) -> None:
    """A new period started: the budget starts again at 0 (saved by the caller)."""
    start = period_start(budget.period, now)
    if start is not None and (budget.period_started_at is None or budget.period_started_at < start):
        budget.consumed = Decimal(0)
        budget.warned = False
        budget.period_started_at = start
        budget.save(update_fields=["consumed", "warned", "period_started_at", "updated_at"])


# --------------------------------------------------------------------------- which budgets
def subject_key(budget: Budget) -> str:
    """The public id of a budget's subject, as the API shows it."""
    prefixes = {"organization": "org", "agent": "agent", "session": "session"}
    prefix = prefixes.get(budget.subject_type)
    return format_id(prefix, budget.subject_id) if prefix else str(budget.subject_id)


def session_budgets(session: Session, *, lock: bool = False) -> list[Budget]:
    """The budgets that apply to `session` (not deleted), in primary-key order (the lock order)."""
    subjects = Q(subject_type="organization", subject_id=session.organization_id) | Q(
        subject_type="session", subject_id=session.pk
    )
    if session.agent_id is not None:  # a session on a harness alone has no agent budget
        agent_public_id = Subquery(Agent.objects.filter(pk=session.agent_id).values("public_id")[:1])
        subjects |= Q(subject_type="agent", subject_id=agent_public_id)
    if session.created_by_id:
        subjects |= Q(subject_type="user", subject_id=session.created_by_id)
    if session.api_key_id:
        subjects |= Q(subject_type="api_key", subject_id=session.api_key_id)
    budgets = Budget.objects.filter(subjects, organization_id=session.organization_id, deleted_at__isnull=True)
    if lock:
        budgets = budgets.select_for_update()
    return list(budgets.order_by("pk"))


# --------------------------------------------------------------------------- verdicts
@dataclass
class Verdict:
    """What a check concluded: `continue`, `warn` (below the threshold), `stop`, or `wait` (gate only)."""

    action: str
    budget: Budget | None = None
    message: str | None = None

    def as_check_result(self) -> dict[str, Any]:
        """The SDK's BudgetCheckResult."""
        budget = self.budget
        return {
            "action": self.action,
            "balance": float(budget.balance) if budget else None,
            "budget_id": format_id("bdgt", budget.pk) if budget else None,
            "currency": budget.currency if budget else None,
            "error_code": "budget_exceeded" if self.action == "stop" else None,
            "error_fields": budget_event_data(budget) if budget and self.action == "stop" else None,
            "message": self.message,
        }


def budget_event_data(budget: Budget, *, message: str | None = None, turn_id: str | None = None) -> dict:
    """BudgetEventData (the spec's payload of budget events)."""
    return {
        "budget_id": format_id("bdgt", budget.pk),
        "balance": float(budget.balance),
        "limit": float(budget.limit),
        "currency": budget.currency,
        "soft_limit": float(budget.soft_limit) if budget.soft_limit is not None else None,
        "message": message,
        "turn_id": turn_id,
    }


def _describe(budget: Budget, what: str) -> str:
    return (
        f"{what}: {budget.subject_type} budget {format_id('bdgt', budget.pk)} has {budget.balance.normalize():f} "
        f"{budget.currency} left of {budget.limit.normalize():f}"
    )


def verdict_of(budgets: list[Budget]) -> Verdict:
    """The most restrictive verdict over `budgets` (stop > warn > continue)."""
    warn = None
    for budget in budgets:
        if budget.status not in ENFORCED:
            continue
        if budget.status == "paused":
            return Verdict("stop", budget, _describe(budget, "Budget paused"))
        if budget.balance <= 0:
            return Verdict("stop", budget, _describe(budget, "Budget exceeded"))
        if warn is None and budget.balance < budget.threshold:
            warn = Verdict("warn", budget, _describe(budget, "Budget low"))
    return warn or Verdict("continue")


def budget_check(*, budget: Budget) -> Verdict:
    """One budget's verdict now (a new period counts as started)."""
    with transaction.atomic():
        budget = Budget.objects.select_for_update().get(pk=budget.pk)
        _rollover(budget, timezone.now())
    return verdict_of([budget])


def session_budget_check(*, session: Session) -> Verdict:
    """The verdict over every budget that applies to `session`."""
    with transaction.atomic():
        budgets = session_budgets(session, lock=True)
        now = timezone.now()
        for budget in budgets:
            _rollover(budget, now)
    return verdict_of(budgets)


# --------------------------------------------------------------------------- enforcement
def budget_exceeded_notify(*, session: Session, verdict: Verdict, turn_id: str | None = None) -> None:
    """Append `budget.exceeded` to the session's log (the caller holds no budget lock)."""
    assert verdict.budget is not None
    context = {"turn_id": turn_id, "trace_id": turn_id} if turn_id else None
    event_append(
        session_id=session.pk,
        type=EventType.BUDGET_EXCEEDED,
        data=budget_event_data(verdict.budget, message=verdict.message, turn_id=turn_id),
        context=context,
    )


def budget_admission(session: Session) -> None:
    """Before a message starts a turn (apps.sessions.turns.admit): refuse when a budget is exhausted.

    Raises BudgetExceeded (422 "Cannot start turn: budget exceeded") after committing a `budget.exceeded`
    event, so the refusal is in the session's log although the message is not stored.
    """
    if not session_budgets(session):  # the common case, one query: no transaction, no lock
        return
    verdict = session_budget_check(session=session)
    if verdict.action != "stop":
        return
    with transaction.atomic():
        budget_exceeded_notify(session=session, verdict=verdict)
    raise BudgetExceeded(log_detail=verdict.message)


def _live_holds(budgets: list[Budget], turn: Turn, now: datetime) -> dict[Any, int]:
    lease = timedelta(seconds=int(settings.RUNTIME_TURN_LEASE_SECS))
    rows = (
        BudgetHold.objects.filter(
            budget__in=budgets, turn__status=Turn.STATUS_RUNNING, turn__heartbeat_at__gte=now - lease
        )
        .exclude(turn=turn)
        .values("budget_id")
        .annotate(n=Count("id"))
    )
    return {row["budget_id"]: row["n"] for row in rows}


def budget_gate(*, session: Session, turn: Turn) -> Verdict:
    """Before a model call of `turn`: `stop` (a budget is exhausted or paused), `wait` (calls in flight
    could use up what is left: try again shortly), else `continue`/`warn` with the call's holds taken."""
    if not session_budgets(session):  # the common case, one query: no transaction, no lock
        return Verdict("continue")
    with transaction.atomic():
        budgets = session_budgets(session, lock=True)
        if not budgets:
            return Verdict("continue")
        now = timezone.now()
        for budget in budgets:
            _rollover(budget, now)
        verdict = verdict_of(budgets)
        if verdict.action == "stop":
            return verdict
        BudgetHold.objects.filter(turn=turn).delete()
        enforced = [b for b in budgets if b.status in ENFORCED]
        live = _live_holds(enforced, turn, now)
        for budget in enforced:
            in_flight = live.get(budget.pk, 0)
            if in_flight and (budget.max_charge <= 0 or budget.balance - in_flight * budget.max_charge <= 0):
                return Verdict("wait", budget)
        BudgetHold.objects.bulk_create([BudgetHold(budget=b, turn=turn, created_at=now) for b in enforced])
        return verdict


def budget_holds_release(*, turn: Turn) -> None:
    """The turn has no call in flight any more (it ended, or its call failed)."""
    BudgetHold.objects.filter(turn=turn).delete()


def budget_charge(*, session: Session, record: UsageRecord) -> None:
    """Charge one model call to every budget of its session: ledger entry, consumption, warning event.

    Runs in the caller's transaction, which holds the session row lock (the runtime's step).
    """
    budgets = session_budgets(session, lock=True)
    if not budgets:
        return
    now = timezone.now()
    entries = []
    for budget in budgets:
        _rollover(budget, now)
        amount = record.cost_usd if budget.currency == "usd" else Decimal(record.total_tokens)
        if amount <= 0:
            continue
        budget.consumed = F("consumed") + amount
        budget.max_charge = max(budget.max_charge, amount)
        budget.save(update_fields=["consumed", "max_charge", "updated_at"])
        budget.refresh_from_db(fields=["consumed"])
        entries.append(
            BudgetLedgerEntry(
                budget=budget,
                amount=amount,
                meter_source="llm_cost" if budget.currency == "usd" else "llm_tokens",
                ref_type="llm_generation",
                ref_id=format_id("usage", record.pk),
                session=session,
                description=f"{record.model_name} ({record.provider_type})",
                created_at=now,
            )
        )
        if budget.status == "active" and not budget.warned and budget.balance < budget.threshold:
            Budget.objects.filter(pk=budget.pk).update(warned=True)
            turn_id = format_id("turn", record.turn_id) if record.turn_id else None
            event_append(
                session_id=session.pk,
                type=EventType.BUDGET_WARNING,
                data=budget_event_data(budget, message=_describe(budget, "Budget low"), turn_id=turn_id),
                context={"turn_id": turn_id, "trace_id": turn_id} if turn_id else None,
            )
    BudgetLedgerEntry.objects.bulk_create(entries)
    if record.turn_id is not None:
        BudgetHold.objects.filter(turn_id=record.turn_id).delete()  # the call is charged: no longer in flight


# --------------------------------------------------------------------------- writes (the budgets API, admin)
SUBJECT_ALIASES = {"org": "organization", "apikey": "api_key", "api-key": "api_key"}


def _uuid_or_400(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except (TypeError, ValueError):
        raise InvalidRequest(log_detail=f"malformed subject id {raw!r}"[:200]) from None


def budget_subject_resolve(*, organization: Organization, subject_type: str, subject_id: str) -> tuple[str, Any]:
    """(subject_type, the stored subject key) for a subject of `organization`; malformed id 400, unknown 404."""
    subject_type = SUBJECT_ALIASES.get(subject_type, subject_type)
    if subject_type == "organization":
        if parse_id_or_400("org", subject_id) != organization.pk:
            raise NotFound("Organization not found")
        return subject_type, organization.pk
    if subject_type == "agent":
        agent = get_in_org(
            Agent,
            organization=organization,
            not_found="Agent not found",
            public_id=parse_id_or_400("agent", subject_id),
        )
        return subject_type, agent.public_id
    if subject_type == "session":
        session = get_in_org(
            Session, organization=organization, not_found="Session not found", pk=parse_id_or_400("session", subject_id)
        )
        return subject_type, session.pk
    if subject_type == "user":
        user_pk = _uuid_or_400(subject_id)
        if not Membership.objects.filter(organization=organization, user_id=user_pk).exists():
            raise NotFound("User not found")
        return subject_type, user_pk
    if subject_type == "api_key":
        key = get_in_org(ApiKey, organization=organization, not_found="API key not found", pk=_uuid_or_400(subject_id))
        return subject_type, key.pk
    raise InvalidRequest(log_detail=f"unknown subject_type {subject_type!r}"[:200])


@transaction.atomic
def budget_create(
    *,
    organization: Organization,
    subject_type: str,
    subject_id: str,
    currency: str,
    limit: Decimal,
    soft_limit: Decimal | None = None,
    period: str | None = None,
    metadata: Any = None,
) -> Budget:
    """A budget for a subject of the organization (see budget_subject_resolve); a periodic one starts its
    first period now."""
    subject_type, key = budget_subject_resolve(
        organization=organization, subject_type=subject_type, subject_id=subject_id
    )
    budget = Budget(
        organization=organization,
        subject_type=subject_type,
        subject_id=key,
        currency=currency,
        limit=limit,
        soft_limit=soft_limit,
        period=period,
        period_started_at=period_start(period, timezone.now()),
        metadata=metadata,
    )
    budget.full_clean()
    budget.save()
    return budget


@transaction.atomic
def budget_update(*, budget: Budget, data: dict) -> Budget:
    """Change `limit`, `soft_limit` (None removes it), `status` (active, paused, disabled), `metadata`."""
    budget = Budget.objects.select_for_update().get(pk=budget.pk)
    model_update(instance=budget, fields=["limit", "soft_limit", "status", "metadata"], data=data)
    if budget.warned and budget.balance >= budget.threshold:  # room again: the next drop warns again
        budget.warned = False
        budget.save(update_fields=["warned"])
    return budget


@transaction.atomic
def budget_delete(*, budget: Budget) -> None:
    """Soft delete: the budget stops applying and disappears from the API; its ledger is kept."""
    Budget.objects.filter(pk=budget.pk).update(deleted_at=timezone.now(), updated_at=timezone.now())


@transaction.atomic
def budget_top_up(*, budget: Budget, amount: Decimal, description: str | None = None) -> Budget:
    """Credit `amount` (> 0) back: the balance grows by it, a negative ledger entry records it."""
    if amount <= 0:
        raise InvalidRequest(log_detail="top-up amount must be positive")
    budget = Budget.objects.select_for_update().get(pk=budget.pk)
    now = timezone.now()
    _rollover(budget, now)
    budget.consumed -= amount
    if budget.balance >= budget.threshold:
        budget.warned = False
    budget.save(update_fields=["consumed", "warned", "updated_at"])
    BudgetLedgerEntry.objects.create(
        budget=budget,
        amount=-amount,
        meter_source="top_up",
        ref_type="manual",
        description=description,
        created_at=now,
    )
    return budget
