"""The capability contract: a named bundle of a prompt addition and tools (contract 3.8).

One module per built-in capability lives in `apps/capabilities/builtin/`; each defines
`CAPABILITY = Capability(...)`. Tools run inside the worker through `Tool.run()`.
"""

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.module_loading import import_string


class ToolError(Exception):
    """A failure the model should see and can recover from (reported as tool.completed status=error)."""


@dataclass(frozen=True)
class ToolContext:
    """Where a tool call runs: passed to every tool handler."""

    organization_id: uuid.UUID
    session_id: uuid.UUID
    agent_id: uuid.UUID | None = None
    turn_id: str | None = None
    tool_call_id: str | None = None
    config: dict = field(default_factory=dict)  # the capability's config from the agent/session
    # The session's secrets (PUT /v1/sessions/{id}/storage/secrets), decrypted: never put them in a result,
    # an event or a log line. Left out of repr() so a logged context cannot leak them.
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Tool:
    """A JSON-schema tool definition plus the function that executes it.

    `handler` is a callable or a dotted path to one, called as handler(arguments, context) and
    returning any JSON-serialisable value; it raises ToolError for errors the model should see.
    """

    name: str
    description: str
    parameters: dict
    handler: str | Callable[[dict, ToolContext], Any]
    timeout_secs: float | None = None

    def definition(self) -> dict:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    def run(self, arguments: dict, context: ToolContext) -> Any:
        handler = import_string(self.handler) if isinstance(self.handler, str) else self.handler
        return handler(arguments, context)


@dataclass(frozen=True)
class Capability:
    """A built-in capability (CapabilityInfo in the API)."""

    id: str
    name: str
    description: str
    category: str | None = None
    icon: str | None = None
    status: str = "available"  # available | experimental | coming_soon | deprecated
    risk_level: str = "low"  # low | medium | high
    system_prompt: str | None = None
    tools: tuple[Tool, ...] = ()
    dependencies: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    is_mcp: bool = False
