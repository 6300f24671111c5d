"""Agent writes (contract 2.3, 3.1, 7). Every function validates, then writes in one transaction.

Validation order for every write: size limits (400 "Input exceeds allowed limits"), then shape
(400 "Invalid request"), then capability references (422), then the default model (404).
"""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Organization
from apps.capabilities.registry import normalize_refs
from apps.core import ids
from apps.core.exceptions import Conflict, InputTooLarge, InvalidRequest, NotFound
from apps.core.textsafety import ensure_storable
from apps.harnesses import validation
from apps.harnesses.services import generic_harness, harness_ref_from_body
from apps.llm.models import LlmModel
from apps.llm.selectors import model_get_in_org

from . import examples, transfer, versioning
from .models import Agent, AgentVersion

# Contract 3.1: UTF-8 byte lengths.
MAX_NAME_BYTES = 2048
MAX_DESCRIPTION_BYTES = 10_240
MAX_SYSTEM_PROMPT_BYTES = 1_048_576
MAX_CAPABILITIES = 250
MAX_IMPORT_BYTES = 3_145_728
# Not in the contract (docs/agents.md): without them tags and capability configs were the only unbounded fields
# (a create/PUT/PATCH body or an import could store megabytes of config that every turn then loads).
MAX_CAPABILITY_CONFIG_BYTES = 65_536  # JSON-serialised (UTF-8) size of one capability's config
MAX_TAGS = 100
MAX_TAG_BYTES = 256

FIELDS = ("name", "description", "system_prompt", "default_model_id", "tags", "capabilities")
# The spec's further CreateAgentRequest fields (SDK 0.3.1); a full replace (PUT, upsert) resets them when absent.
EXTRA_FIELDS = (
    "display_name",
    "tools",
    "initial_files",
    "max_iterations",
    "parallel_tool_calls",
    "network_access",
    "harness_id",
    "harness_name",
)
MAX_DISPLAY_NAME_BYTES = 2048
COPY_SUFFIX = " (copy)"
SYSTEM_PROMPT_REQUIRED = "System prompt is required (provide in front matter or as markdown body)"


def _byte_len(value: str | None) -> int:
    return len(value.encode("utf-8", errors="surrogatepass")) if value else 0


def agent_check_limits(data: dict[str, Any]) -> None:
    """Raise InputTooLarge when any present field is over its limit (the message never names the field)."""
    limits = {"name": MAX_NAME_BYTES, "description": MAX_DESCRIPTION_BYTES, "system_prompt": MAX_SYSTEM_PROMPT_BYTES}
    for field, limit in limits.items():
        value = data.get(field)
        if isinstance(value, str) and _byte_len(value) > limit:
            raise InputTooLarge(log_detail=f"agent {field} is {_byte_len(value)} bytes (limit {limit})")
    capabilities = data.get("capabilities")
    if isinstance(capabilities, list | tuple):
        if len(capabilities) > MAX_CAPABILITIES:
            raise InputTooLarge(log_detail=f"{len(capabilities)} capabilities (limit {MAX_CAPABILITIES})")
        for item in capabilities:
            size = _json_size(item.get("config")) if isinstance(item, dict) else 0
            if size > MAX_CAPABILITY_CONFIG_BYTES:
                raise InputTooLarge(log_detail=f"a capability config of {size} bytes")
    tags = data.get("tags")
    if isinstance(tags, list | tuple):
        if len(tags) > MAX_TAGS:
            raise InputTooLarge(log_detail=f"{len(tags)} tags (limit {MAX_TAGS})")
        longest = max((_byte_len(tag) for tag in tags if isinstance(tag, str)), default=0)
        if longest > MAX_TAG_BYTES:
            raise InputTooLarge(log_detail=f"a tag of {longest} bytes (limit {MAX_TAG_BYTES})")


def _json_size(value: Any) -> int:
    """UTF-8 size of `value` as stored (JSON); values JSON cannot hold are sized by their text (the shape check
    rejects them afterwards)."""
    return len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", errors="surrogatepass"))


def _resolve_model(organization: Organization, model_id: uuid.UUID | str | None) -> LlmModel | None:
    if model_id is None:
        return None
    if isinstance(model_id, str):
        model_id = ids.parse_id_or_400("model", model_id)
    elif not isinstance(model_id, uuid.UUID):
        raise InvalidRequest(log_detail="default_model_id must be a model id string")
    return model_get_in_org(organization=organization, model_id=model_id)


