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


class WorkerProcess(models.Model):
    """A `db_worker` process of this deployment and its liveness: which task rows belong to a dead run.

    Registered when the process claims its first task (inside django_tasks_db's claim transaction, so a
    claimed row is never unlinked), then refreshed by the process's recovery thread, which runs beside the
    task and keeps beating while a turn is busy. `task_worker_id` is the id the db_worker writes into
    `DBTaskResult.worker_ids`. A process whose heartbeat is older than the liveness window is dead: its
    RUNNING task rows are settled as failed by the recovery sweep (apps.runtime.workers.task_results_settle_dead).
    """

    key = models.CharField(max_length=160, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.IntegerField()
    task_worker_id = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["key"]
        verbose_name = "Worker process"
        verbose_name_plural = "Worker processes"

    def __str__(self) -> str:
        return f"worker {self.key} (db_worker {self.task_worker_id or '-'})"
