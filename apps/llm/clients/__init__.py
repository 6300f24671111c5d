"""Provider clients behind one interface (see base.py); `client_for_provider` builds one for a stored provider."""

from urllib.parse import parse_qsl, urlsplit

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
)

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


def provider_settings(provider, model_id: str = "") -> ProviderSettings:
    """ProviderSettings for a stored LlmProvider (key decrypted by apps.llm.services.provider_api_key).

    Query parameters on the base URL and on the model id (`llmsim-default?latency_ms=50`) become
    `options` (the model's win): that is how the simulated provider is configured per provider/model.
    For real providers the query string of the base URL is left in place and nothing is parsed.
    """
    from apps.llm.services import provider_api_key

    options: dict = {}
    base_url = provider.base_url or None
    if provider.provider_type == "llmsim":
        if base_url:
            options.update(parse_qsl(urlsplit(base_url).query))
        if "?" in model_id:
            options.update(parse_qsl(model_id.split("?", 1)[1]))
    return ProviderSettings(
        provider_type=provider.provider_type,
        api_key=provider_api_key(provider),
        base_url=base_url,
        timeout=float(getattr(django_settings, "RUNTIME_LLM_TIMEOUT_SECS", 300)),
        options=options,
        provider_id=str(provider.pk),
    )
