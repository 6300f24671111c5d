"""Skills: reusable bundles of instructions (SKILL.md) and files that an agent loads when it decides to."""

from django.db import models
from django.db.models import Q

from apps.core.ids import format_id
from apps.core.models import PublicModel


class Skill(PublicModel):
    """A skill of an organization: its SKILL.md (front matter + instructions), extra files, version and status."""

    STATUS_ACTIVE = "active"
    STATUS_DISABLED = "disabled"
    STATUS_ARCHIVED = "archived"
    STATUS_DELETED = "deleted"
    STATUSES = [(s, s) for s in (STATUS_ACTIVE, STATUS_DISABLED, STATUS_ARCHIVED, STATUS_DELETED)]
    SOURCES = [("markdown", "markdown"), ("archive", "archive")]

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="skills")
    name = models.CharField(max_length=64)  # kebab-case slug from the front matter
    description = models.TextField()
    version = models.CharField(max_length=64)
    skill_md = models.TextField()  # the document as sent
    instructions = models.TextField(blank=True)  # its Markdown body
    # Other files of the skill: [{"path": "reference/forms.md", "content": "..."}] (UTF-8 text).
    files = models.JSONField(default=list, blank=True)
    source_type = models.CharField(max_length=16, choices=SOURCES, default="markdown")
    status = models.CharField(max_length=16, choices=STATUSES, default=STATUS_ACTIVE, db_index=True)
    license = models.TextField(null=True, blank=True)
    compatibility = models.TextField(null=True, blank=True)
    allowed_tools = models.TextField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    user_invocable = models.BooleanField(default=True)
    disable_model_invocation = models.BooleanField(default=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], condition=~Q(status="deleted"), name="uniq_skill_name_per_org"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def public_id(self) -> str:
        return format_id("skill", self.pk) or ""

    @property
    def capability_id(self) -> str:
        """The capability reference that attaches this skill (`skill:skill_…`)."""
        return f"skill:{self.public_id}"


class SkillVersion(models.Model):
    """A past content of a skill, kept when an update replaces its SKILL.md or files."""

    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=64)
    skill_md = models.TextField()
    files = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["skill", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.skill_id}@{self.version}"
