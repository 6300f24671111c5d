"""Reads of the LLM catalogue shared with other apps."""

import uuid

from apps.core.exceptions import NotFound

from .models import LlmModel


def model_get_in_org(*, organization, model_id: uuid.UUID | None) -> LlmModel | None:
    """The organization's model with this pk; None stays None (no model given).

    A model of another organization, or none at all, -> 404 "Model not found" (never a hint that it
    exists elsewhere). Callers parse public `model_…` ids first (ids.parse_id / PublicIdField).
    """
    if model_id is None:
        return None
    model = LlmModel.objects.filter(organization=organization, pk=model_id).first()
    if model is None:
        raise NotFound("Model not found")
    return model
