"""The access matrix, generated from the URLconf: every /v1 endpoint, including ones added later.

For each (method, route) under /v1 the tests check, with real credentials in AUTH_MODE=full:

- no credentials -> 401 "Unauthorized" (except the public auth routes, whose set is pinned below);
- bad credentials (garbage/expired/wrongly signed/refresh-type JWT, unknown/expired API key) -> 401;
- `X-Org-Id` naming an organization the caller is not a member of -> 403 "Forbidden";
- a plain member on an admin-only route (detected by probing the view's permission classes) -> 403 "Forbidden",
  and never 401/403 on any other route;
- another organization's resource in the path -> 404, with exactly the body a missing id gets.

The foreign-organization case needs real rows. `KWARG_KINDS` maps a URL kwarg (or a viewset's
`id_prefix` for `pk`) to a kind, and `FACTORIES` creates a row of that kind in a given organization
and returns its public id. A route whose kwarg has no kind is not skipped: its test fails and says
what to add here.
"""

import datetime as dt
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from apps.core.ids import format_id, uuid7

pytestmark = pytest.mark.django_db

# The only /v1 routes that answer without credentials (contract 1.8). OAuth routes join when built.
PUBLIC_ENDPOINTS = {
    ("GET", "/v1/auth/config"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/register"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/logout"),
}

UNAUTHORIZED = {"error": "Unauthorized", "status": 401}
FORBIDDEN = {"error": "Forbidden", "status": 403}


# --------------------------------------------------------------------------- resource registry
def _agent(org) -> str:
    from apps.agents.models import Agent

    agent = Agent.objects.create(organization=org, name="Matrix agent", system_prompt="You test access.")
    return format_id("agent", agent.public_id)


def _session(org) -> str:
    from apps.agents.models import Agent
    from apps.sessions.models import Session

    agent = Agent.objects.create(organization=org, name="Matrix agent", system_prompt="You test access.")
    return format_id("session", Session.objects.create(organization=org, agent=agent).pk)


def _provider_row(org):
    from apps.llm.models import LlmProvider

    return LlmProvider.objects.create(organization=org, name="Matrix provider", provider_type="llmsim")


def _provider(org) -> str:
    return format_id("provider", _provider_row(org).pk)


def _model(org) -> str:
    from apps.llm.models import LlmModel

    model = LlmModel.objects.create(
        organization=org, provider=_provider_row(org), model_id=f"sim-{uuid.uuid4().hex[:8]}", display_name="Sim"
    )
    return format_id("model", model.pk)


def _api_key(org) -> str:
    from apps.accounts.models import Membership, User
    from apps.accounts.services import api_key_create

    owner = User.objects.create_user(email=f"key-owner-{uuid.uuid4().hex[:8]}@example.com", password=None)
    Membership.objects.create(user=owner, organization=org, role="member")
    api_key, _ = api_key_create(user=owner, organization=org, name="matrix")
    return str(api_key.pk)


def _harness(org) -> str:
    from apps.harnesses.models import Harness

    return format_id("harness", Harness.objects.create(organization=org, name=f"h-{uuid.uuid4().hex[:8]}").pk)


def _agent_version(org) -> str:
    from apps.agents.models import Agent
    from apps.agents.versioning import snapshot

    agent = Agent.objects.create(organization=org, name="Versioned", system_prompt="p")
    return format_id("agentver", snapshot(agent=agent).pk)


def _health_check(org) -> str:
    from apps.agents.models import Agent
    from apps.healthchecks.models import HealthCheckRun

    agent = Agent.objects.create(organization=org, name="Checked", system_prompt="p")
    return format_id("healthcheck", HealthCheckRun.objects.create(organization=org, agent=agent, config_hash="x").pk)


def _webhook_row(org):
    from apps.webhooks.models import Webhook

    return Webhook.objects.create(
        organization=org, url="https://example.com/hook", secret_ciphertext="-", secret_key_id="-"
    )


def _webhook(org) -> str:
    return format_id("wh", _webhook_row(org).pk)


