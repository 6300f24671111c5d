"""Request and response shapes of /v1/llm-providers and /v1/llm-models (contract 3.6, 3.7)."""

from decimal import Decimal

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.fields import (
    PublicIdField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    TimestampField,
)
from apps.core.ids import format_id

from .catalogue import model_profile, model_vendor
from .clients.base import PROVIDER_TYPES
from .models import LlmModel, LlmProvider
from .selectors import provider_is_ready
from .services import provider_api_key_set
from .validators import validate_base_url, validate_modality

STATUSES = [value for value, _ in LlmProvider.STATUSES]


class LlmProviderSerializer(serializers.ModelSerializer):
    """A provider as the API shows it: never the key, only whether one applies (`api_key_set`)."""

    id = PublicIdField("provider", read_only=True)
    api_key_set = serializers.SerializerMethodField()
    last_synced_at = TimestampField(read_only=True, allow_null=True)
    created_at = TimestampField(read_only=True)
    updated_at = TimestampField(read_only=True)

    class Meta:
        model = LlmProvider
        fields = [
            "id",
            "name",
            "provider_type",
            "base_url",
            "api_key_set",
            "status",
            "last_synced_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_api_key_set(self, obj: LlmProvider) -> bool:
        return provider_api_key_set(obj)


def _api_key_field() -> serializers.CharField:
    # Write-only by construction: input serializers are never used to render a response.
    return StrictCharField(
        write_only=True,
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=4096,
        help_text='Write-only. Encrypted at rest; never returned. null or "" removes the stored key.',
    )


def _base_url_field() -> serializers.CharField:
    return StrictCharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=2048,
        validators=[validate_base_url],
        help_text='Custom http(s) endpoint (e.g. an OpenAI-compatible server). null or "" = the official one.',
    )


class LlmProviderCreateSerializer(serializers.Serializer):
    """A new provider; `api_key` is optional (env fallbacks may apply)."""

    name = StrictCharField(max_length=255)
    provider_type = serializers.ChoiceField(choices=PROVIDER_TYPES)
    api_key = _api_key_field()
    base_url = _base_url_field()
    status = serializers.ChoiceField(choices=STATUSES, required=False)


class PartialMixin(serializers.Serializer):
    """Every field optional: the PATCH twin of a create serializer."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class LlmProviderUpdateSerializer(PartialMixin, LlmProviderCreateSerializer):
    """Any of name, provider_type, base_url, api_key, status."""


class SyncModelsSerializer(serializers.Serializer):
    """`{"status":"success","created","updated","stale"}`, or `{"status":"not_supported"}` alone."""

    status = serializers.ChoiceField(choices=["success", "not_supported"])
    created = serializers.IntegerField(required=False)
    updated = serializers.IntegerField(required=False)
    stale = serializers.IntegerField(required=False)


class LlmModelSerializer(serializers.ModelSerializer):
    """A model of a provider. `is_stale` (extra to the contract) marks a discovered model the last sync missed."""

    id = PublicIdField("model", read_only=True)
    provider_id = PublicIdField("provider", read_only=True)
    created_at = TimestampField(read_only=True)
    updated_at = TimestampField(read_only=True)

    class Meta:
        model = LlmModel
        fields = [
            "id",
            "provider_id",
            "model_id",
            "display_name",
            "capabilities",
            "is_default",
            "is_favorite",
            "source",
            "status",
            "is_stale",
            "input_price_per_mtok",
            "output_price_per_mtok",
            "cached_input_price_per_mtok",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def price_field() -> serializers.DecimalField:
    """A price in USD per million tokens: a decimal string or number, >= 0; null = the catalogue's price."""
    return serializers.DecimalField(
        max_digits=14, decimal_places=6, min_value=Decimal(0), allow_null=True, required=False
    )


