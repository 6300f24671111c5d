"""django.tasks entry points for webhook deliveries: thin, they take ids and call one service."""

import uuid
from datetime import datetime

from django.tasks import task


@task()
def deliver_webhook(delivery_id: str) -> None:
    """One attempt of a delivery; a failed attempt with retries left queues the next one at its due time."""
    from .services import delivery_attempt

    delivery = delivery_attempt(delivery_id=uuid.UUID(delivery_id))
    if delivery is not None and delivery.status == delivery.PENDING and delivery.next_attempt_at is not None:
        enqueue_delivery(delivery.pk, run_after=delivery.next_attempt_at)


def enqueue_delivery(delivery_id: uuid.UUID, *, run_after: datetime | None = None) -> None:
    if run_after is None:
        deliver_webhook.enqueue(str(delivery_id))
    else:
        deliver_webhook.using(run_after=run_after).enqueue(str(delivery_id))
