"""Take the client address, scheme and host from the headers of trusted proxies."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from uvicorn.middleware._forwarded import ForwardedElement, ForwardedSyntaxError, elements_right_to_left
from uvicorn.middleware._proxy_nodes import Node, NodeKind, is_valid_host
from uvicorn.middleware._trust import MAX_PROXY_HOPS, TrustedHosts, invalid_trusted_hosts
from uvicorn.middleware._types import ASGIApp, Headers, Receive, Scope, Send

__all__ = ["ProxyHeadersMiddleware", "invalid_trusted_hosts"]

# Upstream's name for the trusted-hosts container, kept for code that imports it.
_TrustedHosts = TrustedHosts

# The scheme a forwarded protocol means for each scope type: a WebSocket
# reached over https is wss, and an HTTP request is never "ws".
_SCHEMES = {
    "http": {"http": "http", "https": "https", "ws": "http", "wss": "https"},
    "websocket": {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"},
}

_NO_NODE = Node(NodeKind.HIDDEN, "", 0)

# The headers a trusted proxy may set: most requests carry none, so one set lookup per
# header name tells.
_FORWARDING_HEADERS = frozenset((b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded"))
# Peers remembered with their trust answer, per middleware: a server sees the same few.
_PEER_CACHE_LIMIT = 1024


class _Forwarding(NamedTuple):
    """What the trusted proxies said about the request; None where they said nothing usable."""

    client: tuple[str, int] | None
    proto: str | None
    host: str | None


class ProxyHeadersMiddleware:
    """Report the real client of requests that arrive through trusted proxies.

    When the peer of a connection is in ``trusted_hosts``, its forwarding
    headers replace the scope's ``client`` (from ``X-Forwarded-For``) and
    ``scheme`` (from ``X-Forwarded-Proto``). With ``forwarded=True`` the
    RFC 7239 ``Forwarded`` header is used instead whenever the request has
    one; with ``x_forwarded_host=True`` the ``Host`` header the application
    sees comes from ``X-Forwarded-Host``. Headers from untrusted peers, and
    malformed values, are ignored.

    ``trusted_hosts`` is a comma-separated string or a list of IP addresses,
    networks (CIDR), literals such as a UNIX socket path, or ``"*"``.
    """

    def __init__(
        self,
        app: ASGIApp,
        trusted_hosts: list[str] | str = "127.0.0.1",
        *,
        forwarded: bool = False,
        x_forwarded_host: bool = False,
    ) -> None:
        self.app = app
        self.trusted_hosts = TrustedHosts(trusted_hosts)
        self.forwarded = forwarded
        self.x_forwarded_host = x_forwarded_host
        self._trusted_peers: dict[str, bool] = {}  # the trust answer for each peer host seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        schemes = _SCHEMES.get(scope["type"])  # lifespan (and unknown types) pass through
        if schemes is not None:
            client = scope.get("client")
            if client:
                host = client[0]
                trusted = self._trusted_peers.get(host)
                if trusted is None:
                    trusted = self._trust(host)
                if trusted:
                    for name, _ in scope["headers"]:
                        if name in _FORWARDING_HEADERS:
                            self._apply(scope, schemes)
                            break
            elif None in self.trusted_hosts:  # only "*" trusts a request without a client
                self._apply(scope, schemes)
        # Hand back whatever the app returned, as upstream does: the server reports a
        # non-None return value as an app error. (A coroutine function, not a plain one
        # returning the app's awaitable: interface="auto" would take that for ASGI2.)
        return await self.app(scope, receive, send)

    def _trust(self, host: object) -> bool:
        trusted = host in self.trusted_hosts
        if isinstance(host, str) and len(self._trusted_peers) < _PEER_CACHE_LIMIT:
            self._trusted_peers[host] = trusted
        return trusted

    def _apply(self, scope: Scope, schemes: dict[str, str]) -> None:
        x_forwarded_for: list[bytes] = []
        x_forwarded_proto: bytes | None = None
        x_forwarded_host: bytes | None = None
        forwarded: list[bytes] = []
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                x_forwarded_for.append(value)
            elif name == b"x-forwarded-proto":
                x_forwarded_proto = value
            elif name == b"x-forwarded-host":
                x_forwarded_host = value
            elif name == b"forwarded":
                forwarded.append(value)
        if not (x_forwarded_for or x_forwarded_proto or x_forwarded_host or forwarded):
            return  # most requests: nothing to apply

        if self.forwarded and forwarded:
            # A request carrying Forwarded is described by it alone: mixing in
            # X-Forwarded-* could combine hops that different proxies wrote.
            forwarding = self._from_forwarded(forwarded)
        else:
            forwarding = _Forwarding(
                client=self._client_from_x_forwarded_for(x_forwarded_for) if x_forwarded_for else None,
                proto=_last_list_item(x_forwarded_proto),
                host=_last_list_item(x_forwarded_host) if self.x_forwarded_host else None,
            )

        # The scope is changed in place, as upstream does: the server's own
        # view of the request (its access log) then shows the real client too.
        if forwarding.client is not None:
            scope["client"] = forwarding.client
        if forwarding.proto is not None:
            scheme = schemes.get(forwarding.proto.lower())
            if scheme is not None:
                scope["scheme"] = scheme
        if forwarding.host is not None and is_valid_host(forwarding.host):
            scope["headers"] = _with_host(scope["headers"], forwarding.host.encode("ascii"))

    def _client_from_x_forwarded_for(self, values: list[bytes]) -> tuple[str, int] | None:
        # Repeated headers form one list, in order. Only the rightmost hops can
        # matter, so at most MAX_PROXY_HOPS + 1 pieces are split off the end.
        entries = b",".join(values).decode("latin-1").rsplit(",", MAX_PROXY_HOPS)
        node_of = self.trusted_hosts.node
        node = self.trusted_hosts.pick_client_hop(map(node_of, reversed(entries)), _same)
        if node is None or node.kind is not NodeKind.ADDRESS:
            return None
        return node.host, node.port

    def _from_forwarded(self, values: list[bytes]) -> _Forwarding:
        lines = [value.decode("latin-1") for value in values]
        node_of = self.trusted_hosts.node
        hops = (
            (element, _NO_NODE if element.for_ is None else node_of(element.for_))
            for element in elements_right_to_left(lines)
        )
        try:
            hop = self.trusted_hosts.pick_client_hop(hops, _node_of_hop)
        except ForwardedSyntaxError:
            hop = None
        if hop is None or hop[1].kind is NodeKind.INVALID:
            return _Forwarding(None, None, None)
        element, node = hop
        # "unknown" or obfuscated: the proxy vouches for the scheme and host but
        # withholds the address, so the client stays the connection's peer.
        client = (node.host, node.port) if node.kind is NodeKind.ADDRESS else None
        return _Forwarding(client, element.proto, element.host)


def _same(node: Node) -> Node:
    return node


def _node_of_hop(hop: tuple[ForwardedElement, Node]) -> Node:
    return hop[1]


def _last_list_item(value: bytes | None) -> str | None:
    """The rightmost item of a comma-separated header: the one our trusted peer wrote."""
    if value is None:
        return None
    return value.decode("latin-1").rpartition(",")[2].strip()


def _with_host(headers: Iterable[tuple[bytes, bytes]], host: bytes) -> Headers:
    """The headers with exactly one ``host`` header, set to ``host``, where the first one was."""
    replaced: Headers = []
    seen = False
    for name, value in headers:
        if name == b"host":
            if not seen:
                replaced.append((b"host", host))
                seen = True
        else:
            replaced.append((name, value))
    if not seen:
        replaced.append((b"host", host))
    return replaced
