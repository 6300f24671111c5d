"""Control-flow exceptions of a running turn."""

from apps.sessions.turns import TurnLost

__all__ = ["TurnCancelled", "TurnFailed", "TurnLost", "WorkerLost"]


class TurnCancelled(Exception):
    """The API set Turn.cancel_requested: stop at this checkpoint and run the cancel sequence (6.4)."""


class TurnFailed(Exception):
    """The turn ends with turn.failed (error_code, internal detail for logs)."""

    def __init__(self, error_code: str, detail: str) -> None:
        super().__init__(detail)
        self.error_code = error_code
        self.detail = detail


class WorkerLost(Exception):
    """Recorded on the django_tasks_db row of a run_turn task whose worker process died mid-run."""
