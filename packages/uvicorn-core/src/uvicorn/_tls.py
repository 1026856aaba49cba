"""Build the server's ``ssl.SSLContext`` from the ``ssl_*`` options.

Every way the options can be wrong (a missing file, a key that needs a
password, a wrong password, a cipher string OpenSSL rejects) is raised as a
:class:`TLSSetupError` that names the option to fix. TLS without a
certificate and a factory that returns no context raise what upstream raises
(``AssertionError`` / ``RuntimeError``, ``TypeError``) with a clear message.
``uvicorn.run()`` and the command line turn them into one log line and exit
code 3 (see ``uvicorn._startup``).
"""

from __future__ import annotations

import contextlib
import os
import ssl
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from uvicorn._option_checks import flag_of
from uvicorn._startup import InvalidOptionError, StartupError

if TYPE_CHECKING:
    from uvicorn.config import Config

__all__ = [
    "MissingCertificateError",
    "SSLContextFactoryError",
    "TLSSetupError",
    "build_ssl_context",
    "create_ssl_context",
]

# PEM markers of an encrypted private key (PKCS#8 and the traditional OpenSSL form).
_ENCRYPTED_KEY_MARKERS = (b"-----BEGIN ENCRYPTED PRIVATE KEY-----", b"Proc-Type: 4,ENCRYPTED")


class TLSSetupError(InvalidOptionError):
    """A TLS option has a value that cannot work; ``option`` names it (``Config`` parameter name)."""

    def __init__(self, option: str, problem: str) -> None:
        self.option = option
        self.problem = problem
        # Name the flag too, so the message helps command-line and API users alike
        # (not for "ssl_certfile/ssl_keyfile", when either file may be at fault).
        where = f"'{option}'" if "/" in option else f"'{option}' ({flag_of(option)})"
        super().__init__(f"Invalid value for {where}: {problem}")


class MissingCertificateError(StartupError, RuntimeError, AssertionError):
    """TLS is asked for (a key file, or the default context factory) but no ``ssl_certfile`` is set.

    Upstream raises ``AssertionError`` for a key file alone and ``RuntimeError``
    when ``ssl_context_factory`` calls the default factory: this is both.
    """


class SSLContextFactoryError(StartupError, TypeError):
    """``ssl_context_factory`` returned something that is not an ``ssl.SSLContext``."""


class _PasswordRequired(Exception):
    """Raised from OpenSSL's password callback when no password was configured."""


def create_ssl_context(
    certfile: str | os.PathLike[str],
    keyfile: str | os.PathLike[str] | None,
    password: str | None,
    ssl_version: int,
    cert_reqs: int,
    ca_certs: str | os.PathLike[str] | None,
    ciphers: str | None,
    alpn_protocols: list[str] | None = None,
) -> ssl.SSLContext:
    """A server-side context with the certificate chain, key, verification mode, CAs and ciphers.

    ``certfile`` may hold the key as well (then ``keyfile`` is None). Raises
    :class:`TLSSetupError` naming the option at fault.
    """
    _require_file("ssl_certfile", certfile)
    if keyfile is not None:
        _require_file("ssl_keyfile", keyfile)
    if ca_certs:
        _require_file("ssl_ca_certs", ca_certs)

    try:
        context = ssl.SSLContext(ssl_version)
    except (ValueError, OSError) as exc:
        raise TLSSetupError(
            "ssl_version", f"{ssl_version!r} is not a protocol OpenSSL accepts ({exc})."
        ) from exc

    def give_password() -> str:
        # Without a callback OpenSSL would prompt on the terminal for an encrypted
        # key, which hangs a server started without one.
        if not password:
            raise _PasswordRequired
        return password

    try:
        context.load_cert_chain(certfile, keyfile, give_password)
    except _PasswordRequired:
        raise TLSSetupError(
            "ssl_keyfile_password",
            f"the private key in {os.fspath(keyfile or certfile)!r} is encrypted; give its password.",
        ) from None
    except ssl.SSLError as exc:
        raise _explain_load_failure(certfile, keyfile, password, exc) from exc

    try:
        context.verify_mode = ssl.VerifyMode(cert_reqs)
    except ValueError as exc:
        raise TLSSetupError(
            "ssl_cert_reqs", f"{cert_reqs!r}: use 0 (CERT_NONE), 1 (CERT_OPTIONAL) or 2 (CERT_REQUIRED)."
        ) from exc
    if ca_certs:
        with _openssl_refusal_names(
            "ssl_ca_certs",
            lambda reason: f"no PEM CA certificate could be read from {os.fspath(ca_certs)!r} ({reason}).",
        ):
            context.load_verify_locations(ca_certs)
    if ciphers:
        with _openssl_refusal_names(
            "ssl_ciphers",
            lambda _: f"OpenSSL selects no cipher from {ciphers!r}; see the OpenSSL cipher list format.",
        ):
            context.set_ciphers(ciphers)
    if alpn_protocols:
        context.set_alpn_protocols(alpn_protocols)
    return context


