"""Outgoing HTTP to addresses a project names (a model backend): never to our own network
unless the admin allows it.

A URL someone types into a spec or a form must not turn the server into a door to what only
the server can reach (the database, a cloud metadata endpoint, an admin page on localhost):
every address its host resolves to is checked, and redirects are followed by hand so that
each hop is checked again. `check` gives a clear error before anything is sent; the client of
`client()` then checks again when it connects, and connects to the very address it checked,
so a name that resolves to a public address for the check and to a private one a moment later
(DNS rebinding) gets no connection either. TLS still verifies the URL's host name.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from labelwise.errors import InvalidInput

MAX_REDIRECTS = 3


def check(url: str, *, allow_private: bool) -> None:
    """InvalidInput naming the URL when it is not http(s) or its host resolves to a private,
    loopback, link-local or otherwise non-public address (unless `allow_private`)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{url}: expected an http:// or https:// URL with a host")
    if allow_private:
        return
    try:
        _public_address(parts.hostname, parts.port or 443)
    except _Refused as refused:
        raise InvalidInput(f"{url}: {refused}") from None


def client(*, timeout: float, allow_private: bool) -> httpx.Client:
    """An httpx client that, unless `allow_private`, connects only to public addresses, each
    checked as it connects. Proxies from the environment are not used (they would connect)."""
    if allow_private:
        return httpx.Client(timeout=timeout)
    return httpx.Client(timeout=timeout, transport=_PublicOnly())


class _Refused(Exception):
    pass


def _public_address(host: str, port: int) -> str:
    """The first address `host` resolves to, once every one of them is found public."""
    try:
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise _Refused(f"the host {host!r} does not resolve ({error})") from None
    addresses = [ipaddress.ip_address(address[0]) for *_, address in found]
    for ip in addresses:
        if not ip.is_global or ip.is_multicast:
            named = str(ip) if host.strip("[]") == str(ip) else f"{host} ({ip})"
            raise _Refused(
                f"{named} is a private, loopback or link-local address; "
                "set LABELWISE_ALLOW_PRIVATE_URLS=1 to allow it"
            )
    return str(addresses[0])


class _CheckedBackend(httpcore.SyncBackend):
    """Resolves and checks the host itself, then connects to the address it checked."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            address = _public_address(host, port)
        except _Refused as refused:
            raise httpcore.ConnectError(str(refused)) from None
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


class _PublicOnly(httpx.HTTPTransport):
    """httpx's own transport over a connection pool that connects through `_CheckedBackend`
    (httpx takes no network backend of its own; `tests/test_model_backend.py` proves that
    this one is used)."""

    def __init__(self) -> None:
        super().__init__()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=_CheckedBackend()
        )


def post_json(
    client: httpx.Client, url: str, body: object, *, allow_private: bool
) -> httpx.Response:
    """POST `body` as JSON to `url`, checking it and every redirect's target first. Only the
    redirects that keep the method (307, 308) are followed: the others would turn it into GET."""
    for _ in range(MAX_REDIRECTS + 1):
        check(url, allow_private=allow_private)
        answer = client.post(url, json=body, follow_redirects=False)
        if answer.status_code not in (307, 308):
            return answer
        url = urljoin(url, answer.headers.get("location", ""))
    raise InvalidInput(f"{url}: more than {MAX_REDIRECTS} redirects")
