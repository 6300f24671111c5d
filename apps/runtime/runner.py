"""The runner: the agent loop of one claimed turn (contract 6): reason (model call, streamed), act (tools), repeat.

Entry point: `turn_run_pending(session_id=...)`, what the `apps.sessions.tasks.run_turn` task runs (registered
in apps.runtime.apps) and what tests call inline. It claims the session's turn (apps.runtime.scheduling) and
runs it with `TurnRunner`, then keeps going while unanswered user messages remain (follow-up turns), and
returns when there is nothing to do or another live worker owns the session's turn.

Durability (architecture.md): every step is persisted before the next starts, in one transaction per step
(the agent message, its llm.generation/reason.completed events and the usage counters together; each tool
result on its own). A resumed turn rebuilds the conversation from those events, executes only the tool
calls that have no tool.completed yet, and never re-emits a stored message.
Ownership: every persisting write holds the turn's lease (apps.runtime.scheduling.Lease: TurnLost if
another worker took over), so two workers never both write steps. The turn's and the session's status and
the lifecycle events (turn.*, session.*) are written by apps.sessions.turns (`finish`, `pause`), which the
runner calls; the runner writes the steps (reason/act events, messages, usage).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.capabilities import registry
from apps.capabilities.base import ToolContext
from apps.core.exceptions import ApplicationError
from apps.core.fields import format_ts
from apps.core.ids import format_id, new_id, parse_id
from apps.core.logcontext import log_context, log_context_bind
from apps.core.usage import usage_increment_expressions
from apps.harnesses import resolve
from apps.harnesses.resolve import session_base_config
from apps.llm.clients import (
    Finish,
    LLMRequest,
    ProviderError,
    TextDelta,
    ThinkingDelta,
    ThinkingSignature,
    ToolCallChunk,
    Usage,
    build_client,
    provider_settings,
)
from apps.llm.models import LlmModel
from apps.llm.services import provider_base_url_check
from apps.mcp.services import attachment_refs as mcp_attachment_refs
from apps.sessions import turns
from apps.sessions.event_types import EventType
from apps.sessions.events import event_append
from apps.sessions.models import Event, Session, Turn
from apps.sessions.secrets import secrets_for_tools
from apps.sessions.services import message_text, preview_text
from apps.sessions.tasks import enqueue_turn
from apps.usage.budgets import EXCEEDED_MESSAGE, budget_exceeded_notify, budget_gate, budget_holds_release
from apps.usage.services import usage_record

from .control import TurnCancelled, TurnFailed, TurnLost
from .conversation import History, build_history
from .initial_files import seed_initial_files
from .progress import handled_sequence, mark_handled
from .scheduling import Lease, turn_claim, worker_id_new
from .tools import ToolCallPlan, ToolOutcome, run_tool_calls
from .workers import DATABASE_ERRORS

logger = logging.getLogger("everruns.runtime")

ERROR_MESSAGE = "I encountered an error while processing your request. Please try again later."
ERROR_EVENT_TEXT = "An error occurred while processing your request."
CANCEL_MESSAGE = turns.CANCELLED_MESSAGE
MAX_ITERATIONS_EVENT_TEXT = "Maximum number of iterations reached"
BUDGET_EXCEEDED = "budget_exceeded"  # error_code of a turn a budget stopped
BUDGET_STOP_MESSAGE = "I stopped because a budget for this work is used up."
MAX_TURNS_PER_CALL = 50  # follow-up turns one task runs before handing over (keeps a worker fair)


def turn_run_pending(*, session_id: Any) -> dict:
    """Run the session's pending turn(s) in this thread; see the module docstring.

    Returns how each turn it ran ended, `{"turns": [{"turn_id", "status", "error_code"}]}`: the run_turn
    task stores it as its return value, so a turn that failed does not hide behind a "successful" task
    (the task itself succeeded: it ran the turn to its end). The admin's task list shows it.
    """
    worker_id = worker_id_new()
    outcomes: list[dict] = []
    for _ in range(MAX_TURNS_PER_CALL):
        turn = turn_claim(session_id=session_id, worker_id=worker_id)
        if turn is None:
            return {"turns": outcomes}
        runner = TurnRunner(turn, worker_id)
        runner.run()
        outcomes.append(runner.outcome)
    # Still more to do (a very chatty session): let another task continue, after the others queued.
    enqueue_turn(session_id)
    return {"turns": outcomes}


def generation_message(message: dict) -> dict:
    """A message as llm.generation stores it: base64 image data replaced by a note of its size."""
    content = message.get("content")
    if not any(isinstance(p, dict) and p.get("base64") for p in content or []):
        return message
    parts = [
        ({k: v for k, v in p.items() if k != "base64"} | {"base64_omitted_chars": len(p["base64"])})
        if isinstance(p, dict) and p.get("base64")
        else p
        for p in content or []
    ]
    return {**message, "content": parts}


# --------------------------------------------------------------------------- one turn
@dataclass
class StepResult:
    text: str = ""
    thinking: str = ""
    signature: str | None = None
    tool_calls: list[ToolCallChunk] = field(default_factory=list)
    usage: Usage | None = None
    finish: Finish | None = None
    ttft_ms: int | None = None


class _Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = object()


class TurnRunner:
    """Runs one claimed turn to its end: completed, failed or cancelled, and the session idle."""

    def __init__(self, turn: Turn, worker_id: str) -> None:
        self.turn = turn
        self.worker_id = worker_id
        self.session_id = turn.session_id
        self.turn_key = format_id("turn", turn.pk)
        self.input_message_key = format_id("message", turn.input_message_id)
        self.exec_id = new_id("exec")
        self.iterations = turn.iterations
        self.seen_sequence = 0  # the last event sequence a reasoning step of this run has read
        self.lease = Lease(turn, worker_id)
        self.check_interval = self.lease.check_interval
        self.batch_seconds = float(settings.RUNTIME_DELTA_BATCH_MS) / 1000
        # How the run ended (turn_run_pending reports it); "lost" unless one of the finish_* steps ran.
        self.outcome: dict = {"turn_id": self.turn_key, "status": "lost", "error_code": None}

    # -- helpers ---------------------------------------------------------------------------------
    def context(self, span: str | None = None, parent: str | None = None) -> dict:
        context = {
            "turn_id": self.turn_key,
            "input_message_id": self.input_message_key,
            "exec_id": self.exec_id,
            "trace_id": self.turn_key,
        }
        if span:
            context["span_id"] = span
            context["parent_span_id"] = parent or self.turn_key
        return context

    def emit(self, type_: EventType, data: dict, context: dict | None = None) -> Event:
        return event_append(session_id=self.session_id, type=type_, data=data, context=context or self.context())

    def emit_message(
        self, type_: EventType, message: dict, extra: dict | None = None, context: dict | None = None
    ) -> Event:
        # session_id / sequence of a message are taken from its event row when it is read back
        # (apps.sessions.selectors.message_from_event), so they are not stored twice.
        return self.emit(type_, {"message": message, **(extra or {})}, context)

    def agent_message(self, content: list[dict], *, thinking: str | None = None, signature: str | None = None) -> dict:
        message = {
            "id": new_id("message"),
            "role": "agent",
            "content": content,
            "created_at": format_ts(timezone.now()),
        }
        if thinking:
            message["thinking"] = thinking
            message["thinking_signature"] = signature
        return message

    def own(self, **updates: Any) -> None:
        """Check we still own the turn (inside the caller's transaction), beat, and apply updates to it
        (apps.runtime.scheduling.Lease.hold: the session row is locked first, the one lock order)."""
        self.lease.hold(**updates)

    def checkpoint(self, force: bool = False) -> None:
        """Cancel check and heartbeat, at most every RUNTIME_CHECK_INTERVAL_MS (always when forced)."""
        self.lease.check(force)

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, self.check_interval))
            self.checkpoint()

    # -- the turn ----------------------------------------------------------------------------------
    def run(self) -> None:
        # Every log line of the turn names it, its session and (from prepare) its organization.
        with log_context(session_id=format_id("session", self.session_id), turn_id=self.turn_key):
            try:
                self._run()
            except TurnLost:
                if self.session_deleted():
                    logger.info("%s: its session was deleted; stopping", self.turn_key)
                else:
                    logger.warning("%s was taken over by another worker; stopping", self.turn_key)

    def session_deleted(self) -> bool:
        """The session was deleted while this turn ran (session_delete): the turn simply stops, no error."""
        return not Session.objects.filter(pk=self.session_id).exists()

    def _run(self) -> None:
        started = time.monotonic()
        try:
            self.prepare()
            self.loop()
            self.finish_completed(started)
        except TurnCancelled:
            self.finish_cancelled()
        except TurnFailed as failure:
            self.finish_failed(failure.error_code, failure.detail)
        except DATABASE_ERRORS:
            # The database went away: not the turn's failure. The worker rides out the outage; the turn's
            # lease expires and recovery resumes it from its stored events once the database is back.
            raise
        except Exception as exc:
            if self.session_deleted():  # e.g. event_append found no session: nothing is left to finish
                raise TurnLost from exc
            # A bug must not leave the session active: end the turn like an LLM failure.
            logger.exception("%s failed unexpectedly", self.turn_key)
            self.finish_failed("internal_error", f"{type(exc).__name__}: {exc}")
        finally:
            budget_holds_release(turn=self.turn)  # none of this turn's model calls is in flight any more

    def prepare(self) -> None:
        session = Session.objects.select_related("agent", "organization", "agent_version", "harness").get(
            pk=self.session_id
        )
        self.session = session
        log_context_bind(organization_id=format_id("org", session.organization_id))
        self.agent = session.agent
        # llm.generation stores only the messages added since the previous generation (see generation_data).
        self.generation_cursor = handled_sequence(self.session_id)
        # Harness → agent (its pinned version) → session, resolved in apps.harnesses.resolve.
        self.config = resolve.session_config(session_base_config(session), session)
        refs = list(self.config["capabilities"])
        # `mcpServers` of the agent, then of the session: `mcp:` capability references like any other.
        owners = ([("agent", self.agent.pk)] if self.agent is not None else []) + [("session", session.pk)]
        refs += mcp_attachment_refs(owners=owners)
        resolved = registry.resolve(refs, organization_id=session.organization_id, for_turn=True)
        self.system_prompt = resolved.system_prompt(self.config["system_prompt"])
        if self.config["initial_files"] and not self.turn.resumed and not self.earlier_turns():
            seed_initial_files(session=session, initial_files=self.config["initial_files"])
        self.tools = {tool.name: tool for tool in resolved.tools}
        self.secrets = secrets_for_tools(self.session_id) if self.tools else {}
        self.tool_configs: dict[str, dict] = {}
        for capability in resolved.capabilities:
            for tool in capability.tools:
                self.tool_configs.setdefault(tool.name, resolved.config_for(capability.id))
        self.model_error: str | None = None
        self.controls: dict = {}
        self.model: LlmModel | None
        latest = Event.objects.filter(session_id=self.session_id, type=EventType.INPUT_MESSAGE).order_by("-sequence")
        for data, metadata in latest.values_list("data", "metadata")[:20]:
            if not (metadata or {}).get("cancellation"):
                self.controls = ((data or {}).get("message") or {}).get("controls") or {}
                break
        try:
            self.model = self.resolve_model()
        except Exception as exc:  # e.g. NoModelAvailable: reported like any provider failure
            self.model, self.model_error = None, f"No usable model: {exc}"

    def resolve_model(self) -> LlmModel:
        """controls.model_id of the last user message -> session model -> agent default -> harness default -> org
        default (3.3; the middle three resolved in apps.harnesses.resolve)."""
        from apps.llm.services import llm_default_model

        models = LlmModel.objects.select_related("provider").filter(organization_id=self.session.organization_id)
        for candidate in (
            parse_id("model", self.controls.get("model_id")),
            parse_id("model", self.config["default_model_id"]),  # session > agent > harness
        ):
            if candidate is not None:
                model = models.filter(pk=candidate).first()
                if model is not None:
                    return model
        return llm_default_model(organization=self.session.organization)

    def earlier_turns(self) -> bool:
        return Turn.objects.filter(session_id=self.session_id, created_at__lt=self.turn.created_at).exists()

    def max_iterations(self) -> int:
        """The resolved max_iterations (harness, agent, session), else the server's RUNTIME_MAX_ITERATIONS."""
        config = getattr(self, "config", None) or {}
        return int(config.get("max_iterations") or settings.RUNTIME_MAX_ITERATIONS)

    def loop(self) -> None:
        max_iterations = self.max_iterations()
        if self.turn.resumed:
            # A turn taken over (or resumed after a pause, or queued again to be cancelled): honour a
            # cancel before finishing the interrupted step.
            self.checkpoint(force=True)
            if self.resume():
                return
        while True:
            self.checkpoint(force=True)
            if self.iterations >= max_iterations:
                raise TurnFailed("max_iterations", f"{MAX_ITERATIONS_EVENT_TEXT} ({max_iterations})")
            self.budget_gate()
            calls = self.reason()
            if not calls:
                return
            self.act(calls)

    def budget_gate(self) -> None:
        """Before every model call (apps.usage.budgets.budget_gate): wait while calls in flight could use up
        what a budget has left; stop the turn (failed, with the reason) when a budget is exhausted."""
        while (verdict := budget_gate(session=self.session, turn=self.turn)).action == "wait":
            self.sleep(self.check_interval)
        if verdict.action == "stop":
            with transaction.atomic():
                self.own()
                budget_exceeded_notify(session=self.session, verdict=verdict, turn_id=self.turn_key)
            raise TurnFailed(BUDGET_EXCEEDED, verdict.message or EXCEEDED_MESSAGE)

    def resume(self) -> bool:
        """After a crash: finish the interrupted step. True when the turn's work is already done.

        The last stored agent message of this turn tells where it stopped: with tool calls, the calls
        without a tool.completed run now (completed ones never run again) and the loop continues; without
        tool calls, the answer was stored and only the closing events are missing.
        """
        last = (
            Event.objects.filter(
                session_id=self.session_id, type=EventType.OUTPUT_MESSAGE_COMPLETED, context__turn_id=self.turn_key
            )
            .order_by("-sequence")
            .first()
        )
        if last is None:
            return False
        parts = [p for p in (last.data.get("message") or {}).get("content") or [] if p.get("type") == "tool_call"]
        if not parts:
            return True
        done = set(
            Event.objects.filter(
                session_id=self.session_id,
                type=EventType.TOOL_COMPLETED,
                sequence__gt=last.sequence,
                data__tool_call_id__in=[p["id"] for p in parts],
            ).values_list("data__tool_call_id", flat=True)
        )
        missing = [
            ToolCallChunk(id=p["id"], name=p.get("name", ""), arguments=p.get("arguments"))
            for p in parts
            if p["id"] not in done
        ]
        if missing:
            self.act(missing)
        return False

    # -- reason ------------------------------------------------------------------------------------
    def reason(self) -> list[ToolCallChunk]:
        history = build_history(self.session_id)
        self.seen_sequence = history.last_sequence
        reason_span, llm_span = new_id("reason"), new_id("llm")
        model_meta = self.model_metadata()
        with transaction.atomic():
            self.emit(
                EventType.REASON_STARTED,
                {"agent_id": format_id("agent", self.agent.public_id) if self.agent else None, "metadata": model_meta},
                self.context(reason_span),
            )
            self.emit(
                EventType.OUTPUT_MESSAGE_STARTED,
                {"turn_id": self.turn_key, "model": model_meta},
                self.context(reason_span),
            )
        request = self.build_request(history)
        started = time.monotonic()
        attempts, waited = 0, 0.0
        max_retries = int(settings.RUNTIME_LLM_MAX_RETRIES)
        while True:
            attempts += 1
            try:
                if self.model_error:
                    raise ProviderError(self.model_error, permanent=True)
                step = self.stream(request, reason_span)
                break
            except ProviderError as exc:
                if exc.permanent or attempts > max_retries:
                    self.fail_step(history, request, exc, reason_span, llm_span, started, attempts, waited)
                    raise TurnFailed("llm_error", exc.message) from None
                delay = min(
                    float(settings.RUNTIME_LLM_RETRY_BASE_SECS) * 2 ** (attempts - 1),
                    float(settings.RUNTIME_LLM_RETRY_MAX_SECS),
                )
                logger.warning(
                    "%s: transient provider error (attempt %d), retrying in %.2fs: %s",
                    self.turn_key,
                    attempts,
                    delay,
                    exc.message,
                )
                self.sleep(delay)
                waited += delay
        self.persist_step(history, request, step, reason_span, llm_span, started, attempts, waited)
        return step.tool_calls

    def model_metadata(self) -> dict:
        if self.model is None:
            return {"model": None}
        return {
            "model": self.model.model_id,
            "model_id": format_id("model", self.model.pk),
            "provider_id": format_id("provider", self.model.provider_id),
        }

    def build_request(self, history: History) -> LLMRequest:
        reasoning_control = self.controls.get("reasoning")
        reasoning: dict = reasoning_control if isinstance(reasoning_control, dict) else {}
        max_tokens = self.controls.get("max_tokens")
        temperature = self.controls.get("temperature")
        model_name = self.model.model_id if self.model else ""
        if self.model is not None and self.model.provider.provider_type == "llmsim":
            model_name = model_name.split("?", 1)[0]
        return LLMRequest(
            model=model_name,
            system=self.system_prompt,
            messages=history.messages,
            tools=[tool.definition() for tool in self.tools.values()],
            max_tokens=max_tokens if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) else None,
            temperature=float(temperature)
            if isinstance(temperature, int | float) and not isinstance(temperature, bool)
            else None,
            reasoning_effort=reasoning.get("effort") if isinstance(reasoning.get("effort"), str) else None,
        )

    def client(self):
        model = self.model
        if model is None:  # reason() raises model_error before it gets here
            raise ProviderError(self.model_error or "No usable model", permanent=True)
        if model.status != "active" or model.provider.status != "active":
            raise ProviderError("The model or its provider is disabled", permanent=True)
        try:
            provider_base_url_check(model.provider)  # SSRF policy for org-chosen base URLs
        except ApplicationError as exc:
            raise ProviderError(exc.message, permanent=True) from exc
        # The session owner's own connection stands in when the provider has no key (docs/usage.md).
        return build_client(provider_settings(model.provider, model.model_id, user_id=self.session.created_by_id))

    def stream(self, request: LLMRequest, span: str) -> StepResult:
        """Call the model; stream deltas as events (batched), checking cancel while waiting."""
        client = self.client()
        chunks: queue.Queue = queue.Queue()
        stop = threading.Event()

        def produce() -> None:
            generator = client.stream_observed(request)  # measured: apps.core.metrics
            try:
                for chunk in generator:
                    chunks.put(chunk)
                    if stop.is_set():
                        break
            except BaseException as exc:
                chunks.put(_Raised(exc))
            finally:
                generator.close()
                chunks.put(_END)

        threading.Thread(target=produce, name=f"llm-{self.turn_key}", daemon=True).start()
        step = StepResult()
        started = time.monotonic()
        pending = {"text": "", "thinking": ""}
        last_flush = {"text": 0.0, "thinking": 0.0}
        thinking_open = False
        context = self.context(span)

        def flush(kind: str, force: bool = False) -> None:
            if not pending[kind]:
                return
            now = time.monotonic()
            if not force and last_flush[kind] and now - last_flush[kind] < self.batch_seconds:
                return
            accumulated = step.text if kind == "text" else step.thinking
            event_type = EventType.OUTPUT_MESSAGE_DELTA if kind == "text" else EventType.REASON_THINKING_DELTA
            self.emit(
                event_type, {"turn_id": self.turn_key, "delta": pending[kind], "accumulated": accumulated}, context
            )
            pending[kind] = ""
            last_flush[kind] = now

        def close_thinking() -> None:
            nonlocal thinking_open
            if thinking_open:
                flush("thinking", force=True)
                self.emit(
                    EventType.REASON_THINKING_COMPLETED, {"turn_id": self.turn_key, "thinking": step.thinking}, context
                )
                thinking_open = False

        try:
            while True:
                try:
                    item = chunks.get(timeout=self.check_interval)
                except queue.Empty:
                    flush("text")
                    flush("thinking")
                    self.checkpoint()
                    continue
                if item is _END:
                    break
                if isinstance(item, _Raised):
                    if isinstance(item.exc, ProviderError):
                        raise item.exc
                    logger.error("%s: the provider client raised", self.turn_key, exc_info=item.exc)
                    raise ProviderError(f"Provider client error ({type(item.exc).__name__})", permanent=True)
                if step.ttft_ms is None and isinstance(item, TextDelta | ThinkingDelta | ToolCallChunk):
                    step.ttft_ms = int((time.monotonic() - started) * 1000)
                if isinstance(item, ThinkingDelta):
                    if not thinking_open:
                        thinking_open = True
                        self.emit(
                            EventType.REASON_THINKING_STARTED,
                            {"turn_id": self.turn_key, "model": self.model.model_id if self.model else None},
                            context,
                        )
                    step.thinking += item.text
                    pending["thinking"] += item.text
                    flush("thinking")
                elif isinstance(item, ThinkingSignature):
                    step.signature = (step.signature or "") + item.signature
                elif isinstance(item, TextDelta):
                    close_thinking()
                    step.text += item.text
                    pending["text"] += item.text
                    flush("text")
                elif isinstance(item, ToolCallChunk):
                    step.tool_calls.append(item)
                elif isinstance(item, Usage):
                    step.usage = item
                elif isinstance(item, Finish):
                    step.finish = item
                self.checkpoint()
            close_thinking()
            flush("text", force=True)
        finally:
            stop.set()
        return step

    def generation_data(
        self,
        history: History,
        request: LLMRequest,
        *,
        output: dict,
        success: bool,
        started: float,
        attempts: int,
        waited: float,
        step: StepResult | None = None,
        error: str | None = None,
    ) -> dict:
        system = {"role": "system", "content": [{"type": "text", "text": request.system}]}
        metadata: dict = {
            "model": request.model or None,
            "provider": self.model.provider.provider_type if self.model else None,
            "success": success,
            "duration_ms": int((time.monotonic() - started) * 1000),
        }
        if step is not None:
            metadata.update(
                {
                    "usage": step.usage.as_dict() if step.usage else None,
                    "time_to_first_token_ms": step.ttft_ms,
                    "finish_reasons": step.finish.reasons if step.finish else None,
                    "response_id": step.finish.response_id if step.finish else None,
                }
            )
        if error:
            metadata["error"] = error
        if attempts > 1:
            metadata["retry"] = {"attempts": attempts, "total_wait_ms": int(waited * 1000)}
        # Only the messages added since the previous generation of the session (the earlier ones are in
        # earlier llm.generation events): storing the whole history every step would grow the log
        # quadratically. Base64 image data is replaced by its size. docs/runtime.md, "llm.generation".
        added = [
            generation_message(m) for m in history.api_messages if (m.get("sequence") or 0) > self.generation_cursor
        ]
        return {
            "messages": [system, *added],
            "messages_after_sequence": self.generation_cursor,
            "tools": [{"name": t["name"], "description": t.get("description", "")} for t in request.tools],
            "output": output,
            "metadata": metadata,
        }

    def persist_step(
        self,
        history: History,
        request: LLMRequest,
        step: StepResult,
        reason_span: str,
        llm_span: str,
        started: float,
        attempts: int,
        waited: float,
    ) -> None:
        content: list[dict] = [{"type": "text", "text": step.text}] if step.text else []
        tool_calls = [
            {"id": c.id, "name": c.name, "arguments": c.arguments if c.arguments is not None else {}}
            for c in step.tool_calls
        ]
        content += [{"type": "tool_call", **c} for c in tool_calls]
        usage = step.usage.as_dict() if step.usage else None
        duration_ms = int((time.monotonic() - started) * 1000)
        with transaction.atomic():
            self.own(iterations=F("iterations") + 1, model=request.model or None, **usage_increment_expressions(usage))
            self.emit(
                EventType.REASON_COMPLETED,
                {
                    "success": True,
                    "text_preview": step.text[:200] or None,
                    "has_tool_calls": bool(tool_calls),
                    "tool_call_count": len(tool_calls),
                    "duration_ms": duration_ms,
                    "usage": usage,
                },
                self.context(reason_span),
            )
            self.emit(
                EventType.LLM_GENERATION,
                self.generation_data(
                    history,
                    request,
                    output={"text": step.text or None, "tool_calls": tool_calls},
                    success=True,
                    started=started,
                    attempts=attempts,
                    waited=waited,
                    step=step,
                ),
                self.context(llm_span, reason_span),
            )
            message = self.agent_message(content, thinking=step.thinking or None, signature=step.signature)
            self.emit_message(
                EventType.OUTPUT_MESSAGE_COMPLETED,
                message,
                {"metadata": self.model_metadata(), "usage": usage},
                self.context(reason_span),
            )
            if self.model is not None:
                usage_record(session=self.session, turn=self.turn, model=self.model, usage=usage)
            session_updates = usage_increment_expressions(usage)
            if usage and self.agent is not None:  # a session on its harness alone has no agent to charge
                type(self.agent).objects.filter(pk=self.agent.pk).update(**usage_increment_expressions(usage))
            if step.text:
                session_updates.update(output_preview=preview_text(step.text), updated_at=timezone.now())
            if session_updates:
                Session.objects.filter(pk=self.session_id).update(**session_updates)
            mark_handled(self.session_id, history.last_sequence)
        self.iterations += 1
        self.generation_cursor = max(self.generation_cursor, history.last_sequence)

    def fail_step(
        self,
        history: History,
        request: LLMRequest,
        exc: ProviderError,
        reason_span: str,
        llm_span: str,
        started: float,
        attempts: int,
        waited: float,
    ) -> None:
        logger.warning("%s: provider call failed for good: %s", self.turn_key, exc.message)
        with transaction.atomic():
            self.own(model=request.model or None)
            self.emit(
                EventType.REASON_COMPLETED,
                {
                    "success": False,
                    "has_tool_calls": False,
                    "tool_call_count": 0,
                    "error": exc.message,
                    "duration_ms": int((time.monotonic() - started) * 1000),
                },
                self.context(reason_span),
            )
            self.emit(
                EventType.LLM_GENERATION,
                self.generation_data(
                    history,
                    request,
                    output={"text": None, "tool_calls": []},
                    success=False,
                    started=started,
                    attempts=attempts,
                    waited=waited,
                    error=exc.message,
                ),
                self.context(llm_span, reason_span),
            )
            mark_handled(self.session_id, history.last_sequence)

    # -- act ---------------------------------------------------------------------------------------
    def act(self, calls: list[ToolCallChunk]) -> None:
        act_span = new_id("act")
        default_timeout = float(settings.RUNTIME_TOOL_TIMEOUT_SECS)
        plans: list[ToolCallPlan] = []
        for call in calls:
            tool = self.tools.get(call.name)
            plans.append(
                ToolCallPlan(
                    id=call.id,
                    name=call.name,
                    arguments=call.arguments,
                    tool=tool,
                    timeout=float(tool.timeout_secs or default_timeout) if tool else default_timeout,
                    context=ToolContext(
                        organization_id=self.session.organization_id,
                        session_id=self.session_id,
                        agent_id=self.agent.pk if self.agent else None,
                        turn_id=self.turn_key,
                        tool_call_id=call.id,
                        config=self.tool_configs.get(call.name, {}),
                        secrets=self.secrets,
                    ),
                )
            )
        started = time.monotonic()
        with transaction.atomic():
            self.own()
            self.emit(
                EventType.ACT_STARTED,
                {"tool_calls": [{"id": p.id, "name": p.name} for p in plans]},
                self.context(act_span),
            )
            for plan in plans:
                self.emit(
                    EventType.TOOL_STARTED,
                    {"tool_call": {"id": plan.id, "name": plan.name, "arguments": plan.arguments or {}}},
                    self.context(f"tool_{plan.id}", act_span),
                )
        outcomes: list[ToolOutcome] = []

        def on_result(outcome: ToolOutcome) -> None:
            outcomes.append(outcome)
            self.persist_tool_result(outcome, act_span)

        try:
            run_tool_calls(
                plans,
                on_result=on_result,
                checkpoint=self.checkpoint,
                # parallel_tool_calls: false (harness, agent or session) runs the calls one at a time.
                max_parallel=1
                if self.config["parallel_tool_calls"] is False
                else int(settings.RUNTIME_TOOL_MAX_PARALLEL),
            )
        except TurnLost:
            raise  # another worker owns the turn now: write nothing more
        except TurnCancelled:
            # Every call has its tool.completed (cancelled ones included): close the batch, then stop.
            self.act_completed(outcomes, plans, started, act_span)
            raise
        self.act_completed(outcomes, plans, started, act_span)

    def act_completed(
        self, outcomes: list[ToolOutcome], plans: list[ToolCallPlan], started: float, act_span: str
    ) -> None:
        if len(outcomes) != len(plans):
            return
        successes = sum(1 for o in outcomes if o.success)
        with transaction.atomic():
            self.own()
            self.emit(
                EventType.ACT_COMPLETED,
                {
                    "completed": len(outcomes),
                    "success_count": successes,
                    "error_count": len(outcomes) - successes,
                    "duration_ms": int((time.monotonic() - started) * 1000),
                },
                self.context(act_span),
            )

    def persist_tool_result(self, outcome: ToolOutcome, act_span: str) -> None:
        call = outcome.call
        message = {
            "id": new_id("message"),
            "role": "tool_result",
            "content": [
                {
                    "type": "tool_result",
                    "tool_call_id": call.id,
                    "result": outcome.result if outcome.success else None,
                    "error": outcome.error,
                }
            ],
            "created_at": format_ts(timezone.now()),
        }
        data = {
            "tool_call_id": call.id,
            "tool_name": call.name,
            "success": outcome.success,
            "status": outcome.status,
            "result": [{"type": "text", "text": outcome.result_text}] if outcome.success else None,
            "error": outcome.error,
            "duration_ms": outcome.duration_ms,
        }
        with transaction.atomic():
            if outcome.status != "cancelled":  # a cancelled batch is written while the turn stops anyway
                self.own()
            self.emit_message(EventType.TOOL_COMPLETED, message, data, self.context(f"tool_{call.id}", act_span))

    # -- endings (the lifecycle transitions are apps.sessions.turns.finish) ------------------------
    def _duration_ms(self) -> int | None:
        started = self.turn.started_at
        return int((timezone.now() - started).total_seconds() * 1000) if started else None

    def finish_completed(self, started: float) -> None:
        with transaction.atomic():
            if Turn.objects.filter(pk=self.turn.pk).values_list("cancel_requested", flat=True).first():
                raise TurnCancelled
            input_content = None
            if self.turn.input_message_id:
                first = Event.objects.filter(
                    session_id=self.session_id, type=EventType.INPUT_MESSAGE, data__message__id=self.input_message_key
                ).first()
                message = ((first.data or {}).get("message") or {}) if first else {}
                input_content = message_text(message.get("content")) if first else None
            turns.finish(
                turn=self.turn,
                worker_id=self.worker_id,
                status=Turn.STATUS_COMPLETED,
                iterations=self.iterations,
                context=self.context(),
                duration_ms=self._duration_ms(),
                input_content=input_content,
            )
            self.lease.last_heartbeat = time.monotonic()
        self.outcome["status"] = Turn.STATUS_COMPLETED

    def finish_cancelled(self) -> None:
        with transaction.atomic():
            self.own()
            message = self.agent_message([{"type": "text", "text": CANCEL_MESSAGE}])
            self.emit_message(EventType.OUTPUT_MESSAGE_COMPLETED, message, {"metadata": self.model_metadata()})
            turns.finish(
                turn=self.turn,
                worker_id=self.worker_id,
                status=Turn.STATUS_CANCELLED,
                iterations=self.iterations,
                context=self.context(),
            )
            # Everything up to the cancellation notice is dealt with; later messages get a new turn.
            notice = turns.last_cancellation_sequence(self.session_id)
            mark_handled(self.session_id, max(notice, self.seen_sequence))
        self.outcome["status"] = Turn.STATUS_CANCELLED

    def finish_failed(self, error_code: str, detail: str) -> None:
        with transaction.atomic():
            self.own()
            text = ERROR_MESSAGE
            if error_code == "max_iterations":
                text = (
                    f"I stopped because I reached the maximum number of steps "
                    f"({self.max_iterations()}) for one request."
                )
            elif error_code == BUDGET_EXCEEDED:
                text = BUDGET_STOP_MESSAGE
            self.emit_message(
                EventType.OUTPUT_MESSAGE_COMPLETED,
                self.agent_message([{"type": "text", "text": text}]),
                {"metadata": self.model_metadata()},
            )
            public_error = MAX_ITERATIONS_EVENT_TEXT if error_code == "max_iterations" else ERROR_EVENT_TEXT
            if error_code == BUDGET_EXCEEDED:
                public_error = detail  # which budget and what is left: ids and numbers, safe to show
            turns.finish(
                turn=self.turn,
                worker_id=self.worker_id,
                status=Turn.STATUS_FAILED,
                iterations=self.iterations,
                context=self.context(),
                error=public_error,
                error_code=error_code,
                detail=detail,
            )
            # What the turn read is dealt with (the user saw the error); newer messages start a new turn.
            mark_handled(self.session_id, self.seen_sequence or self.first_input_sequence())
        self.outcome.update(status=Turn.STATUS_FAILED, error_code=error_code)

    def pause(self, reason: str, request: dict | None = None) -> None:
        """The turn waits for its client (apps.sessions.turns.pause); this worker stops holding it."""
        turns.pause(turn=self.turn, worker_id=self.worker_id, reason=reason, request=request)

    def first_input_sequence(self) -> int:
        """The sequence of the turn's input message (a turn that failed before reading anything)."""
        return (
            Event.objects.filter(
                session_id=self.session_id, type=EventType.INPUT_MESSAGE, data__message__id=self.input_message_key
            )
            .values_list("sequence", flat=True)
            .first()
        ) or 0