def agent_clean_input(*, organization: Organization, data: dict[str, Any]) -> dict[str, Any]:
    """Validate the present keys of FIELDS and return model-ready values.

    `default_model_id` (UUID or `model_…` string, or None) becomes `default_model`; capabilities
    become `[{"ref", "config"}]`. Raises InputTooLarge / InvalidRequest / Unprocessable / NotFound.
    Shared by the API services, import and the admin form.
    """
    agent_check_limits(data)
    cleaned: dict[str, Any] = {}
    for field in ("name", "system_prompt"):
        if field in data:
            value = data[field]
            if not isinstance(value, str) or not value.strip():
                raise InvalidRequest(log_detail=f"agent {field} must be a non-empty string")
            cleaned[field] = value
    if "description" in data:
        if data["description"] is not None and not isinstance(data["description"], str):
            raise InvalidRequest(log_detail="agent description must be a string")
        cleaned["description"] = data["description"]
    if "tags" in data:
        tags = data["tags"] if data["tags"] is not None else []
        if not isinstance(tags, list | tuple) or not all(isinstance(tag, str) for tag in tags):
            raise InvalidRequest(log_detail="agent tags must be a list of strings")
        cleaned["tags"] = list(tags)
    if "capabilities" in data:
        cleaned["capabilities"] = normalize_refs(data["capabilities"] if data["capabilities"] is not None else [])
    if "default_model_id" in data:
        cleaned["default_model"] = _resolve_model(organization, data["default_model_id"])
    if "display_name" in data:
        cleaned["display_name"] = validation.clean_optional_text(
            data["display_name"], "display_name", MAX_DISPLAY_NAME_BYTES
        )
    if "tools" in data:
        cleaned["tools"] = validation.clean_tools(data["tools"])
    if "initial_files" in data:
        cleaned["initial_files"] = validation.clean_initial_files(data["initial_files"])
    if "max_iterations" in data:
        cleaned["max_iterations"] = validation.clean_max_iterations(data["max_iterations"])
    if "parallel_tool_calls" in data:
        cleaned["parallel_tool_calls"] = validation.clean_optional_bool(
            data["parallel_tool_calls"], "parallel_tool_calls"
        )
    if "network_access" in data:
        cleaned["network_access"] = validation.clean_network_access(data["network_access"])
    if "harness_id" in data or "harness_name" in data:
        # Absent or null: the organization's built-in `generic` harness.
        harness = harness_ref_from_body(
            organization=organization, harness_id=data.get("harness_id"), harness_name=data.get("harness_name")
        )
        cleaned["harness"] = harness or generic_harness(organization)
    return cleaned


def _save(agent: Agent) -> Agent:
    # The (organization, public_id) constraint is left to the database so that agent_upsert can
    # turn a lost creation race into an update instead of a validation error.
    agent.full_clean(validate_constraints=False)
    agent.save()
    return agent


@transaction.atomic
def agent_create(
    *,
    organization: Organization,
    name: str,
    system_prompt: str,
    description: str | None = None,
    default_model_id: uuid.UUID | str | None = None,
    tags: list[str] | None = None,
    capabilities: list | None = None,
    public_id: uuid.UUID | None = None,
    lineage: dict[str, Any] | None = None,
    change_kind: str = "auto",
    source_version: AgentVersion | None = None,
    **extra: Any,
) -> Agent:
    """Create an agent. The caller has checked that `public_id` (if given) is free in the org.

    `extra` takes the keys of EXTRA_FIELDS (display_name, tools, initial_files, …, harness_id/harness_name);
    `lineage` the forked_from_* / root_agent_id of a fork.
    """
    unknown = set(extra) - set(EXTRA_FIELDS)
    if unknown:
        raise TypeError(f"agent_create got unexpected fields {sorted(unknown)}")
    data = {
        "name": name,
        "system_prompt": system_prompt,
        "description": description,
        "default_model_id": default_model_id,
        "tags": tags,
        "capabilities": capabilities,
        "harness_id": None,
        **extra,
    }
    cleaned = agent_clean_input(organization=organization, data=data)
    agent = Agent(organization=organization, **cleaned, **(lineage or {}))
    if public_id is not None:
        agent.public_id = public_id
    agent = _save(agent)
    versioning.snapshot(agent=agent, change_kind=change_kind, source_version=source_version)
    return agent