class StrictFloatField(serializers.FloatField):
    """A FloatField that takes JSON numbers only (DRF's accepts "1.5" and true)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


# The profile shapes below render GET responses and, being strict, also check the profile-like
# fields a client may send on model create/update (see ReadOnlyProfileFieldsMixin).
class LlmModelCostSerializer(serializers.Serializer):
    input = StrictFloatField()
    output = StrictFloatField()
    cache_read = StrictFloatField(allow_null=True, required=False)


class LlmModelLimitsSerializer(serializers.Serializer):
    output = StrictIntegerField()

    def get_fields(self):
        # `context` cannot be declared as a class attribute: it would shadow Serializer.context.
        return {"context": StrictIntegerField(), **super().get_fields()}


class LlmModelModalitiesSerializer(serializers.Serializer):
    input = serializers.ListField(child=StrictCharField(validators=[validate_modality]))
    output = serializers.ListField(child=StrictCharField(validators=[validate_modality]))


class ReasoningEffortValueSerializer(serializers.Serializer):
    name = StrictCharField()
    value = StrictCharField()


class ReasoningEffortSerializer(serializers.Serializer):
    values = ReasoningEffortValueSerializer(many=True)
    default = StrictCharField()


class LlmModelProfileSerializer(serializers.Serializer):
    """Read-only facts about a well-known model, from the static catalogue (apps/llm/catalogue.py)."""

    name = StrictCharField()
    family = StrictCharField()
    release_date = StrictCharField(allow_null=True)
    last_updated = StrictCharField(allow_null=True)
    attachment = StrictBooleanField()
    reasoning = StrictBooleanField()
    temperature = StrictBooleanField()
    knowledge = StrictCharField(allow_null=True)
    tool_call = StrictBooleanField()
    structured_output = StrictBooleanField()
    open_weights = StrictBooleanField()
    cost = LlmModelCostSerializer(allow_null=True)
    limits = LlmModelLimitsSerializer(allow_null=True)
    modalities = LlmModelModalitiesSerializer(allow_null=True)
    reasoning_effort = ReasoningEffortSerializer(allow_null=True)


class LlmModelWithProviderSerializer(LlmModelSerializer):
    provider_name = StrictCharField(source="provider.name", read_only=True)
    provider_type = StrictCharField(source="provider.provider_type", read_only=True)
    profile = serializers.SerializerMethodField()

    class Meta(LlmModelSerializer.Meta):
        fields = [*LlmModelSerializer.Meta.fields, "provider_name", "provider_type", "profile"]
        read_only_fields = fields

    @extend_schema_field(LlmModelProfileSerializer(allow_null=True))
    def get_profile(self, obj: LlmModel) -> dict | None:
        return model_profile(obj.provider.provider_type, obj.model_id)


# Profile facts a client may send along with a model (e.g. a GET response echoed back into a PATCH).
# They are read-only (the profile comes from the static catalogue, contract 3.7), so a well-formed
# value or null is ignored as before; a malformed one is a 400 rather than a silent drop.
READ_ONLY_PROFILE_FIELDS = {
    "profile": LlmModelProfileSerializer,
    "cost": LlmModelCostSerializer,
    "limits": LlmModelLimitsSerializer,
    "modalities": LlmModelModalitiesSerializer,
    "reasoning_effort": ReasoningEffortSerializer,
}


class ReadOnlyProfileFieldsMixin(serializers.Serializer):
    """Check the read-only profile fields of the request body (not declared: they are never written,
    so the request schema does not offer them)."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        errors = {}
        for name, shape in READ_ONLY_PROFILE_FIELDS.items():
            value = self.initial_data.get(name)
            if value is None:
                continue
            nested = shape(data=value)
            if not nested.is_valid():
                errors[name] = nested.errors
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class LlmModelCreateSerializer(ReadOnlyProfileFieldsMixin, serializers.Serializer):
    """A model of the provider; `is_default: true` takes the default over from the provider's previous one."""

    model_id = StrictCharField(max_length=255)
    display_name = StrictCharField(max_length=255)
    capabilities = serializers.ListField(child=StrictCharField(max_length=64), max_length=64, required=False)
    is_default = StrictBooleanField(required=False)
    is_favorite = StrictBooleanField(required=False)
    status = serializers.ChoiceField(choices=STATUSES, required=False)
    input_price_per_mtok = price_field()
    output_price_per_mtok = price_field()
    cached_input_price_per_mtok = price_field()


class LlmModelUpdateSerializer(PartialMixin, LlmModelCreateSerializer):
    """Any of the create fields plus status."""

    provider_id = PublicIdField(
        "provider", required=False, help_text="Immutable: only the model's own provider is accepted."
    )


# --------------------------------------------------------------------------- /v1/providers and /v1/models
# The published Everruns spec's shapes (tags `providers` and `models`, SDK 0.3.1 `ModelWithProvider`): the
# /v1/llm-* shapes above plus the spec's fields. Those routes keep their older shapes unchanged.
class ResourceUrlsMixin(serializers.Serializer):
    """The spec's `WithUrls` links. There is no web UI: `view_url` and `ui_link` are the API URL too."""

    #: The URL name of the resource's detail route.
    detail_route = ""
    id_prefix = ""

    self_url = serializers.SerializerMethodField()
    view_url = serializers.SerializerMethodField(method_name="get_self_url")
    ui_link = serializers.SerializerMethodField(method_name="get_self_url")

    def get_self_url(self, obj) -> str:
        path = reverse(self.detail_route, kwargs={"pk": format_id(self.id_prefix, obj.pk)})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


URL_FIELDS = ["self_url", "view_url", "ui_link"]


