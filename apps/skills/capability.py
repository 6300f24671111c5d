"""A skill as a capability: `skill:skill_…` references resolve here (registered in SkillsConfig.ready).

Each attached skill adds one line to the system prompt (the index: name and description) and the `load_skill`
tool. When the model calls `load_skill {"name": …}`, the skill's SKILL.md and files are written into the session
filesystem under `/skills/<name>/` and its instructions come back as the tool result. Skills that are disabled,
archived, deleted or marked `disable-model-invocation` are not in the index and cannot be loaded.
"""

import uuid

from apps.capabilities.base import Capability, Tool, ToolContext, ToolError
from apps.core.exceptions import ApplicationError
from apps.files import services as files
from apps.sessions.models import Session

from .models import Skill
from .services import skill_get

SKILLS_ROOT = "/skills"

LOAD_SKILL = {
    "type": "object",
    "properties": {"name": {"type": "string", "description": "The skill's name, as listed in the skills index."}},
    "required": ["name"],
    "additionalProperties": False,
}


def _attached_skill_ids(session: Session) -> set[uuid.UUID]:
    agent_refs = list(session.agent.capabilities or []) if session.agent is not None else []  # agent optional
    refs = agent_refs + list(session.capabilities or [])
    found = set()
    for ref in refs:
        capability_id = ref.get("ref") if isinstance(ref, dict) else ref
        if isinstance(capability_id, str) and capability_id.startswith("skill:"):
            skill = skill_get(organization_id=session.organization_id, skill_id=capability_id.split(":", 1)[1])
            if skill is not None:
                found.add(skill.pk)
    return found


def load_skill(arguments: dict, context: ToolContext) -> dict:
    """The `load_skill` tool: copy an attached skill into the session filesystem and return its instructions."""
    name = arguments.get("name") if isinstance(arguments, dict) else None
    if not isinstance(name, str) or not name:
        raise ToolError("Missing required argument: name")
    session = (
        Session.objects.select_related("agent")
        .filter(pk=context.session_id, organization_id=context.organization_id)
        .first()
    )
    if session is None:
        raise ToolError("Session not found")
    skill = (
        Skill.objects.filter(organization_id=context.organization_id, name=name, status=Skill.STATUS_ACTIVE)
        .filter(pk__in=_attached_skill_ids(session), disable_model_invocation=False)
        .first()
    )
    if skill is None:
        raise ToolError(f"Unknown skill: {name}"[:300])
    directory = f"{SKILLS_ROOT}/{skill.name}"
    written = []
    event_context = {"turn_id": context.turn_id} if context.turn_id else {}
    try:
        for path, content in [("SKILL.md", skill.skill_md), *((f["path"], f["content"]) for f in skill.files)]:
            row, _ = files.file_write(
                session=session, path=f"{directory}/{path}", content=content.encode("utf-8"), context=event_context
            )
            written.append(row.path)
    except ApplicationError as exc:
        raise ToolError(exc.log_detail or exc.message) from None
    return {
        "name": skill.name,
        "version": skill.version,
        "directory": directory,
        "files": written,
        "instructions": skill.instructions,
    }


def load_capability(*, organization_id: uuid.UUID, ref: str, config: dict, for_turn: bool) -> Capability | None:
    """The capability of `skill:<skill id>` in this organization; None for a missing or deleted skill.

    An inactive skill (or one the model may not invoke) loads as an empty capability: still attached, not offered.
    """
    skill = skill_get(organization_id=organization_id, skill_id=ref.split(":", 1)[1])
    if skill is None:
        return None
    offered = skill.status == Skill.STATUS_ACTIVE and not skill.disable_model_invocation
    prompt = None
    tools: tuple[Tool, ...] = ()
    if offered:
        prompt = (
            f"Skill `{skill.name}`: {skill.description.strip()} "
            f'When it applies, call load_skill with {{"name": "{skill.name}"}} to read its instructions; '
            f"its files are then in {SKILLS_ROOT}/{skill.name}/."
        )
        tools = (
            Tool(
                name="load_skill",
                description="Load a skill from the skills index: its instructions, and its files into the session "
                f"filesystem under {SKILLS_ROOT}/<name>/.",
                parameters=LOAD_SKILL,
                handler=load_skill,
            ),
        )
    return Capability(
        id=skill.capability_id,
        name=skill.name,
        description=skill.description,
        category="Skills",
        icon="book",
        system_prompt=prompt,
        tools=tools,
        features=("file_system",) if offered else (),
        is_skill=True,
    )
