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

import httpcore2
import httpx2
from django.conf import settings

from apps.core.netpolicy import AddressNotAllowed, HostUnresolvable, resolve_checked


def policy_addresses(host: str, port: int) -> list[str]:
    """The addresses to try for host:port, all allowed by the policy; else httpcore2.ConnectError (shared with the
    MCP client's async backend, apps/mcp/client.py)."""
    try:
        return resolve_checked(host, port)
    except HostUnresolvable:
        raise httpcore2.ConnectError(f"{host} does not resolve") from None
    except AddressNotAllowed:
        raise httpcore2.ConnectError(f"{host} resolves to a non-public address") from None


class PolicyNetworkBackend(httpcore2.SyncBackend):
    """TCP connections to checked addresses only (tried in resolver order)."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = policy_addresses(host, port)
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


def sdk_http_client(sdk, base_url: str | None) -> httpx2.Client | None:
    """The `http_client` for an SDK client (`sdk` is the openai or anthropic module); None keeps the SDK's own."""
    if not base_url or getattr(settings, "LLM_ALLOW_PRIVATE_BASE_URLS", False):
        return None
    return sdk.DefaultHttpxClient(transport=PolicyTransport())
