"""Request and response shapes of /v1/task-webhooks (published spec `task-webhooks`, plus our additions)."""

from rest_framework import serializers

from apps.core.fields import PublicIdField, StrictBooleanField, StrictCharField, TimestampField

from .dispatch import WEBHOOK_EVENT_TYPES
from .models import Webhook, WebhookDelivery
from .services import secret_valid

EVENT_TYPE_CHOICES = [t.value for t in WEBHOOK_EVENT_TYPES]
# Without `event_types`, a webhook gets every subscribable type.
DEFAULT_EVENT_TYPES = list(EVENT_TYPE_CHOICES)


class WebhookSerializer(serializers.ModelSerializer):
    """A webhook as the API shows it: never the secret (`has_secret` is always true: every delivery is signed)."""

    id = PublicIdField("wh", read_only=True)
    session_id = PublicIdField("session", read_only=True, allow_null=True)
    has_secret = serializers.SerializerMethodField()
    created_at = TimestampField(read_only=True)
    updated_at = TimestampField(read_only=True)

    class Meta:
        model = Webhook
        fields = [
            "id",
            "url",
            "enabled",
            "has_secret",
            "session_id",
            "event_types",
            "consecutive_failures",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_has_secret(self, obj: Webhook) -> bool:
        return bool(obj.secret_ciphertext)


class WebhookWithSecretSerializer(WebhookSerializer):
    """Create and rotate-secret answers: the signing secret, shown this once."""

    secret = serializers.SerializerMethodField()

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    def get_secret(self, obj: Webhook) -> str:
        return self.context["secret"]


def _secret(value: str | None) -> str | None:
    if value is not None and not secret_valid(value):
        raise serializers.ValidationError("secret must be whsec_<base64 of 24..64 bytes>")
    return value


class WebhookCreateSerializer(serializers.Serializer):
    url = StrictCharField(max_length=2048)
    enabled = StrictBooleanField(required=False, default=True)
    secret = StrictCharField(required=False, allow_null=True, max_length=200)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPE_CHOICES), required=False, min_length=1, max_length=20
    )
    session_id = PublicIdField("session", required=False, allow_null=True)

    def validate_secret(self, value: str | None) -> str | None:
        return _secret(value)


class WebhookUpdateSerializer(serializers.Serializer):
    url = StrictCharField(required=False, max_length=2048)
    enabled = StrictBooleanField(required=False)
    # Not nullable here (unlike the published spec): every delivery is signed; rotate with .../rotate-secret.
    secret = StrictCharField(required=False, max_length=200)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPE_CHOICES), required=False, min_length=1, max_length=20
    )

    def validate_secret(self, value: str | None) -> str | None:
        return _secret(value)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One entry of the delivery log: the payload, every attempt (status code, latency, error) and what is next."""

    id = PublicIdField("msg", read_only=True)
    webhook_id = PublicIdField("wh", read_only=True)
    next_attempt_at = TimestampField(read_only=True, allow_null=True)
    delivered_at = TimestampField(read_only=True, allow_null=True)
    created_at = TimestampField(read_only=True)
    updated_at = TimestampField(read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "event_type",
            "status",
            "attempt_count",
            "next_attempt_at",
            "last_status_code",
            "last_latency_ms",
            "last_error",
            "delivered_at",
            "attempts",
            "payload",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