@transaction.atomic
def agent_update(*, agent: Agent, data: dict[str, Any], change_kind: str = "auto") -> Agent:
    """Partial update (PATCH): only the keys present in `data` change.

    Keys: FIELDS, EXTRA_FIELDS and `status` ("active" restores an archived agent). An explicit
    `default_model_id: None` clears the override, `harness_id: None` goes back to `generic`. `updated_at`
    moves even when nothing changed, so a client sees its write acknowledged. A change of the resolved
    configuration records a new version (apps.agents.versioning).
    """
    cleaned = agent_clean_input(organization=agent.organization, data=data)
    if "status" in data:
        if data["status"] not in (Agent.STATUS_ACTIVE, Agent.STATUS_ARCHIVED):
            raise InvalidRequest(log_detail=f"bad agent status {data['status']!r}"[:100])
        cleaned["status"] = data["status"]
        if data["status"] != agent.status:
            cleaned["archived_at"] = timezone.now() if data["status"] == Agent.STATUS_ARCHIVED else None
    for field, value in cleaned.items():
        setattr(agent, field, value)
    agent = _save(agent)
    versioning.snapshot(agent=agent, change_kind=change_kind)
    return agent


def _replace_values(data: dict[str, Any]) -> dict[str, Any]:
    """A full replace: every field of the create request, absent optional ones back to their defaults."""
    values: dict[str, Any] = {
        "name": data.get("name"),
        "system_prompt": data.get("system_prompt"),
        "description": data.get("description"),
        "default_model_id": data.get("default_model_id"),
        "tags": data.get("tags") or [],
        "capabilities": data.get("capabilities") or [],
    }
    values.update({key: data.get(key) for key in EXTRA_FIELDS})
    return values


@transaction.atomic
def agent_upsert(*, organization: Organization, public_id: uuid.UUID, data: dict[str, Any]) -> tuple[Agent, bool]:
    """PUT / POST-with-id: create the agent with this public id, or fully replace its configuration.

    A full replace resets absent optional fields to their defaults; `status` is not part of the request
    and is kept. Returns (agent, created). A concurrent create of the same id loses the unique-constraint
    race and becomes an update.
    """
    values = _replace_values(data)
    agent = Agent.objects.select_for_update().filter(organization=organization, public_id=public_id).first()
    if agent is None:
        try:
            with transaction.atomic():
                return agent_create(organization=organization, public_id=public_id, **values), True
        except IntegrityError:
            agent = Agent.objects.select_for_update().get(organization=organization, public_id=public_id)
    return agent_update(agent=agent, data=values), False


@transaction.atomic
def agent_apply(*, organization: Organization, data: dict[str, Any]) -> tuple[Agent, bool]:
    """POST /v1/agents without an id: the SDK's `create` and `apply_by_name` (names are unique per organization).

    When an active agent of the organization already has this name, its configuration is fully replaced
    (200), as `apply_by_name` documents; otherwise a new agent is created (201).
    """
    existing = (
        Agent.objects.select_for_update()
        .filter(organization=organization, name=data.get("name"), status=Agent.STATUS_ACTIVE)
        .order_by("created_at", "id")
        .first()
        if isinstance(data.get("name"), str)
        else None
    )
    if existing is not None:
        return agent_update(agent=existing, data=_replace_values(data)), False
    return agent_create(organization=organization, **_replace_values(data)), True


@transaction.atomic
def agent_archive(*, agent: Agent) -> Agent:
    """DELETE: soft delete. Archiving an archived agent is 404, as the reference server answered (contract 9)."""
    if agent.status == Agent.STATUS_ARCHIVED:
        raise NotFound("Agent not found")
    agent.status = Agent.STATUS_ARCHIVED
    agent.archived_at = timezone.now()
    agent.save(update_fields=["status", "archived_at", "updated_at"])
    return agent


