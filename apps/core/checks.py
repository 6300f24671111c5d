"""Deploy checks: production must not silently run without authentication or encryption."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_auth_mode(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[checks.CheckMessage]:
    problems: list[checks.CheckMessage] = []
    if settings.AUTH_MODE == "none":
        problems.append(
            checks.Warning(
                "AUTH_MODE is 'none': every request runs as the anonymous admin.",
                hint="Set AUTH_MODE=admin, full or external in production.",
                id="everruns.W001",
            )
        )
    if settings.AUTH_MODE not in {"none", "admin", "full", "external"}:
        problems.append(checks.Error(f"Unknown AUTH_MODE {settings.AUTH_MODE!r}", id="everruns.E001"))
    if not settings.ENCRYPTION_KEYS:
        problems.append(
            checks.Warning(
                "ENCRYPTION_KEYS is not set: LLM provider API keys cannot be stored.",
                hint="Set ENCRYPTION_KEYS to a base64-encoded 32-byte key.",
                id="everruns.W002",
            )
        )
    return problems
