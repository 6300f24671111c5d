"""Model rows (create, update, delete, one default per provider) and the organization's default model."""

import uuid
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Organization
from apps.core.exceptions import Conflict, InvalidRequest, Unprocessable
from apps.core.services import model_update
from apps.llm.models import LlmModel, LlmProvider

from .providers import llm_provider_create

PRICE_FIELDS = ("input_price_per_mtok", "output_price_per_mtok", "cached_input_price_per_mtok")
SIMULATED_PROVIDER_NAME = "Simulated"
SIMULATED_MODEL_ID = "llmsim-default"
SIMULATED_MODEL_DISPLAY_NAME = "Simulated (default)"


class NoModelAvailable(Unprocessable):
    """The organization has no usable model (every simulated provider disabled and no other default)."""

    default_message = "No active LLM model available"


def _lock_provider(provider: LlmProvider) -> None:
    # Serialises default switching and duplicate checks for one provider.
    LlmProvider.objects.select_for_update().filter(pk=provider.pk).first()


def llm_model_clear_default(*, provider_id: uuid.UUID, keep_pk: uuid.UUID | None = None) -> None:
    """Unset is_default on the provider's models (except `keep_pk`); callers hold the provider lock or a transaction."""
    defaults = LlmModel.objects.filter(provider_id=provider_id, is_default=True)
    if keep_pk is not None:
        defaults = defaults.exclude(pk=keep_pk)
    defaults.update(is_default=False, updated_at=timezone.now())


def _ensure_unique_model_id(provider_id: uuid.UUID, model_id: str, *, exclude_pk: uuid.UUID | None = None) -> None:
    same = LlmModel.objects.filter(provider_id=provider_id, model_id=model_id)
    if exclude_pk is not None:
        same = same.exclude(pk=exclude_pk)
    if same.exists():
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
    input_price_per_mtok: Decimal | None = None,
    output_price_per_mtok: Decimal | None = None,
    cached_input_price_per_mtok: Decimal | None = None,
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
        input_price_per_mtok=input_price_per_mtok,
        output_price_per_mtok=output_price_per_mtok,
        cached_input_price_per_mtok=cached_input_price_per_mtok,
    )
    model.full_clean()
    try:
        with transaction.atomic():
            model.save()
    except IntegrityError:
        raise Conflict("Model already exists") from None
    return model


@transaction.atomic
def llm_model_update(*, model: LlmModel, data: dict[str, Any]) -> LlmModel:
    """Partial update of model_id, display_name, capabilities, is_default, is_favorite, status and prices
    (409 on a model_id the provider already has; is_default=true moves the provider's default here).
    `provider_id`, when sent, must be the model's own provider: a model never moves (400, as a session's agent)."""
    if "provider_id" in data and data["provider_id"] != model.provider_id:
        raise InvalidRequest(log_detail="provider_id of a model cannot be changed")
    _lock_provider(model.provider)
    if "model_id" in data:
        _ensure_unique_model_id(model.provider_id, data["model_id"], exclude_pk=model.pk)
    if data.get("is_default"):
        llm_model_clear_default(provider_id=model.provider_id, keep_pk=model.pk)
    model_update(
        instance=model,
        fields=[
            "model_id",
            "display_name",
            "capabilities",
            "is_default",
            "is_favorite",
            "status",
            *PRICE_FIELDS,
        ],
        data=data,
    )
    return model


@transaction.atomic
def llm_model_delete(*, model: LlmModel) -> None:
    """Delete a model (agents and sessions that pointed at it fall back to the default model)."""
    model.delete()


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