def _webhook_delivery(org) -> str:
    from apps.webhooks.models import WebhookDelivery

    delivery = WebhookDelivery.objects.create(webhook=_webhook_row(org), event_type="turn.completed", payload={})
    return format_id("msg", delivery.pk)


def _schedule_row(org):
    from apps.schedules.models import Schedule

    return Schedule.objects.create(
        organization=org,
        name=f"matrix-{uuid.uuid4().hex[:8]}",
        cron_expression="0 2 * * *",
        target_name="agent.run",
        target_input={"agent_id": _agent(org), "message": "hi"},
        anchor_at=dt.datetime.now(dt.UTC),
    )


def _schedule(org) -> str:
    return format_id("sched", _schedule_row(org).pk)


def _schedule_run(org) -> str:
    from apps.schedules.models import ScheduleRun

    now = dt.datetime.now(dt.UTC)
    return format_id(
        "schedrun", ScheduleRun.objects.create(schedule=_schedule_row(org), scheduled_at=now, started_at=now).pk
    )


# kind -> factory(org) -> the id as it appears in URLs
FACTORIES: dict[str, Callable] = {
    "health_check": _health_check,
    "agent_version": _agent_version,
    "harness": _harness,
    "sched": _schedule,
    "schedrun": _schedule_run,
    "wh": _webhook,
    "webhook_delivery": _webhook_delivery,
    "agent": _agent,
    "session": _session,
    "provider": _provider,
    "model": _model,
    "api_key": _api_key,
}
# kind -> a well-formed id of that kind that exists nowhere
MISSING_IDS: dict[str, Callable[[], str]] = {
    "health_check": lambda: format_id("healthcheck", uuid7()),
    "agent_version": lambda: format_id("agentver", uuid7()),
    "harness": lambda: format_id("harness", uuid7()),
    "sched": lambda: format_id("sched", uuid7()),
    "schedrun": lambda: format_id("schedrun", uuid7()),
    "wh": lambda: format_id("wh", uuid7()),
    "webhook_delivery": lambda: format_id("msg", uuid7()),
    "agent": lambda: format_id("agent", uuid7()),
    "session": lambda: format_id("session", uuid7()),
    "provider": lambda: format_id("provider", uuid7()),
    "model": lambda: format_id("model", uuid7()),
    "api_key": lambda: str(uuid.uuid4()),
}
# URL kwarg -> kind (`pk` uses the viewset's `id_prefix`).
KWARG_KINDS = {
    "run_id": "health_check",
    "harness_id": "harness",
    "version_id": "agent_version",
    "from_version_id": "agent_version",
    "to_version_id": "agent_version",
    "session_id": "session",
    "agent_id": "agent",
    "provider_id": "provider",
    "model_id": "model",
    "key_id": "api_key",
    "delivery_id": "webhook_delivery",
}
# Kwargs that are not organization-owned rows: a fixed, valid value.
FIXED_VALUES = {"path": "notes.txt"}
# Views whose `pk` names something global (not org-owned): the value to use.
GLOBAL_PK_VIEWS = {"CapabilityViewSet": "current_time"}


# --------------------------------------------------------------------------- URLconf walk
@dataclass(frozen=True)
class Endpoint:
    method: str
    template: str  # "/v1/agents/{pk}"
    callback: Callable
    kwargs: tuple[str, ...]

    @property
    def view_class(self):
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


_ROUTE_PARAM = re.compile(r"<(?:[^>:]+:)?([^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>")


def _regex_to_template(regex: str) -> str | None:
    """`^agents/(?P<pk>[^/.]+)$` -> `agents/{pk}`; None when the regex is more than literal text and groups."""
    text = regex.removeprefix("^").removesuffix("$").removesuffix("\\Z")
    out, i = [], 0
    while i < len(text):
        match = _REGEX_GROUP.match(text, i)
        if match:
            depth, j = 1, match.end()
            while j < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1 if text[j] != "\\" else 2
            out.append("{" + match.group(1) + "}")
            i = j
            continue
        if text[i] in "()[]*+?|{}.\\$^":
            return None
        out.append(text[i])
        i += 1
    return "".join(out)


