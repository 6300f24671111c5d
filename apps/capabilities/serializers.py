"""CapabilityInfo (contract 3.8): read-only views of the in-code registry."""

from rest_framework import serializers

CAPABILITY_STATUSES = ["available", "experimental", "coming_soon", "deprecated"]
RISK_LEVELS = ["low", "medium", "high"]


class CapabilitySerializer(serializers.Serializer):
    """CapabilityInfo as listed by GET /v1/capabilities."""

    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=CAPABILITY_STATUSES)
    icon = serializers.CharField(allow_null=True)
    category = serializers.CharField(allow_null=True)
    is_mcp = serializers.BooleanField()
    dependencies = serializers.ListField(child=serializers.CharField())
    features = serializers.ListField(child=serializers.CharField())
    risk_level = serializers.ChoiceField(choices=RISK_LEVELS)


class ToolDefinitionSerializer(serializers.Serializer):
    """A JSON-schema tool definition as offered to the model."""

    name = serializers.CharField()
    description = serializers.CharField()
    parameters = serializers.DictField(help_text="JSON Schema of the tool's arguments")


class CapabilityDetailSerializer(CapabilitySerializer):
    """CapabilityInfo plus the prompt addition and tool definitions (GET /v1/capabilities/{id})."""

    system_prompt = serializers.CharField(allow_null=True)
    tool_definitions = serializers.SerializerMethodField()

    def get_tool_definitions(self, capability) -> list[dict]:
        return ToolDefinitionSerializer([tool.definition() for tool in capability.tools], many=True).data
