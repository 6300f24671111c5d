"""Rate limit for the unauthenticated credential routes (login, register, refresh), with RateLimit headers."""

import math
from dataclasses import dataclass

from django.conf import settings
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView


@dataclass(frozen=True)
class RateLimitState:
    """What a throttle knew after counting a request: the policy and where the caller stands in it."""

    policy: str
    limit: int
    window: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        """IETF draft-ietf-httpapi-ratelimit-headers (-09/-10): the policy (quota q per window w seconds)
        and the caller's state in it (r requests remaining, t seconds until the quota resets)."""
        return {
            "RateLimit-Policy": f'"{self.policy}";q={self.limit};w={self.window}',
            "RateLimit": f'"{self.policy}";r={self.remaining};t={self.reset}',
        }


class AuthRateThrottle(SimpleRateThrottle):
    """One bucket per client IP shared by login, register and refresh (`DEFAULT_THROTTLE_RATES["auth"]`).

    - The rate is read from settings on every request (DRF caches it at import), so operators and
      tests can change it without a restart.
    - The client is REMOTE_ADDR unless REST_FRAMEWORK["NUM_PROXIES"] is configured: DRF's default
      would trust a client-supplied X-Forwarded-For, letting anyone get a fresh bucket per request.
    - Buckets live in Django's default cache, which settings.py makes shared by every process (the
      database cache table, or Redis with REDIS_URL): the limit holds per deployment, not per worker.
    - After counting, the caller's standing is left on the request (`ratelimit`) for RateLimitHeadersMixin.
    """

    scope = "auth"

    def get_rate(self) -> str | None:
        return settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(self.scope)

    def get_ident(self, request: Request) -> str:
        if api_settings.NUM_PROXIES is None:
            return request.META.get("REMOTE_ADDR", "")
        return super().get_ident(request)

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request: Request, view: APIView) -> bool:
        allowed = super().allow_request(request, view)
        limit, window = self.parse_rate(self.rate)
        if limit is not None and window is not None:
            # history is newest first; the quota frees up when its oldest entry leaves the window.
            reset = window - (self.now - self.history[-1]) if self.history else window
            request.ratelimit = RateLimitState(  # type: ignore[attr-defined]  # our own attribute
                policy=self.scope,
                limit=limit,
                window=window,
                remaining=max(0, limit - len(self.history)),
                reset=max(1, math.ceil(reset)),
            )
        return allowed


class RateLimitHeadersMixin:
    """Views with throttled routes: every response of a throttled request (429s too) carries RateLimit headers."""

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        state = getattr(request, "ratelimit", None)
        if isinstance(state, RateLimitState):
            for name, value in state.headers().items():
                response[name] = value
        return response