def _pattern_template(pattern) -> str | None:
    if hasattr(pattern, "_route"):  # path()
        return _ROUTE_PARAM.sub(lambda m: "{" + m.group(1) + "}", str(pattern))
    return _regex_to_template(str(pattern))


def _methods(callback) -> list[str]:
    actions = getattr(callback, "actions", None)
    if actions:
        return sorted(method.upper() for method in actions)
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        names = [m for m in view_class.http_method_names if m not in ("options", "head") and hasattr(view_class, m)]
        return sorted(m.upper() for m in names)
    return ["GET"]  # a plain function view: its methods are unknowable from outside; GET is the safe probe


def collect_endpoints() -> tuple[list[Endpoint], list[str]]:
    """Every (method, /v1 route) in the URLconf, plus the routes whose pattern could not be templated."""
    endpoints, unreadable = [], []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            piece = _pattern_template(entry.pattern)
            if piece is None:
                if "v1/" in prefix or str(entry.pattern).startswith(("v1", "^v1")):
                    unreadable.append(prefix + str(entry.pattern))
                continue
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + piece)
            elif isinstance(entry, URLPattern) and (prefix + piece).startswith("v1/"):
                template = "/" + prefix + piece
                names = tuple(re.findall(r"{(\w+)}", template))
                for method in _methods(entry.callback):
                    endpoints.append(Endpoint(method, template, entry.callback, names))

    walk(get_resolver().url_patterns, "")
    return endpoints, unreadable


ENDPOINTS, UNREADABLE = collect_endpoints()
PROTECTED = [e for e in ENDPOINTS if (e.method, e.template) not in PUBLIC_ENDPOINTS]
PROTECTED_IDS = [str(e) for e in PROTECTED]


def kwarg_kind(endpoint: Endpoint, name: str) -> str | None:
    """The resource kind behind a URL kwarg: a FACTORIES key, "fixed"/"global" for non-rows, None if unknown."""
    view_class = endpoint.view_class
    if name in FIXED_VALUES:
        return "fixed"
    lookup = getattr(view_class, "lookup_url_kwarg", None) or "pk"
    if name in ("pk", lookup):
        if view_class is not None and view_class.__name__ in GLOBAL_PK_VIEWS:
            return "global"
        prefix = getattr(view_class, "id_prefix", "") or ""
        if prefix in FACTORIES:
            return prefix
    return KWARG_KINDS.get(name)


def url_for(endpoint: Endpoint, values: dict[str, str]) -> str:
    url = endpoint.template.format(**values)
    match = resolve(url)
    assert match.func is endpoint.callback, f"{url} resolved to another view than {endpoint}"
    return url


def placeholder_values(endpoint: Endpoint) -> dict[str, str]:
    """Well-formed values for routes where only authentication/authorization is under test."""
    values = {}
    for name in endpoint.kwargs:
        kind = kwarg_kind(endpoint, name)
        if kind == "fixed":
            values[name] = FIXED_VALUES[name]
        elif kind == "global":
            values[name] = GLOBAL_PK_VIEWS[endpoint.view_class.__name__]
        elif kind in MISSING_IDS:
            values[name] = MISSING_IDS[kind]()
        else:
            values[name] = format_id(name.removesuffix("_id"), uuid7())
    return values


def call(client: APIClient, endpoint: Endpoint, url: str, **extra):
    response = client.generic(endpoint.method, url, "{}", content_type="application/json", **extra)
    if getattr(response, "streaming", False):  # never wait on an event stream that should not have opened
        response.close()
    return response


def body_of(response) -> object:
    if getattr(response, "streaming", False):
        return f"<stream {response.status_code}>"
    try:
        return response.json()
    except ValueError:
        return response.content[:200]


