"""Provider clients behind one interface (see base.py); `provider_settings` describes a stored provider to one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings as django_settings

from .base import (
    Chunk,
    Finish,
    LLMClient,
    LLMRequest,
    ProviderError,
    ProviderSettings,
    TextDelta,
    ThinkingDelta,
    ThinkingSignature,
    ToolCallChunk,
    Usage,
    build_client,
    client_class_or_none,
)

if TYPE_CHECKING:
    from apps.llm.models import LlmProvider

__all__ = [
    "Chunk",
    "Finish",
    "LLMClient",
    "LLMRequest",
    "ProviderError",
    "ProviderSettings",
    "TextDelta",
    "ThinkingDelta",
    "ThinkingSignature",
    "ToolCallChunk",
    "Usage",
    "build_client",
    "provider_settings",
]


def provider_settings(
    provider: LlmProvider, model_id: str = "", *, timeout: float | None = None, user_id: Any = None
) -> ProviderSettings:
    """ProviderSettings for a stored LlmProvider (key decrypted by apps.llm.services.provider_api_key;
    `user_id`: whose own connection may stand in when the provider has no key, the session's owner).

    `options` come from the client class (`options_from_urls`): the simulated provider reads query
    parameters of the base URL and model id; for real providers the query string is left in place.
    `timeout` defaults to RUNTIME_LLM_TIMEOUT_SECS (a turn's model call).
    """
    from apps.llm.services.keys import provider_api_key

    base_url = provider.base_url or None
    cls = client_class_or_none(provider.provider_type)
    options: dict[str, Any] = cls.options_from_urls(base_url, model_id) if cls is not None else {}
    if timeout is None:
        timeout = float(getattr(django_settings, "RUNTIME_LLM_TIMEOUT_SECS", 300))
    return ProviderSettings(
        provider_type=provider.provider_type,
        api_key=provider_api_key(provider, user_id=user_id),
        base_url=base_url,
        timeout=timeout,
        options=options,
        provider_id=str(provider.pk),
    )
