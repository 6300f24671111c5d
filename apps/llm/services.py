"""Writes and lookups of the LLM catalogue: providers (with encrypted keys), models, model sync and defaults.

Public helpers for other apps:
- `provider_api_key(provider)`: the key to call a provider with (decrypted, else the env fallback).
- `llm_default_model(organization=...)`: the last step of model resolution for a turn.
- `provider_base_url_check(provider)`: call before any network call to a provider (address policy, SSRF).
"""

import itertools
import logging
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import anthropic
import openai
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Organization
from apps.core.exceptions import ApplicationError, Conflict, InvalidRequest, Unprocessable
from apps.core.ids import format_id
from apps.core.netpolicy import AddressNotAllowed, HostUnresolvable, resolve_checked
from apps.core.services import model_update

from . import crypto
from .catalogue import model_profile, profile_capabilities
from .clients.transport import sdk_http_client
from .models import LlmModel, LlmProvider

logger = logging.getLogger("everruns.llm")

ENCRYPTION_NOT_CONFIGURED = "Encryption not configured. Cannot store API key."
SIMULATED_PROVIDER_NAME = "Simulated"
SIMULATED_MODEL_ID = "llmsim-default"
SIMULATED_MODEL_DISPLAY_NAME = "Simulated (default)"
# provider_type -> the setting holding the key used when the provider stores none (contract 3.6).
ENV_FALLBACK_KEYS = {
    "openai": "DEFAULT_OPENAI_API_KEY",
    "openai_completions": "DEFAULT_OPENAI_API_KEY",
    "anthropic": "DEFAULT_ANTHROPIC_API_KEY",
}
OFFICIAL_HOSTS = {
    "openai": {"api.openai.com"},
    "openai_completions": {"api.openai.com"},
    "anthropic": {"api.anthropic.com"},
}
# Model listings of OpenAI-style servers include embeddings, speech and image models a chat agent cannot use.
NON_CHAT_MODEL = re.compile(r"embed|tts|whisper|dall-e|moderation|transcribe|realtime|image|davinci|babbage|sora")
SYNC_MAX_MODELS = 1000


class ProviderRequestFailed(ApplicationError):
    """The provider could not be reached or answered with an error; its own text is logged, never returned."""

    status_code = 502
    default_message = "Provider request failed"


class ProviderAddressNotAllowed(Unprocessable):
    """The base_url resolves to a private, loopback or link-local address (LLM_ALLOW_PRIVATE_BASE_URLS is off)."""

    default_message = "Provider base_url points to a private or local network address"


class NoModelAvailable(Unprocessable):
    """The organization has no usable model (every simulated provider disabled and no other default)."""

    default_message = "No active LLM model available"


# --------------------------------------------------------------------------- API keys
def _aad(provider: LlmProvider) -> bytes:
    # Binds the ciphertext to this row: copied into another provider it no longer decrypts.
    return b"llm_provider:" + provider.pk.bytes


def _encrypted_key_fields(provider: LlmProvider, api_key: str | None) -> dict[str, str | None]:
    """The column values that store `api_key` for this provider (empty/None clears the key)."""
    if not api_key:
        return {"api_key_encrypted": None, "api_key_key_id": None}
    try:
        ciphertext, key_id = crypto.encrypt(api_key, aad=_aad(provider))
    except crypto.EncryptionNotConfigured:
        raise InvalidRequest(ENCRYPTION_NOT_CONFIGURED) from None
    return {"api_key_encrypted": ciphertext, "api_key_key_id": key_id}


def _env_api_key(provider: LlmProvider) -> str | None:
    """The operator's env key for this provider type, only when the provider talks to the official endpoint.

    A custom base_url never gets it: otherwise any organization admin could point a provider at their own
    server and collect the operator's key from the Authorization header.
    """
    setting = ENV_FALLBACK_KEYS.get(provider.provider_type)
    if setting is None:
        return None
    if provider.base_url:
        try:
            parts = urlsplit(provider.base_url)
        except ValueError:
            return None
        # https only: over plain http the key would cross the network readable by anyone on the path.
        if parts.scheme != "https" or parts.hostname not in OFFICIAL_HOSTS[provider.provider_type]:
            return None
    return getattr(settings, setting, "") or None


