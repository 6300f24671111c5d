"""Request and response shapes of /v1/auth/*, /v1/users and /v1/orgs (contract 3.9, 3.10, 3.11, 4.3, 4.6)."""

from rest_framework import serializers

from apps.core.fields import PublicIdField, StrictCharField, StrictIntegerField, TimestampField
from apps.core.ids import format_id

from .selectors import roles_for

# Hashing cost grows with the input; nobody needs a longer password than this.
MAX_PASSWORD_LENGTH = 1024


# --------------------------------------------------------------------------- requests
class LoginSerializer(serializers.Serializer):
    # Not an EmailField: a malformed address is just an unknown account (401), like any other.
    email = StrictCharField(max_length=254)
    password = StrictCharField(max_length=MAX_PASSWORD_LENGTH, trim_whitespace=False)


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = StrictCharField(max_length=MAX_PASSWORD_LENGTH, trim_whitespace=False)
    name = StrictCharField(max_length=255)


class RefreshSerializer(serializers.Serializer):
    """The refresh token may come in the body or in the `refresh_token` cookie."""

    refresh_token = StrictCharField(required=False, allow_blank=True, max_length=4096)


class ApiKeyCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=255)
    scopes = serializers.ListField(
        child=StrictCharField(max_length=64),
        required=False,
        max_length=32,
        help_text='Stored, not enforced; empty or omitted means ["*"] (full access).',
    )
    expires_in_days = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=3650,
        help_text="Days until the key stops working (1..3650); omitted or null: never expires.",
    )


# --------------------------------------------------------------------------- responses
class TokenResponseSerializer(serializers.Serializer):
    access_token = StrictCharField()
    token_type = StrictCharField(default="Bearer")
    expires_in = serializers.IntegerField(help_text="Access token lifetime in seconds.")
    refresh_token = StrictCharField()


class AuthConfigSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=["none", "admin", "full", "external"])
    password_auth_enabled = serializers.BooleanField()
    oauth_providers = serializers.ListField(child=StrictCharField())
    signup_enabled = serializers.BooleanField()


class UserInfoSerializer(serializers.Serializer):
    """`GET /v1/auth/me`: roles are those in the organization the request acts in."""

    id = serializers.UUIDField(read_only=True)
    email = serializers.EmailField(read_only=True)
    name = StrictCharField(read_only=True)
    roles = serializers.SerializerMethodField()
    avatar_url = serializers.URLField(read_only=True, allow_null=True)
    organization_id = serializers.SerializerMethodField(
        help_text="The organization this request acts in (choose another with the X-Org-Id header)."
    )

    def get_roles(self, user) -> list[str]:
        return roles_for(user=user, membership_role=self.context["membership"].role)

    def get_organization_id(self, user) -> str:
        return format_id("org", self.context["membership"].organization_id)


class UserSerializer(serializers.Serializer):
    """A member of the caller's organization (expects the `org_role` annotation of selectors.user_list)."""

    id = serializers.UUIDField(read_only=True)
    email = serializers.EmailField(read_only=True)
    name = StrictCharField(read_only=True)
    avatar_url = serializers.URLField(read_only=True, allow_null=True)
    roles = serializers.SerializerMethodField()
    auth_provider = StrictCharField(read_only=True, allow_null=True)
    created_at = TimestampField(read_only=True)

    def get_roles(self, user) -> list[str]:
        return roles_for(user=user, membership_role=getattr(user, "org_role", None))


class ApiKeySerializer(serializers.Serializer):
    """ApiKeyListItem: never the key itself, only its display prefix."""

    id = serializers.UUIDField(read_only=True)
    name = StrictCharField(read_only=True)
    key_prefix = StrictCharField(read_only=True)
    scopes = serializers.ListField(child=StrictCharField(), read_only=True)
    expires_at = TimestampField(read_only=True, allow_null=True)
    last_used_at = TimestampField(read_only=True, allow_null=True)
    created_at = TimestampField(read_only=True)


class ApiKeyCreatedSerializer(serializers.Serializer):
    """ApiKeyCreated: the only response that ever contains the full key."""

    id = serializers.UUIDField(read_only=True)
    name = StrictCharField(read_only=True)
    key = StrictCharField(read_only=True)
    key_prefix = StrictCharField(read_only=True)
    scopes = serializers.ListField(child=StrictCharField(), read_only=True)
    expires_at = TimestampField(read_only=True, allow_null=True)
    created_at = TimestampField(read_only=True)


# --------------------------------------------------------------------------- organizations (spec tag Organizations)
API_ROLES = ["admin", "user"]


class OrganizationCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=255)


class OrganizationUpdateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=255, required=False)


class OrganizationSerializer(serializers.Serializer):
    """OrganizationResponse (the fields a self-hosted server has; per-service provider defaults are not kept yet)."""

    id = PublicIdField("org", read_only=True)
    name = StrictCharField(read_only=True)
    default_provider_per_service = serializers.SerializerMethodField()
    created_at = TimestampField(read_only=True)
    updated_at = TimestampField(read_only=True)

    def get_default_provider_per_service(self, organization) -> dict[str, str]:
        return {}


class MemberAddSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=API_ROLES, default="user")


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=API_ROLES)
