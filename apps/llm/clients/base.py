"""The one interface every LLM provider client implements (contract 6.2, "RuntimeAgent").

Contract
--------
A client is built from a provider's settings (`ProviderSettings`: type, API key, base URL, timeout and
free-form `options`) and answers `stream(request)`:

* `request` is an `LLMRequest`: provider-side model name, system prompt, the conversation as provider
  neutral `ChatMessage`s (user / assistant / tool), tool definitions (name, description, JSON schema)
  and the optional controls (max_tokens, temperature, reasoning effort).
* `stream()` is a generator of typed chunks, in the order the provider produced them:
  `TextDelta`, `ThinkingDelta`, `ThinkingSignature`, `ToolCallChunk` (one per *complete* tool call:
  clients assemble streamed argument fragments), `Usage` (at most once, near the end) and exactly one
  `Finish` last (stop reason(s), provider response id).
* Every failure is raised as `ProviderError(message, permanent=...)`: `permanent=False` for what a
  retry may fix (429, 5xx, 529, timeouts, connection errors, a stream cut mid-way), `permanent=True`
  for what it cannot (400/401/403/404/422, no API key, unsupported provider). The message is stored in
  `reason.completed` / `llm.generation` events, so it carries no upstream text: status code and error
  type only (`sdk_error`); the upstream body goes to the server log, key redacted.
* Closing the generator early (cancel) must close the HTTP stream; clients use `with`/`finally`.
* Clients never touch the database: the runtime runs `stream()` in a helper thread.

The registry (`CLIENTS`) maps every `provider_type` to a client class (`client_class`); each class also
declares what the catalogue needs (model listing, catalogue family, env fallback key: see `LLMClient`).
`gemini` / `azure_openai` providers are stored only: their clients (stored.py) refuse to run a turn.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from django.utils.module_loading import import_string

from apps.core import metrics

logger = logging.getLogger("everruns.llm")


class ProviderError(Exception):
    """A failed provider call; `permanent` says whether retrying can help."""

    def __init__(self, message: str, *, permanent: bool, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status_code = status_code


# -- request ----------------------------------------------------------------------------------------
@dataclass
class ToolCallRequest:
    """A tool call made by the model (also used when replaying history to the provider)."""

    id: str
    name: str
    arguments: dict


@dataclass
class ChatMessage:
    """One conversation entry, provider neutral.

    role "user": `parts` are contract ContentParts (`text`, `image` with url or base64+media_type).
    role "assistant": `text`, `tool_calls`, `thinking` + `thinking_signature`.
    role "tool": the result of `tool_call_id` (`tool_name`) as `text`; `is_error` for failures.
    """

    role: Literal["user", "assistant", "tool"]
    parts: list[dict] = field(default_factory=list)
    text: str = ""
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    thinking: str | None = None
    thinking_signature: str | None = None
    tool_call_id: str | None = None
    tool_name: str | None = None
    is_error: bool = False

    def plain_text(self) -> str:
        if self.role == "user":
            return "\n".join(p.get("text", "") for p in self.parts if p.get("type") == "text")
        return self.text


@dataclass
class LLMRequest:
    model: str
    system: str
    messages: list[ChatMessage]
    tools: list[dict] = field(default_factory=list)  # [{"name", "description", "parameters"}]
    max_tokens: int | None = None
    temperature: float | None = None
    reasoning_effort: str | None = None  # none|minimal|low|medium|high|xhigh


@dataclass
class ProviderSettings:
    provider_type: str
    api_key: str | None = None
    base_url: str | None = None
    timeout: float = 600.0
    options: dict[str, Any] = field(default_factory=dict)  # client specific (llmsim: latency, failures)
    provider_id: str | None = None


# -- chunks -----------------------------------------------------------------------------------------
@dataclass
class TextDelta:
    text: str


@dataclass
class ThinkingDelta:
    text: str


@dataclass
class ThinkingSignature:
    signature: str


@dataclass
class ToolCallChunk:
    """A complete tool call. `arguments` is None when the model sent something that is not a JSON object."""

    id: str
    name: str
    arguments: dict | None
    raw_arguments: str = ""


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_creation_tokens": self.cache_creation_tokens,
        }


@dataclass
class Finish:
    reasons: list[str] = field(default_factory=list)
    response_id: str | None = None


Chunk = TextDelta | ThinkingDelta | ThinkingSignature | ToolCallChunk | Usage | Finish


def parse_arguments(raw: str | None) -> dict | None:
    """Tool-call arguments as a dict ({} for empty), or None when they are not a JSON object."""
    if not raw or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def tool_result_text(message: ChatMessage) -> str:
    return message.text if message.text else ("(error)" if message.is_error else "(empty)")


# -- the interface and the registry ---------------------------------------------------------------
@dataclass
class ListedModel:
    """One entry of a provider's model listing (`display_name` None: the provider gives none)."""

    model_id: str
    display_name: str | None = None


