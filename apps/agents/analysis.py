"""POST /v1/agents/analyze: a deterministic, advisory report on an agent shape (no model is called).

Rules (rule_id: severity, what it checks):

- `prompt-empty` (error): the system prompt is empty or only whitespace.
- `prompt-short` (warning): the prompt has fewer than 40 non-space characters: too little to steer a model.
- `prompt-long` (warning): the prompt is over 100,000 characters: every turn pays for it in tokens.
- `prompt-placeholder` (warning): the prompt still holds a template placeholder (`{{…}}`, `<…>` in capitals,
  `TODO`, `TBD`, `FIXME`, `lorem ipsum`); the location points at the first one.
- `capability-duplicate` (warning): a capability is listed more than once (only the first one applies).
- `capability-unavailable` (warning): a capability is `coming_soon`: it adds no tools yet.
- `capability-high-risk` (info): a capability with risk level `high` (e.g. network access).
- `tool-name-conflict` (error): a client-side tool has the name of a capability's tool, or two tools share one.
- `tool-no-description` (warning): a client-side tool without a description: the model cannot know when to use it.
- `tool-bad-parameters` (warning): a client-side tool whose `parameters` is not a JSON Schema object
  (`type: object`).
- `mcp-unsupported` (info): `mcpServers` were given; this server does not connect to MCP servers.

Findings come in the order above; the same input always gives the same report.
"""

import re
from typing import Any

from apps.capabilities.registry import get_capability

PLACEHOLDER = re.compile(r"\{\{.*?\}\}|<[A-Z][A-Z_ ]{2,}>|\b(?:TODO|TBD|FIXME)\b|lorem ipsum", re.IGNORECASE)
MIN_PROMPT_CHARS = 40
MAX_PROMPT_CHARS = 100_000


def _finding(rule_id: str, severity: str, category: str, message: str, fix: str, field: str, **span: int) -> dict:
    return {
        "rule_id": rule_id,
        "severity": severity,
        "category": category,
        "source": "builtin",
        "message": message,
        "fix": fix,
        "location": {"field": field, **span},
    }


def _refs(capabilities: list) -> list[str]:
    refs = []
    for item in capabilities or []:
        ref = item if isinstance(item, str) else (item or {}).get("ref") if isinstance(item, dict) else None
        if isinstance(ref, str):
            refs.append(ref)
    return refs


def analyze(*, system_prompt: str, capabilities: list, tools: list, mcp_servers: Any = None) -> list[dict]:
    findings: list[dict] = []
    prompt = system_prompt or ""
    visible = len(re.sub(r"\s", "", prompt))
    if not visible:
        findings.append(
            _finding(
                "prompt-empty",
                "error",
                "prompt",
                "The system prompt is empty.",
                "Describe the agent's job.",
                "system_prompt",
            )
        )
    elif visible < MIN_PROMPT_CHARS:
        findings.append(
            _finding(
                "prompt-short",
                "warning",
                "prompt",
                "The system prompt is very short.",
                "Say who the agent serves, what it does and how it should answer.",
                "system_prompt",
            )
        )
    if len(prompt) > MAX_PROMPT_CHARS:
        findings.append(
            _finding(
                "prompt-long",
                "warning",
                "cost",
                "The system prompt is very long; every turn sends it.",
                "Move reference material into initial files.",
                "system_prompt",
            )
        )
    match = PLACEHOLDER.search(prompt)
    if match:
        findings.append(
            _finding(
                "prompt-placeholder",
                "warning",
                "prompt",
                f"The prompt still contains {match.group()!r}.",
                "Replace the placeholder with real text.",
                "system_prompt",
                start=match.start(),
                end=match.end(),
            )
        )
    refs = _refs(capabilities)
    seen: set[str] = set()
    capability_tools: set[str] = set()
    for index, ref in enumerate(refs):
        if ref in seen:
            findings.append(
                _finding(
                    "capability-duplicate",
                    "warning",
                    "capabilities",
                    f"Capability {ref!r} is listed twice.",
                    "Remove the repeat; only the first one applies.",
                    f"capabilities[{index}]",
                )
            )
            continue
        seen.add(ref)
        capability = get_capability(ref)
        if capability is None:
            continue
        capability_tools.update(tool.name for tool in capability.tools)
        if capability.status == "coming_soon":
            findings.append(
                _finding(
                    "capability-unavailable",
                    "warning",
                    "capabilities",
                    f"Capability {ref!r} is not available yet and adds no tools.",
                    "Remove it until it ships.",
                    f"capabilities[{index}]",
                )
            )
        if getattr(capability, "risk_level", "low") == "high":
            findings.append(
                _finding(
                    "capability-high-risk",
                    "info",
                    "security",
                    f"Capability {ref!r} is high-risk.",
                    "Make sure the agent needs it.",
                    f"capabilities[{index}]",
                )
            )
    tool_names: set[str] = set()
    for index, tool in enumerate(tools or []):
        if not isinstance(tool, dict):
            continue
        name = tool.get("name")
        if isinstance(name, str) and (name in capability_tools or name in tool_names):
            findings.append(
                _finding(
                    "tool-name-conflict",
                    "error",
                    "tools",
                    f"Tool name {name!r} is already taken.",
                    "Rename the client-side tool.",
                    f"tools[{index}]",
                )
            )
        if isinstance(name, str):
            tool_names.add(name)
        if not (isinstance(tool.get("description"), str) and tool["description"].strip()):
            findings.append(
                _finding(
                    "tool-no-description",
                    "warning",
                    "tools",
                    f"Tool {name!r} has no description.",
                    "Say what the tool does and when to use it.",
                    f"tools[{index}]",
                )
            )
        parameters = tool.get("parameters")
        if not (isinstance(parameters, dict) and parameters.get("type") == "object"):
            findings.append(
                _finding(
                    "tool-bad-parameters",
                    "warning",
                    "tools",
                    f"Tool {name!r} parameters are not a JSON Schema object.",
                    'Use {"type": "object", "properties": {…}}.',
                    f"tools[{index}]",
                )
            )
    if mcp_servers:
        findings.append(
            _finding(
                "mcp-unsupported",
                "info",
                "capabilities",
                "MCP servers are not connected by this server.",
                "Use capabilities or client-side tools instead.",
                "mcpServers",
            )
        )
    return findings
