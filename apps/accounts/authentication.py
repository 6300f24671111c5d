"""DRF authentication for every /v1 endpoint (contract 4.2).

Order of credential extraction:
1. AUTH_MODE=none: the seeded anonymous admin of the default organization, nothing else is read.
2. `Authorization` header:
   - `Bearer <jwt>` -> access token;
   - `evr_…`, `ApiKey evr_…` or `Bearer evr_…` -> API key (the docs' examples send API keys as
     Bearer, older clients send them raw or with the ApiKey scheme: all three work);
   - anything else -> 401. A header that is present but wrong never falls back to the cookie.
3. Cookie `access_token` -> access token (browsers: the web UI and EventSource/SSE, which cannot
   set headers). Cookies are SameSite=Lax, so cross-site POST/PATCH/DELETE never carry them; that
   is the CSRF protection for cookie-authenticated writes.
4. Nothing -> None, which DRF turns into 401 "Unauthorized" on every non-public route.

Every success resolves the acting organization (X-Org-Id, see tenancy.py) before the view runs,
so a non-member naming a foreign organization is 403 on every route.

Cost per request (the hot path of every /v1 call, asserted by tests/accounts/test_auth_queries.py):
one query for a JWT (active user + acting membership + organization, joined) and one for an API
key (key + user + organization + the user's membership there, joined); none at all within
AUTH_CACHE_SECONDS (off by default) of the same credential's last lookup in this process (see _CredentialCache).
`last_used_at` is only written when the value already loaded is older than
API_KEY_LAST_USED_RESOLUTION. Failure paths may run a second query to choose between 401 and 403.
"""

import time
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.db.models import F, FilteredRelation, Model, Q
from django.db.models.base import ModelState
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from apps.core import ids
from apps.core.exceptions import Forbidden, Unauthorized

from . import tokens
from .models import ANONYMOUS_USER_ID, ApiKey, Membership, Organization, User
from .services import API_KEY_LAST_USED_RESOLUTION, anonymous_user_ensure, api_key_mark_used
from .tenancy import acting_membership, attach_membership, attach_organization


class _ActingMembership(TypedDict):
    """Loaded with the key in the same query (_api_key_with_membership): the key's user's membership in the
    key's organization, all None when the user left it."""

    acting_id: uuid.UUID | None
    acting_role: str | None
    acting_created_at: datetime | None


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    _ApiKeyWithMembership = WithAnnotations[ApiKey, _ActingMembership]

# Upper bound of AUTH_CACHE_SECONDS: the longest a change that bypasses the invalidation below may take to apply.
AUTH_CACHE_MAX_SECONDS = 5


class _CredentialCache:
    """Per-process, short-lived memory of successful credential lookups (the rows, not the verdict).

    Keys: ("key", SHA-256 of the API key), ("jwt", user id, X-Org-Id) and ("jwt-claims", signing
    secret, token): the claims of a JWT whose signature was verified with that secret. A JWT's expiry,
    an API key's `expires_at`, its organization binding and X-Org-Id are still checked on every
    request; only the database round trip and the signature check are saved. Entries live
    AUTH_CACHE_SECONDS (0 turns the cache off, more than AUTH_CACHE_MAX_SECONDS is capped).
    Deleting or saving an API key drops its entry and saving/deleting any user, membership or
    organization empties the cache, in this process at once; other worker processes, and changes
    made with QuerySet.update(), catch up within the TTL: that is the revocation delay, documented
    in docs/auth.md.
    Each request gets copies of the cached model instances, never the shared ones.
    """

    MAX_ENTRIES = 4096

    def __init__(self) -> None:
        self._entries: dict[tuple, tuple[float, object]] = {}
        self.clock = time.monotonic  # replaceable, so tests can step over the TTL without sleeping

    @staticmethod
    def ttl() -> float:
        return max(0.0, min(float(getattr(settings, "AUTH_CACHE_SECONDS", 0)), AUTH_CACHE_MAX_SECONDS))

    def get(self, key: tuple) -> Any:
        entry = self._entries.get(key)
        # The TTL is read now, not at insertion, so lowering the setting applies to existing entries.
        if entry is None or self.clock() - entry[0] >= self.ttl():
            return None
        return entry[1]

    def put(self, key: tuple, value: object) -> None:
        ttl = self.ttl()
        if ttl <= 0:
            return
        if len(self._entries) >= self.MAX_ENTRIES:  # full: drop expired entries; still full, start over (never grow)
            now = self.clock()
            self._entries = {k: entry for k, entry in self._entries.items() if now - entry[0] < ttl}
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
        self._entries[key] = (self.clock(), value)

    def discard(self, key: tuple) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


