"""Reads of the LLM catalogue shared with other apps."""

import uuid

from apps.core.scoping import get_in_org

from .clients.base import CLIENTS, client_class_or_none
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


# The policy of GET /v1/providers/config and /v1/models/config (the contract's LLM_PROVIDER_MANAGE): the caller
# may create, change and delete providers and models (an admin; reads are open to every member).
MANAGE_POLICY = "llm_provider_manage"


def provider_drivers() -> list[dict]:
    """DriverCredentialInfo of every registered provider type (apps.llm.clients.base.CLIENTS), by driver id:
    the credential fields a form needs (an API key when the client needs one, an optional base URL)."""
    drivers = []
    for driver in sorted(CLIENTS):
        cls = client_class_or_none(driver)
        if cls is None:
            continue
        fields = []
        if cls.requires_api_key:
            fields.append(
                {
                    "name": "api_key",
                    "label": "API key",
                    "field_type": "password",
                    "required": False,
                    "help_text": "Stored encrypted and never shown again. Optional with a keyless custom base URL.",
                    "placeholder": None,
                    "default_value": None,
                    "group": None,
                }
            )
        fields.append(
            {
                "name": "base_url",
                "label": "Base URL",
                "field_type": "url",
                "required": False,
                "help_text": "Leave empty for the provider's official endpoint.",
                "placeholder": None,
                "default_value": None,
                "group": None,
            }
        )
        key_hint = " Paste an API key from the provider's console." if cls.requires_api_key else ""
        drivers.append(
            {
                "driver": driver,
                "credential_schema": {"fields": fields, "instructions_markdown": f"{cls.label}.{key_hint}"},
                "supports_oauth": False,
            }
        )
    return drivers
