"""Reads of the LLM catalogue shared with other apps."""

import uuid

from apps.core.scoping import get_in_org

from .models import LlmModel


def model_get_in_org(*, organization, model_id: uuid.UUID | None) -> LlmModel | None:
    """The organization's model with this pk; None stays None (no model given).

    A model of another organization, or none at all, -> 404 "Model not found" (never a hint that it
    exists elsewhere). Callers parse public `model_…` ids first (ids.parse_id / PublicIdField).
    """
    if model_id is None:
        return None
    return get_in_org(LlmModel, organization=organization, not_found="Model not found", pk=model_id)
