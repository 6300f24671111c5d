"""Shared fixtures. Test-only setting tweaks live here, not in a second settings module."""

import pytest
from rest_framework.test import APIClient

pytest_plugins = ["tests.fakes.plugin"]


def pytest_collection_modifyitems(items):
    """Every test with a transactional database gets serialized rollback, whoever wrote it.

    A transactional test ends with a flush. Without serialized rollback the flush re-runs post_migrate, which
    recreates the content types under new primary keys (sequences are not reset); the next serialized test then
    restores the snapshot's content types over them and fails on the (app_label, model) unique constraint, so
    the suite passed or failed by test order. With one rule for all, the migration-seeded rows (default
    organization, simulator, content types) are the same before and after every transactional test.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
            name in item.fixturenames for name in ("transactional_db", "live_server")
        )
        if transactional and not (marker is not None and marker.kwargs.get("serialized_rollback")):
            kwargs = dict(marker.kwargs if marker is not None else {}, transaction=True, serialized_rollback=True)
            item.add_marker(pytest.mark.django_db(*(marker.args if marker is not None else ()), **kwargs), append=False)


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    # Argon2 is deliberately slow; tests hash many passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AUTH_MODE = "none"


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def default_org(db):
    from apps.accounts.models import DEFAULT_ORG_ID, Organization

    # get_or_create: a transactional test elsewhere may have flushed the migration-seeded rows.
    return Organization.objects.get_or_create(pk=DEFAULT_ORG_ID, defaults={"name": "Default"})[0]


@pytest.fixture
def make_agent(default_org):
    """make_agent(org=default_org, name="Helper", capabilities=()) -> an Agent row (API tested in tests/agents)."""
    from apps.agents.models import Agent

    def _make(org=None, name: str = "Helper", capabilities: list | None = None):
        return Agent.objects.create(
            organization=org or default_org, name=name, system_prompt="You help.", capabilities=capabilities or []
        )

    return _make


@pytest.fixture
def agent(make_agent):
    return make_agent()


@pytest.fixture
def make_session(agent):
    """make_session(for_agent=agent, **kwargs) -> a Session created through the service (with its session.started)."""
    from apps.sessions.services import session_create

    def _make(for_agent=None, **kwargs):
        for_agent = for_agent or agent
        return session_create(organization=for_agent.organization, agent=for_agent, **kwargs)

    return _make


@pytest.fixture
def session(make_session):
    return make_session()


@pytest.fixture
def make_org(db):
    """make_org(name) -> a new Organization."""
    from apps.accounts.models import Organization

    def _make(name: str = "Other Org"):
        return Organization.objects.create(name=name)

    return _make


@pytest.fixture
def make_user(db, default_org):
    """make_user(email, org=default_org, role="member") -> a User who is a member of `org`."""
    from apps.accounts.models import Membership, User

    def _make(email: str = "member@example.com", org=None, role: str = "member", password: str = "S3cure-pass!"):
        user = User.objects.create_user(email=email, password=password, name=email.split("@")[0])
        Membership.objects.create(user=user, organization=org or default_org, role=role)
        return user

    return _make


@pytest.fixture
def client_for():
    """client_for(user, org=None) -> an APIClient acting as `user` (optionally in `org` via X-Org-Id).

    It bypasses credential checks (those are tested in tests/accounts); the organization is
    still resolved from the user's memberships, exactly as for a real credential.
    """
    from apps.core.ids import format_id

    def _make(user, org=None) -> APIClient:
        client = APIClient()
        client.force_authenticate(user=user)
        if org is not None:
            client.credentials(HTTP_X_ORG_ID=format_id("org", org.pk))
        return client

    return _make


@pytest.fixture
def member_client(make_user, client_for):
    """A plain member of the default organization (not an admin)."""
    return client_for(make_user("member@example.com"))


@pytest.fixture
def admin_client(make_user, client_for):
    """An admin of the default organization."""
    return client_for(make_user("admin@example.com", role="admin"))


@pytest.fixture
def other_org_client(make_org, make_user, client_for):
    """An admin of a different organization: everything of the default org must be 404 to them."""
    org = make_org("Other Org")
    return client_for(make_user("other@example.com", org=org, role="admin"))


# --------------------------------------------------------------------------- identity (tests/accounts, access matrix)
@pytest.fixture(autouse=True)
def _fresh_throttle_buckets(settings):
    # Throttle counters live in the default cache, which production shares between processes (a database
    # table or Redis: tests/accounts/test_shared_throttling.py covers those). Here each test gets an empty
    # memory cache of its own, usable without database access, so one test's logins never throttle the next.
    from django.core.cache import cache

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def full_auth(settings):
    """AUTH_MODE=full with plain-HTTP cookies, as a production server with registration would run."""
    settings.AUTH_MODE = "full"
    settings.AUTH_DISABLE_SIGNUP = False
    settings.AUTH_DISABLE_PASSWORD = False
    return settings


@pytest.fixture
def access_token_for():
    """access_token_for(user) -> a real, signed access JWT for `user` (roles from their oldest membership)."""
    from apps.accounts.selectors import default_membership, roles_for
    from apps.accounts.tokens import encode_access

    def _make(user) -> str:
        membership = default_membership(user=user)
        roles = roles_for(user=user, membership_role=membership.role if membership else None)
        return encode_access(user_id=str(user.pk), email=user.email, name=user.name, roles=roles)

    return _make


@pytest.fixture
def bearer_client_for(access_token_for):
    """bearer_client_for(user, org=None) -> an APIClient sending a real `Authorization: Bearer <jwt>`.

    Unlike client_for, credentials go through EverrunsAuthentication (needs AUTH_MODE != none,
    e.g. the full_auth fixture).
    """
    from apps.core.ids import format_id

    def _make(user, org=None) -> APIClient:
        client = APIClient()
        headers = {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(user)}"}
        if org is not None:
            headers["HTTP_X_ORG_ID"] = format_id("org", org.pk)
        client.credentials(**headers)
        return client

    return _make


@pytest.fixture
def json_log():
    """The project's console handler (JSON format, context filter) writing into a buffer; returns the lines."""
    import io
    import json
    import logging
    import logging.config

    from django.conf import settings as django_settings

    config = django_settings.LOGGING
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    formatter_config = dict(config["formatters"]["json"])
    handler.setFormatter(logging.config.DictConfigurator({}).configure_custom(formatter_config))
    handler.addFilter(logging.config.DictConfigurator({}).configure_custom(dict(config["filters"]["log_context"])))
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old_level)
