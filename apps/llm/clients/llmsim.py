"""The simulated provider (provider_type "llmsim"): deterministic, offline, able to call the agent's tools.

Behaviour (see docs/runtime.md):
* If the latest user message has lines `/tool <tool_name> <json object>`, the first reply after it calls
  those tools with those arguments (ids `call_sim_<n>`). Once tool results follow the user message, it
  answers `Tool results:` and one line `<tool_name>: <result as JSON>` per result.
* Otherwise it answers `You said: <user text>`, streamed word by word (several deltas).
* Usage: input tokens = words in system prompt + conversation, output tokens = words of the reply.

Options (query parameters of the provider's base_url and/or of the model id, the model's win, e.g. a model
`llmsim-default?latency_ms=200&chunk_delay_ms=50`; defaults from settings LLMSIM_LATENCY_MS and
LLMSIM_CHUNK_DELAY_MS):
* `latency_ms`: delay before the first chunk; `chunk_delay_ms`: delay between deltas;
* `fail`: `transient` or `permanent` - every call fails that way;
* `fail_first`: the first N calls (per process and provider/model options) fail transiently, then it works;
* `thinking`: `1` streams a short thinking block (with a signature) before the answer.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings as django_settings

from .base import (
    Chunk,
    Finish,
    LLMClient,
    LLMRequest,
    ProviderError,
    TextDelta,
    ThinkingDelta,
    ThinkingSignature,
    ToolCallChunk,
    Usage,
    parse_arguments,
)

DIRECTIVE = re.compile(r"^\s*/tool\s+(?P<name>[A-Za-z0-9_.\-]+)\s*(?P<args>\{.*\})?\s*$")
_failures_used: Counter = Counter()
_failures_lock = threading.Lock()


def directives(text: str) -> list[tuple[str, dict]]:
    """The `/tool name {json}` lines of a user message (a line with malformed JSON passes {})."""
    calls = []
    for line in text.splitlines():
        match = DIRECTIVE.match(line)
        if match:
            calls.append((match["name"], parse_arguments(match["args"]) or {}))
    return calls


def _words(text: str) -> int:
    return len(text.split())


class SimulatedClient(LLMClient):
    label = "Simulated (built in, no network)"
    catalogue_family = "llmsim"
    uses_network = False
    requires_api_key = False

    @classmethod
    def options_from_urls(cls, base_url: str | None, model_id: str) -> dict[str, Any]:
        """Query parameters of the base URL and of the model id (`llmsim-default?latency_ms=50`); the model's win."""
        options: dict[str, Any] = {}
        if base_url:
            options.update(parse_qsl(urlsplit(base_url).query))
        if "?" in model_id:
            options.update(parse_qsl(model_id.split("?", 1)[1]))
        return options

    def _option(self, name: str, default: float) -> float:
        try:
            return float(self.settings.options.get(name, default))
        except (TypeError, ValueError):
            return default

    def _maybe_fail(self) -> None:
        mode = self.settings.options.get("fail")
        if mode == "permanent":
            raise ProviderError("Simulated permanent failure", permanent=True, status_code=400)
        if mode == "transient":
            raise ProviderError("Simulated transient failure", permanent=False, status_code=503)
        first = int(self._option("fail_first", 0))
        if first:
            key = (self.settings.provider_id, tuple(sorted(self.settings.options.items())))
            with _failures_lock:
                if _failures_used[key] < first:
                    _failures_used[key] += 1
                    raise ProviderError("Simulated transient failure", permanent=False, status_code=503)

    def stream(self, request: LLMRequest) -> Iterator[Chunk]:
        latency = self._option("latency_ms", getattr(django_settings, "LLMSIM_LATENCY_MS", 0)) / 1000
        chunk_delay = self._option("chunk_delay_ms", getattr(django_settings, "LLMSIM_CHUNK_DELAY_MS", 0)) / 1000
        if latency:
            time.sleep(latency)
        self._maybe_fail()

        last_user = max((i for i, m in enumerate(request.messages) if m.role == "user"), default=None)
        user_text = request.messages[last_user].plain_text() if last_user is not None else ""
        after = request.messages[last_user + 1 :] if last_user is not None else []
        results = [m for m in after if m.role == "tool"]
        calls = directives(user_text)
        input_tokens = _words(request.system) + sum(_words(m.plain_text()) for m in request.messages)

        if self.settings.options.get("thinking") in ("1", "true"):
            for piece in ("Let me think ", "about this."):
                yield ThinkingDelta(piece)
            yield ThinkingSignature("llmsim-signature")

        if calls and not results:
            for index, (name, arguments) in enumerate(calls, start=1):
                yield ToolCallChunk(
                    id=f"call_sim_{len(request.messages)}_{index}",
                    name=name,
                    arguments=arguments,
                    raw_arguments=json.dumps(arguments),
                )
            yield Usage(input_tokens=input_tokens, output_tokens=sum(_words(json.dumps(a)) for _, a in calls) + 1)
            yield Finish(reasons=["tool_calls"], response_id=f"sim_{len(request.messages)}")
            return

        if results:
            lines = [f"{m.tool_name}: {m.text}" for m in results]
            reply = "Tool results:\n" + "\n".join(lines)
        else:
            reply = f"You said: {user_text}"
        pieces = re.findall(r"\S+\s*|\s+", reply) or [reply]
        for index, piece in enumerate(pieces):
            if index and chunk_delay:
                time.sleep(chunk_delay)
            yield TextDelta(piece)
        yield Usage(input_tokens=input_tokens, output_tokens=_words(reply))
        yield Finish(reasons=["stop"], response_id=f"sim_{len(request.messages)}")
