"""Rate limit for the unauthenticated credential routes (login, register, refresh)."""

from django.conf import settings
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView


class AuthRateThrottle(SimpleRateThrottle):
    """One bucket per client IP shared by login, register and refresh (`DEFAULT_THROTTLE_RATES["auth"]`).

    - The rate is read from settings on every request (DRF caches it at import), so operators and
      tests can change it without a restart.
    - The client is REMOTE_ADDR unless REST_FRAMEWORK["NUM_PROXIES"] is configured: DRF's default
      would trust a client-supplied X-Forwarded-For, letting anyone get a fresh bucket per request.
    - Buckets live in Django's default cache (per process unless CACHES names a shared backend).
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
