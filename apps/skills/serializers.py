"""/v1/skills shapes (spec tag `skills`)."""

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from apps.core.fields import PublicIdField, StrictCharField, TimestampField
from apps.llm.serializers import URL_FIELDS, ResourceUrlsMixin

from .models import Skill

STATUSES = [value for value, _ in Skill.STATUSES]


class SkillSerializer(ResourceUrlsMixin, serializers.ModelSerializer):
    """Skill (spec `Skill` with links), plus its `capability_id` (`skill:<id>`, what attaches it)."""

    detail_route = "skill-detail"
    id_prefix = "skill"

    id = PublicIdField("skill", source="pk", read_only=True)
    capability_id = serializers.CharField(read_only=True, help_text="Attach with this capability reference.")
    archived_at = TimestampField(read_only=True)
    deleted_at = TimestampField(read_only=True)
    created_at = TimestampField(read_only=True)
    updated_at = TimestampField(read_only=True)

    class Meta:
        model = Skill
        fields = [
            "id",
            "name",
            "description",
            "version",
            "source_type",
            "status",
            "license",
            "compatibility",
            "allowed_tools",
            "metadata",
            "user_invocable",
            "disable_model_invocation",
            "capability_id",
            "archived_at",
            "deleted_at",
            "created_at",
            "updated_at",
            *URL_FIELDS,
        ]
        read_only_fields = fields


class SkillCreateSerializer(serializers.Serializer):
    """CreateSkillRequest / ValidateSkillRequest: a whole SKILL.md."""

    skill_md = StrictCharField(trim_whitespace=False, help_text="YAML front matter (name, description, …) + Markdown.")


class SkillUpdateSerializer(serializers.Serializer):
    """UpdateSkillRequest: a new SKILL.md (a new version; files are kept) and/or a status."""

    skill_md = StrictCharField(trim_whitespace=False, required=False, allow_null=True)
    status = serializers.ChoiceField(choices=[s for s in STATUSES if s != "deleted"], required=False, allow_null=True)


class SkillFileSerializer(serializers.Serializer):
    """A file of a skill (UTF-8 text), path relative to the skill's folder."""

    path = serializers.CharField()
    content = serializers.CharField()


class SkillContentSerializer(serializers.Serializer):
    """SkillContent: the SKILL.md and the other files."""

    skill_md = serializers.CharField()
    files = SkillFileSerializer(many=True)


# `errors` would shadow Serializer.errors on a class: described inline (drf-spectacular), never instantiated.
SkillValidationSerializer = inline_serializer(
    "SkillValidationResult",
    {
        "valid": serializers.BooleanField(),
        "name": serializers.CharField(allow_null=True),
        "description": serializers.CharField(allow_null=True),
        "errors": serializers.ListField(child=serializers.CharField()),
        "warnings": serializers.ListField(child=serializers.CharField()),
    },
)
