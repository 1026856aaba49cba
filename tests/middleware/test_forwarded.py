"""ProxyHeadersMiddleware beyond upstream: RFC 7239 ``Forwarded`` and ``X-Forwarded-Host``."""

from __future__ import annotations

import pytest

from tests.middleware.proxy_harness import host_headers, seen_by_app
from uvicorn.middleware._forwarded import ForwardedElement, ForwardedSyntaxError, parse_forwarded_line
from uvicorn.middleware._proxy_nodes import Node, NodeKind, parse_node
from uvicorn.middleware._trust import MAX_PROXY_HOPS

# ---------------------------------------------------------------- the header syntax


@pytest.mark.parametrize(
    ("line", "elements"),
    [
        ("for=192.0.2.60", [ForwardedElement("192.0.2.60", None, None)]),
        (
            "for=192.0.2.60;proto=https;host=example.com;by=203.0.113.43",
            [ForwardedElement("192.0.2.60", "https", "example.com")],
        ),
        ('For="[2001:db8:cafe::17]:4711"', [ForwardedElement("[2001:db8:cafe::17]:4711", None, None)]),
        (
            "for=192.0.2.43, for=198.51.100.17;proto=http",
            [ForwardedElement("192.0.2.43", None, None), ForwardedElement("198.51.100.17", "http", None)],
        ),
        # Whitespace around separators, empty pairs and empty list members are allowed.
        (
            " for=1.2.3.4 ; proto=https ,, for=5.6.7.8 ;",
            [
                ForwardedElement("1.2.3.4", "https", None),
                ForwardedElement("5.6.7.8", None, None),
            ],
        ),
        # Quoted strings may hold separators and escapes.
        (r'host="a\"b;c,d"', [ForwardedElement(None, None, 'a"b;c,d')]),
        # Extensions are valid and count as a hop.
        ("ext=1, for=1.2.3.4", [ForwardedElement(None, None, None), ForwardedElement("1.2.3.4", None, None)]),
        ("", []),
    ],
)
def test_parse_forwarded_line(line: str, elements: list[ForwardedElement]) -> None:
    assert parse_forwarded_line(line) == elements


@pytest.mark.parametrize(
    "line",
    [
        "for = 1.2.3.4",
        "for=",
        "=1.2.3.4",
        "for=1.2.3.4 proto=https",
        'for="1.2.3.4',
        'for="1.2.3.4"x',
        "for=[2001:db8::1]",  # ":" and brackets need quotes
        "for=1.2.3.4;for=5.6.7.8",
        "for=1.2.3.4;FOR=5.6.7.8",
        "for=1.2.3.4\n",
        "garbage",
        "for=a@b",
    ],
)
def test_malformed_forwarded_lines_are_rejected(line: str) -> None:
    with pytest.raises(ForwardedSyntaxError):
        parse_forwarded_line(line)


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("192.0.2.60", Node(NodeKind.ADDRESS, "192.0.2.60", 0)),
        ("192.0.2.60:8080", Node(NodeKind.ADDRESS, "192.0.2.60", 8080)),
        ("192.0.2.60:_port", Node(NodeKind.ADDRESS, "192.0.2.60", 0)),
        ("[2001:db8:cafe::17]:4711", Node(NodeKind.ADDRESS, "2001:db8:cafe::17", 4711)),
        ("unknown", Node(NodeKind.HIDDEN, "unknown", 0)),
        ("_hidden", Node(NodeKind.HIDDEN, "_hidden", 0)),
        ("_SEVKISEK", Node(NodeKind.HIDDEN, "_SEVKISEK", 0)),
        ("unknown:80", Node(NodeKind.HIDDEN, "unknown", 80)),
        ("_", Node(NodeKind.INVALID, "_", 0)),
        ("_a/b", Node(NodeKind.INVALID, "_a/b", 0)),
        ("[unknown]", Node(NodeKind.INVALID, "[unknown]", 0)),
        ("192.0.2.60:_", Node(NodeKind.INVALID, "192.0.2.60:_", 0)),
    ],
)
def test_parse_node(text: str, node: Node) -> None:
    assert parse_node(text) == node


