"""Admin for providers (the API key is a write-only password field, encrypted on save) and models.

Provider actions: "Test connection" (the provider's model listing with its stored key, nothing stored) and
"Sync models" (the same reconciliation as `POST /v1/llm-providers/{id}/sync-models`); each shows its result
per provider and writes an admin log entry.
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction

from apps.core.exceptions import ApplicationError

from . import crypto, services
from .clients.base import provider_type_choices
from .models import LlmModel, LlmProvider, UserConnection


class LlmProviderAdminForm(forms.ModelForm):
    """The key is never rendered (not even as ciphertext); typing one replaces it, ticking "clear" removes it."""

    provider_type = forms.ChoiceField(choices=provider_type_choices)
    api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        max_length=4096,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: it is encrypted on save and never shown. Leave blank to keep the current key.",
    )
    clear_api_key = forms.BooleanField(label="Remove the stored API key", required=False)

    class Meta:
        model = LlmProvider
        fields = ["organization", "name", "provider_type", "base_url", "status"]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("api_key") and not cleaned.get("clear_api_key") and not crypto.is_configured():
            self.add_error("api_key", services.ENCRYPTION_NOT_CONFIGURED)
        return cleaned


INLINE_MODEL_FIELDS: tuple[str, ...] = (
    "model_id",
    "display_name",
    "source",
    "status",
    "is_default",
    "is_favorite",
    "is_stale",
)


class LlmModelInline(admin.TabularInline):
    model = LlmModel
    fields = INLINE_MODEL_FIELDS
    readonly_fields = INLINE_MODEL_FIELDS
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LlmProvider)
class LlmProviderAdmin(admin.ModelAdmin):
    form = LlmProviderAdminForm
    list_display = ["name", "provider_type", "organization", "status", "api_key_set", "last_synced_at", "created_at"]
    list_filter = ["provider_type", "status"]
    search_fields = ["name", "base_url"]
    readonly_fields = ["api_key_set", "api_key_key_id", "last_synced_at", "created_at", "updated_at"]
    fields = [
        "organization",
        "name",
        "provider_type",
        "base_url",
        "status",
        "api_key",
        "clear_api_key",
        "api_key_set",
        "api_key_key_id",
        "last_synced_at",
        "created_at",
        "updated_at",
    ]
    inlines = [LlmModelInline]
    actions = ["test_connection", "sync_models"]

    @admin.action(description="Test connection of the selected providers", permissions=["change"])
    def test_connection(self, request, queryset) -> None:
        for provider in queryset:
            check = services.llm_provider_test_connection(provider=provider)
            level = {True: messages.SUCCESS, False: messages.ERROR, None: messages.WARNING}[check.ok]
            outcome = {True: "OK", False: "FAILED", None: "not checked"}[check.ok]
            self.message_user(request, f"{provider.name}: {outcome}: {check.detail}", level)
            self.log_change(request, provider, f"Tested connection: {outcome}: {check.detail}")

    @admin.action(description="Sync models of the selected providers", permissions=["change"])
    def sync_models(self, request, queryset) -> None:
        for provider in queryset:
            try:
                result = services.llm_provider_sync_models(provider=provider)
            except ApplicationError as exc:
                self.message_user(request, f"{provider.name}: sync failed: {exc.message}", messages.ERROR)
                self.log_change(request, provider, f"Model sync failed: {exc.message}")
                continue
            if result["status"] == "not_supported":
                text = "this provider type does not list its models"
                self.message_user(request, f"{provider.name}: {text}", messages.WARNING)
            else:
                text = f"{result['created']} new, {result['updated']} updated, {result['stale']} stale"
                self.message_user(request, f"{provider.name}: models synced: {text}", messages.SUCCESS)
            self.log_change(request, provider, f"Synced models: {text}")

    @admin.display(boolean=True, description="API key set")
    def api_key_set(self, obj: LlmProvider) -> bool:
        return services.provider_api_key_set(obj) if obj.pk else False

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("clear_api_key"):
            services.llm_provider_set_api_key(provider=obj, api_key=None)
        elif form.cleaned_data.get("api_key"):
            services.llm_provider_set_api_key(provider=obj, api_key=form.cleaned_data["api_key"])


class LlmModelAdminForm(forms.ModelForm):
    class Meta:
        model = LlmModel
        fields = [
            "organization",
            "provider",
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
        ]

    def validate_constraints(self):
        # "One default per provider" is kept by moving the default in save_model (as the API does), so the
        # form must not refuse a second default before that happens.
        is_default = self.instance.is_default
        self.instance.is_default = False
        try:
            super().validate_constraints()
        finally:
            self.instance.is_default = is_default


@admin.register(LlmModel)
class LlmModelAdmin(admin.ModelAdmin):
    form = LlmModelAdminForm
    list_display = [
        "display_name",
        "model_id",
        "provider",
        "organization",
        "source",
        "status",
        "is_default",
        "is_favorite",
        "is_stale",
    ]
    list_filter = ["source", "status", "is_default", "is_favorite", "is_stale"]
    search_fields = ["model_id", "display_name", "provider__name"]
    list_select_related = ["provider", "organization"]
    readonly_fields = ["created_at", "updated_at"]

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        # Same rule as the API: making a model the default takes the default away from the provider's other models.
        if obj.is_default:
            services.llm_model_clear_default(provider_id=obj.provider_id, keep_pk=obj.pk)
        super().save_model(request, obj, form, change)


@admin.register(UserConnection)
class UserConnectionAdmin(admin.ModelAdmin):
    """Users' own provider keys: who and which provider only; the key is never shown."""

    list_display = ["user", "provider", "created_at", "updated_at"]
    search_fields = ["user__email", "provider"]
    fields = ["user", "provider", "created_at", "updated_at"]
    readonly_fields = ["user", "provider", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
