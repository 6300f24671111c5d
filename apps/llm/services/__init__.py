"""Writes and lookups of the LLM catalogue, by subject:

- `keys`: API keys encrypted at rest, the env fallback, key rotation;
- `providers`: provider rows and the address policy (`provider_base_url_check`, SSRF);
- `llm_models`: model rows, one default per provider, the organization's default / simulated model;
- `sync`: `sync-models` (a provider client's model listing reconciled with the stored models).

Public helpers for other apps (importable from `apps.llm.services`, the path they have always used):
- `provider_api_key(provider)`: the key to call a provider with (decrypted, else the env fallback).
- `llm_default_model(organization=...)`: the last step of model resolution for a turn.
- `provider_base_url_check(provider)`: call before any network call to a provider (address policy, SSRF).
"""

from .connections import connection_remove, connection_set
from .keys import (
    ENCRYPTION_NOT_CONFIGURED,
    RotationResult,
    encrypted_secrets_register,
    encryption_keys_rotate,
    llm_provider_keys_rotate,
    llm_provider_set_api_key,
    provider_api_key,
    provider_api_key_set,
)
from .llm_models import (
    SIMULATED_MODEL_DISPLAY_NAME,
    SIMULATED_MODEL_ID,
    SIMULATED_PROVIDER_NAME,
    NoModelAvailable,
    llm_default_model,
    llm_model_clear_default,
    llm_model_create,
    llm_model_delete,
    llm_model_update,
    llm_simulated_model_ensure,
)
from .providers import (
    ProviderAddressNotAllowed,
    ProviderRequestFailed,
    llm_provider_create,
    llm_provider_delete,
    llm_provider_update,
    provider_base_url_check,
)
from .sync import ConnectionCheck, llm_provider_sync_models, llm_provider_test_connection

__all__ = [
    "ConnectionCheck",
    "connection_remove",
    "connection_set",
    "ENCRYPTION_NOT_CONFIGURED",
    "SIMULATED_MODEL_DISPLAY_NAME",
    "SIMULATED_MODEL_ID",
    "SIMULATED_PROVIDER_NAME",
    "NoModelAvailable",
    "ProviderAddressNotAllowed",
    "ProviderRequestFailed",
    "RotationResult",
    "encrypted_secrets_register",
    "encryption_keys_rotate",
    "llm_default_model",
    "llm_model_clear_default",
    "llm_model_create",
    "llm_model_delete",
    "llm_model_update",
    "llm_provider_create",
    "llm_provider_delete",
    "llm_provider_keys_rotate",
    "llm_provider_set_api_key",
    "llm_provider_sync_models",
    "llm_provider_test_connection",
    "llm_provider_update",
    "llm_simulated_model_ensure",
    "provider_api_key",
    "provider_api_key_set",
    "provider_base_url_check",
]
