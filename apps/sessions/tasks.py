"""django.tasks entry points for sessions: thin, they take ids and call one function.

The sessions app hands a session's turn to the task queue (`enqueue_turn`, called on commit by
apps.sessions.turns) and the task runs whatever turn runner was registered with `turn_runner_register`.
The runtime registers its runner in its AppConfig.ready (apps.runtime.apps), so the dependency runs one
way: apps.runtime imports apps.sessions, never the reverse (import-linter contracts in pyproject.toml).
The task path `apps.sessions.tasks.run_turn` is what django_tasks_db stores; it does not change with the
runner.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.tasks import task
from django.utils.module_loading import import_string

TurnRunner = Callable[..., dict | None]

# Filled by the app that runs turns (apps.runtime.apps.RuntimeConfig.ready): a callable taking
# `session_id=` or its dotted path (imported on first use, so web processes never load the agent loop).
_runner: dict[str, TurnRunner | str | None] = {"runner": None}


def turn_runner_register(runner: TurnRunner | str) -> None:
    """Register the function that runs a session's pending turn(s): `runner(session_id=...)`."""
    _runner["runner"] = runner


def turn_runner() -> TurnRunner:
    runner = _runner["runner"]
    if runner is None:
        raise ImproperlyConfigured("no turn runner registered (is apps.runtime in INSTALLED_APPS?)")
    if isinstance(runner, str):
        resolved: TurnRunner = import_string(runner)
        _runner["runner"] = resolved
        return resolved
    return runner


@task()
def run_turn(session_id: str) -> dict | None:
    """Run the session's pending agent turn(s) with the registered runner; returns what the runner reports
    (apps.runtime: how each turn ended), stored as the task's return value."""
    return turn_runner()(session_id=session_id)


def enqueue_turn(session_id: Any) -> None:
    """Queue a turn task for the session (called on commit by apps.sessions.turns)."""
    run_turn.enqueue(str(session_id))