class ModelListingFailed(Exception):
    """A model listing that failed; `reason` says why, for the caller to map to its own error.

    `unsupported` (the server has no listing route: 404/405/501), `rejected_key` (401/403), `timeout`,
    `unreachable` (connection failed) or `failed` (anything else). No upstream text is kept.
    """

    def __init__(self, reason: str, *, status_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


class LLMClient:
    """Base class; subclasses implement `stream` and declare what the rest of the app needs to know.

    Declarations (class attributes), so that adding a provider touches its module and `CLIENTS` only:
    `label` (shown in the admin), `catalogue_family` (the table of apps/llm/catalogue.py its model ids are
    looked up in, None: none), `env_api_key_setting` + `official_hosts` (the operator's fallback key and the
    https hosts it may be sent to), `uses_network` (False: no address policy check), `requires_api_key`.
    `list_models()` is the model listing of `sync-models` (set `lists_models`), `options_from_urls()` the
    client options encoded in the base URL / model id.
    """

    label: ClassVar[str] = ""
    catalogue_family: ClassVar[str | None] = None
    env_api_key_setting: ClassVar[str | None] = None
    official_hosts: ClassVar[frozenset[str]] = frozenset()
    uses_network: ClassVar[bool] = True
    lists_models: ClassVar[bool] = False
    #: False for provider types that are stored only (no client can run a turn on them).
    runs_turns: ClassVar[bool] = True
    #: Whether the provider needs an API key (a custom base_url may do without one).
    requires_api_key: ClassVar[bool] = True

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        if self.requires_api_key and not settings.api_key:
            if not settings.base_url:
                raise ProviderError("No API key configured for this provider", permanent=True)
            # Local OpenAI-compatible servers often need none, but the SDKs insist on a value (and would
            # otherwise read OPENAI_API_KEY / ANTHROPIC_API_KEY from the environment).
            settings.api_key = "not-set"

    def stream(self, request: LLMRequest) -> Iterator[Chunk]:
        raise NotImplementedError

    def stream_observed(self, request: LLMRequest) -> Iterator[Chunk]:
        """`stream()`, measured: duration, outcome and token usage per provider type and model (GET /metrics).

        Outcome: `ok` (the stream finished), `error` (a ProviderError or any failure), `cancelled` (the
        caller closed the stream early).
        """
        started = time.perf_counter()
        outcome, usage = "error", None
        try:
            for chunk in self.stream(request):
                if isinstance(chunk, Usage):
                    usage = chunk.as_dict()
                elif isinstance(chunk, Finish):
                    outcome = "ok"
                yield chunk
        except GeneratorExit:
            outcome = "cancelled" if outcome != "ok" else outcome
            raise
        finally:
            metrics.llm_call_observed(
                provider_type=self.settings.provider_type,
                model=request.model,
                seconds=time.perf_counter() - started,
                outcome=outcome,
                usage=usage,
            )

    def list_models(self) -> list[ListedModel] | None:
        """The provider's chat models (at most `MAX_LISTED_MODELS`), None when it has no listing.

        Raises ModelListingFailed. Called with the settings' timeout and no retries.
        """
        return None

    @classmethod
    def options_from_urls(cls, base_url: str | None, model_id: str) -> dict[str, Any]:
        """Client options carried by the provider's base URL and the model id (none by default)."""
        return {}


#: At most this many models are read from a provider's listing.
MAX_LISTED_MODELS = 1000

#: The registry: every provider type, and the client class that serves it.
CLIENTS: dict[str, str] = {
    "openai": "apps.llm.clients.openai.OpenAIResponsesClient",
    "openai_completions": "apps.llm.clients.openai_completions.OpenAIChatCompletionsClient",
    "anthropic": "apps.llm.clients.anthropic.AnthropicClient",
    "llmsim": "apps.llm.clients.llmsim.SimulatedClient",
    "gemini": "apps.llm.clients.stored.GeminiClient",
    "azure_openai": "apps.llm.clients.stored.AzureOpenAIClient",
}
PROVIDER_TYPES: tuple[str, ...] = tuple(CLIENTS)


def client_class(provider_type: str) -> type[LLMClient]:
    """The client class of a provider type; ProviderError (permanent) for an unknown type."""
    path = CLIENTS.get(provider_type)
    if path is None:
        raise ProviderError(f"Provider type {provider_type!r} is not supported for turns", permanent=True)
    return import_string(path)


def client_class_or_none(provider_type: str) -> type[LLMClient] | None:
    """The client class of a provider type, None for an unknown one (a row written before a type was removed)."""
    return import_string(CLIENTS[provider_type]) if provider_type in CLIENTS else None


def provider_type_choices() -> list[tuple[str, str]]:
    """(provider_type, label) of every registered provider, for forms."""
    return [(provider_type, client_class(provider_type).label) for provider_type in CLIENTS]


def build_client(settings: ProviderSettings) -> LLMClient:
    """The client for these settings; raises ProviderError (permanent) when none can be built."""
    return client_class(settings.provider_type)(settings)


# -- SDK error mapping (openai and anthropic share the shape) ---------------------------------------
TRANSIENT_STATUSES = frozenset({408, 409, 425, 429})


def is_transient_status(status: int) -> bool:
    return status in TRANSIENT_STATUSES or status >= 500


def sdk_error(exc: Exception, provider: str, *, api_key: str | None = None) -> ProviderError:
    """Map an exception of the openai/anthropic SDK (or httpx underneath) to a ProviderError.

    The message keeps only what is safe to store in events (`reason.completed.data.error`,
    `llm.generation.metadata.error`, readable by every member through /events and SSE): the HTTP
    status and the provider's error type, or the exception class. The upstream body / exception
    text (which can echo prompts, URLs or key fragments) goes to the server log only, with the API
    key redacted.
    """
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    detail = getattr(exc, "message", None) or str(exc)
    if isinstance(status, int):
        kind = provider_error_type(getattr(exc, "body", None)) or name
        logger.warning("%s returned HTTP %s (%s): %s", provider, status, kind, redact(detail, api_key))
        return ProviderError(
            f"{provider} returned HTTP {status} ({kind})", permanent=not is_transient_status(status), status_code=status
        )
    logger.warning("%s call failed: %s: %s", provider, name, redact(detail, api_key))
    # By class name: the SDKs ship different HTTP stacks (httpx, httpx2) with the same exception tree.
    bases = {cls.__name__ for cls in type(exc).__mro__}
    if "Timeout" in name or "TimeoutException" in bases:
        return ProviderError(f"{provider} request timed out", permanent=False)
    if "Connection" in name or "TransportError" in bases:
        return ProviderError(f"{provider} connection failed ({name})", permanent=False)
    return ProviderError(f"{provider} request failed ({name})", permanent=True)


def listing_error(exc: Exception) -> ModelListingFailed:
    """Map an exception of the openai/anthropic SDK raised by a model listing to a ModelListingFailed."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        if status in (404, 405, 501):
            return ModelListingFailed("unsupported", status_code=status)
        if status in (401, 403):
            return ModelListingFailed("rejected_key", status_code=status)
        return ModelListingFailed("failed", status_code=status)
    name = type(exc).__name__
    # The SDKs' timeout error subclasses their connection error: test for it first.
    if "Timeout" in name:
        return ModelListingFailed("timeout")
    if "Connection" in name:
        return ModelListingFailed("unreachable")
    return ModelListingFailed("failed")


_SAFE_TYPE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_KEY_LIKE = re.compile(r"\b(sk|sk-ant|sk-proj|key|evr)[-_][A-Za-z0-9_\-*]{6,}")


def provider_error_type(body) -> str | None:
    """The provider's machine-readable error type (`invalid_request_error`, `rate_limit_error`…), if any.

    OpenAI bodies are {"error": {"type", "code", "message"}} (the SDK passes the inner object),
    Anthropic's {"type": "error", "error": {"type", "message"}}. Only identifier-like values are kept.
    """
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    inner = error if isinstance(error, dict) else body
    for key in ("type", "code"):
        value = inner.get(key)
        if isinstance(value, str) and value != "error" and _SAFE_TYPE.match(value):
            return value
    return None


def redact(text: object, api_key: str | None = None, limit: int = 2000) -> str:
    """Text for the server log: the API key (and anything shaped like a key) removed, length bounded."""
    text = str(text)
    if api_key and len(api_key) >= 4:
        text = text.replace(api_key, "[redacted]")
    return _KEY_LIKE.sub("[redacted]", text)[:limit]
