"""Which webhook URLs the portal will call: public https addresses only.

A webhook makes the portal send requests to an address someone else chose. Left
unchecked, that is a way into the portal's own network (server-side request forgery):
its database, its metadata service, the portal itself. So an endpoint must be https
(plain http only where WEBHOOK_ALLOW_HTTP, never in production), must not name the
portal's own host, and every address its host resolves to must be public: no private,
loopback, link-local, multicast, reserved or unspecified address. The host is resolved
when the endpoint is registered and again before every attempt, and the request goes to
the very address that was checked, so a DNS answer that changes in between (rebinding)
cannot steer it elsewhere. Redirects are never followed (webhooks/delivery.py).

WEBHOOK_ALLOWED_ADDRESSES lists addresses allowed all the same, for a receiver on this
machine in development and tests (127.0.0.1); it is empty by default and refused in
production by the settings.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_LENGTH = 2000
DEFAULT_PORTS = {"https": 443, "http": 80}


class UnsafeURL(ValueError):
    """A URL the portal will not call; the message is safe to show to the caller."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (an address that was checked) and what to ask."""

    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]
    # Path and query, as sent in the request line.
    path: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def allowed_addresses() -> frozenset[IPAddress]:
    found = set()
    for text in settings.WEBHOOK_ALLOWED_ADDRESSES:
        try:
            found.add(ipaddress.ip_address(text.strip()))
        except ValueError:
            raise ImproperlyConfigured(
                f"PORTAL_WEBHOOK_ALLOW_ADDRESSES has {text!r}, which is not an IP address."
            ) from None
    return frozenset(found)


def check_url(url: str, *, resolve: bool = True) -> Target:
    """The URL's target, or UnsafeURL saying why the portal will not call it."""
    parts = _parse(url)
    host = _host(parts)
    port = _port(parts)
    if _is_own_host(host, port):
        raise UnsafeURL("own_host", "The URL points at the portal itself.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    literal = _literal(host)
    if literal is not None:
        _check_address(literal)
        return Target(parts.scheme, host, port, (str(literal),), path)
    addresses = _resolve(host, port) if resolve else ()
    return Target(parts.scheme, host, port, addresses, path)


def _parse(url: str) -> SplitResult:
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(
            "invalid_url", f"Give an absolute URL of at most {MAX_URL_LENGTH} characters."
        )
    if any(character.isspace() or ord(character) < 32 for character in url):
        raise UnsafeURL("invalid_url", "The URL contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise UnsafeURL("invalid_url", "The URL cannot be read.") from None
    allowed = {"https", "http"} if settings.WEBHOOK_ALLOW_HTTP else {"https"}
    if parts.scheme not in allowed:
        raise UnsafeURL("scheme", "Webhook URLs must start with https://.")
    if parts.username is not None or parts.password is not None:
        # They would be stored and shown as plain text; authenticate with the signature.
        raise UnsafeURL("credentials", "Webhook URLs must not contain a user name or password.")
    if parts.fragment:
        raise UnsafeURL("invalid_url", "Webhook URLs must not have a #fragment.")
    return parts


def _host(parts: SplitResult) -> str:
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURL("invalid_url", "The URL has no host name.")
    try:
        # IDNA: a host name in any script becomes the ASCII name that DNS resolves.
        return host.encode("idna").decode("ascii").lower() if not _literal(host) else host
    except UnicodeError:
        raise UnsafeURL("invalid_url", "The URL's host name is not valid.") from None


def _port(parts: SplitResult) -> int:
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    if not 0 < port < 65536:
        raise UnsafeURL("invalid_url", "The URL's port is not valid.")
    return port


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_own_host(host: str, port: int) -> bool:
    base = urlsplit(settings.PORTAL_BASE_URL)
    base_host = (base.hostname or "").rstrip(".").lower()
    base_port = base.port or DEFAULT_PORTS.get(base.scheme, 443)
    if host == base_host and port == base_port:
        return True
    literal = _literal(host)
    if literal is not None and literal in allowed_addresses():
        # An address allowed on purpose (a receiver on this machine): only the portal's
        # own port on it is the portal.
        return False
    for entry in settings.ALLOWED_HOSTS:
        entry = entry.rstrip(".").lower()
        if entry == "*" or not entry:
            continue
        if entry.startswith("."):
            if host == entry[1:] or host.endswith(entry):
                return True
        elif host == entry:
            return True
    return False


def _check_address(address: IPAddress) -> None:
    if address in allowed_addresses():
        return
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:10.0.0.1 and 64:ff9b::10.0.0.1 reach IPv4 addresses: judge those.
        mapped = address.ipv4_mapped or _nat64(address)
        if mapped is not None:
            _check_address(mapped)
            return
    if (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    ):
        raise UnsafeURL(
            "private_address",
            "The URL's host is a private, loopback, link-local, multicast or reserved "
            "address; webhook endpoints must be public.",
        )


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _nat64(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnsafeURL("unresolvable", "The URL's host name does not resolve.") from None
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        text = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 zone index is not an address
        address = ipaddress.ip_address(text)
        # Every answer must be public: the client could connect to any of them.
        _check_address(address)
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise UnsafeURL("unresolvable", "The URL's host name does not resolve.")
    return tuple(addresses)
