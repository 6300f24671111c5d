"""CapabilityInfo (contract 3.8): read-only views of the in-code registry."""

from rest_framework import serializers

from apps.core.fields import StrictCharField

CAPABILITY_STATUSES = ["available", "experimental", "coming_soon", "deprecated"]
RISK_LEVELS = ["low", "medium", "high"]


class CapabilitySerializer(serializers.Serializer):
    """CapabilityInfo as listed by GET /v1/capabilities."""

    id = StrictCharField()
    name = StrictCharField()
    description = StrictCharField()
    status = serializers.ChoiceField(choices=CAPABILITY_STATUSES)
    icon = StrictCharField(allow_null=True)
    category = StrictCharField(allow_null=True)
    is_mcp = serializers.BooleanField()
    is_skill = serializers.BooleanField()
    dependencies = serializers.ListField(child=StrictCharField())
    features = serializers.ListField(child=StrictCharField())
    risk_level = serializers.ChoiceField(choices=RISK_LEVELS)


class ToolDefinitionSerializer(serializers.Serializer):
    """A JSON-schema tool definition as offered to the model."""

    name = StrictCharField()
    description = StrictCharField()
    parameters = serializers.DictField(help_text="JSON Schema of the tool's arguments")


class CapabilityDetailSerializer(CapabilitySerializer):
    """CapabilityInfo plus the prompt addition and tool definitions (GET /v1/capabilities/{id})."""

    system_prompt = StrictCharField(allow_null=True)
    tool_definitions = serializers.SerializerMethodField()

    def get_tool_definitions(self, capability) -> list[dict]:
        tools = [tool.definition() for tool in capability.tools]
        # drf-stubs type .data of a many=True serializer as ReturnDict; it is a ReturnList.
        return ToolDefinitionSerializer(tools, many=True).data  # type: ignore[return-value]
