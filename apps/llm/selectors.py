"""Reads of the LLM catalogue shared with other apps."""

import uuid

from apps.core.scoping import get_in_org

from .clients.base import client_class_or_none
from .models import LlmModel, LlmProvider
from .services.keys import provider_api_key_set


def model_get_in_org(*, organization, model_id: uuid.UUID | None) -> LlmModel | None:
    """The organization's model with this pk; None stays None (no model given).

    A model of another organization, or none at all, -> 404 "Model not found" (never a hint that it
    exists elsewhere). Callers parse public `model_…` ids first (ids.parse_id / PublicIdField).
    """
    if model_id is None:
        return None
    return get_in_org(LlmModel, organization=organization, not_found="Model not found", pk=model_id)


def provider_is_ready(provider: LlmProvider) -> bool:
    """The spec's `healthy`: the provider is active, has a client that runs turns, and can be called: a key
    applies (`api_key_set`), its client needs none (llmsim), or it has a custom base_url (keyless servers).
    No network check."""
    cls = client_class_or_none(provider.provider_type)
    if provider.status != "active" or cls is None or not cls.runs_turns:
        return False
    return provider_api_key_set(provider) or not cls.requires_api_key or bool(provider.base_url)
