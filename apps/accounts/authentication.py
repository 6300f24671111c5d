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
"""

import uuid

from django.conf import settings
from rest_framework.authentication import BaseAuthentication

from apps.core.exceptions import Unauthorized

from . import tokens
from .models import ANONYMOUS_USER_ID, ApiKey, User
from .services import anonymous_user_ensure, api_key_mark_used
from .tenancy import attach_organization

ACCESS_COOKIE = "access_token"
REFRESH_COOKIE = "refresh_token"


class EverrunsAuthentication(BaseAuthentication):
    """Anonymous admin (none mode), JWT access token (header or cookie) or `evr_` API key."""

    def authenticate(self, request):
        if settings.AUTH_MODE == "none":
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

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'

    # ------------------------------------------------------------------ helpers
    def _from_header(self, request, header: str):
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

    def _from_access_token(self, request, token: str):
        try:
            claims = tokens.decode(token, expected_type=tokens.ACCESS)
        except tokens.TokenExpired:
            raise Unauthorized(log_detail="access token expired") from None
        except tokens.TokenInvalid:
            raise Unauthorized(log_detail="access token invalid") from None
        user = User.objects.filter(pk=_uuid_or_none(claims["sub"]), is_active=True).first()
        if user is None:
            raise Unauthorized(log_detail="access token for an unknown or inactive user")
        attach_organization(request, user)
        return user, claims

    def _from_api_key(self, request, raw_key: str):
        if not tokens.API_KEY_RE.match(raw_key):
            raise Unauthorized("Invalid API key format")
        api_key = (
            ApiKey.objects.select_related("user", "organization")
            .filter(key_hash=tokens.sha256_hex(raw_key))
            .first()
        )
        if api_key is None or not api_key.user.is_active:
            raise Unauthorized("Invalid API key")
        if api_key.is_expired:
            raise Unauthorized("API key expired")
        # A key acts only in the organization it was created in.
        attach_organization(request, api_key.user, organization=api_key.organization)
        api_key_mark_used(api_key=api_key)
        return api_key.user, api_key


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