credential_cache = _CredentialCache()


def _forget_api_key(sender: type[ApiKey], instance: ApiKey, **kwargs: Any) -> None:
    credential_cache.discard(("key", instance.key_hash))


def _forget_everything(sender: type[Model], **kwargs: Any) -> None:
    # Users, memberships and organizations change rarely; dropping all entries is simpler than indexing them.
    credential_cache.clear()


for _signal in (post_save, post_delete):
    _signal.connect(_forget_api_key, sender=ApiKey, dispatch_uid=f"auth-cache-key-{_signal is post_save}")
    for _model in (User, Membership, Organization):
        _signal.connect(
            _forget_everything, sender=_model, dispatch_uid=f"auth-cache-{_model.__name__}-{_signal is post_save}"
        )


def _clone[M: Model](instance: M) -> M:
    """A shallow copy of a model instance with its own (empty) related-object cache.

    What copy.copy gives, at a fifth of the cost (no pickling protocol): this runs on every
    authenticated request. Callers set the related objects they need on the clone.
    """
    clone = instance.__class__.__new__(instance.__class__)
    clone.__dict__.update(instance.__dict__)
    clone._state = ModelState()
    clone._state.db = instance._state.db
    clone._state.adding = instance._state.adding
    return clone


def _membership_copy(membership: Membership) -> Membership:
    fresh = _clone(membership)
    fresh.user = _clone(membership.user)
    fresh.organization = _clone(membership.organization)
    return fresh


def _api_key_copy[K: ApiKey](api_key: K) -> K:
    fresh = _clone(api_key)
    fresh.user = _clone(api_key.user)
    fresh.organization = _clone(api_key.organization)
    return fresh


ACCESS_COOKIE = "access_token"
REFRESH_COOKIE = "refresh_token"


