"""JWTs (contract 4.3) and API-key material (contract 3.10).

simplejwt's TokenBackend does the signing (HS256 with settings.AUTH_JWT_SECRET); the claims are
ours, exactly as the contract lists them, so tokens stay compatible with other Everruns servers:

- access:  sub, email, name, roles, token_type="access", iat, exp
- refresh: sub, token_type="refresh", iat, exp, jti (32 random hex)

The backend is built per call (cheap) so that settings changes (key rotation in tests, reloads)
take effect without restarting. (Authentication caches verified access-token claims for
AUTH_CACHE_SECONDS, keyed by the signing secret as well: apps/accounts/authentication.py.)
"""

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken

ACCESS = "access"
REFRESH = "refresh"

API_KEY_PREFIX = "evr_"
API_KEY_RE = re.compile(r"^evr_[0-9a-f]{64}$")


class TokenInvalid(Exception):
    """A JWT that is malformed, badly signed, of the wrong type or missing required claims."""


class TokenExpired(TokenInvalid):
    """A well-signed JWT whose `exp` has passed."""


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int

    def as_response(self) -> dict:
        """The contract's TokenResponse body."""
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
        }


def _backend() -> TokenBackend:
    return TokenBackend("HS256", signing_key=settings.AUTH_JWT_SECRET)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def encode_access(*, user_id: str, email: str, name: str, roles: list[str], now: int | None = None) -> str:
    iat = int(time.time()) if now is None else now
    return _backend().encode(
        {
            "sub": user_id,
            "email": email,
            "name": name,
            "roles": roles,
            "token_type": ACCESS,
            "iat": iat,
            "exp": iat + settings.AUTH_JWT_ACCESS_TOKEN_LIFETIME,
        }
    )


def encode_refresh(*, user_id: str, now: int | None = None) -> tuple[str, int]:
    """A refresh JWT and its expiry (unix seconds)."""
    iat = int(time.time()) if now is None else now
    exp = iat + settings.AUTH_JWT_REFRESH_TOKEN_LIFETIME
    token = _backend().encode(
        {"sub": user_id, "token_type": REFRESH, "iat": iat, "exp": exp, "jti": secrets.token_hex(16)}
    )
    return token, exp


def decode(token: str, *, expected_type: str) -> dict:
    """Verify signature, expiry and `token_type`; return the claims.

    Raises TokenExpired / TokenInvalid. A refresh token presented as an access token (or the
    reverse) is invalid: the two must never be interchangeable.
    """
    try:
        # simplejwt annotates decode(token: Token), but it takes the encoded string (its own Token passes one).
        claims = _backend().decode(token)  # type: ignore[arg-type]
    except TokenBackendExpiredToken as exc:
        raise TokenExpired from exc
    except TokenBackendError as exc:
        raise TokenInvalid from exc
    if not isinstance(claims, dict) or claims.get("token_type") != expected_type:
        raise TokenInvalid
    # PyJWT only checks `exp` when present; a token without one would never expire.
    if not isinstance(claims.get("exp"), int) or not isinstance(claims.get("sub"), str):
        raise TokenInvalid
    return claims


def generate_api_key() -> str:
    """`evr_` + 64 lowercase hex (32 random bytes)."""
    return API_KEY_PREFIX + secrets.token_hex(32)


def api_key_display_prefix(raw_key: str) -> str:
    """What lists show instead of the key: `evr_` + first 8 hex + `...`."""
    return raw_key[: len(API_KEY_PREFIX) + 8] + "..."
