"""ProxyHeadersMiddleware: trust, X-Forwarded-For and X-Forwarded-Proto."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from tests.middleware.harness import RequestFeed, ResponseRecorder
from tests.middleware.proxy_harness import SeenScope, seen_by_app
from uvicorn.middleware._trust import MAX_PROXY_HOPS, BoundedCache
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware, _TrustedHosts, invalid_trusted_hosts

# ---------------------------------------------------------------- who is trusted


@pytest.mark.parametrize(
    ("setting", "trusted", "untrusted"),
    [
        ("127.0.0.1", ["127.0.0.1"], ["127.0.0.2", "10.0.0.1", "::1", "", "localhost"]),
        ("127.0.0.1, 10.1.2.3", ["127.0.0.1", "10.1.2.3"], ["10.1.2.4"]),
        (["192.168.1.7", "172.16.0.0/12"], ["192.168.1.7", "172.31.255.255", "172.16.0.0"], ["172.32.0.1"]),
        ("10.0.0.0/8", ["10.0.0.0", "10.200.3.4", "10.255.255.255"], ["11.0.0.0", "9.255.255.255"]),
        # A network written with host bits set still means that network.
        ("10.9.8.7/16", ["10.9.0.1", "10.9.255.254"], ["10.10.0.1"]),
        ("2001:db8::1", ["2001:db8::1", "2001:0db8:0000::0001"], ["2001:db8::2", "127.0.0.1"]),
        ("2001:db8:aa::/48", ["2001:db8:aa::", "2001:db8:aa:ffff::9"], ["2001:db8:ab::"]),
        ("::ffff:0:0/96", ["::ffff:1.2.3.4"], ["1.2.3.4"]),
        # IPv4 peers of a dual-stack listener appear IPv4-mapped.
        ("127.0.0.1", ["::ffff:127.0.0.1"], ["::ffff:127.0.0.2"]),
        ("/run/proxy.sock, unix-peer", ["/run/proxy.sock", "unix-peer"], ["/run/other.sock", "unix"]),
        ("*", ["1.2.3.4", "::1", "/any/literal", ""], []),
        (["*"], ["8.8.8.8"], []),
        ([], [], ["127.0.0.1", "", "*"]),
        ("", [], ["127.0.0.1"]),
        ("some-literal", [], ["*"]),
    ],
)
def test_trusted_hosts(setting: str | list[str], trusted: list[str], untrusted: list[str]) -> None:
    hosts = _TrustedHosts(setting)
    for host in trusted:
        assert host in hosts, host
    for host in untrusted:
        assert host not in hosts, host


def test_no_client_is_trusted_only_when_everyone_is() -> None:
    # A UNIX socket server reports no client address at all.
    assert None not in _TrustedHosts("127.0.0.1")
    assert None in _TrustedHosts("*")


def test_trust_answers_are_memoised_in_a_bounded_cache() -> None:
    hosts = _TrustedHosts("10.0.0.0/8")
    for number in range(5000):
        assert f"10.0.{number // 256}.{number % 256}" in hosts
    assert len(hosts._trust_cache) == 4096
    # Still correct for hosts that were evicted and for new ones.
    assert "10.0.0.0" in hosts
    assert "11.0.0.0" not in hosts


def test_bounded_cache_forgets_the_oldest_entry() -> None:
    cache: BoundedCache[str, int] = BoundedCache(size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, 2, 3)


def test_overlong_hosts_are_answered_but_not_cached() -> None:
    literal = "/run/" + "x" * 200
    hosts = _TrustedHosts([literal])
    assert literal in hosts
    assert ("/run/" + "y" * 200) not in hosts
    assert len(hosts._trust_cache) == 0


@pytest.mark.parametrize(
    ("setting", "invalid"),
    [
        ("10.0.0.300", ["10.0.0.300"]),
        ("10.0.0.0/33, 127.0.0.1", ["10.0.0.0/33"]),
        (["2001:db8::/129", "/run/sock", "*"], ["2001:db8::/129"]),
        ("127.0.0.1, 10.0.0.0/8, ::1, unix-literal", []),
    ],
)
def test_invalid_trusted_hosts(setting: str | list[str], invalid: list[str]) -> None:
    assert invalid_trusted_hosts(setting) == invalid


def test_a_mistyped_address_is_reported_once_at_construction(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="uvicorn.error"):
        hosts = _TrustedHosts("127.0.0.1, 10.0.0.256")
    assert [record.getMessage() for record in caplog.records] == [
        "forwarded_allow_ips: '10.0.0.256' is not a valid IP address or network; it only matches a "
        "client reported as exactly that text. Fix the address or CIDR prefix."
    ]
    assert "10.0.0.256" in hosts  # still honoured as a literal, as upstream does


# ---------------------------------------------------------------- X-Forwarded-For


async def test_client_and_scheme_come_from_a_trusted_proxy() -> None:
    scope = await seen_by_app([("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "https")])
    assert scope["client"] == ("203.0.113.9", 0)
    assert scope["scheme"] == "https"


async def test_headers_from_an_untrusted_peer_are_ignored() -> None:
    scope = await seen_by_app(
        [("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "https")], peer="198.51.100.1"
    )
    assert scope["client"] == ("198.51.100.1", 40000)
    assert scope["scheme"] == "http"


async def test_without_forwarding_headers_nothing_changes() -> None:
    scope = await seen_by_app([("Host", "example.com")])
    assert scope["client"] == ("127.0.0.1", 40000)
    assert scope["scheme"] == "http"


@pytest.mark.parametrize(
    ("trusted", "chain", "client"),
    [
        # The first untrusted hop from the right is the client...
        ("127.0.0.1", "198.51.100.1, 203.0.113.9", ("203.0.113.9", 0)),
        ("127.0.0.1, 10.0.0.0/8", "198.51.100.1, 203.0.113.9, 10.1.1.1, 10.2.2.2", ("203.0.113.9", 0)),
        # ...so what a client wrote left of it never matters...
        ("127.0.0.1", "1.1.1.1, 2.2.2.2, garbage, 203.0.113.9", ("203.0.113.9", 0)),
        # ...and a client on a proxy host (every hop trusted) is the leftmost one.
        ("127.0.0.1, 10.0.0.0/8", "10.3.3.3, 10.2.2.2", ("10.3.3.3", 0)),
        ("*", "203.0.113.9, 10.2.2.2, 198.51.100.7", ("203.0.113.9", 0)),
        # Trusted literals are hops too.
        ("127.0.0.1, proxy-b", "203.0.113.9, proxy-b", ("203.0.113.9", 0)),
    ],
)
async def test_client_is_the_first_untrusted_hop_from_the_right(
    trusted: str, chain: str, client: tuple[str, int]
) -> None:
    scope = await seen_by_app([("X-Forwarded-For", chain)], trusted=trusted)
    assert scope["client"] == client


@pytest.mark.parametrize(
    ("entry", "client"),
    [
        ("203.0.113.9:4711", ("203.0.113.9", 4711)),
        ("[2001:db8::7]:443", ("2001:db8::7", 443)),
        ("[2001:db8::7]", ("2001:db8::7", 0)),
        ("2001:db8::7", ("2001:db8::7", 0)),
        ("2001:0DB8:0:0::7", ("2001:db8::7", 0)),
        ("  203.0.113.9  ", ("203.0.113.9", 0)),
        ("203.0.113.9:0", ("203.0.113.9", 0)),
        ("203.0.113.9:65535", ("203.0.113.9", 65535)),
    ],
)
async def test_client_address_forms(entry: str, client: tuple[str, int]) -> None:
    scope = await seen_by_app([("X-Forwarded-For", entry)])
    assert scope["client"] == client


@pytest.mark.parametrize(
    "chain",
    [
        "",
        " , ",
        "not-an-ip",
        "unknown",
        "_hidden",
        "203.0.113.9:notaport",
        "203.0.113.9:65536",
        "203.0.113.9:-1",
        "203.0.113.9:+80",
        "[2001:db8::7]:notaport",
        "[2001:db8::7]extra",
        "[2001:db8::7",
        "[203.0.113.9]:80",
        "2001:db8::7:80:",
        "300.1.2.3",
        "203.0.113.9 198.51.100.1",
        "203.0.113.9\xe9",
        "203.0.113.9, ",
        "203.0.113.9, garbage",
    ],
)
async def test_malformed_x_forwarded_for_leaves_the_client_alone(chain: str) -> None:
    scope = await seen_by_app([("X-Forwarded-For", chain), ("X-Forwarded-Proto", "https")])
    assert scope["client"] == ("127.0.0.1", 40000)
    # The other header stands on its own.
    assert scope["scheme"] == "https"


async def test_too_many_hops_are_ignored() -> None:
    proxies = [f"10.0.0.{number}" for number in range(1, MAX_PROXY_HOPS + 1)]
    within = await seen_by_app([("X-Forwarded-For", ", ".join(proxies))], trusted="127.0.0.1, 10.0.0.0/8")
    assert within["client"] == ("10.0.0.1", 0)

    too_long = ", ".join(["203.0.113.9", *proxies])
    scope = await seen_by_app([("X-Forwarded-For", too_long)], trusted="127.0.0.1, 10.0.0.0/8")
    assert scope["client"] == ("127.0.0.1", 40000)


async def test_a_long_padded_chain_still_finds_a_near_client() -> None:
    padding = ", ".join(["198.51.100.1"] * 1000)
    scope = await seen_by_app([("X-Forwarded-For", f"{padding}, 203.0.113.9")])
    assert scope["client"] == ("203.0.113.9", 0)


async def test_repeated_x_forwarded_for_headers_form_one_chain_in_order() -> None:
    scope = await seen_by_app(
        [("X-Forwarded-For", "198.51.100.1, 203.0.113.9"), ("X-Forwarded-For", "10.0.0.1")],
        trusted="127.0.0.1, 10.0.0.1",
    )
    assert scope["client"] == ("203.0.113.9", 0)


# ---------------------------------------------------------------- X-Forwarded-Proto


@pytest.mark.parametrize(
    ("proto", "http_scheme", "websocket_scheme"),
    [
        ("https", "https", "wss"),
        ("http", "http", "ws"),
        ("wss", "https", "wss"),
        ("ws", "http", "ws"),
        ("HTTPS", "https", "wss"),
        (" https ", "https", "wss"),
        # A list: the value our trusted peer wrote is the last one.
        ("http, https", "https", "wss"),
        # Not a scheme we serve: ignored.
        ("ftp", "http", "ws"),
        ("", "http", "ws"),
        ("https;", "http", "ws"),
    ],
)
async def test_forwarded_proto_maps_to_the_scope_type(
    proto: str, http_scheme: str, websocket_scheme: str
) -> None:
    http = await seen_by_app([("X-Forwarded-Proto", proto)])
    websocket = await seen_by_app([("X-Forwarded-Proto", proto)], scope_type="websocket")
    assert (http["scheme"], websocket["scheme"]) == (http_scheme, websocket_scheme)


async def test_the_last_x_forwarded_proto_header_wins() -> None:
    scope = await seen_by_app([("X-Forwarded-Proto", "https"), ("X-Forwarded-Proto", "http")])
    assert scope["scheme"] == "http"


# ---------------------------------------------------------------- scopes


async def test_lifespan_passes_through_untouched() -> None:
    app = SeenScope()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    await ProxyHeadersMiddleware(app, "*")(scope, RequestFeed(), ResponseRecorder())
    assert app.scope == {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}


async def test_the_scope_is_updated_in_place() -> None:
    # Servers log the client from their own scope object, so it must show the real client.
    app = SeenScope()
    scope = {
        "type": "http",
        "scheme": "http",
        "client": ("127.0.0.1", 1),
        "headers": [(b"x-forwarded-for", b"203.0.113.9")],
    }
    await ProxyHeadersMiddleware(app)(scope, RequestFeed(), ResponseRecorder())
    assert app.scope is scope
    assert scope["client"] == ("203.0.113.9", 0)


async def test_through_an_http_client() -> None:
    transport = httpx.ASGITransport(
        app=ProxyHeadersMiddleware(_echo_client, "10.0.0.0/8"), client=("10.1.1.1", 9)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        forwarded = await client.get(
            "/", headers={"X-Forwarded-For": "203.0.113.9:80", "X-Forwarded-Proto": "https"}
        )
        direct = await client.get("/")
    assert forwarded.text == "https://203.0.113.9:80"
    assert direct.text == "http://10.1.1.1:9"


async def _echo_client(scope: dict[str, Any], receive: Any, send: Any) -> None:
    host, port = scope["client"]
    body = f"{scope['scheme']}://{host}:{port}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})
