"""Ops console for users (email login), organizations, memberships and API keys.

API keys cannot be created here (the full key must be shown once, to its owner, by the API) and
their hash is never displayed; the "revoke" action deletes keys, which makes them 401 at once.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from .models import ApiKey, Membership, Organization, RefreshToken, User
from .services import api_key_delete, normalize_email


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("A user with this email already exists.")
        return email


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("A user with this email already exists.")
        return email


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user", "organization"]
    fields = ["user", "organization", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    inlines = [MembershipInline]
    list_display = ["email", "name", "auth_provider", "is_active", "is_staff", "is_superuser", "created_at"]
    list_filter = ["is_active", "is_staff", "is_superuser", "auth_provider"]
    search_fields = ["email", "name"]
    ordering = ["-created_at"]
    readonly_fields = ["id", "created_at", "last_login"]
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        ("Profile", {"fields": ("name", "avatar_url", "auth_provider")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "created_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "usable_password", "password1", "password2")}),
    )


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    inlines = [MembershipInline]
    list_display = ["name", "public_id", "created_at"]
    search_fields = ["name", "id"]
    readonly_fields = ["id", "created_at", "updated_at"]

    @admin.display(description="id")
    def public_id(self, obj: Organization) -> str:
        return f"org_{obj.pk.hex}"


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "key_prefix", "user", "organization", "expires_at", "last_used_at", "created_at"]
    list_filter = ["organization"]
    search_fields = ["name", "key_prefix", "user__email"]
    list_select_related = ["user", "organization"]
    fields = ["id", "name", "key_prefix", "user", "organization", "scopes", "expires_at", "last_used_at", "created_at"]
    readonly_fields = ["id", "key_prefix", "user", "organization", "last_used_at", "created_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request, queryset) -> None:
        count = 0
        for api_key in queryset:
            api_key_delete(api_key=api_key)
            count += 1
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)

    def delete_model(self, request, obj) -> None:
        api_key_delete(api_key=obj)


@admin.register(RefreshToken)
class RefreshTokenAdmin(admin.ModelAdmin):
    """Read-only sessions list; deleting a row signs that device out at its next refresh."""

    list_display = ["user", "created_at", "expires_at"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    fields = ("user", "created_at", "expires_at")  # a tuple: readonly_fields (str-only) shares it
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
