"""django.tasks entry points for sessions: thin, they take ids and call one service."""

from django.tasks import task


@task()
def run_turn(session_id: str) -> None:
    """Run the session's pending agent turn(s); see apps.runtime.services.turn_run_pending."""
    from apps.runtime.services import turn_run_pending

    turn_run_pending(session_id=session_id)


def enqueue_turn(session_id) -> None:
    """Queue a turn for the session (called on commit by the message service)."""
    run_turn.enqueue(str(session_id))