# --------------------------------------------------------------------------- permission probing
def probe_permissions(endpoint: Endpoint, user) -> bool:
    """Would the view's permission classes let `user` (None = anonymous) call this endpoint?"""
    view_class = endpoint.view_class
    if view_class is None:
        return False  # plain views: treated as protected; the HTTP tests below check what they do
    request = APIRequestFactory().generic(endpoint.method, endpoint.template)
    drf_request = Request(request)
    drf_request.user = user
    view = view_class(**getattr(endpoint.callback, "initkwargs", {}))
    actions = getattr(endpoint.callback, "actions", None) or {}
    view.action_map = actions
    view.action = actions.get(endpoint.method.lower())
    view.request, view.args, view.kwargs, view.format_kwarg = drf_request, (), {}, None
    try:
        return all(permission.has_permission(drf_request, view) for permission in view.get_permissions())
    except Exception:  # a permission raising (e.g. Forbidden) is a refusal
        return False


def is_public(endpoint: Endpoint) -> bool:
    return probe_permissions(endpoint, None)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def matrix(full_auth, make_user, make_org, default_org, bearer_client_for):
    """The cast: a member and an admin of the default organization, and a foreign organization."""
    member = make_user("matrix-member@example.com")
    admin = make_user("matrix-admin@example.com", role="admin")
    foreign = make_org("Foreign")
    return {
        "member": member,
        "member_client": bearer_client_for(member),
        "admin_client": bearer_client_for(admin),
        "default_org": default_org,
        "foreign_org": foreign,
    }


def _jwt(claims: dict, secret: str) -> str:
    from rest_framework_simplejwt.backends import TokenBackend

    return TokenBackend("HS256", signing_key=secret).encode(claims)


