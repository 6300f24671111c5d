from django.contrib import admin

from .models import Webhook, WebhookDelivery


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Webhooks; the secret is never shown (create and rotate through the API)."""

    list_display = ["url", "organization", "session", "enabled", "consecutive_failures", "created_at"]
    list_filter = ["enabled"]
    search_fields = ["url"]
    exclude = ["secret_ciphertext", "secret_key_id", "previous_secret_ciphertext", "previous_secret_key_id"]
    readonly_fields = ["organization", "session", "consecutive_failures", "disabled_reason", "created_at", "updated_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log (read-only)."""

    list_display = ["id", "webhook", "event_type", "status", "attempt_count", "last_status_code", "next_attempt_at"]
    list_filter = ["status", "event_type"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
