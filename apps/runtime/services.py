"""The agent runtime (issue 6): placeholder until the loop lands."""


def turn_run_pending(*, session_id: str) -> None:
    """Run the agent loop for the session's unprocessed input, if any."""
