"""`sync-models`: read a provider's model listing through its client and reconcile the stored models; the
admin's "test connection" asks for the same listing and stores nothing."""

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.exceptions import ApplicationError, Unprocessable
from apps.core.services import model_update
from apps.llm.catalogue import model_profile, profile_capabilities
from apps.llm.clients import provider_settings
from apps.llm.clients.base import ListedModel, ModelListingFailed, client_class_or_none
from apps.llm.models import LlmModel, LlmProvider

from .providers import ProviderRequestFailed, provider_base_url_check

logger = logging.getLogger("everruns.llm")


def _listing_error(reason: str) -> ApplicationError:
    """What the API answers for a failed listing (never the provider's own text: it can echo key fragments)."""
    if reason == "rejected_key":
        return Unprocessable("Provider rejected the API key")
    if reason == "timeout":
        return ProviderRequestFailed("Provider did not respond in time")
    if reason == "unreachable":
        return ProviderRequestFailed("Could not reach the provider")
    return ProviderRequestFailed()


def _fetch_models(provider: LlmProvider) -> list[ListedModel] | None:
    """The provider's model listing (its client's `list_models`), None when listing is not supported.

    Raises Unprocessable (422) when the official endpoint has no key, the provider refuses the key or its
    base_url is not allowed (`provider_base_url_check`), ProviderRequestFailed (502) otherwise.
    Only the HTTP status or failure kind is logged.
    """
    cls = client_class_or_none(provider.provider_type)
    if cls is None or not cls.lists_models:
        return None
    provider_base_url_check(provider)
    client_settings = provider_settings(provider, timeout=float(settings.LLM_SYNC_TIMEOUT_SECS))
    if cls.requires_api_key and not client_settings.api_key and not provider.base_url:
        # The official endpoints always want a key: fail before a pointless network round trip.
        raise Unprocessable("Provider has no API key")
    try:
        return cls(client_settings).list_models()
    except ModelListingFailed as exc:
        if exc.status_code is not None:
            logger.warning("model sync of %s: provider answered HTTP %s", provider.public_id, exc.status_code)
        else:
            logger.warning("model sync of %s: %s", provider.public_id, exc.reason)
        if exc.reason == "unsupported":
            return None
        raise _listing_error(exc.reason) from None


@dataclass(frozen=True)
class ConnectionCheck:
    """The result of `llm_provider_test_connection`: `ok` True / False, None when it cannot be checked."""

    ok: bool | None
    detail: str


def llm_provider_test_connection(*, provider: LlmProvider) -> ConnectionCheck:
    """Can the provider be reached with its stored key? Asks for its model listing (as sync-models does,
    through the address policy) and stores nothing. The detail is the same safe text the API gives for a
    failed sync ("Provider rejected the API key", "Could not reach the provider", ...), never the
    provider's own. A built-in provider without network is always reachable; a type that cannot list its
    models cannot be checked without a paid model call, so it is not (`ok` None).
    """
    cls = client_class_or_none(provider.provider_type)
    if cls is None:
        return ConnectionCheck(False, f"Unknown provider type {provider.provider_type!r}")
    if not cls.uses_network:
        return ConnectionCheck(True, "Built in: no network connection needed")
    try:
        fetched = _fetch_models(provider)
    except ApplicationError as exc:
        return ConnectionCheck(False, exc.message)
    if fetched is None:
        return ConnectionCheck(
            None, "This provider type does not list its models: nothing to check without a model call"
        )
    return ConnectionCheck(True, f"Connected: {len(fetched)} models listed")


def llm_provider_sync_models(*, provider: LlmProvider) -> dict[str, Any]:
    """List the provider's models and reconcile the catalogue (contract 2.8 SyncModelsResponse).

    New ids become `discovered` models; existing rows with a listed id are `updated` (stale flag
    cleared, a discovered model's display name refreshed); discovered models the listing no longer
    contains are marked stale and counted in `stale`. Manual and predefined models are never marked
    stale. The network call runs outside any transaction so no row is locked while waiting on it.
    """
    fetched = _fetch_models(provider)
    if fetched is None:
        return {"status": "not_supported"}
    created, updated, stale = _apply_sync(provider=provider, fetched=fetched)
    return {"status": "success", "created": created, "updated": updated, "stale": stale}


@transaction.atomic
def _apply_sync(*, provider: LlmProvider, fetched: list[ListedModel]) -> tuple[int, int, int]:
    provider = LlmProvider.objects.select_for_update().get(pk=provider.pk)
    existing = {row.model_id: row for row in provider.models.all()}
    seen: set[str] = set()
    created = updated = 0
    for listed in fetched:
        model_id, display_name = listed.model_id, listed.display_name
        if not model_id or len(model_id) > 255 or model_id in seen:
            continue
        seen.add(model_id)
        row = existing.get(model_id)
        if row is None:
            profile = model_profile(provider.provider_type, model_id)
            LlmModel.objects.create(
                organization_id=provider.organization_id,
                provider=provider,
                model_id=model_id,
                display_name=(display_name or model_id)[:255],
                capabilities=profile_capabilities(profile),
                source="discovered",
            )
            created += 1
            continue
        changes: dict[str, Any] = {"is_stale": False}
        if row.source == "discovered" and display_name:
            changes["display_name"] = display_name[:255]
        model_update(instance=row, fields=list(changes), data=changes)
        updated += 1
    missing = provider.models.filter(source="discovered").exclude(model_id__in=seen)
    stale = missing.count()
    missing.filter(is_stale=False).update(is_stale=True, updated_at=timezone.now())
    provider.last_synced_at = timezone.now()
    provider.save(update_fields=["last_synced_at", "updated_at"])
    return created, updated, stale