# ---------------------------------------------------------------- Forwarded in the middleware


async def test_forwarded_sets_client_scheme_and_host() -> None:
    scope = await seen_by_app(
        [("Host", "internal:8000"), ("Forwarded", 'for="203.0.113.9:4711";proto=https;host=example.com')],
        forwarded=True,
    )
    assert scope["client"] == ("203.0.113.9", 4711)
    assert scope["scheme"] == "https"
    assert host_headers(scope) == [b"example.com"]


async def test_forwarded_ipv6_client() -> None:
    scope = await seen_by_app([("Forwarded", 'for="[2001:db8:cafe::17]:4711"')], forwarded=True)
    assert scope["client"] == ("2001:db8:cafe::17", 4711)


async def test_forwarded_is_ignored_unless_enabled() -> None:
    scope = await seen_by_app([("Forwarded", "for=203.0.113.9;proto=https")])
    assert scope["client"] == ("127.0.0.1", 40000)
    assert scope["scheme"] == "http"


async def test_forwarded_from_an_untrusted_peer_is_ignored() -> None:
    scope = await seen_by_app(
        [("Forwarded", "for=203.0.113.9;proto=https")], peer="198.51.100.1", forwarded=True
    )
    assert scope["client"] == ("198.51.100.1", 40000)
    assert scope["scheme"] == "http"


async def test_forwarded_walks_the_chain_and_uses_the_client_hop() -> None:
    # Each proxy describes the request it received: the hop whose "for" is the
    # client also carries the scheme and host that client used.
    scope = await seen_by_app(
        [
            ("Forwarded", "for=198.51.100.1;proto=http;host=evil.example"),
            (
                "Forwarded",
                "for=203.0.113.9;proto=https;host=shop.example, for=10.0.0.2;proto=http;host=inner",
            ),
        ],
        trusted="127.0.0.1, 10.0.0.0/8",
        forwarded=True,
    )
    assert scope["client"] == ("203.0.113.9", 0)
    assert scope["scheme"] == "https"
    assert host_headers(scope) == [b"shop.example"]


async def test_forwarded_all_trusted_uses_the_leftmost_hop() -> None:
    scope = await seen_by_app(
        [("Forwarded", "for=10.0.0.3;proto=https, for=10.0.0.2")],
        trusted="127.0.0.1, 10.0.0.0/8",
        forwarded=True,
    )
    assert scope["client"] == ("10.0.0.3", 0)
    assert scope["scheme"] == "https"


@pytest.mark.parametrize("node", ["unknown", "_hidden", '"_hidden:_port"', None])
async def test_a_withheld_client_keeps_the_peer_but_applies_scheme(node: str | None) -> None:
    pairs = "proto=https" if node is None else f"for={node};proto=https"
    scope = await seen_by_app([("Forwarded", pairs)], forwarded=True)
    assert scope["client"] == ("127.0.0.1", 40000)
    assert scope["scheme"] == "https"


@pytest.mark.parametrize(
    "value",
    [
        "for=203.0.113.9;proto=https;for=1.2.3.4",
        'for="203.0.113.9;proto=https',
        "for=203.0.113.9 ;proto = https",
        "for=garbage!;proto=https",
        'for="300.1.2.3";proto=https',
        'for="[2001:db8::1]:99999";proto=https',
    ],
)
async def test_malformed_forwarded_is_ignored_entirely(value: str) -> None:
    scope = await seen_by_app([("Forwarded", value), ("X-Forwarded-For", "198.51.100.1")], forwarded=True)
    assert scope["client"] == ("127.0.0.1", 40000)
    assert scope["scheme"] == "http"


