"""The HTTP client the provider SDKs get for an organization-chosen base_url: connect only where the policy allows.

`apps.llm.services.provider_base_url_check` refuses a base_url whose host resolves to a private, loopback or
link-local address before any call. The SDKs (openai, anthropic: both on httpx2/httpcore2) would then resolve
the name again when they connect, and a hostile DNS server could answer with 127.0.0.1 the second time (DNS
rebinding). With this client the connection itself resolves the host once, checks every address with the same
policy (apps/core/netpolicy.py) and connects to one of those addresses. TLS still uses the host name from the
URL (SNI and certificate verification), and the `Host` header is unchanged: only the TCP destination is pinned.

Not used for the official endpoints (no base_url), for the simulated provider, or when
LLM_ALLOW_PRIVATE_BASE_URLS is on. When an egress proxy is configured for the SDK (HTTP(S)_PROXY), the proxy
makes the connection and this pinning does not apply: the proxy is then the operator's egress control.
"""

from __future__ import annotations

import functools
from typing import Any

import httpcore2
import httpx2
from django.conf import settings

from apps.core.netpolicy import AddressNotAllowed, HostUnresolvable, resolve_checked


class PolicyNetworkBackend(httpcore2.SyncBackend):
    """TCP connections to checked addresses only (tried in resolver order)."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            addresses = resolve_checked(host, port)
        except HostUnresolvable:
            raise httpcore2.ConnectError(f"{host} does not resolve") from None
        except AddressNotAllowed:
            raise httpcore2.ConnectError(f"{host} resolves to a non-public address") from None
        error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore2.ConnectError as exc:
                error = exc
        raise error or httpcore2.ConnectError(f"{host}: no address to connect to")


class PolicyTransport(httpx2.HTTPTransport):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(self._pool, httpcore2.ConnectionPool):  # direct connections (not through a proxy)
            self._pool._network_backend = PolicyNetworkBackend()


@functools.cache
def _shared_http_client(sdk, pinned: bool) -> httpx2.Client:
    """One HTTP client (one connection pool, one SSL context) per SDK and policy mode, for the whole process.

    Building an SDK client builds an httpx client, and that builds an SSL context and loads the CA bundle: about
    40 ms of CPU, which used to be paid on every turn. The clients are thread-safe and hold no credential (the
    SDK client sends the key with each request), so every provider of one SDK shares them.
    """
    return sdk.DefaultHttpxClient(transport=PolicyTransport()) if pinned else sdk.DefaultHttpxClient()


def sdk_http_client(sdk, base_url: str | None) -> httpx2.Client:
    """The `http_client` for an SDK client (`sdk` is the openai or anthropic module): address-pinned for an
    organization-chosen base_url unless LLM_ALLOW_PRIVATE_BASE_URLS is on."""
    pinned = bool(base_url) and not getattr(settings, "LLM_ALLOW_PRIVATE_BASE_URLS", False)
    return _shared_http_client(sdk, pinned)


@functools.lru_cache(maxsize=64)
def _cached_sdk_client(sdk, api_key: str | None, base_url: str | None, timeout: float, http_client) -> Any:
    # Retries are the runtime's job (it records them and checks for cancel in between).
    client_class = sdk.OpenAI if sdk.__name__ == "openai" else sdk.Anthropic
    return client_class(
        api_key=api_key, base_url=base_url or None, timeout=timeout, max_retries=0, http_client=http_client
    )


def sdk_client(sdk, api_key: str | None, base_url: str | None, timeout: float) -> Any:
    """The provider SDK client for these settings, built once per process and reused by every turn.

    Keyed by key, base URL, timeout and the HTTP client (so a changed key or URL, or a changed address policy,
    gets a new client); at most 64 kept, least recently used dropped.
    """
    return _cached_sdk_client(sdk, api_key, base_url or None, timeout, sdk_http_client(sdk, base_url))
