"""Runtime bookkeeping that the session/turn tables do not carry."""

from django.db import models


class SessionProgress(models.Model):
    """How far the agent has read a session's input: the follow-up-turn cursor.

    `handled_sequence` is the highest event sequence whose user messages a turn has dealt with: it moves
    forward when a reasoning step's output is stored (to the last event that step saw), when a turn fails
    (same) and when a turn is cancelled (to the cancellation message). A user message with a higher
    sequence is unanswered and starts (or continues into) a follow-up turn, so no message is dropped.
    """

    session = models.OneToOneField(
        "agent_sessions.Session", on_delete=models.CASCADE, primary_key=True, related_name="runtime_progress"
    )
    handled_sequence = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session"]

    def __str__(self) -> str:
        return f"progress of {self.session_id}: {self.handled_sequence}"