async def test_a_malformed_line_left_of_the_client_is_never_read() -> None:
    scope = await seen_by_app(
        [("Forwarded", 'for="made up by the client'), ("Forwarded", "for=203.0.113.9;proto=https")],
        forwarded=True,
    )
    assert scope["client"] == ("203.0.113.9", 0)
    assert scope["scheme"] == "https"


async def test_unusable_proto_and_host_values_are_ignored_alone() -> None:
    scope = await seen_by_app([("Forwarded", 'for=203.0.113.9;proto=gopher;host="a b"')], forwarded=True)
    assert scope["client"] == ("203.0.113.9", 0)
    assert scope["scheme"] == "http"
    assert host_headers(scope) == []


async def test_forwarded_takes_precedence_over_x_forwarded() -> None:
    scope = await seen_by_app(
        [
            ("X-Forwarded-For", "198.51.100.1"),
            ("X-Forwarded-Proto", "https"),
            ("Forwarded", "for=203.0.113.9"),
        ],
        forwarded=True,
    )
    assert scope["client"] == ("203.0.113.9", 0)
    assert scope["scheme"] == "http"


async def test_x_forwarded_is_used_when_there_is_no_forwarded_header() -> None:
    scope = await seen_by_app(
        [("X-Forwarded-For", "198.51.100.1"), ("X-Forwarded-Proto", "https")], forwarded=True
    )
    assert scope["client"] == ("198.51.100.1", 0)
    assert scope["scheme"] == "https"


async def test_forwarded_with_too_many_hops_is_ignored() -> None:
    hops = ", ".join(f"for=10.0.0.{number}" for number in range(1, MAX_PROXY_HOPS + 2))
    scope = await seen_by_app([("Forwarded", hops)], trusted="127.0.0.1, 10.0.0.0/8", forwarded=True)
    assert scope["client"] == ("127.0.0.1", 40000)


async def test_forwarded_websocket_scheme() -> None:
    scope = await seen_by_app(
        [("Forwarded", "for=203.0.113.9;proto=https")], scope_type="websocket", forwarded=True
    )
    assert scope["scheme"] == "wss"


# ---------------------------------------------------------------- X-Forwarded-Host


async def test_x_forwarded_host_replaces_the_host_header() -> None:
    scope = await seen_by_app(
        [("Host", "internal:8000"), ("Accept", "*/*"), ("X-Forwarded-Host", "shop.example:8443")],
        x_forwarded_host=True,
    )
    assert scope["headers"][0] == (b"host", b"shop.example:8443")
    assert host_headers(scope) == [b"shop.example:8443"]
    assert (b"accept", b"*/*") in scope["headers"]


async def test_x_forwarded_host_is_added_when_the_request_had_no_host() -> None:
    scope = await seen_by_app([("X-Forwarded-Host", "[2001:db8::1]:443")], x_forwarded_host=True)
    assert host_headers(scope) == [b"[2001:db8::1]:443"]


async def test_x_forwarded_host_is_ignored_unless_enabled() -> None:
    scope = await seen_by_app([("Host", "internal"), ("X-Forwarded-Host", "shop.example")])
    assert host_headers(scope) == [b"internal"]


async def test_x_forwarded_host_from_an_untrusted_peer_is_ignored() -> None:
    scope = await seen_by_app(
        [("Host", "internal"), ("X-Forwarded-Host", "shop.example")],
        peer="198.51.100.1",
        x_forwarded_host=True,
    )
    assert host_headers(scope) == [b"internal"]


@pytest.mark.parametrize(
    ("value", "host"),
    [
        ("a.example, shop.example", b"shop.example"),
        ("shop.example/path", b"internal"),
        ("user@shop.example", b"internal"),
        ("shop example", b"internal"),
        ("", b"internal"),
        ("shop.example:port", b"internal"),
        ("[2001:db8::1", b"internal"),
    ],
)
async def test_x_forwarded_host_values(value: str, host: bytes) -> None:
    scope = await seen_by_app([("Host", "internal"), ("X-Forwarded-Host", value)], x_forwarded_host=True)
    assert host_headers(scope) == [host]
