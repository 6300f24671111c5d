"""`manage.py check --deploy` is clean with production-like settings and warns about AUTH_MODE=none."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

PRODUCTION = {
    "DEBUG": False,
    "SECRET_KEY": "x9#k2" * 12,
    "ALLOWED_HOSTS": ["api.example.com"],
    "AUTH_MODE": "full",
    "ENCRYPTION_KEYS": "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SECURE_HSTS_SECONDS": 31_536_000,
}


def _apply(settings, **overrides):
    for key, value in {**PRODUCTION, **overrides}.items():
        setattr(settings, key, value)


def test_production_like_settings_pass_deploy_checks(settings, capsys):
    _apply(settings)
    call_command("check", deploy=True, fail_level="WARNING")
    assert "no issues" in capsys.readouterr().out


def test_auth_mode_none_is_flagged(settings):
    _apply(settings, AUTH_MODE="none")
    with pytest.raises(SystemCheckError, match="everruns.W001"):
        call_command("check", deploy=True, fail_level="WARNING")


def test_missing_encryption_keys_is_flagged(settings):
    _apply(settings, ENCRYPTION_KEYS="")
    with pytest.raises(SystemCheckError, match="everruns.W002"):
        call_command("check", deploy=True, fail_level="WARNING")
