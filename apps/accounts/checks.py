"""Deploy checks for authentication settings (run by `manage.py check --deploy`)."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

MIN_JWT_SECRET_BYTES = 32


@checks.register(checks.Tags.security, deploy=True)
def check_auth_settings(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[checks.CheckMessage]:
    mode = settings.AUTH_MODE
    if mode == "none":
        return []  # everruns.W001 already says everything about this mode
    problems: list[checks.CheckMessage] = []
    if len(settings.AUTH_JWT_SECRET.encode()) < MIN_JWT_SECRET_BYTES:
        problems.append(
            checks.Warning(
                f"AUTH_JWT_SECRET is shorter than {MIN_JWT_SECRET_BYTES} bytes: access and refresh tokens "
                "are only as strong as this HMAC key.",
                hint="Set AUTH_JWT_SECRET (or SECRET_KEY, its fallback) to at least 32 random bytes.",
                id="everruns.W101",
            )
        )
    if mode == "admin" and not (settings.AUTH_ADMIN_EMAIL and settings.AUTH_ADMIN_PASSWORD):
        problems.append(
            checks.Warning(
                "AUTH_MODE is 'admin' but AUTH_ADMIN_EMAIL / AUTH_ADMIN_PASSWORD are not both set.",
                hint="Set both, or log in with a user created by `createsuperuser`.",
                id="everruns.W102",
            )
        )
    if not settings.AUTH_COOKIE_SECURE:
        problems.append(
            checks.Warning(
                "AUTH_COOKIE_SECURE is off: access and refresh token cookies would travel over plain HTTP.",
                hint="Unset AUTH_COOKIE_SECURE (it defaults to on without DEBUG) and serve over HTTPS.",
                id="everruns.W103",
            )
        )
    return problems
