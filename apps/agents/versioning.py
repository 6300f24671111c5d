"""Agent versions: immutable snapshots of an agent's configuration (docs/agents.md, "Versions").

Every write of an agent calls `snapshot()`: it resolves the agent on its harness (apps.harnesses.resolve),
hashes the resolved config and records a version only when the hash differs from the latest version's, so
identical adjacent snapshots never pile up. Semver: the first version is 1.0.0; `major` / `minor` bump those
parts, every other kind bumps the patch number.
"""

import hashlib
import json
from typing import Any

from django.db import transaction

from apps.core import ids
from apps.core.exceptions import InvalidRequest
from apps.harnesses import resolve

from .models import Agent, AgentVersion

CHANGE_KINDS = {kind for kind, _ in AgentVersion.CHANGE_KINDS}
PUBLISH_KINDS = ("manual", "patch", "minor", "major")
MAX_SUMMARY_CHARS = 2000


def authored_config(agent: Agent) -> dict[str, Any]:
    """The agent's own settings, as the API shows them (ids formatted)."""
    return {
        "name": agent.name,
        "display_name": agent.display_name,
        "description": agent.description,
        "tags": list(agent.tags or []),
        "harness_id": ids.format_id("harness", agent.harness_id),
        **resolve.agent_layer(agent),
    }


def config_hash(config: dict[str, Any]) -> str:
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def latest(agent: Agent) -> AgentVersion | None:
    return AgentVersion.objects.filter(agent=agent).order_by("-version_number").first()


def _next_semver(previous: AgentVersion | None, change_kind: str) -> tuple[int, int, int]:
    if previous is None:
        return 1, 0, 0
    major, minor, patch = previous.semver_major, previous.semver_minor, previous.semver_patch
    if change_kind == "major":
        return major + 1, 0, 0
    if change_kind == "minor":
        return major, minor + 1, 0
    return major, minor, patch + 1


def clean_summary(summary: Any) -> str | None:
    if summary is not None and (not isinstance(summary, str) or len(summary) > MAX_SUMMARY_CHARS):
        raise InvalidRequest(log_detail="summary must be a string of at most 2000 characters")
    return summary


@transaction.atomic
def snapshot(
    *,
    agent: Agent,
    change_kind: str = "auto",
    summary: str | None = None,
    source_version: AgentVersion | None = None,
    publish: bool = False,
) -> AgentVersion:
    """The version of the agent's current configuration: the latest one when its resolved config is unchanged
    (published now if `publish`), else a new one. The agent row is locked so concurrent writes number in turn."""
    if change_kind not in CHANGE_KINDS:
        raise InvalidRequest(log_detail=f"unknown change_kind {change_kind!r}"[:100])
    Agent.objects.select_for_update().filter(pk=agent.pk).values_list("pk", flat=True).first()
    resolved = resolve.agent_config(agent)
    digest = config_hash(resolved)
    previous = latest(agent)
    if previous is not None and previous.config_hash == digest:
        if publish and not previous.is_published:
            previous.is_published = True
            previous.summary = summary if summary is not None else previous.summary
            previous.save(update_fields=["is_published", "summary", "updated_at"])
        return previous
    major, minor, patch = _next_semver(previous, change_kind)
    return AgentVersion.objects.create(
        agent=agent,
        version_number=(previous.version_number + 1) if previous else 1,
        semver_major=major,
        semver_minor=minor,
        semver_patch=patch,
        is_published=publish,
        change_kind=change_kind,
        config_hash=digest,
        authored_config=authored_config(agent),
        resolved_config=resolved,
        parent_version=previous,
        source_version=source_version,
        summary=summary,
    )


def version_for_new_session(agent: Agent) -> AgentVersion:
    """The version a new session pins: the agent's default version if set, else its current configuration."""
    if agent.default_version_id is not None:
        default = AgentVersion.objects.filter(pk=agent.default_version_id).first()
        if default is not None:
            return default
    return snapshot(agent=agent)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Field by field: `{field: {"from": old, "to": new}}` for every top-level key whose value differs."""
    keys = [*before, *(key for key in after if key not in before)]
    return {key: {"from": before.get(key), "to": after.get(key)} for key in keys if before.get(key) != after.get(key)}
