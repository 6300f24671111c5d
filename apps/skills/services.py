"""Skill writes: create from SKILL.md or a ZIP archive, update (a new version), archive, delete; usage counts.

- Name and description come from the front matter (`apps.skills.skillmd`); a name already used by another
  skill of the organization (not deleted) is 409. An invalid SKILL.md is 422 `Invalid SKILL.md: <first error>`.
- Versions: the front matter's `version`, else a number the server counts up ("1", "2", ...) each time the
  content (SKILL.md or files) changes. The replaced content is kept as a SkillVersion row.
- Archives: a ZIP with SKILL.md at its root (or inside one top folder) and other UTF-8 text files; at most
  MAX_ARCHIVE_BYTES compressed (413), MAX_FILES files and MAX_UNPACKED_BYTES unpacked (422).
"""

import io
import posixpath
import uuid
import zipfile
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Organization
from apps.agents.models import Agent
from apps.core import ids
from apps.core.exceptions import ApplicationError, Conflict, Unprocessable

from . import skillmd
from .models import Skill, SkillVersion

MAX_ARCHIVE_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 10 * 1024 * 1024
MAX_FILES = 200
DUPLICATE = "A skill with this name already exists"


class ArchiveTooLarge(ApplicationError):
    status_code = 413
    default_message = "Archive too large"


def _checked(text: Any) -> skillmd.ParsedSkill:
    if not isinstance(text, str):
        raise Unprocessable("Invalid SKILL.md: skill_md must be text")
    parsed = skillmd.parse(text)
    if not parsed.valid:
        raise Unprocessable(f"Invalid SKILL.md: {parsed.errors[0]}"[:500])
    return parsed


def _apply(skill: Skill, text: str, parsed: skillmd.ParsedSkill, files: list[dict]) -> None:
    changed = skill.skill_md != text or skill.files != files
    if skill.pk and changed and skill.skill_md:
        SkillVersion.objects.create(skill=skill, version=skill.version, skill_md=skill.skill_md, files=skill.files)
    if parsed.version:
        skill.version = parsed.version
    elif not skill.version:
        skill.version = "1"
    elif changed:
        skill.version = str(int(skill.version) + 1) if skill.version.isdigit() else skill.version
    skill.skill_md, skill.files = text, files
    skill.name, skill.description = parsed.name or "", parsed.description or ""
    skill.instructions = parsed.instructions
    skill.license, skill.compatibility, skill.allowed_tools = parsed.license, parsed.compatibility, parsed.allowed_tools
    skill.metadata = parsed.metadata
    skill.user_invocable, skill.disable_model_invocation = parsed.user_invocable, parsed.disable_model_invocation


def _save(skill: Skill) -> Skill:
    taken = Skill.objects.filter(organization_id=skill.organization_id, name=skill.name).exclude(
        status=Skill.STATUS_DELETED
    )
    if taken.exclude(pk=skill.pk).exists():
        raise Conflict(DUPLICATE)
    try:
        with transaction.atomic():
            skill.full_clean(validate_constraints=False)
            skill.save()
    except IntegrityError:
        raise Conflict(DUPLICATE) from None
    return skill


@transaction.atomic
def skill_create(
    *, organization: Organization, skill_md: str, files: list[dict] | None = None, source_type: str = "markdown"
) -> Skill:
    """Create a skill from a SKILL.md (and files). Raises Unprocessable (invalid SKILL.md), Conflict (name taken)."""
    parsed = _checked(skill_md)
    skill = Skill(organization=organization, source_type=source_type)
    _apply(skill, skill_md, parsed, files or [])
    return _save(skill)


@transaction.atomic
def skill_update(*, skill: Skill, skill_md: str | None = None, status: str | None = None) -> Skill:
    """PATCH: a new SKILL.md (re-parsed; the files stay) and/or a status (`deleted` is DELETE's)."""
    if skill_md is not None:
        _apply(skill, skill_md, _checked(skill_md), list(skill.files))
    if status is not None:
        if status not in {s for s, _ in Skill.STATUSES} - {Skill.STATUS_DELETED}:
            raise Unprocessable(f"Invalid status: {status}"[:100])
        skill.archived_at = timezone.now() if status == Skill.STATUS_ARCHIVED else None
        skill.status = status
    return _save(skill)


@transaction.atomic
def skill_delete(*, skill: Skill) -> None:
    """DELETE: a tombstone (404 afterwards, never listed; the name is free again)."""
    skill.status, skill.deleted_at = Skill.STATUS_DELETED, timezone.now()
    skill.save(update_fields=["status", "deleted_at", "updated_at"])


def skill_get(*, organization_id: uuid.UUID, skill_id: Any) -> Skill | None:
    """A skill (not deleted) of the organization by `skill_…` id or UUID, else None."""
    pk = skill_id if isinstance(skill_id, uuid.UUID) else ids.parse_id("skill", skill_id)
    if pk is None and isinstance(skill_id, str):
        try:
            pk = uuid.UUID(skill_id)
        except ValueError:
            return None
    if pk is None:
        return None
    return Skill.objects.filter(organization_id=organization_id, pk=pk).exclude(status=Skill.STATUS_DELETED).first()


