from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from apps.core.periodic import periodic_register
        from apps.llm.services import encrypted_secrets_register
        from apps.sessions.events import event_listener_register

        from .dispatch import WEBHOOK_EVENT_TYPES, deliveries_create_for_event
        from .services import deliveries_requeue_overdue, webhook_secrets_reencrypt

        # Deliveries are written in the transaction that appends the event (an outbox); see dispatch.py.
        event_listener_register(types=WEBHOOK_EVENT_TYPES, listener=deliveries_create_for_event)
        periodic_register("webhooks.requeue_overdue", deliveries_requeue_overdue, every_secs=60)
        encrypted_secrets_register("webhooks", webhook_secrets_reencrypt)  # manage.py rotate_encryption_keys
