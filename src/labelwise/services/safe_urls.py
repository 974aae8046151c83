"""Outgoing HTTP to addresses a project names (a model backend): never to our own network
unless the admin allows it.

A URL someone types into a spec or a form must not turn the server into a door to what only
the server can reach (the database, a cloud metadata endpoint, an admin page on localhost):
every address its host resolves to is checked, and redirects are followed by hand so that
each hop is checked again. What is left is the usual window between the check and httpx's own
lookup (DNS rebinding), which the short timeouts keep small.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

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
        found = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise InvalidInput(
            f"{url}: the host {parts.hostname!r} does not resolve ({error})"
        ) from None
    for *_, address in found:
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global or ip.is_multicast:
            named = str(ip) if parts.hostname.strip("[]") == str(ip) else f"{parts.hostname} ({ip})"
            raise InvalidInput(
                f"{url}: {named} is a private, loopback or link-local address; "
                "set LABELWISE_ALLOW_PRIVATE_URLS=1 to allow it"
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
