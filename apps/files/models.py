"""The per-session virtual filesystem (contract 2.11), stored in the database."""

from django.db import models

from apps.core.models import PublicModel

from .paths import MAX_NAME_LENGTH, MAX_PATH_LENGTH


class SessionFile(PublicModel):
    """One file or directory in a session's filesystem; `path` is unique per session.

    Content is stored as raw bytes (BinaryField) so text and binary files share one column and
    round-trip exactly; the API decides per read whether it can return it as text or must use
    base64. Directories are explicit rows (auto-created parents too) with no content and size 0.
    The root `/` is implicit and has no row. `parent_path` is denormalised so a directory listing
    is one indexed equality lookup.
    """

    session = models.ForeignKey("agent_sessions.Session", on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=MAX_PATH_LENGTH)
    parent_path = models.CharField(max_length=MAX_PATH_LENGTH)
    name = models.CharField(max_length=MAX_NAME_LENGTH)
    is_directory = models.BooleanField(default=False)
    is_readonly = models.BooleanField(default=False)
    content = models.BinaryField(null=True, blank=True)
    size_bytes = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["session", "path"]
        constraints = [
            models.UniqueConstraint(fields=["session", "path"], name="uniq_session_file_path"),
            models.CheckConstraint(condition=models.Q(size_bytes__gte=0), name="session_file_size_non_negative"),
        ]
        indexes = [
            models.Index(fields=["session", "parent_path", "path"], name="session_file_parent"),
        ]

    def __str__(self) -> str:
        return self.path
