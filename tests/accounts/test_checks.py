"""`check --deploy` flags weak authentication settings."""

from apps.accounts.checks import check_auth_settings


def ids() -> set[str]:
    return {message.id for message in check_auth_settings(None)}


def test_production_auth_settings_are_clean(settings):
    settings.AUTH_MODE = "full"
    settings.AUTH_JWT_SECRET = "s" * 48
    settings.AUTH_COOKIE_SECURE = True
    assert ids() == set()


def test_weak_settings_are_flagged(settings):
    settings.AUTH_MODE = "admin"
    settings.AUTH_JWT_SECRET = "short"
    settings.AUTH_ADMIN_EMAIL = ""
    settings.AUTH_COOKIE_SECURE = False
    assert ids() == {"everruns.W101", "everruns.W102", "everruns.W103"}


def test_none_mode_is_left_to_w001(settings):
    settings.AUTH_MODE = "none"
    settings.AUTH_JWT_SECRET = "short"
    assert ids() == set()
