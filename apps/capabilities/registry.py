"""The capability registry: built-ins in code, one module per capability (contract 3.8).

Other areas use only this module's functions:
- `get_capability` / `all_capabilities`: the catalogue (API order = `BUILTIN_MODULES` order);
- `normalize_refs`: validate what a client sent (strings or `{ref, config}`) into `[{"ref", "config"}]`;
- `resolve` / `build_system_prompt`: what a turn runs with (prompt additions, tools, features).
"""

import importlib
import logging
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


def get_capability(capability_id: str) -> Capability | None:
    """The capability with this id, or None."""
    if not isinstance(capability_id, str):
        return None
    return _catalogue().get(capability_id)


def all_capabilities() -> list[Capability]:
    """Every registered capability, in catalogue order."""
    return list(_catalogue().values())


def normalize_refs(raw: list) -> list[dict]:
    """Validate capability references from a request into `[{"ref": id, "config": {...}}]`.

    Accepts `"id"` or `{"ref": "id", "config": {...}?}` items (a null/absent config becomes `{}`;
    other keys are ignored). Order and duplicates are kept: order is application order and
    `resolve()` de-duplicates. Raises InvalidRequest (400) for a malformed shape and
    Unprocessable (422, "Unknown capability: <id>") for an id that is not registered.
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
        if get_capability(ref) is None:
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


def resolve(refs: list[dict]) -> ResolvedCapabilities:
    """Resolve references (agent's first, then session's) in application order.

    - dependencies come right before the capability that needs them (depth first), each capability once;
    - prompt additions are joined by blank lines in that order;
    - tools are unique by name (the first capability to define a name wins);
    - features are unique, in order;
    - configs of repeated references are merged, later keys winning, so a session-level
      `{ref, config}` refines the agent's (the contract is silent; this is the least surprising).
    Unknown ids (e.g. a capability removed from the code since the agent was saved) are skipped
    with a warning rather than failing every turn of that agent.
    """
    resolved = ResolvedCapabilities()
    seen: set[str] = set()
    for ref in refs or []:
        capability_id = ref.get("ref") if isinstance(ref, dict) else ref
        _visit(capability_id, (), seen, resolved.capabilities)
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


def _visit(capability_id: object, stack: tuple[str, ...], seen: set[str], out: list[Capability]) -> None:
    """Depth first: a capability's dependencies, then the capability itself, each once (cycles cut)."""
    if not isinstance(capability_id, str):  # a hand-edited row; unhashable ids must not crash reads
        logger.warning("skipping malformed capability id %r", capability_id)
        return
    if capability_id in seen or capability_id in stack:
        return
    capability = get_capability(capability_id)
    if capability is None:
        logger.warning("skipping unknown capability %r", capability_id)
        return
    for dependency in capability.dependencies:
        _visit(dependency, (*stack, capability_id), seen, out)
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


def build_system_prompt(refs: list[dict], base_prompt: str) -> str:
    """Capability prompt additions prepended to the agent's own prompt (contract 3.1/3.8)."""
    addition = resolve(refs).system_prompt_addition
    if not addition:
        return base_prompt
    return f"{addition}\n\n{base_prompt}"