class EverrunsAuthentication(BaseAuthentication):
    """Anonymous admin (none mode), JWT access token (header or cookie) or `evr_` API key."""

    def authenticate(self, request: Request) -> tuple[User, dict | ApiKey | None] | None:
        if settings.AUTH_MODE == "none":
            membership = acting_membership(ANONYMOUS_USER_ID, request.META.get("HTTP_X_ORG_ID"))
            if membership is not None:
                attach_membership(request, membership)
                return membership.user, None
            # Slow path: the seeded rows are gone (recreated here) or the header names a foreign org (403).
            user = User.objects.filter(pk=ANONYMOUS_USER_ID).first() or anonymous_user_ensure()
            attach_organization(request, user)
            return user, None

        header = request.META.get("HTTP_AUTHORIZATION", "").strip()
        if header:
            return self._from_header(request, header)
        cookie = request.COOKIES.get(ACCESS_COOKIE)
        if cookie:
            return self._from_access_token(request, cookie)
        return None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'

    # ------------------------------------------------------------------ helpers
    def _from_header(self, request: Request, header: str) -> tuple[User, dict | ApiKey]:
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if not value and scheme.startswith(tokens.API_KEY_PREFIX):
            return self._from_api_key(request, scheme)
        if scheme.lower() == "apikey":
            return self._from_api_key(request, value)
        if scheme.lower() == "bearer" and value:
            if value.startswith(tokens.API_KEY_PREFIX):
                return self._from_api_key(request, value)
            return self._from_access_token(request, value)
        raise Unauthorized(log_detail="unsupported Authorization scheme")

    def _from_access_token(self, request: Request, token: str) -> tuple[User, dict]:
        # A token whose signature was verified within the cache TTL is not verified again (HS256 +
        # claim checks are ~0.1 ms); its expiry is, on every request.
        # Keyed by the signing secret too: a changed AUTH_JWT_SECRET never honours a token verified with the old one.
        claims_key = ("jwt-claims", settings.AUTH_JWT_SECRET, token)
        claims = credential_cache.get(claims_key)
        if claims is None or claims["exp"] <= time.time():
            try:
                claims = tokens.decode(token, expected_type=tokens.ACCESS)
            except tokens.TokenExpired:
                raise Unauthorized(log_detail="access token expired") from None
            except tokens.TokenInvalid:
                raise Unauthorized(log_detail="access token invalid") from None
            credential_cache.put(claims_key, claims)
        claims = {**claims, "roles": list(claims.get("roles") or [])}  # the request's own copy (roles is a list)
        user_id = _uuid_or_none(claims["sub"])
        org_header = request.META.get("HTTP_X_ORG_ID")
        cache_key = ("jwt", user_id, org_header)
        cached = credential_cache.get(cache_key)
        membership = _membership_copy(cached) if cached is not None else acting_membership(user_id, org_header)
        if membership is not None:
            if cached is None:
                credential_cache.put(cache_key, _membership_copy(membership))
            attach_membership(request, membership)
            return membership.user, claims
        # Failure path only: 401 for an unknown/inactive user, else 403 (not a member there).
        user = User.objects.filter(pk=user_id, is_active=True).first() if user_id is not None else None
        if user is None:
            raise Unauthorized(log_detail="access token for an unknown or inactive user")
        attach_organization(request, user)  # raises Forbidden (or succeeds after a concurrent join)
        return user, claims

    def _from_api_key(self, request: Request, raw_key: str) -> tuple[User, ApiKey]:
        if not tokens.API_KEY_RE.match(raw_key):
            raise Unauthorized("Invalid API key format")
        key_hash = tokens.sha256_hex(raw_key)
        cached = credential_cache.get(("key", key_hash))
        api_key = _api_key_copy(cached) if cached is not None else _api_key_with_membership(key_hash)
        if api_key is None or not api_key.user.is_active:
            raise Unauthorized("Invalid API key")
        if cached is None:
            cached = _api_key_copy(api_key)
            credential_cache.put(("key", key_hash), cached)
        if api_key.is_expired:
            raise Unauthorized("API key expired")
        # A key acts only in the organization it was created in, and only while its user is a member there.
        org_header = request.META.get("HTTP_X_ORG_ID")
        if org_header and ids.parse_id("org", org_header.strip()) != api_key.organization_id:
            raise Forbidden(log_detail=f"API key {api_key.pk} may not act in {org_header[:80]!r}")
        if api_key.acting_id is None:
            raise Forbidden(log_detail=f"API key {api_key.pk}: its user left organization {api_key.organization_id}")
        membership = Membership.from_db(
            api_key._state.db,
            ["id", "user_id", "organization_id", "role", "created_at"],
            [
                api_key.acting_id,
                api_key.user_id,
                api_key.organization_id,
                api_key.acting_role,
                api_key.acting_created_at,
            ],
        )
        membership.user = api_key.user
        membership.organization = api_key.organization
        attach_membership(request, membership)
        # Decide on the row already loaded: a recently used key costs no write (and no query) at all.
        last_used = api_key.last_used_at
        if last_used is None or last_used < timezone.now() - API_KEY_LAST_USED_RESOLUTION:
            api_key_mark_used(api_key=api_key)
            cached.last_used_at = timezone.now()  # the next requests within the TTL need not try again
        return api_key.user, api_key


def _api_key_with_membership(key_hash: str) -> "_ApiKeyWithMembership | None":
    """The key with its user, organization and `acting_*` (the user's membership there) in one query.

    The membership is a LEFT JOIN on (user, key's organization), so a key whose user has left the
    organization still loads, with `acting_id` None (-> 403, as before).
    """
    acting = FilteredRelation("user__memberships", condition=Q(user__memberships__organization=F("organization")))
    return (
        ApiKey.objects.select_related("user", "organization")
        .annotate(acting=acting)
        .annotate(acting_id=F("acting__id"), acting_role=F("acting__role"), acting_created_at=F("acting__created_at"))
        .filter(key_hash=key_hash)
        .first()
    )


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError):
        return None


try:  # drf-spectacular: how to authenticate, in the OpenAPI document.
    from drf_spectacular.extensions import OpenApiAuthenticationExtension

    class EverrunsAuthenticationScheme(OpenApiAuthenticationExtension):
        # One scheme: OpenAPI lists several schemes in one requirement as "all of them".
        target_class = EverrunsAuthentication
        name = "bearerAuth"

        def get_security_definition(self, auto_schema):
            return {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT or evr_ API key",
                "description": "`Authorization: Bearer <access token>` or an API key as `Bearer evr_…`, "
                "`ApiKey evr_…` or the bare `evr_…`. Browsers may use the `access_token` cookie instead.",
            }
except ImportError:  # pragma: no cover
    pass
