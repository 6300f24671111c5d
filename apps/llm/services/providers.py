"""Provider rows (create, update, delete) and the address policy applied before any call to a provider."""

import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from apps.accounts.models import Organization
from apps.core.exceptions import ApplicationError, Unprocessable
from apps.core.netpolicy import AddressNotAllowed, HostUnresolvable, resolve_checked
from apps.core.services import model_update
from apps.llm.clients.base import client_class_or_none
from apps.llm.models import LlmProvider

from .keys import encrypted_key_fields

logger = logging.getLogger("everruns.llm")


class ProviderRequestFailed(ApplicationError):
    """The provider could not be reached or answered with an error; its own text is logged, never returned."""

    status_code = 502
    default_message = "Provider request failed"


class ProviderAddressNotAllowed(Unprocessable):
    """The base_url resolves to a private, loopback or link-local address (LLM_ALLOW_PRIVATE_BASE_URLS is off)."""

    default_message = "Provider base_url points to a private or local network address"


def provider_base_url_check(provider: LlmProvider) -> None:
    """Refuse to call a provider whose base_url resolves to a non-public address (SSRF).

    Organization admins choose base_url (in `full` auth mode every self-registered user owns an organization),
    so without this check anyone could make the server call 169.254.169.254, localhost or the private network.
    Same policy as the web_fetch tool (apps/core/netpolicy.py); checked at call time because DNS answers change
    and single-label hosts such as `ollama` only resolve in the deployment. Skipped for the official endpoint
    (no base_url), for clients that use no network (`uses_network`: llmsim) and when LLM_ALLOW_PRIVATE_BASE_URLS
    is on (self-hosted models).

    Raises ProviderAddressNotAllowed (422) or, when the host does not resolve, ProviderRequestFailed (502
    "Could not reach the provider"). The SDK clients then connect through apps.llm.clients.transport, which
    checks the addresses again at connect time and connects to a checked one (no DNS rebinding in between).
    """
    cls = client_class_or_none(provider.provider_type)
    if not provider.base_url or (cls is not None and not cls.uses_network):
        return
    if getattr(settings, "LLM_ALLOW_PRIVATE_BASE_URLS", False):
        return
    try:
        parts = urlsplit(provider.base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ProviderRequestFailed("Could not reach the provider") from None
    try:
        resolve_checked(parts.hostname or "", port)
    except HostUnresolvable:
        logger.warning("%s: base_url host does not resolve", provider.public_id)
        raise ProviderRequestFailed("Could not reach the provider") from None
    except AddressNotAllowed:
        logger.warning("%s: base_url resolves to a non-public address", provider.public_id)
        raise ProviderAddressNotAllowed() from None


@transaction.atomic
def llm_provider_create(
    *,
    organization: Organization,
    name: str,
    provider_type: str,
    base_url: str | None = None,
    api_key: str | None = None,
    status: str = "active",
) -> LlmProvider:
    """Create a provider; `api_key` is encrypted (400 "Encryption not configured…" without a key)."""
    provider = LlmProvider(
        organization=organization, name=name, provider_type=provider_type, base_url=base_url or None, status=status
    )
    for attr, value in encrypted_key_fields(provider, api_key).items():
        setattr(provider, attr, value)
    provider.full_clean()
    provider.save()
    return provider


@transaction.atomic
def llm_provider_update(*, provider: LlmProvider, data: dict[str, Any]) -> LlmProvider:
    """Partial update of name, provider_type, base_url, status and api_key (null/"" clears the stored key)."""
    data = dict(data)
    fields = ["name", "provider_type", "base_url", "status"]
    if "base_url" in data:
        data["base_url"] = data["base_url"] or None
    if "api_key" in data:
        data.update(encrypted_key_fields(provider, data.pop("api_key")))
        fields += ["api_key_encrypted", "api_key_key_id"]
    model_update(instance=provider, fields=fields, data=data)
    return provider


@transaction.atomic
def llm_provider_delete(*, provider: LlmProvider) -> None:
    """Delete a provider and its models (agents and sessions that pointed at them fall back to defaults)."""
    provider.delete()
