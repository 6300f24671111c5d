"""Initial files: the resolved `initial_files` (harness → agent → session) copied into a session's file system
before its first turn runs. A path that already exists is left alone (the user or a tool wrote it first); a
file the quota or the path rules refuse is skipped and logged, never a failed turn."""

import logging

from apps.core.exceptions import ApplicationError
from apps.files import paths
from apps.files import services as files

logger = logging.getLogger(__name__)


def seed_initial_files(*, session, initial_files: list[dict]) -> int:
    """Create the missing ones; returns how many were created."""
    created = 0
    for item in initial_files:
        try:
            path = paths.normalize(item["path"])
            if files.SessionFile.objects.filter(session=session, path=path).exists():
                continue
            content = files.content_decode(content=item["content"], encoding=item.get("encoding") or "text")
            files.file_create(session=session, path=path, content=content, is_readonly=bool(item.get("is_readonly")))
            created += 1
        except ApplicationError as exc:
            logger.warning("initial file %r of session %s skipped: %s", item.get("path"), session.pk, exc.message)
    return created
