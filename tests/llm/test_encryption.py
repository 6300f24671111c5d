"""AES-256-GCM storage of provider keys, key ids, row binding, rotation and configuration checks."""

import base64
import io
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from apps.llm import crypto
from apps.llm.checks import check_encryption_keys
from apps.llm.models import LlmProvider
from apps.llm.services import provider_api_key
from tests.llm.helpers import SECRET, b64key

pytestmark = pytest.mark.django_db

OLD = f"old:{b64key(b'o')}"
NEW = f"new:{b64key(b'n')}"


def _row(provider: dict) -> LlmProvider:
    return LlmProvider.objects.get(pk=provider["id"].removeprefix("provider_"))


def _rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out)
    return out.getvalue()


def test_ciphertext_is_gcm_with_random_nonce(create_provider):
    first, second = _row(create_provider(api_key=SECRET)), _row(create_provider(api_key=SECRET))
    assert first.api_key_encrypted != second.api_key_encrypted  # fresh nonce each time
    blob = base64.b64decode(first.api_key_encrypted)
    assert len(blob) == crypto.NONCE_BYTES + len(SECRET) + 16  # nonce || ciphertext || 128-bit tag
    assert SECRET.encode() not in blob


def test_ciphertext_is_bound_to_its_row(create_provider):
    victim, attacker = _row(create_provider(api_key=SECRET)), _row(create_provider(name="Other"))
    attacker.api_key_encrypted, attacker.api_key_key_id = victim.api_key_encrypted, victim.api_key_key_id
    attacker.save()
    assert provider_api_key(attacker) is None
    assert provider_api_key(victim) == SECRET


def test_tampered_ciphertext_does_not_decrypt_and_is_logged_without_key(create_provider, caplog):
    row = _row(create_provider(api_key=SECRET))
    blob = bytearray(base64.b64decode(row.api_key_encrypted))
    blob[-1] ^= 1
    row.api_key_encrypted = base64.b64encode(bytes(blob)).decode()
    with caplog.at_level(logging.ERROR, logger="everruns.llm"):
        assert provider_api_key(row) is None
    assert "cannot be decrypted" in caplog.text
    assert SECRET not in caplog.text


def test_rotation_re_encrypts_and_old_ciphertext_decrypts_until_rotated(create_provider, settings):
    settings.ENCRYPTION_KEYS = OLD
    keyed = create_provider(api_key=SECRET)
    other = create_provider(name="Second", api_key="sk-second")
    keyless = create_provider(name="Keyless")
    before = _row(keyed).api_key_encrypted
    assert _row(keyed).api_key_key_id == "old"

    # New key first, old key still listed: old rows still decrypt, new writes use the new key.
    settings.ENCRYPTION_KEYS = f"{NEW},{OLD}"
    assert provider_api_key(_row(keyed)) == SECRET
    assert _row(create_provider(name="Fresh", api_key="sk-fresh")).api_key_key_id == "new"

    assert "would re-encrypt 2 key(s)" in _rotate("--dry-run")
    assert _row(keyed).api_key_encrypted == before

    output = _rotate()
    assert "re-encrypted 2 key(s) with key id 'new'; 1 already current." in output
    rotated = _row(keyed)
    assert rotated.api_key_key_id == "new"
    assert rotated.api_key_encrypted != before
    assert _row(keyless).api_key_encrypted is None

    # The old key can now go.
    settings.ENCRYPTION_KEYS = NEW
    assert provider_api_key(rotated) == SECRET
    assert provider_api_key(_row(other)) == "sk-second"
    assert "re-encrypted 0 key(s)" in _rotate()


def test_dropping_the_old_key_before_rotating_loses_access_and_rotation_reports_it(create_provider, settings):
    settings.ENCRYPTION_KEYS = OLD
    provider = create_provider(api_key=SECRET)
    settings.ENCRYPTION_KEYS = NEW
    assert provider_api_key(_row(provider)) is None
    with pytest.raises(CommandError, match=provider["id"]):
        _rotate()
    assert _row(provider).api_key_key_id == "old"  # left unchanged, recoverable by listing the old key again
    settings.ENCRYPTION_KEYS = f"{NEW},{OLD}"
    _rotate()
    assert provider_api_key(_row(provider)) == SECRET


def test_rotation_without_keys_is_a_command_error(settings):
    settings.ENCRYPTION_KEYS = ""
    with pytest.raises(CommandError, match="ENCRYPTION_KEYS is not set"):
        _rotate()


def test_debug_derives_a_dev_key_from_secret_key(create_provider, settings, caplog):
    settings.ENCRYPTION_KEYS = ""
    settings.DEBUG = True
    settings.SECRET_KEY = "a-debug-only-secret-key-for-this-test-0123456789"
    with caplog.at_level(logging.WARNING, logger="everruns.llm.crypto"):
        provider = create_provider(api_key=SECRET)
    assert "development key derived from SECRET_KEY" in caplog.text
    assert provider["api_key_set"] is True
    assert _row(provider).api_key_key_id == "dev"
    assert provider_api_key(_row(provider)) == SECRET

    # Moving to a real key: the dev key still decrypts in DEBUG, so rotation can move the row.
    settings.ENCRYPTION_KEYS = NEW
    assert "re-encrypted 1 key(s)" in _rotate()
    settings.DEBUG = False
    assert provider_api_key(_row(provider)) == SECRET


def test_production_never_derives_a_key(settings):
    settings.ENCRYPTION_KEYS = ""
    settings.DEBUG = False
    assert crypto.is_configured() is False
    with pytest.raises(crypto.EncryptionNotConfigured):
        crypto.encrypt("x", aad=b"")


@pytest.mark.parametrize(
    "raw",
    [
        "k1:not-base64!",
        "k1:" + base64.b64encode(b"short").decode(),
        f"{NEW},{NEW}",
        ":" + b64key(b"x"),
        f"{'x' * 65}:{b64key(b'x')}",
    ],
)
def test_malformed_keys_are_rejected(raw, settings):
    with pytest.raises(ImproperlyConfigured):
        crypto.parse_keys(raw)
    settings.ENCRYPTION_KEYS = raw
    (error,) = check_encryption_keys(None)
    assert error.id == "llm.E001"


def test_bare_key_and_system_check_warnings(settings):
    assert list(crypto.parse_keys(b64key(b"z"))) == ["default"]
    assert list(crypto.parse_keys(f" {NEW} , {OLD} ")) == ["new", "old"]
    settings.ENCRYPTION_KEYS = ""
    settings.DEBUG = False
    assert [m.id for m in check_encryption_keys(None)] == ["llm.W001"]
    settings.ENCRYPTION_KEYS = NEW
    assert check_encryption_keys(None) == []