# --------------------------------------------------------------------------- archives and folders
def _clean_path(raw: str) -> str | None:
    """A relative POSIX path inside the skill, or None for one that would leave it (`..`, absolute)."""
    path = posixpath.normpath(raw.replace("\\", "/"))
    if path.startswith(("/", "../")) or path in ("..", ".") or "\x00" in path:
        return None
    return path


def files_from_archive(data: bytes) -> tuple[str, list[dict]]:
    """(SKILL.md text, other files) of a ZIP archive. Raises ArchiveTooLarge (413) or Unprocessable (422)."""
    if len(data) > MAX_ARCHIVE_BYTES:
        raise ArchiveTooLarge()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, ValueError):
        raise Unprocessable("Invalid archive: not a ZIP file") from None
    if len(members) > MAX_FILES or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise Unprocessable("Invalid archive: too many files or too large once unpacked")
    names = {m.filename: m for m in members if not m.filename.startswith("__MACOSX/")}
    root = ""
    if "SKILL.md" not in names:
        tops = {n.split("/", 1)[0] for n in names}
        if len(tops) == 1 and f"{next(iter(tops))}/SKILL.md" in names:
            root = f"{next(iter(tops))}/"
        else:
            raise Unprocessable("Invalid archive: no SKILL.md at its root")
    text, files = "", []
    for name, member in sorted(names.items()):
        path = _clean_path(name[len(root) :]) if name.startswith(root) else None
        if path is None:
            raise Unprocessable("Invalid archive: a path leaves the skill folder")
        try:
            with archive.open(member) as handle:
                content = handle.read(MAX_UNPACKED_BYTES + 1).decode("utf-8")
        except UnicodeDecodeError:
            raise Unprocessable(f"Invalid archive: {path} is not UTF-8 text"[:300]) from None
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError):
            raise Unprocessable("Invalid archive: a file cannot be read") from None
        if path == "SKILL.md":
            text = content
        else:
            files.append({"path": path, "content": content})
    return text, files


@transaction.atomic
def skill_upload(*, organization: Organization, data: bytes) -> Skill:
    """Create a skill from a ZIP archive (see files_from_archive)."""
    text, files = files_from_archive(data)
    return skill_create(organization=organization, skill_md=text, files=files, source_type="archive")


def files_from_folder(folder: Path) -> tuple[str, list[dict]]:
    """(SKILL.md text, other UTF-8 files) of a skill folder on disk (the import command)."""
    text = (folder / "SKILL.md").read_text(encoding="utf-8")
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "SKILL.md"):
        relative = path.relative_to(folder).as_posix()
        if relative.startswith(".") or "/." in relative:
            continue  # hidden files (.git, .DS_Store) are not part of a skill
        try:
            files.append({"path": relative, "content": path.read_text(encoding="utf-8")})
        except UnicodeDecodeError:
            raise Unprocessable(f"{relative} is not UTF-8 text") from None
    if len(files) > MAX_FILES or sum(len(f["content"]) for f in files) > MAX_UNPACKED_BYTES:
        raise Unprocessable("The skill folder has too many files or is too large")
    return text, files


@transaction.atomic
def skill_import_folder(*, organization: Organization, folder: Path) -> tuple[Skill, bool]:
    """Create or update (same name) the skill in `folder` (a SKILL.md plus files). Returns (skill, created)."""
    text, files = files_from_folder(folder)
    return skill_import_markdown(organization=organization, text=text, files=files)


@transaction.atomic
def skill_import_markdown(
    *, organization: Organization, text: str, files: list[dict] | None = None
) -> tuple[Skill, bool]:
    """Create the skill, or give the organization's skill of the same name a new version. Returns (skill, created)."""
    files = files or []
    parsed = _checked(text)
    existing = (
        Skill.objects.filter(organization=organization, name=parsed.name)
        .exclude(status=Skill.STATUS_DELETED)
        .select_for_update()
        .first()
    )
    if existing is None:
        return skill_create(organization=organization, skill_md=text, files=files), True
    _apply(existing, text, parsed, files)
    return _save(existing), False


# --------------------------------------------------------------------------- usage
def skills_usage(*, organization: Organization) -> dict[str, dict[str, int]]:
    """`{skill_…: {agents, harnesses}}`: how many agents (and harnesses) reference each skill; unused ones omitted."""
    counts: dict[str, dict[str, int]] = {}
    known = {
        skill.public_id
        for skill in Skill.objects.filter(organization=organization).exclude(status=Skill.STATUS_DELETED).only("id")
    }
    for capabilities in Agent.objects.filter(organization=organization).values_list("capabilities", flat=True):
        referenced = {
            (ref.get("ref") if isinstance(ref, dict) else ref) for ref in capabilities or [] if ref is not None
        }
        for ref in referenced:
            if isinstance(ref, str) and ref.startswith("skill:") and ref.split(":", 1)[1] in known:
                entry = counts.setdefault(ref.split(":", 1)[1], {"agents": 0, "harnesses": 0})
                entry["agents"] += 1
    return counts