@contextlib.contextmanager
def _openssl_refusal_names(option: str, explain: Callable[[str | None], str]) -> Iterator[None]:
    """Turn OpenSSL refusing a value inside the block into a :class:`TLSSetupError` naming ``option``.

    ``explain`` gets OpenSSL's reason, None when it gave none (``set_ciphers``
    raises an ``SSLError`` without one), and says what is wrong.
    """
    try:
        yield
    except ssl.SSLError as exc:
        raise TLSSetupError(option, explain(getattr(exc, "reason", None))) from exc


def _require_file(option: str, path: str | os.PathLike[str]) -> None:
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise TLSSetupError(option, f"no such file: {name!r}.")
    if not os.access(name, os.R_OK):
        raise TLSSetupError(option, f"{name!r} is not readable by this process.")


def _explain_load_failure(
    certfile: str | os.PathLike[str],
    keyfile: str | os.PathLike[str] | None,
    password: str | None,
    exc: ssl.SSLError,
) -> TLSSetupError:
    """Turn OpenSSL's terse "PEM lib" / "key values mismatch" into the option to fix."""
    key_path = os.fspath(keyfile if keyfile is not None else certfile)
    key_option = "ssl_keyfile" if keyfile is not None else "ssl_certfile"
    if exc.reason == "KEY_VALUES_MISMATCH":
        return TLSSetupError(
            key_option, f"the private key in {key_path!r} does not belong to the certificate."
        )
    if password and _is_encrypted_key(key_path):
        return TLSSetupError(
            "ssl_keyfile_password", f"the password does not decrypt the key in {key_path!r}."
        )
    return TLSSetupError(
        "ssl_certfile" if keyfile is None else "ssl_certfile/ssl_keyfile",
        f"could not load a PEM certificate and private key from {os.fspath(certfile)!r}"
        + (f" and {key_path!r}" if keyfile is not None else "")
        + f" ({exc.reason or exc.strerror or exc}).",
    )


def _is_encrypted_key(path: str) -> bool:
    try:
        with open(path, "rb") as file:
            head = file.read(64 * 1024)
    except OSError:
        return False
    return any(marker in head for marker in _ENCRYPTED_KEY_MARKERS)


def build_ssl_context(config: Config) -> ssl.SSLContext:
    """``config``'s TLS context: from ``ssl_context_factory`` if set, else from the ``ssl_*`` options.

    The factory receives ``config`` and a zero-argument function building the
    default context, which it may call and adjust. Raises :class:`TLSSetupError`,
    :class:`MissingCertificateError` or :class:`SSLContextFactoryError`.
    """

    def default_context() -> ssl.SSLContext:
        if not config.ssl_certfile:
            # The backquoted words are upstream's, which programs may match on.
            raise MissingCertificateError(
                "TLS requires `ssl_certfile` (--ssl-certfile): set it, or have "
                "ssl_context_factory build the context without calling the default factory."
            )
        return create_ssl_context(
            certfile=config.ssl_certfile,
            keyfile=config.ssl_keyfile,
            password=config.ssl_keyfile_password,
            ssl_version=config.ssl_version,
            cert_reqs=config.ssl_cert_reqs,
            ca_certs=config.ssl_ca_certs,
            ciphers=config.ssl_ciphers,
            # A protocol class may name what it speaks (HTTP/2: "h2", "http/1.1"), offered by ALPN.
            alpn_protocols=getattr(config.http_protocol_class, "alpn_protocols", None),
        )

    if config.ssl_context_factory is None:
        return default_context()
    context: object = config.ssl_context_factory(config, default_context)
    if not isinstance(context, ssl.SSLContext):
        raise SSLContextFactoryError(
            "Invalid value for 'ssl_context_factory': it must return an `ssl.SSLContext`, "
            f"it returned {type(context).__name__}."
        )
    return context
