"""Harness writes and the per-organization built-in `generic` harness (docs/agents.md, "Harnesses")."""

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.capabilities.registry import normalize_refs
from apps.core import ids
from apps.core.exceptions import Conflict, Forbidden, InputTooLarge, InvalidRequest, NotFound
from apps.core.scoping import get_in_org
from apps.llm.selectors import model_get_in_org

from . import examples, validation
from .models import Harness

MAX_SYSTEM_PROMPT_BYTES = 1_048_576
MAX_DESCRIPTION_BYTES = 10_240
MAX_DISPLAY_NAME_BYTES = 2048
MAX_CAPABILITIES = 250
MAX_PARENT_DEPTH = 8
READ_ONLY = "Built-in harnesses are read-only"
NOT_FOUND = "Harness not found"

GENERIC_DEFAULTS = {
    "display_name": "Generic",
    "description": "The built-in default harness: no extra prompt or capabilities; agents bring their own.",
    "is_built_in": True,
}


def generic_harness(organization: Any) -> Harness:
    """The organization's built-in `generic` harness, created if missing (a flushed test database, a race)."""
    org_id = getattr(organization, "pk", organization)
    harness = Harness.objects.filter(organization_id=org_id, name=Harness.GENERIC).first()
    if harness is not None:
        return harness
    try:
        with transaction.atomic():
            return Harness.objects.create(organization_id=org_id, name=Harness.GENERIC, **GENERIC_DEFAULTS)
    except IntegrityError:
        return Harness.objects.get(organization_id=org_id, name=Harness.GENERIC)