def provider_api_key(provider: LlmProvider) -> str | None:
    """The API key to call `provider` with: its stored key, else the env fallback for its type (official
    endpoints only, see `_env_api_key`), else None.

    A stored key that cannot be decrypted (its encryption key was removed from ENCRYPTION_KEYS) is
    logged as an error and gives None: silently using the environment's key instead could bill a
    different account than the one the admin configured.
    """
    if provider.api_key_encrypted and provider.api_key_key_id:
        try:
            return crypto.decrypt(provider.api_key_encrypted, key_id=provider.api_key_key_id, aad=_aad(provider))
        except crypto.DecryptionFailed as exc:
            logger.error("API key of %s cannot be decrypted: %s", format_id("provider", provider.pk), exc)
            return None
    return _env_api_key(provider)


def provider_api_key_set(provider: LlmProvider) -> bool:
    """`api_key_set` of the API: a key is stored, or an env fallback applies to this provider type."""
    return bool(provider.api_key_encrypted) or _env_api_key(provider) is not None


@transaction.atomic
def llm_provider_set_api_key(*, provider: LlmProvider, api_key: str | None) -> LlmProvider:
    """Encrypt and store (or, with None/"", clear) the provider's key. 400 when no encryption key is configured."""
    provider, _ = model_update(
        instance=provider,
        fields=["api_key_encrypted", "api_key_key_id"],
        data=_encrypted_key_fields(provider, api_key),
    )
    return provider


@dataclass
class RotationResult:
    rotated: int = 0
    current: int = 0
    failed: list[str] = field(default_factory=list)


def llm_provider_keys_rotate(*, dry_run: bool = False) -> RotationResult:
    """Re-encrypt every stored provider key with the current (first) encryption key.

    Each row is rotated in its own transaction under a row lock, so a partial run is safe to repeat.
    Rows whose key cannot be decrypted are reported in `failed` (public ids) and left unchanged.
    """
    result = RotationResult()
    target = crypto.current_key_id()
    if target is None:
        raise crypto.EncryptionNotConfigured
    pending = LlmProvider.objects.filter(api_key_encrypted__isnull=False).exclude(api_key_encrypted="")
    for pk in pending.values_list("pk", flat=True).order_by("pk"):
        with transaction.atomic():
            provider = LlmProvider.objects.select_for_update().get(pk=pk)
            if provider.api_key_key_id == target:
                result.current += 1
                continue
            try:
                plaintext = crypto.decrypt(
                    provider.api_key_encrypted, key_id=provider.api_key_key_id or "", aad=_aad(provider)
                )
            except crypto.DecryptionFailed as exc:
                logger.error("cannot rotate the API key of %s: %s", format_id("provider", pk), exc)
                result.failed.append(format_id("provider", pk))
                continue
            if not dry_run:
                llm_provider_set_api_key(provider=provider, api_key=plaintext)
            result.rotated += 1
    return result


