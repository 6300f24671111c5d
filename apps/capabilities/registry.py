"""The capability registry: built-ins in code, one module per capability (contract 3.8), plus capabilities that
live in an organization's data (MCP servers, skills) through registered sources.

Other areas use only this module's functions:
- `get_capability` / `all_capabilities`: the catalogue (API order = `BUILTIN_MODULES` order);
- `normalize_refs`: validate what a client sent (strings or `{ref, config}`) into `[{"ref", "config"}]`;
- `resolve` / `build_system_prompt`: what a turn runs with (prompt additions, tools, features);
- `register_source`: a kind of capability that lives in the database, referenced as `<prefix>:<id>`
  (`mcp:mcp_…`, `skill:skill_…`). The app that owns the rows registers a loader in its AppConfig.ready, so this
  module never imports it (the apps above only know the `prefix:` form).
"""

import importlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from apps.core.exceptions import InvalidRequest, Unprocessable

from .base import Capability, Tool

logger = logging.getLogger(__name__)

# Order here is the order of GET /v1/capabilities.
BUILTIN_MODULES: tuple[str, ...] = (
    "current_time",
    "web_fetch",
    "session_file_system",
    "stateless_todo_list",
    "noop",
    "test_math",
    "test_weather",
    "research",
    "sandbox",
)


@cache
def _catalogue() -> dict[str, Capability]:
    catalogue: dict[str, Capability] = {}
    for module_name in BUILTIN_MODULES:
        capability = importlib.import_module(f"apps.capabilities.builtin.{module_name}").CAPABILITY
        catalogue[capability.id] = capability
    return catalogue


def register(capability: Capability) -> None:
    """Add (or replace) a capability at run time: for tests and future dynamic sources (MCP)."""
    _catalogue()[capability.id] = capability
    _changed()


def unregister(capability_id: str) -> None:
    """Remove a capability added with `register` (built-ins come back on the next process start)."""
    _catalogue().pop(capability_id, None)
    _changed()


_generation = 0  # bumped by every registration change: part of the features cache key


def _changed() -> None:
    global _generation
    _generation += 1
    _features.cache_clear()


# prefix -> loader(organization_id=, ref=, config=, for_turn=) -> Capability | None. The loader answers None for an
# id that is not (or no longer) one of the organization's rows; `for_turn` allows network work (an MCP tool listing)
# that plain validation must not do. `ref` is the whole reference (`mcp:mcp_…`); the loader returns the
# Capability with its canonical id, which is what gets stored.
_sources: dict[str, Callable[..., Capability | None]] = {}


def register_source(prefix: str, loader: Callable[..., Capability | None]) -> None:
    """Make `<prefix>:<id>` references resolve through `loader` (called by the owning app's ready())."""
    _sources[prefix] = loader
    _changed()


def source_prefix(capability_id: object) -> str | None:
    """`"mcp"` for `"mcp:mcp_…"` when a source is registered for it; None for built-in ids."""
    if not isinstance(capability_id, str) or ":" not in capability_id:
        return None
    prefix = capability_id.split(":", 1)[0]
    return prefix if prefix in _sources else None


def load_from_source(
    capability_id: str, *, organization_id: uuid.UUID | None, config: dict | None = None, for_turn: bool = False
) -> Capability | None:
    """The capability a `<prefix>:<id>` reference names in this organization, or None."""
    prefix = source_prefix(capability_id)
    if prefix is None or organization_id is None:
        return None
    return _sources[prefix](organization_id=organization_id, ref=capability_id, config=config or {}, for_turn=for_turn)


def get_capability(capability_id: str) -> Capability | None:
    """The capability with this id, or None."""
    if not isinstance(capability_id, str):
        return None
    return _catalogue().get(capability_id)


def all_capabilities() -> list[Capability]:
    """Every registered capability, in catalogue order."""
    return list(_catalogue().values())


def normalize_refs(raw: list, *, organization_id: uuid.UUID | None = None) -> list[dict]:
    """Validate capability references from a request into `[{"ref": id, "config": {...}}]`.

    Accepts `"id"` or `{"ref": "id", "config": {...}?}` items (a null/absent config becomes `{}`;
    other keys are ignored). Order and duplicates are kept: order is application order and
    `resolve()` de-duplicates. Raises InvalidRequest (400) for a malformed shape and
    Unprocessable (422, "Unknown capability: <id>") for an id that is not registered. A `<prefix>:<id>`
    reference is checked by its source against `organization_id` (without one it is unknown) and stored in
    the source's canonical form.
    """
    if not isinstance(raw, list | tuple):
        raise InvalidRequest(log_detail="capabilities must be a list")
    refs: list[dict] = []
    ref: object
    config: object
    for item in raw:
        if isinstance(item, str):
            ref, config = item, {}
        elif isinstance(item, dict):
            ref, config = item.get("ref"), item.get("config")
            if config is None:
                config = {}
            if not isinstance(ref, str) or not isinstance(config, dict):
                raise InvalidRequest(log_detail="capability item needs a string ref and an object config")
        else:
            raise InvalidRequest(log_detail=f"capability item of type {type(item).__name__}")
        ref = ref.strip()
        if not ref:
            raise InvalidRequest(log_detail="empty capability ref")
        if source_prefix(ref) is not None:
            loaded = load_from_source(ref, organization_id=organization_id, config=config)
            if loaded is None:
                raise Unprocessable(f"Unknown capability: {ref}"[:300])
            ref = loaded.id
        elif get_capability(ref) is None:
            raise Unprocessable(f"Unknown capability: {ref}"[:300])
        refs.append({"ref": ref, "config": config})
    return refs


