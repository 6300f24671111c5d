"""System checks: a malformed ENCRYPTION_KEYS fails at startup, not on the first key write."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security)
def check_encryption_keys(app_configs, **kwargs) -> list[checks.CheckMessage]:
    raw = settings.ENCRYPTION_KEYS or ""
    try:
        from .crypto import parse_keys

        keys = parse_keys(raw)
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="llm.E001")]
    if not keys and not settings.DEBUG:
        return [
            checks.Warning(
                "ENCRYPTION_KEYS is not set: LLM provider API keys cannot be stored (only env fallbacks work).",
                hint='Set ENCRYPTION_KEYS="k1:<base64 of 32 random bytes>".',
                id="llm.W001",
            )
        ]
    return []
