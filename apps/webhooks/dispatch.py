"""From an appended session event to webhook deliveries (the listener apps.webhooks.apps registers).

Runs inside the transaction that appends the event (apps.sessions.events.event_listener_register): the
delivery rows are an outbox that commits with the event, so a turn that completed always has its
deliveries, and a rolled-back one never does. The HTTP work is queued on commit.
"""

from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core import ids
from apps.core.fields import format_ts
from apps.sessions.event_types import SUBSCRIBABLE_EVENT_TYPES, EventType
from apps.sessions.events import event_to_dict
from apps.sessions.models import Event

from .models import Webhook, WebhookDelivery
from .tasks import enqueue_delivery

# What a webhook can subscribe to: the registry's subscribable types (apps/sessions/event_types.py). An approval
# request is `turn.paused` with `data.reason == "approval"`; `budget.exceeded` joins once registered there.
WEBHOOK_EVENT_TYPES: tuple[EventType, ...] = SUBSCRIBABLE_EVENT_TYPES


def payload_for(event: Event, organization_id) -> dict:
    """The delivered JSON (Standard Webhooks' recommended `type` / `timestamp` / `data` envelope)."""
    return {
        "type": event.type,
        "timestamp": format_ts(event.ts),
        "data": {
            "organization_id": ids.format_id("org", organization_id),
            "session_id": ids.format_id("session", event.session_id),
            "event": event_to_dict(event),
        },
    }


def deliveries_create_for_event(event: Event) -> None:
    """One pending delivery per enabled webhook of the event's organization (or session) subscribed to its type.

    One query when nobody subscribed (the session's organization joined in)."""
    webhooks = [
        webhook
        for webhook in Webhook.objects.filter(enabled=True, organization__sessions__id=event.session_id).filter(
            Q(session__isnull=True) | Q(session_id=event.session_id)
        )
        if event.type in webhook.event_types
    ]
    if not webhooks:
        return
    organization_id = webhooks[0].organization_id
    payload = payload_for(event, organization_id)
    now = timezone.now()
    with transaction.atomic():  # a savepoint: a failed insert must not abort the lifecycle step appending the event
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(webhook=webhook, event_type=event.type, payload=payload, next_attempt_at=now)
                for webhook in webhooks
            ]
        )
    for delivery in deliveries:
        transaction.on_commit(partial(enqueue_delivery, delivery.pk))
