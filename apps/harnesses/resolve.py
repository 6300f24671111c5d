"""The one place the layered configuration is resolved: harness chain → agent → session (docs/agents.md).

A *layer* is a plain dict with any of the keys of `KEYS`; a missing key or None means "not set here". Layers
are applied in order, root harness first, the session last:

- `system_prompt`: the non-empty prompts of every layer, joined with a blank line (harness text first; a
  session's own prompt is the exception, prepended: see `session_config`);
- `capabilities`: concatenated in layer order (the capability registry drops repeats, first one wins);
- `tools` (client-side definitions): concatenated, a later layer's tool replaces an earlier one of the same name;
- `initial_files`: merged by path, a later layer's file replaces an earlier one at the same path;
- `default_model_id`, `max_iterations`, `parallel_tool_calls`: the last layer that sets them wins;
- `network_access`: `allowed` lists intersect (a layer can only narrow what an earlier one allowed; an empty or
  absent list allows everything), `blocked` lists add up.

A resolved config is itself a layer, so an agent version's stored `resolved_config` can be resolved again with
a session on top and gives what resolving all layers at once would. Pure functions: no database access except
walking the parents of a harness (bounded by the nesting limit).
"""

from typing import Any

from apps.core import ids

KEYS = (
    "system_prompt",
    "capabilities",
    "tools",
    "initial_files",
    "default_model_id",
    "max_iterations",
    "parallel_tool_calls",
    "network_access",
)
LAST_WINS = ("default_model_id", "max_iterations", "parallel_tool_calls")


def empty() -> dict[str, Any]:
    return {
        "system_prompt": "",
        "capabilities": [],
        "tools": [],
        "initial_files": [],
        "default_model_id": None,
        "max_iterations": None,
        "parallel_tool_calls": None,
        "network_access": None,
    }


def _merge_network(base: dict | None, layer: dict | None) -> dict | None:
    if layer is None:
        return base
    if base is None:
        return {"allowed": list(layer.get("allowed") or []), "blocked": list(layer.get("blocked") or [])}
    base_allowed, layer_allowed = base.get("allowed") or [], layer.get("allowed") or []
    if base_allowed and layer_allowed:
        allowed = [host for host in base_allowed if host in layer_allowed]
    else:
        allowed = list(base_allowed or layer_allowed)
    blocked = list(base.get("blocked") or [])
    blocked += [host for host in layer.get("blocked") or [] if host not in blocked]
    return {"allowed": allowed, "blocked": blocked}


def _by_key(items: list[dict], more: list[dict], key: str) -> list[dict]:
    merged = {item[key]: item for item in items}
    for item in more:
        merged.pop(item[key], None)
        merged[item[key]] = item
    return list(merged.values())


def resolve(layers: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply `layers` in order (see the module docstring) and return a complete config with every key."""
    config = empty()
    prompts: list[str] = []
    for layer in layers:
        prompt = layer.get("system_prompt")
        if prompt and prompt.strip():
            prompts.append(prompt)
        config["capabilities"] = [*config["capabilities"], *(layer.get("capabilities") or [])]
        config["tools"] = _by_key(config["tools"], layer.get("tools") or [], "name")
        config["initial_files"] = _by_key(config["initial_files"], layer.get("initial_files") or [], "path")
        for key in LAST_WINS:
            if layer.get(key) is not None:
                config[key] = layer[key]
        config["network_access"] = _merge_network(config["network_access"], layer.get("network_access"))
    config["system_prompt"] = "\n\n".join(prompts)
    return config


def _ref(item: Any) -> dict[str, Any]:
    # Rows written before capabilities were normalised may hold plain id strings.
    if isinstance(item, str):
        return {"ref": item, "config": {}}
    return {"ref": item["ref"], "config": item.get("config") or {}}


def _common_layer(row: Any) -> dict[str, Any]:
    return {
        "system_prompt": row.system_prompt,
        "capabilities": [_ref(c) for c in row.capabilities or []],
        "initial_files": list(row.initial_files or []),
        "default_model_id": ids.format_id("model", row.default_model_id),
        "max_iterations": row.max_iterations,
        "parallel_tool_calls": row.parallel_tool_calls,
        "network_access": row.network_access,
    }


def harness_layers(harness: Any) -> list[dict[str, Any]]:
    """The layers of `harness` and its ancestors, root first."""
    chain: list[Any] = []
    node = harness
    while node is not None and len(chain) <= 16:  # services cap the depth at 8; this only guards bad rows
        chain.append(node)
        node = node.parent if node.parent_id else None
    return [_common_layer(row) for row in reversed(chain)]


def agent_layer(agent: Any) -> dict[str, Any]:
    return {**_common_layer(agent), "tools": list(agent.tools or [])}


def session_layer(session: Any) -> dict[str, Any]:
    """The session's own settings. Fields a session does not have (yet) are simply not set at this layer."""
    layer: dict[str, Any] = {
        "capabilities": [_ref(c) for c in session.capabilities or []],
        "default_model_id": ids.format_id("model", session.model_id),
    }
    for key in ("system_prompt", "tools", "initial_files", "max_iterations", "parallel_tool_calls", "network_access"):
        value = getattr(session, key, None)
        if value is not None:
            layer[key] = value
    return layer


def agent_config(agent: Any, harness: Any = None) -> dict[str, Any]:
    """What the agent resolves to on its harness (or `harness`): the config a version snapshots."""
    harness = harness if harness is not None else agent.harness
    return resolve([*(harness_layers(harness) if harness is not None else []), agent_layer(agent)])


def session_config(base: dict[str, Any], session: Any) -> dict[str, Any]:
    """The config a session's turn runs with: the agent's resolved `base` (live or its pinned version) + session.

    The one exception to "later layers go after": a session's own system prompt is *prepended* to the harness
    and agent text (the spec: "prepended to the agent's"), so what the caller of one session says comes first.
    """
    layer = session_layer(session)
    session_prompt = layer.pop("system_prompt", None)
    config = resolve([base, layer])
    if session_prompt and session_prompt.strip():
        config["system_prompt"] = "\n\n".join(p for p in (session_prompt, config["system_prompt"]) if p)
    return config


def session_base_config(session: Any) -> dict[str, Any]:
    """The harness + agent part of a session's config.

    A session pinned to an agent version runs on that version's snapshot: its `resolved_config` as is when
    the session is on the harness the version was resolved on (no query), else the version's authored
    settings on the session's harness. A session without a version (created before versions existed) runs
    on its agent's live configuration.
    """
    agent = session.agent if session.agent_id else None
    harness = session.harness if session.harness_id else getattr(agent, "harness", None)
    version = session.agent_version if session.agent_version_id else None
    if agent is None:  # a session on its harness alone
        return resolve(harness_layers(harness) if harness is not None else [])
    if version is None:
        return agent_config(agent, harness)
    if version.authored_config.get("harness_id") == ids.format_id("harness", getattr(harness, "pk", None)):
        return version.resolved_config
    return resolve([*(harness_layers(harness) if harness is not None else []), version.authored_config])
