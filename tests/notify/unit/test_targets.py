"""Webhook targets: public addresses only, whatever form the address takes, and an allowlist only by exact host:port."""

import ipaddress

import pytest

from services.notify.targets import TargetGuard, TargetRefused, refusal
from tests.notify.dns import FakeDns


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "CGNAT"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("::ffff:127.0.0.1", "loopback address (IPv4 inside IPv6)"),
        ("::ffff:169.254.169.254", "metadata address (IPv4 inside IPv6)"),
        ("64:ff9b::a00:1", "private address (IPv4 inside IPv6)"),
        ("192.0.2.10", "private"),
    ],
)
def test_addresses_inside_the_deployment_or_not_public_are_refused(address: str, why: str) -> None:
    reason = refusal(ipaddress.ip_address(address))

    assert reason is not None and why in reason


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


async def test_a_name_is_refused_when_any_address_it_resolves_to_is_not_public() -> None:
    dns = FakeDns()
    dns.point("mixed.example", "93.184.215.14", "10.1.2.3")
    guard = TargetGuard(https_only=True, resolver=dns)

    with pytest.raises(TargetRefused, match=r"mixed.example is a private address \(10.1.2.3\)"):
        await guard.check("https://mixed.example/hook")


async def test_a_checked_target_is_called_at_its_address_under_its_name() -> None:
    guard = TargetGuard(https_only=True, resolver=FakeDns(hooks_example="2606:2800:21f::1"))

    target = await guard.check("https://hooks.example:8443/jobbro?x=1")

    assert target.pinned_url() == "https://[2606:2800:21f::1]:8443/jobbro?x=1"
    assert (target.host, target.host_header()) == ("hooks.example", "hooks.example:8443")


async def test_the_allowlist_admits_exactly_its_host_and_port_over_http_and_nothing_beside_it() -> None:
    guard = TargetGuard(https_only=True, allowed=["127.0.0.1:8126"], resolver=FakeDns())

    allowed = await guard.check("http://127.0.0.1:8126/jobbro-events")
    assert allowed.address is None and allowed.pinned_url() == "http://127.0.0.1:8126/jobbro-events"
    for beside in ("http://127.0.0.1:8127/", "https://127.0.0.1:8126.example/", "https://127.0.0.1/"):
        with pytest.raises(TargetRefused):
            await guard.check(beside)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example/", "must use https"),
        ("ftp://hooks.example/", "absolute http(s)"),
        ("/hook", "absolute http(s)"),
        ("https://hooks.example:99999/", "malformed"),
        ("https://user:pass@hooks.example/", "credentials"),
        ("https://nowhere.example/", "does not resolve"),
    ],
)
async def test_a_url_is_refused_for_its_form_before_any_address_is_judged(url: str, why: str) -> None:
    dns = FakeDns()
    dns.point("nowhere.example")
    with pytest.raises(TargetRefused, match=why.replace("(", r"\(").replace(")", r"\)")):
        await TargetGuard(https_only=True, resolver=dns).check(url)
