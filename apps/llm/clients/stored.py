"""Provider types that are stored and listed but have no client yet: a turn on them fails permanently."""

from __future__ import annotations

from .base import LLMClient, ProviderError, ProviderSettings


class StoredOnlyClient(LLMClient):
    """Refuses to be built: the provider can be configured, not called (no model listing either)."""

    provider_type = ""
    runs_turns = False

    def __init__(self, settings: ProviderSettings) -> None:
        raise ProviderError(f"Provider type {self.provider_type!r} is not supported for turns", permanent=True)


class GeminiClient(StoredOnlyClient):
    label = "Gemini (stored only)"
    provider_type = "gemini"


class AzureOpenAIClient(StoredOnlyClient):
    label = "Azure OpenAI (stored only)"
    provider_type = "azure_openai"
    catalogue_family = "openai"
