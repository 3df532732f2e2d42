"""Where notify may send a webhook: public HTTPS addresses only, checked when subscribing and again at each delivery.

An integrator names a URL; notify would then make requests from inside the deployment, so a URL pointing at
loopback, a private network, link-local or cloud-metadata addresses would let anyone who may subscribe reach what
only notify can reach (server-side request forgery). The host is resolved and every address it resolves to must be
public; at delivery it is resolved and checked again, and the request goes to the checked address (the host name
stays in the `Host` header, TLS SNI and certificate check), so a name that resolves elsewhere between check and
connection (DNS rebinding) gains nothing. Development may name exact `host:port` targets that skip the check (the
demo's loopback receiver); production refuses such a list.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
"""Host name and port → the addresses a connection may go to (the seam a test replaces to rebind a name)."""

_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known NAT64 prefix embeds an IPv4 address


class TargetRefused(ValueError):
    """A webhook URL notify will not call; the message says why (scheme, malformed, or the address it reaches)."""


class Unresolved(TargetRefused):
    """The host name did not resolve: refused when subscribing, a retryable failure at a delivery."""


@dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to (None: an allowlisted development target, called as named)."""

    url: SplitResult
    address: IPAddress | None

    @property
    def host(self) -> str:
        assert self.url.hostname is not None
        return self.url.hostname

    @property
    def port(self) -> int:
        return self.url.port or (443 if self.url.scheme == "https" else 80)

    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name: connect there and nowhere else."""
        if self.address is None:
            return self.url.geturl()
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        netloc = f"{host}:{self.url.port}" if self.url.port else host
        return self.url._replace(netloc=netloc).geturl()

    def host_header(self) -> str:
        """What `Host` says: the name the integrator gave (with its port, if not the scheme's)."""
        return f"{self.host}:{self.url.port}" if self.url.port else self.host


def refusal(address: IPAddress) -> str | None:
    """Why a connection to `address` is refused, or None for a public unicast address."""
    if address in _METADATA:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or (int(address) & 0xFFFFFFFF if address in _NAT64 else None)
        if embedded is not None:
            inner = refusal(ipaddress.IPv4Address(embedded))
            return f"{inner} (IPv4 inside IPv6)" if inner else None
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (isinstance(address, ipaddress.IPv4Address) and address in _SHARED, "a shared (CGNAT) address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "an address that is not public"),
    )
    return next((why for refused, why in checks if refused), None)


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for `host` (A and AAAA)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos))


class TargetGuard:
    """Checks webhook URLs against the deployment's rules; one per process, built from the settings."""

    def __init__(self, *, https_only: bool, allowed: Iterable[str] = (), resolver: Resolver = resolve) -> None:
        self._https_only = https_only
        self._allowed = frozenset(target.lower() for target in allowed)
        self._resolve = resolver

    def refusal(self, address: IPAddress) -> str | None:
        """Why this deployment does not connect to `address` (the module's `refusal`), or None."""
        return refusal(address)

    def _allowlisted(self, target: Target) -> bool:
        return f"{target.host}:{target.port}" in self._allowed

    async def check(self, url: str) -> Target:
        """The target `url` reaches now, or `TargetRefused` naming why (every address the name resolves to counts)."""
        parts = _parsed(url)
        target = Target(parts, None)
        if self._allowlisted(target):
            return target
        if self._https_only and parts.scheme != "https":
            raise TargetRefused("the URL must use https")
        host, port = target.host, target.port
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            addresses = await self._resolved(host, port)
        for address in addresses:
            if why := self.refusal(address):
                shown = "" if str(address) == host else f" ({address})"
                raise TargetRefused(f"{host} is {why}{shown}: webhooks go to public addresses only")
        return Target(parts, addresses[0])

    async def _resolved(self, host: str, port: int) -> list[IPAddress]:
        try:
            addresses = await self._resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise Unresolved(f"{host} does not resolve ({type(exc).__name__})") from None
        if not addresses:
            raise Unresolved(f"{host} does not resolve")
        return addresses


def _parsed(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        hostname, _port = parts.hostname, parts.port  # `port` raises for one out of range
    except ValueError as exc:
        raise TargetRefused(f"the URL is malformed: {exc}") from None
    if parts.scheme not in ("https", "http") or not hostname:
        raise TargetRefused("the URL must be an absolute http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("the URL may not carry credentials: sign with the subscription's secret")
    return parts