def agent_config_values(agent: Agent) -> dict[str, Any]:
    """The agent's configuration as create-request values (copy, fork, export share it)."""
    return {
        "system_prompt": agent.system_prompt,
        "description": agent.description,
        "default_model_id": agent.default_model_id,
        "tags": list(agent.tags),
        "capabilities": list(agent.capabilities),
        "display_name": agent.display_name,
        "tools": list(agent.tools or []),
        "initial_files": list(agent.initial_files or []),
        "max_iterations": agent.max_iterations,
        "parallel_tool_calls": agent.parallel_tool_calls,
        "network_access": agent.network_access,
        "harness_id": ids.format_id("harness", agent.harness_id),
    }


def _free_name(organization: Organization, name: str) -> str:
    """`name`, or `name (copy)`-style variants until no active agent of the organization has it."""
    taken = set(
        Agent.objects.filter(organization=organization, status=Agent.STATUS_ACTIVE, name__startswith=name).values_list(
            "name", flat=True
        )
    )
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name} {n}", n + 1
    return candidate


@transaction.atomic
def agent_copy(*, agent: Agent) -> Agent:
    """A new active agent with the same configuration, named "<name> (copy)" (then "<name> (copy) 2", …).

    When the source name is so long that the suffix would break the 2 KB limit, the source name is
    shortened (on a character boundary) rather than refusing the copy.
    """
    budget = MAX_NAME_BYTES - len(COPY_SUFFIX) - 8
    name = agent.name.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return agent_create(
        organization=agent.organization,
        name=_free_name(agent.organization, f"{name}{COPY_SUFFIX}"),
        **agent_config_values(agent),
    )


def agent_export(*, agent: Agent) -> tuple[str, str]:
    """(markdown, filename) of an agent (contract 7.1). Not a write; here so API and admin share it."""
    markdown = transfer.export_markdown(
        name=agent.name,
        system_prompt=agent.system_prompt,
        description=agent.description,
        default_model_id=ids.format_id("model", agent.default_model_id),
        tags=agent.tags,
        capabilities=agent.capabilities,
        extra={
            "display_name": agent.display_name,
            # By name, so the document imports into another organization; `generic` is everyone's default.
            "harness": agent.harness.name if agent.harness is not None and not agent.harness.is_built_in else None,
            "tools": agent.tools,
            "initial_files": agent.initial_files,
            "max_iterations": agent.max_iterations,
            "parallel_tool_calls": agent.parallel_tool_calls,
            "network_access": agent.network_access,
        },
    )
    return markdown, transfer.export_filename(agent.name)


def _scalar_text(value: Any) -> Any:
    # YAML turns `name: 2024` into an int; a number where text is expected is still text.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


IMPORT_EXTRA_KEYS = (
    "display_name",
    "tools",
    "initial_files",
    "max_iterations",
    "parallel_tool_calls",
    "network_access",
)


@transaction.atomic
def agent_import(*, organization: Organization, text: str) -> Agent:
    """Create an agent from an import document (contract 7.2). Any `id` in the document is ignored.

    Raises InputTooLarge (> 3 MB or field limits), InvalidRequest (missing system prompt, wrong
    types), Unprocessable (unknown capability), NotFound (default_model_id unknown in this org).
    """
    if _byte_len(text) > MAX_IMPORT_BYTES:
        raise InputTooLarge(log_detail="import body over 3 MB")
    data = transfer.parse_import_text(text)
    ensure_storable(data)  # YAML escapes can produce NUL / lone surrogates that JSON bodies never reach us with
    system_prompt = _scalar_text(data.get("system_prompt"))
    if system_prompt is None or (isinstance(system_prompt, str) and not system_prompt.strip()):
        raise InvalidRequest(SYSTEM_PROMPT_REQUIRED)
    name = _scalar_text(data.get("name"))
    if name is None or (isinstance(name, str) and not name.strip()):
        name = datetime.now(UTC).strftime("agent-%Y%m%d-%H%M%S")
    tags = data.get("tags")
    if isinstance(tags, list):
        tags = [_scalar_text(tag) for tag in tags]
    extra = {key: data[key] for key in IMPORT_EXTRA_KEYS if data.get(key) is not None}
    if "display_name" in extra:
        extra["display_name"] = _scalar_text(extra["display_name"])
    harness = data.get("harness_name", data.get("harness"))
    if harness is not None:
        extra["harness_name"] = _scalar_text(harness)
    return agent_create(
        organization=organization,
        name=name,
        system_prompt=system_prompt,
        description=_scalar_text(data.get("description")),
        default_model_id=data.get("default_model_id"),
        tags=tags,
        capabilities=data.get("capabilities"),
        change_kind="import",
        **extra,
    )