class ProviderSerializer(ResourceUrlsMixin, LlmProviderSerializer):
    """A provider (spec `Provider`): never the key, only `api_key_set`. `trace` is always null (not supported)."""

    detail_route = "provider-detail"
    id_prefix = "provider"
    trace = serializers.SerializerMethodField()

    class Meta(LlmProviderSerializer.Meta):
        fields = [*LlmProviderSerializer.Meta.fields, "trace", *URL_FIELDS]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_trace(self, obj: LlmProvider) -> None:
        return None


class ModelSerializer(ResourceUrlsMixin, LlmModelSerializer):
    """A model (spec `Model`): `enabled` is `status == "active"`; `is_default`, `status`, `is_stale` are kept."""

    detail_route = "model-detail"
    id_prefix = "model"
    enabled = serializers.SerializerMethodField()

    class Meta(LlmModelSerializer.Meta):
        fields = [*LlmModelSerializer.Meta.fields, "enabled", *URL_FIELDS]
        read_only_fields = fields

    def get_enabled(self, obj: LlmModel) -> bool:
        return obj.status == "active"


class ModelWithProviderSerializer(ModelSerializer, LlmModelWithProviderSerializer):
    """A model with its provider (spec `ModelWithProvider`), its catalogue `profile` and `model_vendor`, and
    `healthy`: its provider is active and can be called (a key applies, or none is needed)."""

    model_vendor = serializers.SerializerMethodField()
    healthy = serializers.SerializerMethodField()

    class Meta(ModelSerializer.Meta):
        fields = [
            *LlmModelWithProviderSerializer.Meta.fields,
            "enabled",
            "model_vendor",
            "healthy",
            *URL_FIELDS,
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_model_vendor(self, obj: LlmModel) -> str | None:
        return model_vendor(obj.provider.provider_type, obj.model_id)

    def get_healthy(self, obj: LlmModel) -> bool:
        return provider_is_ready(obj.provider)


class EnabledMixin(serializers.Serializer):
    """The spec's `enabled` flag on input, stored as `status` (`enabled` wins when both are sent)."""

    enabled = StrictBooleanField(required=False, help_text='Spec name of `status`: false stores "disabled".')

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if "enabled" in attrs:
            attrs["status"] = "active" if attrs.pop("enabled") else "disabled"
        return attrs


class ModelCreateSerializer(EnabledMixin, LlmModelCreateSerializer):
    """A new model of the provider (spec `CreateModelRequest`, plus `is_default` and `status`)."""


class ModelUpdateSerializer(EnabledMixin, LlmModelUpdateSerializer):
    """Any of the create fields (spec `UpdateModelRequest`)."""


# --------------------------------------------------------------------------- resource config (spec: .../config)
class ResourceConfigSerializer(serializers.Serializer):
    """ResourceConfigResponse: policy id -> whether the caller satisfies it."""

    policies = serializers.DictField(child=serializers.BooleanField())


class FormFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the form field's, not Field.label
    field_type = serializers.CharField(help_text="password | text | url")
    required = serializers.BooleanField()  # type: ignore[assignment]  # the form field's, not Field.required
    help_text = serializers.CharField(allow_null=True)  # type: ignore[assignment]  # the form field's
    placeholder = serializers.CharField(allow_null=True)
    default_value = serializers.CharField(allow_null=True)
    group = serializers.CharField(allow_null=True)


class CredentialFormSchemaSerializer(serializers.Serializer):
    fields = FormFieldSerializer(many=True)  # type: ignore[assignment]  # the schema's field, not Serializer.fields
    instructions_markdown = serializers.CharField()


class DriverCredentialInfoSerializer(serializers.Serializer):
    driver = serializers.CharField()
    credential_schema = CredentialFormSchemaSerializer()
    supports_oauth = serializers.BooleanField()


class ProvidersConfigSerializer(ResourceConfigSerializer):
    """ProvidersConfigResponse: the caller's policies and each provider type's credential form."""

    drivers = DriverCredentialInfoSerializer(many=True)


# --------------------------------------------------------------------------- /v1/user/connections
class ConnectionSetSerializer(serializers.Serializer):
    api_key = StrictCharField(max_length=4096, write_only=True)


class ConnectionSerializer(serializers.Serializer):
    """A user's connection to a provider; the key itself is never returned."""

    provider = serializers.CharField()
    connection_type = serializers.SerializerMethodField()
    connected_at = TimestampField(source="created_at")
    created_at = TimestampField()
    updated_at = TimestampField()
    provider_username = serializers.SerializerMethodField()
    scopes = serializers.SerializerMethodField()

    def get_connection_type(self, obj) -> str:
        return "api_key"

    def get_provider_username(self, obj) -> str | None:
        return None

    def get_scopes(self, obj) -> str | None:
        return None