def bad_credentials(user, settings) -> dict[str, str]:
    """Authorization headers that must all be refused."""
    from apps.accounts.models import ApiKey
    from apps.accounts.services import api_key_create

    now = int(time.time())
    access = {
        "sub": str(user.pk),
        "email": user.email,
        "name": user.name,
        "roles": ["admin"],
        "token_type": "access",
        "iat": now - 3600,
        "exp": now - 1800,
    }
    expired_key_row, expired_key = api_key_create(user=user, organization=user.organizations.first(), name="old")
    ApiKey.objects.filter(pk=expired_key_row.pk).update(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    return {
        "garbage bearer": "Bearer not-a-jwt",
        "expired jwt": "Bearer " + _jwt(access, settings.AUTH_JWT_SECRET),
        "jwt signed with another secret": "Bearer " + _jwt({**access, "exp": now + 600}, "x" * 64),
        "refresh token as access token": "Bearer "
        + _jwt(
            {"sub": str(user.pk), "token_type": "refresh", "iat": now, "exp": now + 600, "jti": "0" * 32},
            settings.AUTH_JWT_SECRET,
        ),
        "jwt for a deleted user": "Bearer "
        + _jwt({**access, "sub": str(uuid.uuid4()), "exp": now + 600}, settings.AUTH_JWT_SECRET),
        "unknown api key": "evr_" + "a" * 64,
        "malformed api key": "ApiKey evr_123",
        "expired api key": f"Bearer {expired_key}",
        "unsupported scheme": "Basic dXNlcjpwYXNz",
    }


# --------------------------------------------------------------------------- the matrix
def test_urlconf_is_fully_readable():
    assert not UNREADABLE, f"routes the matrix cannot turn into URLs (extend _regex_to_template): {UNREADABLE}"
    assert len(ENDPOINTS) > 5


def test_public_endpoints_are_exactly_the_documented_ones(full_auth):
    public = {(e.method, e.template) for e in ENDPOINTS if is_public(e)}
    assert public == PUBLIC_ENDPOINTS


@pytest.mark.parametrize("endpoint", PROTECTED, ids=PROTECTED_IDS)
def test_no_credentials_is_401(full_auth, api_client, endpoint):
    response = call(api_client, endpoint, url_for(endpoint, placeholder_values(endpoint)))
    assert (response.status_code, body_of(response)) == (401, UNAUTHORIZED)


@pytest.mark.parametrize("endpoint", PROTECTED, ids=PROTECTED_IDS)
def test_bad_credentials_are_401(full_auth, api_client, matrix, settings, endpoint):
    url = url_for(endpoint, placeholder_values(endpoint))
    failures = {}
    for label, header in bad_credentials(matrix["member"], settings).items():
        response = call(api_client, endpoint, url, HTTP_AUTHORIZATION=header)
        body = body_of(response)
        if response.status_code != 401 or not (isinstance(body, dict) and body.get("status") == 401):
            failures[label] = (response.status_code, body)
    assert not failures, f"{endpoint} accepted or mishandled bad credentials: {failures}"


@pytest.mark.parametrize("endpoint", PROTECTED, ids=PROTECTED_IDS)
def test_org_header_naming_a_foreign_org_is_403(matrix, endpoint):
    url = url_for(endpoint, placeholder_values(endpoint))
    for org_header in (format_id("org", matrix["foreign_org"].pk), format_id("org", uuid7()), "garbage"):
        response = call(matrix["admin_client"], endpoint, url, HTTP_X_ORG_ID=org_header)
        assert (response.status_code, body_of(response)) == (403, FORBIDDEN), org_header


@pytest.mark.parametrize("endpoint", PROTECTED, ids=PROTECTED_IDS)
def test_members_get_403_exactly_on_admin_only_routes(matrix, endpoint):
    """Admin-only (the permission classes refuse a plain member) -> 403 "Forbidden"; anything else is never 403."""
    admin_only = not probe_permissions(endpoint, matrix["member"])
    # Rows of the member's own organization: only the role may make the difference.
    values = placeholder_values(endpoint)
    for name in endpoint.kwargs:
        kind = kwarg_kind(endpoint, name)
        if kind in FACTORIES:
            values[name] = FACTORIES[kind](matrix["default_org"])
    response = call(matrix["member_client"], endpoint, url_for(endpoint, values))
    if admin_only:
        assert (response.status_code, body_of(response)) == (403, FORBIDDEN)
    else:
        assert response.status_code not in (401, 403), (response.status_code, body_of(response))


def test_known_admin_only_routes_are_detected(full_auth, make_user):
    """Contract 1.8 / 2.10: the users list and every provider/model mutation are admin-only."""
    member = make_user("probe@example.com")
    must_be_admin = [
        e
        for e in ENDPOINTS
        if e.template == "/v1/users"
        or (e.template.startswith(("/v1/llm-providers", "/v1/llm-models")) and e.method != "GET")
    ]
    assert any(e.template == "/v1/users" for e in must_be_admin)
    open_to_members = [str(e) for e in must_be_admin if probe_permissions(e, member)]
    assert not open_to_members, f"admin-only by contract but open to members: {open_to_members}"


FOREIGN_CASES = [e for e in PROTECTED if any(kwarg_kind(e, name) not in ("fixed", "global") for name in e.kwargs)]


@pytest.mark.parametrize("endpoint", FOREIGN_CASES, ids=[str(e) for e in FOREIGN_CASES])
def test_foreign_organizations_resource_is_404_like_a_missing_one(matrix, endpoint):
    unknown = [n for n in endpoint.kwargs if kwarg_kind(endpoint, n) is None]
    assert not unknown, (
        f"{endpoint} (view {getattr(endpoint.view_class, '__name__', endpoint.callback)}): no resource kind for URL "
        f"kwarg(s) {unknown}. Add them to KWARG_KINDS (and a factory to FACTORIES) in tests/test_access_matrix.py, "
        f"give the viewset an `id_prefix`, or list the view in GLOBAL_PK_VIEWS if the id is not org-owned."
    )
    foreign_values, missing_values = placeholder_values(endpoint), placeholder_values(endpoint)
    for name in endpoint.kwargs:
        kind = kwarg_kind(endpoint, name)
        if kind in FACTORIES:
            foreign_values[name] = FACTORIES[kind](matrix["foreign_org"])
    client = matrix["admin_client"]  # an admin, so admin-only routes reach the lookup
    foreign = call(client, endpoint, url_for(endpoint, foreign_values))
    missing = call(client, endpoint, url_for(endpoint, missing_values))
    assert (foreign.status_code, body_of(foreign)) == (missing.status_code, body_of(missing)), (
        "a foreign resource must be indistinguishable from a missing one"
    )
    if endpoint.method != "PUT":  # PUT may be an upsert: an unknown id then creates a row in the caller's org
        assert foreign.status_code == 404, (foreign.status_code, body_of(foreign))
