"""The ASGI ``tls`` scope extension: what a TLS connection's handshake settled, read once per connection.

Everything here is fixed when the handshake ends (certificates, version,
cipher), so a protocol computes it in ``connection_made`` and each request or
WebSocket scope gets a copy. The result is remembered per ``SSLObject``, so the
WebSocket protocol an HTTP/1.1 connection upgrades to does not compute it again.

``client_cert_error`` is always ``None``: the server's ``ssl.SSLContext`` makes
the handshake fail when a client certificate does not verify (``CERT_OPTIONAL``
and ``CERT_REQUIRED`` alike), so no connection with a failed certificate is served.
"""

from __future__ import annotations

import os
import ssl
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

__all__ = ["rfc4514_name", "server_certificate", "tls_extension"]

# Protocol versions as TLS numbers them on the wire (``tls_version``).
_VERSIONS = {"SSLv3": 0x0300, "TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}

# RFC 4514 3: the attribute types written by name (RFC 4519's table); others as dotted OIDs.
_NAMED_TYPES = {
    "2.5.4.3": "CN",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.6": "C",
    "2.5.4.9": "STREET",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
}
_ESCAPED = {char: "\\" + char for char in '"+,;<>\\'}
_ESCAPED["\0"] = "\\00"

_PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
_PEM_END = "-----END CERTIFICATE-----"

# OpenSSL cipher name -> the 16-bit IANA cipher suite number; filled from contexts as names come.
_cipher_numbers: dict[str, int] = {}
# ssl_certfile -> its first certificate (PEM), read once per process.
_server_certificates: dict[str, str | None] = {}
_by_ssl_object: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def tls_extension(
    transport: asyncio.BaseTransport, certfile: str | os.PathLike[str] | None
) -> dict[str, Any] | None:
    """The ``tls`` extension of a connection, or None when it does not carry TLS.

    ``certfile`` is the ``ssl_certfile`` setting, where ``server_cert`` comes from
    (Python's ``ssl`` cannot tell a server which certificate it presented).
    """
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    try:
        return _by_ssl_object[ssl_object]
    except (KeyError, TypeError):
        pass
    extension: dict[str, Any] = {
        "server_cert": server_certificate(certfile),
        "client_cert_chain": [],
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": None,
        "cipher_suite": None,
    }
    try:
        extension["tls_version"] = _VERSIONS.get(ssl_object.version() or "")
        cipher = ssl_object.cipher()
        extension["cipher_suite"] = _cipher_number(cipher[0], ssl_object.context) if cipher else None
        peer = ssl_object.getpeercert()
        if peer and "subject" in peer:
            extension["client_cert_name"] = rfc4514_name(peer["subject"])
        extension["client_cert_chain"] = _client_chain(ssl_object)
    except (AttributeError, TypeError, ValueError, ssl.SSLError):
        # Not an ssl.SSLObject (a stand-in transport of a test): what could be read stays.
        pass
    try:
        _by_ssl_object[ssl_object] = extension
    except TypeError:  # an SSL object without weak references: computed again by the next protocol
        pass
    return extension


def server_certificate(certfile: str | os.PathLike[str] | None) -> str | None:
    """The first certificate in ``certfile`` as PEM, or None (no file, unreadable, no certificate)."""
    if not certfile:
        return None
    path = os.fspath(certfile)
    try:
        return _server_certificates[path]
    except KeyError:
        pass
    try:
        with open(path, encoding="ascii", errors="replace") as file:
            text = file.read()
    except OSError:
        pem = None
    else:
        # The file may hold the key and the whole chain as well: the server's own certificate comes first.
        begin = text.find(_PEM_BEGIN)
        end = text.find(_PEM_END, begin)
        pem = text[begin : end + len(_PEM_END)] + "\n" if begin >= 0 and end >= 0 else None
    _server_certificates[path] = pem
    return pem


def _client_chain(ssl_object: Any) -> list[str]:
    """The certificates the client sent, its own first, as PEM."""
    # Python 3.13 made the chain public (DER bytes); 3.10 to 3.12 have it on the C object
    # (certificate objects; a missing client certificate is listed as None there).
    get_chain = getattr(ssl_object, "get_unverified_chain", None)
    if get_chain is None:
        get_chain = getattr(getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None)
    if get_chain is not None:
        try:
            return [_pem(cert) for cert in get_chain() or () if cert is not None]
        except (AttributeError, TypeError, ValueError):
            pass  # an interpreter whose private API changed: the client's certificate alone
    leaf = ssl_object.getpeercert(binary_form=True)
    return [ssl.DER_cert_to_PEM_cert(leaf)] if leaf else []


def _pem(certificate: Any) -> str:
    if isinstance(certificate, bytes):
        return ssl.DER_cert_to_PEM_cert(certificate)
    pem: str = certificate.public_bytes()  # _ssl.Certificate: PEM by default
    return pem


def _cipher_number(name: str, context: ssl.SSLContext) -> int | None:
    number = _cipher_numbers.get(name)
    if number is None:
        # OpenSSL's id is 0x0300XXXX for TLS cipher suites; the low 16 bits are the IANA number.
        for cipher in context.get_ciphers():
            _cipher_numbers[cipher["name"]] = cipher["id"] & 0xFFFF
        number = _cipher_numbers.get(name)
    return number


def rfc4514_name(rdns: Any) -> str:
    """A distinguished name from ``getpeercert()["subject"]`` as an RFC 4514 string.

    RFC 4514 writes the relative distinguished names last to first, the values of
    a multi-valued one joined by ``+``, each type by its RFC 4519 name or else as
    a dotted OID, with the special characters escaped.
    """
    parts = []
    for rdn in reversed(rdns):
        parts.append("+".join(f"{_attribute_type(kind)}={_escape(value)}" for kind, value in rdn))
    return ",".join(parts)


def _attribute_type(long_name: str) -> str:
    try:
        oid: str = ssl._ASN1Object.fromname(long_name).oid
    except (AttributeError, ValueError):
        return long_name  # not a name OpenSSL knows: keep the one it gave
    return _NAMED_TYPES.get(oid, oid)


def _escape(value: str) -> str:
    """RFC 4514 2.4: the special characters anywhere, ``#`` or a space first, a space last."""
    chars = [_ESCAPED.get(char, char) for char in value]
    if chars and chars[0] in ("#", " "):
        chars[0] = "\\" + chars[0]
    if len(value) > 1 and value[-1] == " ":
        chars[-1] = "\\ "
    return "".join(chars)