@dataclass
class ResolvedCapabilities:
    """What a list of references amounts to for one turn."""

    capabilities: list[Capability] = field(default_factory=list)
    system_prompt_addition: str = ""
    tools: list[Tool] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    configs: dict[str, dict] = field(default_factory=dict)

    def config_for(self, capability_id: str) -> dict:
        """The merged config for a capability ({} when none was given)."""
        return dict(self.configs.get(capability_id, {}))

    def tool_definitions(self) -> list[dict]:
        return [tool.definition() for tool in self.tools]

    def system_prompt(self, base_prompt: str) -> str:
        """Prompt additions prepended to `base_prompt` (what `build_system_prompt` answers, without resolving again)."""
        return f"{self.system_prompt_addition}\n\n{base_prompt}" if self.system_prompt_addition else base_prompt


def resolve(
    refs: list[dict], *, organization_id: uuid.UUID | None = None, for_turn: bool = False
) -> ResolvedCapabilities:
    """Resolve references (agent's first, then session's) in application order.

    - dependencies come right before the capability that needs them (depth first), each capability once;
    - prompt additions are joined by blank lines in that order;
    - tools are unique by name (the first capability to define a name wins);
    - features are unique, in order;
    - configs of repeated references are merged, later keys winning, so a session-level
      `{ref, config}` refines the agent's (the contract is silent; this is the least surprising).
    Unknown ids (e.g. a capability removed from the code since the agent was saved) are skipped
    with a warning rather than failing every turn of that agent.
    `<prefix>:<id>` references are loaded from their source for `organization_id` (with the merged config, so a
    source can apply per-reference settings such as an MCP server's tool allow-list); without an organization
    they are skipped silently. `for_turn` lets sources do network work (see `register_source`).
    """
    resolved = ResolvedCapabilities()
    seen: set[str] = set()
    dynamic: dict[str, Capability | None] = {}
    source_configs: dict[str, dict] = {}
    for ref in refs or []:
        capability_id = ref.get("ref") if isinstance(ref, dict) else ref
        config = ref.get("config") if isinstance(ref, dict) else None
        if isinstance(capability_id, str) and source_prefix(capability_id) is not None:
            source_configs.setdefault(capability_id, {}).update(config if isinstance(config, dict) else {})
    for capability_id, config in source_configs.items():
        if organization_id is None:
            continue
        try:
            dynamic[capability_id] = load_from_source(
                capability_id, organization_id=organization_id, config=config, for_turn=for_turn
            )
        except Exception:  # one broken source must not fail every turn of the agent
            logger.exception("capability %s could not be loaded", capability_id)
            dynamic[capability_id] = None
    for ref in refs or []:
        capability_id = ref.get("ref") if isinstance(ref, dict) else ref
        _visit(capability_id, (), seen, resolved.capabilities, dynamic)
        config = ref.get("config") if isinstance(ref, dict) else None
        if isinstance(config, dict) and capability_id in seen:
            resolved.configs.setdefault(capability_id, {}).update(config)

    tool_names: set[str] = set()
    additions: list[str] = []
    for capability in resolved.capabilities:
        if capability.system_prompt and capability.system_prompt.strip():
            additions.append(capability.system_prompt.strip())
        for tool in capability.tools:
            if tool.name not in tool_names:
                tool_names.add(tool.name)
                resolved.tools.append(tool)
        for feature in capability.features:
            if feature not in resolved.features:
                resolved.features.append(feature)
    resolved.system_prompt_addition = "\n\n".join(additions)
    return resolved


def _visit(
    capability_id: object,
    stack: tuple[str, ...],
    seen: set[str],
    out: list[Capability],
    dynamic: dict[str, Capability | None],
) -> None:
    """Depth first: a capability's dependencies, then the capability itself, each once (cycles cut)."""
    if not isinstance(capability_id, str):  # a hand-edited row; unhashable ids must not crash reads
        logger.warning("skipping malformed capability id %r", capability_id)
        return
    if capability_id in seen or capability_id in stack:
        return
    if source_prefix(capability_id) is not None:
        capability = dynamic.get(capability_id)
        if capability is None:
            if capability_id in dynamic:  # looked up and gone (deleted, archived): the turn runs without it
                logger.warning("skipping unavailable capability %r", capability_id)
            return
    else:
        capability = get_capability(capability_id)
    if capability is None:
        logger.warning("skipping unknown capability %r", capability_id)
        return
    for dependency in capability.dependencies:
        _visit(dependency, (*stack, capability_id), seen, out, dynamic)
    seen.add(capability_id)
    out.append(capability)


def features_of(refs: list) -> list[str]:
    """`resolve(refs).features`, cached: features depend only on the sequence of capability ids.

    Session and agent lists compute this for every row; agents share a handful of capability sets.
    """
    try:
        key = tuple(ref.get("ref") if isinstance(ref, dict) else ref for ref in refs or [])
        return list(_features(key, _generation))  # a result computed during a registration change is never reused
    except TypeError:  # an unhashable id in a hand-edited row: resolve skips it like any unknown id
        return resolve(refs).features


@lru_cache(maxsize=1024)
def _features(capability_ids: tuple, generation: int) -> tuple[str, ...]:
    return tuple(resolve(list(capability_ids)).features)


def build_system_prompt(refs: list[dict], base_prompt: str, *, organization_id: uuid.UUID | None = None) -> str:
    """Capability prompt additions prepended to the agent's own prompt (contract 3.1/3.8)."""
    return resolve(refs, organization_id=organization_id).system_prompt(base_prompt)
