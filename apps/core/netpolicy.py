"""Outbound address policy: which addresses the server may connect to on behalf of a user or a model.

Used by the web_fetch tool (apps/capabilities/builtin/web_fetch.py) and by LLM provider base URLs
(apps/llm/services.py). A host is refused when *any* address it resolves to is private, loopback,
link-local, multicast or otherwise not globally routable (RFC 1918, 127/8, ::1, 169.254/16 with the cloud
metadata service, 100.64/10, fe80::/10, IPv4-mapped IPv6 forms of those, ...): otherwise whoever controls
the URL could make the server reach its own network.
"""

import ipaddress
import socket


class AddressNotAllowed(Exception):
    """The host resolves to an address the policy refuses."""


class HostUnresolvable(Exception):
    """The host name does not resolve."""


def address_blocked(address: str) -> bool:
    """True for any address that is not a global unicast address (IPv4-mapped IPv6 judged as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def resolve_checked(host: str, port: int, *, allow_private: bool = False) -> list[str]:
    """The addresses `host` resolves to (in resolver order, without duplicates), all of them allowed.

    Raises HostUnresolvable when the lookup fails or gives nothing, AddressNotAllowed when any address is
    blocked and `allow_private` is off. Callers that connect should connect to one of the returned
    addresses themselves: a second lookup could answer differently (DNS rebinding).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # socket.gaierror is an OSError
        raise HostUnresolvable(host) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise HostUnresolvable(host)
    if not allow_private and any(address_blocked(address) for address in addresses):
        raise AddressNotAllowed(host)
    return addresses