@transaction.atomic
def agent_import_example(*, organization: Organization, name: str) -> tuple[Agent, bool]:
    """`?from-example=<name>`: the built-in example as an agent of the organization (created, or its
    namesake replaced: names are unique per organization). Unknown examples are 404 "Example not found"."""
    example = examples.AGENT_EXAMPLES.get(name)
    if example is None:
        raise NotFound("Example not found")
    agent, created = agent_apply(organization=organization, data=dict(example))
    return agent, created


def agent_name_available(*, organization: Organization, name: str, exclude: uuid.UUID | None = None) -> bool:
    """No active agent of the organization has `name` (other than the agent with public id `exclude`)."""
    taken = Agent.objects.filter(organization=organization, name=name, status=Agent.STATUS_ACTIVE)
    if exclude is not None:
        taken = taken.exclude(public_id=exclude)
    return not taken.exists()


# --------------------------------------------------------------------------- versions
def _version_of(agent: Agent, version_id: Any, not_found: str = "Version not found") -> AgentVersion:
    pk = ids.parse_id("agentver", version_id)
    version = AgentVersion.objects.filter(agent=agent, pk=pk).first() if pk is not None else None
    if version is None:
        raise NotFound(not_found)
    return version


@transaction.atomic
def version_publish(*, agent: Agent, change_kind: str | None = None, summary: Any = None) -> AgentVersion:
    """POST /versions: save the current configuration as a published version (`manual` unless a semver kind is
    given). An unchanged configuration publishes the latest version instead of adding an identical one."""
    kind = change_kind or "manual"
    if kind not in versioning.PUBLISH_KINDS:
        raise InvalidRequest(log_detail=f"change_kind {kind!r} cannot be published by hand"[:100])
    return versioning.snapshot(agent=agent, change_kind=kind, summary=versioning.clean_summary(summary), publish=True)


@transaction.atomic
def version_set_default(*, agent: Agent, version_id: Any) -> Agent:
    """New sessions of the agent run on this version (until another is set)."""
    agent.default_version = _version_of(agent, version_id)
    agent.save(update_fields=["default_version", "updated_at"])
    return agent


def _authored_values(version: AgentVersion) -> dict[str, Any]:
    authored = version.authored_config
    values = {key: authored.get(key) for key in ("system_prompt", "description", "tags", "capabilities")}
    values["default_model_id"] = authored.get("default_model_id")
    values.update({key: authored.get(key) for key in EXTRA_FIELDS if key != "harness_name"})
    return values


@transaction.atomic
def version_rollback(*, agent: Agent, version_id: Any, save_version: Any = None, summary: Any = None) -> Agent:
    """Restore the agent's configuration (not its name) from a version; the result is recorded as a `rollback`
    version (published when `save_version` is true). A harness or model deleted since is 404 as on create."""
    version = _version_of(agent, version_id)
    if save_version is not None and not isinstance(save_version, bool):
        raise InvalidRequest(log_detail="save_version must be a boolean")
    summary = versioning.clean_summary(summary)
    values = _authored_values(version)
    values["name"] = agent.name
    cleaned = agent_clean_input(organization=agent.organization, data=values)
    for field, value in cleaned.items():
        setattr(agent, field, value)
    agent = _save(agent)
    versioning.snapshot(
        agent=agent, change_kind="rollback", summary=summary, source_version=version, publish=bool(save_version)
    )
    return agent


@transaction.atomic
def version_fork(
    *, agent: Agent, version_id: Any, name: Any, display_name: Any = None, description: Any = None
) -> Agent:
    """A new agent with a version's configuration, remembering where it came from (forked_from_*, root)."""
    version = _version_of(agent, version_id)
    values = _authored_values(version)
    values["display_name"] = display_name
    if description is not None:
        values["description"] = description
    if isinstance(name, str) and not agent_name_available(organization=agent.organization, name=name):
        raise Conflict("An agent with this name already exists")
    lineage = {
        "forked_from_agent_id": agent.public_id,
        "forked_from_version_id": version.pk,
        "root_agent_id": agent.root_agent_id or agent.public_id,
    }
    return agent_create(
        organization=agent.organization,
        name=name,
        lineage=lineage,
        change_kind="fork",
        source_version=version,
        **values,
    )
