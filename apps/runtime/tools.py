"""Running one batch of tool calls: in parallel threads, each with a deadline; results are values, not events.

The caller (the turn) persists each result as it arrives. Threads only compute: they never write the
event log, so a timed-out or cancelled call that finishes late changes nothing. Threads close their
own database connections when they end (tools such as the session file system use the database).

Inside an outer transaction (tests calling the turn inline) other threads could not see uncommitted
rows, so calls then run one after the other in the caller's thread, without a deadline.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.db import connection, connections

from apps.capabilities.base import Tool, ToolContext, ToolError

from .control import TurnCancelled
from .conversation import tool_result_json

logger = logging.getLogger("everruns.runtime")


@dataclass
class ToolCallPlan:
    id: str
    name: str
    arguments: dict | None
    tool: Tool | None
    context: ToolContext
    timeout: float


@dataclass
class ToolOutcome:
    call: ToolCallPlan
    status: str  # success | error | timeout | cancelled
    result: object = None
    result_text: str | None = None
    error: str | None = None
    duration_ms: int = 0

    @property
    def success(self) -> bool:
        return self.status == "success"


def _invoke(plan: ToolCallPlan) -> tuple[str, object, str | None, str | None]:
    """(status, result, result_text, error) of one call; never raises."""
    if plan.tool is None:
        return "error", None, None, f"Unknown tool: {plan.name}"
    if plan.arguments is None:
        return "error", None, None, "Invalid arguments: expected a JSON object"
    try:
        value = plan.tool.run(plan.arguments, plan.context)
        return "success", value, tool_result_json(value), None
    except ToolError as exc:
        return "error", None, None, str(exc) or "Tool error"
    except Exception as exc:
        logger.exception("tool %s failed", plan.name)
        return "error", None, None, f"Tool failed: {type(exc).__name__}: {exc}"[:1000]


def _invoke_in_thread(plan: ToolCallPlan) -> tuple[str, object, str | None, str | None]:
    try:
        return _invoke(plan)
    finally:
        connections.close_all()


def run_tool_calls(plans: list[ToolCallPlan], *, on_result, checkpoint, max_parallel: int) -> None:
    """Run the calls; `on_result(outcome)` is called in the caller's thread as each one ends.

    `checkpoint()` is called regularly while waiting; if it raises TurnCancelled, the calls still running
    are reported as `cancelled` through on_result; any exception propagates.
    """
    if connection.in_atomic_block:
        for plan in plans:
            checkpoint()
            started = time.monotonic()
            status, result, text, error = _invoke(plan)
            on_result(ToolOutcome(plan, status, result, text, error, int((time.monotonic() - started) * 1000)))
        return

    executor = ThreadPoolExecutor(max_workers=max(1, min(max_parallel, len(plans))), thread_name_prefix="tool")
    started = time.monotonic()
    running: dict[Future, ToolCallPlan] = {executor.submit(_invoke_in_thread, plan): plan for plan in plans}
    try:
        while running:
            done, _ = wait(running, timeout=0.05, return_when=FIRST_COMPLETED)
            now = time.monotonic()
            for future in done:
                plan = running.pop(future)
                status, result, text, error = future.result()
                on_result(ToolOutcome(plan, status, result, text, error, int((now - started) * 1000)))
            for future, plan in list(running.items()):
                if now - started >= plan.timeout:
                    running.pop(future)
                    future.cancel()
                    on_result(
                        ToolOutcome(
                            plan,
                            "timeout",
                            error=f"Tool timed out after {plan.timeout:g} seconds",
                            duration_ms=int((now - started) * 1000),
                        )
                    )
            if running:
                try:
                    checkpoint()
                except TurnCancelled:
                    now = time.monotonic()
                    for future, plan in running.items():
                        future.cancel()
                        on_result(
                            ToolOutcome(
                                plan, "cancelled", error="Cancelled by user", duration_ms=int((now - started) * 1000)
                            )
                        )
                    running.clear()
                    raise
    finally:
        # Never wait for a hung tool: its thread is abandoned and its late result ignored.
        executor.shutdown(wait=False, cancel_futures=True)
