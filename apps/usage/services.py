"""Writes of the usage ledger: one priced row per model call (docs/usage.md)."""

from __future__ import annotations

from django.utils import timezone

from apps.llm.models import LlmModel
from apps.llm.pricing import call_cost, model_prices
from apps.sessions.models import Session, Turn

from .budgets import budget_charge
from .models import UsageRecord


def usage_record(*, session: Session, turn: Turn | None, model: LlmModel, usage: dict | None) -> UsageRecord:
    """Record one model call: its tokens, priced at `model`'s prices (apps.llm.pricing), attributed to the
    session's organization, agent, owner (user, API key), the session and the turn.

    Called by the runtime inside the transaction that stores the call's step, so a step and its usage row
    exist together or not at all. A call that reported no usage is still recorded (zero tokens, zero cost).
    The call is then charged to the session's budgets (apps.usage.budgets.budget_charge).
    """
    usage = usage or {}
    record = UsageRecord(
        created_at=timezone.now(),
        organization_id=session.organization_id,
        agent_id=session.agent_id,
        # The agent version the session runs (once sessions carry one).
        agent_version_id=getattr(session, "agent_version_id", None),
        session=session,
        turn=turn,
        user_id=session.created_by_id,
        api_key_id=session.api_key_id,
        model=model,
        model_name=model.model_id,
        provider_type=model.provider.provider_type,
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
        cache_read_tokens=int(usage.get("cache_read_tokens") or 0),
        cache_creation_tokens=int(usage.get("cache_creation_tokens") or 0),
        cost_usd=call_cost(model_prices(model), usage),
    )
    record.save(force_insert=True)
    budget_charge(session=session, record=record)
    return record
