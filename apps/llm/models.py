"""LLM providers and models (contract 3.6, 3.7)."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from apps.core.ids import format_id, uuid7
from apps.core.models import PublicModel

from .validators import validate_base_url


class LlmProvider(PublicModel):
    """A configured LLM endpoint: type, optional base URL and an encrypted, write-only API key."""

    STATUSES = [("active", "active"), ("disabled", "disabled")]

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="llm_providers")
    name = models.CharField(max_length=255)
    # One of apps.llm.clients.base.CLIENTS (the registry), checked by the serializers and the admin form.
    provider_type = models.CharField(max_length=32)
    base_url = models.CharField(max_length=2048, null=True, blank=True, validators=[validate_base_url])
    # AES-256-GCM ciphertext (base64: nonce || ciphertext+tag) and the id of the key that made it.
    api_key_encrypted = models.TextField(null=True, blank=True, editable=False)
    api_key_key_id = models.CharField(max_length=64, null=True, blank=True, editable=False)
    status = models.CharField(max_length=16, choices=STATUSES, default="active")
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "LLM provider"
        verbose_name_plural = "LLM providers"

    def __str__(self) -> str:
        return f"{self.name} ({self.provider_type})"

    @property
    def public_id(self) -> str:
        """`provider_<hex>`, as the API shows it (for logs and reports)."""
        return format_id("provider", self.pk) or ""


class LlmModel(PublicModel):
    """A model offered by a provider (`model_id` is the provider-side name, e.g. gpt-4o)."""

    SOURCES = [("manual", "manual"), ("discovered", "discovered"), ("predefined", "predefined")]
    STATUSES = [("active", "active"), ("disabled", "disabled")]

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="llm_models")
    provider = models.ForeignKey(LlmProvider, on_delete=models.CASCADE, related_name="models")
    model_id = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255)
    capabilities = models.JSONField(default=list, blank=True)
    is_default = models.BooleanField(default=False)
    is_favorite = models.BooleanField(default=False)
    source = models.CharField(max_length=16, choices=SOURCES, default="manual")
    status = models.CharField(max_length=16, choices=STATUSES, default="active")
    # A discovered model that the latest sync did not return (contract 3.7).
    is_stale = models.BooleanField(default=False)
    # Prices in USD per million tokens (docs/usage.md). Null: the catalogue's price for the model, else 0.
    # Input is the uncached prompt; cached input is tokens read from the prompt cache (cache writes are
    # billed as input). Decimal end to end: a call's cost is exact.
    input_price_per_mtok = models.DecimalField(
        max_digits=14, decimal_places=6, null=True, blank=True, validators=[MinValueValidator(Decimal(0))]
    )
    output_price_per_mtok = models.DecimalField(
        max_digits=14, decimal_places=6, null=True, blank=True, validators=[MinValueValidator(Decimal(0))]
    )
    cached_input_price_per_mtok = models.DecimalField(
        max_digits=14, decimal_places=6, null=True, blank=True, validators=[MinValueValidator(Decimal(0))]
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "LLM model"
        verbose_name_plural = "LLM models"
        constraints = [
            models.UniqueConstraint(fields=["provider"], condition=Q(is_default=True), name="one_default_per_provider"),
            models.UniqueConstraint(fields=["provider", "model_id"], name="uniq_model_per_provider"),
        ]

    def __str__(self) -> str:
        return self.display_name


class UserConnection(models.Model):
    """A user's own credential for a provider type (`/v1/user/connections`), encrypted like provider keys.

    Used by a turn of a session the user owns when the organization's provider for the model has no key of
    its own (apps.llm.services.keys.provider_api_key). Never returned by the API, never logged.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="llm_connections")
    provider = models.CharField(max_length=32)  # a provider type of the client registry
    api_key_encrypted = models.TextField(editable=False)
    api_key_key_id = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "provider"], name="one_connection_per_provider")]

    def __str__(self) -> str:
        return f"{self.provider} connection of {self.user_id}"
