"""``openssl req -x509`` samples on a machine without openssl: the same files, made with cryptography.

With openssl installed the command itself runs (``sample_workspace``). Without
it, this makes what the command would have made: a new private key and a
self-signed certificate with the command's subject, ``subjectAltName`` and
validity, marked as a CA as openssl's default configuration does (so a peer
can trust it directly). Options the fallback does not understand fail the
test rather than being skipped, so the page cannot drift from what was checked.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.repo.sample_commands import Command

#: Options that take a value, and flags, of the ``openssl req`` commands the docs use.
_WITH_VALUE = {"-newkey", "-days", "-subj", "-addext", "-keyout", "-out"}
_FLAGS = {"-x509", "-nodes", "-noenc"}


def self_signed_like_openssl(command: Command, workspace: Path) -> None:
    """Write the key and certificate an ``openssl req -x509 -newkey rsa:N -nodes ...`` command would."""
    assert command.arguments[:1] == ["req"], f"{command.text}: only 'openssl req' has a fallback"
    options: dict[str, list[str]] = {}
    words = iter(command.arguments[1:])
    for word in words:
        if word in _WITH_VALUE:
            options.setdefault(word, []).append(next(words))
        else:
            assert word in _FLAGS, f"{command.text}: the fallback does not know {word}"
            options[word] = []
    assert "-x509" in options, f"{command.text}: only self-signed certificates (-x509)"
    assert "-nodes" in options or "-noenc" in options, f"{command.text}: only unencrypted keys (-nodes)"
    algorithm, _, bits = options["-newkey"][0].partition(":")
    assert algorithm == "rsa", f"{command.text}: only RSA keys"

    key = rsa.generate_private_key(public_exponent=65537, key_size=int(bits or 2048))
    name = _subject(options["-subj"][0])
    now = datetime.datetime.now(datetime.timezone.utc)
    days = int(options.get("-days", ["30"])[0])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    for extension in options.get("-addext", []):
        builder = builder.add_extension(_subject_alt_name(extension, command), critical=False)
    certificate = builder.sign(key, hashes.SHA256())

    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (workspace / options["-keyout"][0]).write_bytes(key_pem)
    (workspace / options["-out"][0]).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _subject(text: str) -> x509.Name:
    # "/CN=localhost/O=Example": only the attributes the docs use.
    oids = {"CN": NameOID.COMMON_NAME, "O": NameOID.ORGANIZATION_NAME}
    attributes = []
    for part in filter(None, text.split("/")):
        key, _, value = part.partition("=")
        attributes.append(x509.NameAttribute(oids[key], value))
    return x509.Name(attributes)


def _subject_alt_name(extension: str, command: Command) -> x509.SubjectAlternativeName:
    kind, _, values = extension.partition("=")
    assert kind == "subjectAltName", f"{command.text}: the fallback only adds subjectAltName"
    names: list[x509.GeneralName] = []
    for entry in values.split(","):
        tag, _, value = entry.strip().partition(":")
        if tag == "DNS":
            names.append(x509.DNSName(value))
        else:
            assert tag == "IP", f"{command.text}: subjectAltName {entry!r}"
            names.append(x509.IPAddress(ipaddress.ip_address(value)))
    return x509.SubjectAlternativeName(names)


def has_fallback(command: Command) -> bool:
    """Whether ``command`` is one this module can stand in for."""
    return command.program == "openssl" and command.arguments[:1] == ["req"]