# --------------------------------------------------------------------------- address policy
def provider_base_url_check(provider: LlmProvider) -> None:
    """Refuse to call a provider whose base_url resolves to a non-public address (SSRF).

    Organization admins choose base_url (in `full` auth mode every self-registered user owns an organization),
    so without this check anyone could make the server call 169.254.169.254, localhost or the private network.
    Same policy as the web_fetch tool (apps/core/netpolicy.py); checked at call time because DNS answers change
    and single-label hosts such as `ollama` only resolve in the deployment. Skipped for the official endpoint
    (no base_url), for `llmsim` (no network) and when LLM_ALLOW_PRIVATE_BASE_URLS is on (self-hosted models).

    Raises ProviderAddressNotAllowed (422) or, when the host does not resolve, ProviderRequestFailed (502
    "Could not reach the provider"). The SDK clients then connect through apps.llm.clients.transport, which
    checks the addresses again at connect time and connects to a checked one (no DNS rebinding in between).
    """
    if not provider.base_url or provider.provider_type == "llmsim":
        return
    if getattr(settings, "LLM_ALLOW_PRIVATE_BASE_URLS", False):
        return
    try:
        parts = urlsplit(provider.base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ProviderRequestFailed("Could not reach the provider") from None
    where = format_id("provider", provider.pk)
    try:
        resolve_checked(parts.hostname or "", port)
    except HostUnresolvable:
        logger.warning("%s: base_url host does not resolve", where)
        raise ProviderRequestFailed("Could not reach the provider") from None
    except AddressNotAllowed:
        logger.warning("%s: base_url resolves to a non-public address", where)
        raise ProviderAddressNotAllowed() from None


# --------------------------------------------------------------------------- providers
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
    for attr, value in _encrypted_key_fields(provider, api_key).items():
        setattr(provider, attr, value)
    provider.full_clean()
    provider.save()
    return provider


@transaction.atomic
def llm_provider_update(*, provider: LlmProvider, data: dict) -> LlmProvider:
    """Partial update of name, provider_type, base_url, status and api_key (null/"" clears the stored key)."""
    data = dict(data)
    fields = ["name", "provider_type", "base_url", "status"]
    if "base_url" in data:
        data["base_url"] = data["base_url"] or None
    if "api_key" in data:
        data.update(_encrypted_key_fields(provider, data.pop("api_key")))
        fields += ["api_key_encrypted", "api_key_key_id"]
    provider, _ = model_update(instance=provider, fields=fields, data=data)
    return provider


@transaction.atomic
def llm_provider_delete(*, provider: LlmProvider) -> None:
    """Delete a provider and its models (agents and sessions that pointed at them fall back to defaults)."""
    provider.delete()


# --------------------------------------------------------------------------- model sync
def _sync_client_key(provider: LlmProvider) -> str:
    key = provider_api_key(provider)
    if key:
        return key
    if not provider.base_url:
        # The official endpoints always want a key: fail before a pointless network round trip.
        raise Unprocessable("Provider has no API key")
    # Local OpenAI-compatible servers often need none; the SDKs insist on a non-empty value, and passing
    # one also stops them from reading OPENAI_API_KEY / ANTHROPIC_API_KEY from the environment.
    return "not-set"


def _fetch_models(provider: LlmProvider) -> list[tuple[str, str | None]] | None:
    """[(model_id, display name or None)] as listed by the provider's official SDK; None = listing not supported.

    Raises Unprocessable (422) when the provider refuses the key or its base_url is not allowed
    (`provider_base_url_check`), ProviderRequestFailed (502) otherwise.
    Only the HTTP status and exception type are logged: provider error texts can echo key fragments.
    """
    kind = provider.provider_type
    if kind not in ("openai", "openai_completions", "anthropic"):
        return None
    provider_base_url_check(provider)
    options = {
        "api_key": _sync_client_key(provider),
        "base_url": provider.base_url or None,
        "timeout": settings.LLM_SYNC_TIMEOUT_SECS,
        "max_retries": 0,
    }
    where = format_id("provider", provider.pk)
    try:
        if kind == "anthropic":
            client = anthropic.Anthropic(**options, http_client=sdk_http_client(anthropic, provider.base_url))
            listing = client.models.list()
            return [(m.id, m.display_name) for m in itertools.islice(listing, SYNC_MAX_MODELS)]
        listing = openai.OpenAI(**options, http_client=sdk_http_client(openai, provider.base_url)).models.list()
        return [(m.id, None) for m in itertools.islice(listing, SYNC_MAX_MODELS) if not NON_CHAT_MODEL.search(m.id)]
    except (openai.APIStatusError, anthropic.APIStatusError) as exc:
        logger.warning("model sync of %s: provider answered HTTP %s", where, exc.status_code)
        if exc.status_code in (404, 405, 501):
            return None
        if exc.status_code in (401, 403):
            raise Unprocessable("Provider rejected the API key") from None
        raise ProviderRequestFailed() from None
    except (openai.APITimeoutError, anthropic.APITimeoutError):
        logger.warning("model sync of %s: timed out", where)
        raise ProviderRequestFailed("Provider did not respond in time") from None
    except (openai.APIConnectionError, anthropic.APIConnectionError):
        logger.warning("model sync of %s: connection failed", where)
        raise ProviderRequestFailed("Could not reach the provider") from None
    except (openai.OpenAIError, anthropic.AnthropicError) as exc:
        logger.warning("model sync of %s: %s", where, type(exc).__name__)
        raise ProviderRequestFailed() from None


def llm_provider_sync_models(*, provider: LlmProvider) -> dict:
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
def _apply_sync(*, provider: LlmProvider, fetched: list[tuple[str, str | None]]) -> tuple[int, int, int]:
    provider = LlmProvider.objects.select_for_update().get(pk=provider.pk)
    existing = {row.model_id: row for row in provider.models.all()}
    seen: set[str] = set()
    created = updated = 0
    for model_id, display_name in fetched:
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
        changes = {"is_stale": False}
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


# --------------------------------------------------------------------------- models
def _lock_provider(provider: LlmProvider) -> None:
    # Serialises default switching and duplicate checks for one provider.
    LlmProvider.objects.select_for_update().filter(pk=provider.pk).first()


def llm_model_clear_default(*, provider_id, keep_pk=None) -> None:
    """Unset is_default on the provider's models (except `keep_pk`); callers hold the provider lock or a transaction."""
    LlmModel.objects.filter(provider_id=provider_id, is_default=True).exclude(pk=keep_pk).update(
        is_default=False, updated_at=timezone.now()
    )


def _ensure_unique_model_id(provider_id, model_id: str, *, exclude_pk=None) -> None:
    if LlmModel.objects.filter(provider_id=provider_id, model_id=model_id).exclude(pk=exclude_pk).exists():
        raise Conflict("Model already exists")


@transaction.atomic
def llm_model_create(
    *,
    provider: LlmProvider,
    model_id: str,
    display_name: str,
    capabilities: list[str] | None = None,
    is_default: bool = False,
    is_favorite: bool = False,
    status: str = "active",
    source: str = "manual",
) -> LlmModel:
    """Add a model to a provider. 409 when the provider already has this model_id; `is_default`
    takes the default over from the provider's previous default model."""
    _lock_provider(provider)
    _ensure_unique_model_id(provider.pk, model_id)
    if is_default:
        llm_model_clear_default(provider_id=provider.pk)
    model = LlmModel(
        organization_id=provider.organization_id,
        provider=provider,
        model_id=model_id,
        display_name=display_name,
        capabilities=list(capabilities or []),
        is_default=is_default,
        is_favorite=is_favorite,
        status=status,
        source=source,
    )
    model.full_clean()
    try:
        with transaction.atomic():
            model.save()
    except IntegrityError:
        raise Conflict("Model already exists") from None
    return model


@transaction.atomic
def llm_model_update(*, model: LlmModel, data: dict) -> LlmModel:
    """Partial update of model_id, display_name, capabilities, is_default, is_favorite and status
    (409 on a model_id the provider already has; is_default=true moves the provider's default here).
    `provider_id`, when sent, must be the model's own provider: a model never moves (400, as a session's agent)."""
    if "provider_id" in data and data["provider_id"] != model.provider_id:
        raise InvalidRequest(log_detail="provider_id of a model cannot be changed")
    _lock_provider(model.provider)
    if "model_id" in data:
        _ensure_unique_model_id(model.provider_id, data["model_id"], exclude_pk=model.pk)
    if data.get("is_default"):
        llm_model_clear_default(provider_id=model.provider_id, keep_pk=model.pk)
    model, _ = model_update(
        instance=model,
        fields=["model_id", "display_name", "capabilities", "is_default", "is_favorite", "status"],
        data=data,
    )
    return model


@transaction.atomic
def llm_model_delete(*, model: LlmModel) -> None:
    model.delete()


# --------------------------------------------------------------------------- defaults
def llm_default_model(*, organization: Organization) -> LlmModel:
    """The model a turn uses when neither the session nor the agent names one.

    1. An active default model of an active provider of the organization. Real providers win over the
       simulator (a configured OpenAI/Anthropic default is what an admin means to use), then the oldest.
    2. Otherwise the organization's simulated provider (see `llm_simulated_model_ensure`), which is
       created on first use so a newly registered organization can run a turn with no API key.
    Raises NoModelAvailable (422) only when every simulated provider of the organization is disabled.
    """
    candidates = LlmModel.objects.select_related("provider").filter(
        organization=organization, is_default=True, status="active", provider__status="active"
    )
    model = candidates.exclude(provider__provider_type="llmsim").order_by("provider__created_at", "provider_id").first()
    return model or llm_simulated_model_ensure(organization=organization)


@transaction.atomic
def llm_simulated_model_ensure(*, organization: Organization) -> LlmModel:
    """The organization's simulated model, creating the "Simulated" provider and/or its default model if missing.

    Idempotent. Prefers the default (then oldest) active model of the oldest active llmsim provider.
    """
    # Lock the organization so two first turns of a new organization don't create two simulators.
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    simulators = list(LlmProvider.objects.filter(organization=organization, provider_type="llmsim"))
    if not simulators:
        simulators = [
            llm_provider_create(organization=organization, name=SIMULATED_PROVIDER_NAME, provider_type="llmsim")
        ]
    for provider in simulators:
        if provider.status != "active":
            continue
        model = provider.models.filter(status="active").order_by("-is_default", "created_at", "id").first()
        if model is not None:
            return model
        if not provider.models.filter(model_id=SIMULATED_MODEL_ID).exists():
            return llm_model_create(
                provider=provider,
                model_id=SIMULATED_MODEL_ID,
                display_name=SIMULATED_MODEL_DISPLAY_NAME,
                capabilities=["chat", "tools"],
                is_default=not provider.models.filter(is_default=True).exists(),
                source="predefined",
            )
    raise NoModelAvailable()