def organization_created(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    """post_save receiver of Organization: the new organization's `generic` harness."""
    if created and not raw:
        generic_harness(instance)


def harness_get(*, organization: Any, ref: object) -> Harness:
    """A harness of the organization by `harness_…` id or by name; else 404 "Harness not found"."""
    pk = ids.parse_id("harness", ref)
    if pk is not None:
        return get_in_org(Harness, organization=organization, not_found=NOT_FOUND, pk=pk)
    if isinstance(ref, str) and validation.ADDRESSABLE_NAME.match(ref):
        return get_in_org(Harness, organization=organization, not_found=NOT_FOUND, name=ref)
    raise NotFound(NOT_FOUND)


def harness_ref_from_body(*, organization: Any, harness_id: Any = None, harness_name: Any = None) -> Harness | None:
    """`harness_id` / `harness_name` of a create request (agents, sessions): None when neither is given.

    Both at once is 400 (the SDK refuses it too); a malformed id is 400; an unknown one 404.
    """
    if harness_id is not None and harness_name is not None:
        raise InvalidRequest(log_detail="harness_id and harness_name together")
    if harness_id is not None:
        pk = harness_id if isinstance(harness_id, uuid.UUID) else ids.parse_id_or_400("harness", harness_id)
        return get_in_org(Harness, organization=organization, not_found=NOT_FOUND, pk=pk)
    if harness_name is not None:
        if not isinstance(harness_name, str):
            raise InvalidRequest(log_detail="harness_name must be a string")
        if not validation.ADDRESSABLE_NAME.match(harness_name):
            raise NotFound(NOT_FOUND)
        return get_in_org(Harness, organization=organization, not_found=NOT_FOUND, name=harness_name)
    return None


def _check_limits(data: dict[str, Any]) -> None:
    capabilities = data.get("capabilities")
    if isinstance(capabilities, list) and len(capabilities) > MAX_CAPABILITIES:
        raise InputTooLarge(log_detail=f"{len(capabilities)} capabilities")


def _clean(*, organization: Any, data: dict[str, Any], harness: Harness | None) -> dict[str, Any]:
    """Model-ready values for the keys present in `data` (create and PATCH share it)."""
    _check_limits(data)
    cleaned: dict[str, Any] = {}
    if "name" in data:
        cleaned["name"] = validation.clean_addressable_name(data["name"])
    if "system_prompt" in data:
        cleaned["system_prompt"] = validation.clean_optional_text(
            data["system_prompt"], "system_prompt", MAX_SYSTEM_PROMPT_BYTES
        )
    if "display_name" in data:
        cleaned["display_name"] = validation.clean_optional_text(
            data["display_name"], "display_name", MAX_DISPLAY_NAME_BYTES
        )
    if "description" in data:
        cleaned["description"] = validation.clean_optional_text(
            data["description"], "description", MAX_DESCRIPTION_BYTES
        )
    if "tags" in data:
        cleaned["tags"] = validation.clean_tags(data["tags"])
    if "initial_files" in data:
        cleaned["initial_files"] = validation.clean_initial_files(data["initial_files"])
    if "network_access" in data:
        cleaned["network_access"] = validation.clean_network_access(data["network_access"])
    if "max_iterations" in data:
        cleaned["max_iterations"] = validation.clean_max_iterations(data["max_iterations"])
    if "parallel_tool_calls" in data:
        cleaned["parallel_tool_calls"] = validation.clean_optional_bool(
            data["parallel_tool_calls"], "parallel_tool_calls"
        )
    if "status" in data:
        if data["status"] not in (Harness.STATUS_ACTIVE, Harness.STATUS_ARCHIVED):
            raise InvalidRequest(log_detail="harness status must be active or archived")
        cleaned["status"] = data["status"]
    if "capabilities" in data:
        cleaned["capabilities"] = normalize_refs(data["capabilities"] or [])
    if "default_model_id" in data:
        raw = data["default_model_id"]
        model_pk = None if raw is None else ids.parse_id_or_400("model", raw)
        cleaned["default_model"] = model_get_in_org(organization=organization, model_id=model_pk)
    if "parent_harness_id" in data:
        cleaned["parent"] = _parent(organization, data["parent_harness_id"], harness)
    return cleaned


def _parent(organization: Any, raw: Any, harness: Harness | None) -> Harness | None:
    """The parent harness: same organization, no cycle, at most MAX_PARENT_DEPTH levels above."""
    if raw is None:
        return None
    pk = ids.parse_id_or_400("harness", raw)
    parent = get_in_org(Harness, organization=organization, not_found="Parent harness not found", pk=pk)
    node: Harness | None = parent
    depth = 0
    while node is not None:
        if harness is not None and node.pk == harness.pk:
            raise InvalidRequest("A harness cannot be its own ancestor")
        depth += 1
        if depth > MAX_PARENT_DEPTH:
            raise InvalidRequest(f"Harnesses nest at most {MAX_PARENT_DEPTH} levels deep")
        node = node.parent
    return parent


def _save(harness: Harness) -> Harness:
    try:
        with transaction.atomic():
            harness.save()
    except IntegrityError:
        raise Conflict("A harness with this name already exists") from None
    return harness


@transaction.atomic
def harness_create(*, organization: Any, data: dict[str, Any]) -> Harness:
    """A new org-owned harness. `name` is required and unique in the organization (409 otherwise)."""
    if "name" not in data:
        raise InvalidRequest(log_detail="harness name is required")
    cleaned = _clean(organization=organization, data=data, harness=None)
    cleaned.pop("status", None)
    return _save(Harness(organization=organization, **cleaned))


def _ensure_writable(harness: Harness) -> None:
    if harness.is_built_in:
        raise Forbidden(READ_ONLY)


@transaction.atomic
def harness_update(*, harness: Harness, data: dict[str, Any]) -> Harness:
    """PATCH: only the keys present change; `status: active` restores an archived harness."""
    _ensure_writable(harness)
    cleaned = _clean(organization=harness.organization, data=data, harness=harness)
    if "status" in cleaned:
        harness.archived_at = None if cleaned["status"] == Harness.STATUS_ACTIVE else timezone.now()
    for field, value in cleaned.items():
        setattr(harness, field, value)
    return _save(harness)


@transaction.atomic
def harness_archive(*, harness: Harness) -> Harness:
    """DELETE: soft delete (archived harnesses keep serving the agents and sessions that use them)."""
    _ensure_writable(harness)
    if harness.status == Harness.STATUS_ARCHIVED:
        raise NotFound(NOT_FOUND)
    harness.status = Harness.STATUS_ARCHIVED
    harness.archived_at = timezone.now()
    harness.save(update_fields=["status", "archived_at", "updated_at"])
    return harness


def _free_name(organization_id: Any, base: str) -> str:
    """`base`, or `base-2`, `base-3`, … : the first name no harness of the organization has (at most 64 chars)."""
    base = base[: validation.MAX_NAME_CHARS]
    taken = set(
        Harness.objects.filter(organization_id=organization_id, name__startswith=base).values_list("name", flat=True)
    )
    name, n = base, 2
    while name in taken:
        suffix = f"-{n}"
        name, n = base[: validation.MAX_NAME_CHARS - len(suffix)] + suffix, n + 1
    return name


@transaction.atomic
def harness_copy(*, harness: Harness) -> Harness:
    """A new, writable harness with the same configuration, named `<name>-copy` (then -copy-2, …)."""
    name = _free_name(harness.organization_id, f"{harness.name}-copy")
    fields = ["system_prompt", "default_model", "capabilities", "initial_files", "max_iterations"]
    fields += ["parallel_tool_calls", "network_access", "display_name", "description", "tags", "parent"]
    return _save(
        Harness(organization_id=harness.organization_id, name=name, **{f: getattr(harness, f) for f in fields})
    )


@transaction.atomic
def harness_import_example(*, organization: Any, name: Any) -> Harness:
    """POST /v1/harnesses/import?from-example=: the code-defined example as a normal (writable) harness whose
    parent is the organization's harness named by the example (`generic`); a taken name gets `-2`, `-3`, …"""
    example = next((e for e in examples.HARNESS_EXAMPLES if e["name"] == name), None)
    if example is None:
        raise NotFound("Example not found")
    parent = None
    if example.get("parent_name"):
        parent = Harness.objects.filter(organization=organization, name=example["parent_name"]).first()
        if parent is None and example["parent_name"] == Harness.GENERIC:
            parent = generic_harness(organization)
    data = {
        "name": _free_name(organization.pk, example["name"]),
        "display_name": example["display_name"],
        "description": example["description"],
        "tags": example["tags"],
        "capabilities": example["capabilities"],
    }
    harness = harness_create(organization=organization, data=data)
    harness.parent = parent
    harness.save(update_fields=["parent", "updated_at"])
    return harness


def harness_name_available(*, organization: Any, name: str, exclude: Any = None) -> bool:
    taken = Harness.objects.filter(organization=organization, name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    return not taken.exists()
