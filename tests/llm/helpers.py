"""Constants shared by the LLM catalogue tests."""

import base64

PROVIDERS = "/v1/llm-providers"
MODELS = "/v1/llm-models"
SECRET = "sk-live-THIS-IS-THE-PLAINTEXT-0123456789"
# The seeded simulated provider and model of the default organization (migration llm 0003).
SIMULATED_PROVIDER = "provider_00000000000000000000000000000001"
SIMULATED_MODEL = "model_00000000000000000000000000000001"


def b64key(byte: bytes) -> str:
    """A valid ENCRYPTION_KEYS key: base64 of 32 copies of `byte`."""
    return base64.b64encode(byte * 32).decode()
