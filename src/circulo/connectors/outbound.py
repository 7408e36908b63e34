"""The HTTP clients Círculo sends with, checked where they connect (``circulo.egress``).

A URL checked when saved may still lead inside: its name may resolve to a private address
now (or only on the second lookup: DNS rebinding). So the clients resolve through a checking
resolver, and connect only to addresses it let through:

- aiohttp (the outbox worker: webhooks, journeys' requests) through ``CheckedResolver``, a
  resolver wrapping aiohttp's default one, given to the session's ``TCPConnector``. aiohttp
  takes hosts that look numeric (``127.0.0.1``, ``2130706433``) for addresses and never
  asks a resolver about them, so ``refusal`` checks those before each request.
- httpx (the generic REST connector) through ``checked_transport``: its network backend
  resolves, checks, and connects to the checked address.
- urllib3 (under HubSpot's client and, through requests, Salesforce's) through
  ``check_pools``: its pools make connections that resolve, check, and connect to the
  checked address.

Redirects are never followed (``allow_redirects=False``, httpx's default): a 3xx is the
answer, so an allowed receiver cannot bounce a request inside.
"""

from __future__ import annotations

import socket
from http import HTTPStatus
from typing import Any

import aiohttp
import httpcore
import httpx
import urllib3
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from yarl import URL

from circulo.egress import EgressError, EgressPolicy, literal_address


class EgressRefused(OSError):
    """Raised inside the clients (which turn OSErrors into their connection errors)."""


class CheckedResolver(AbstractResolver):
    """aiohttp's resolver, refusing a name when any address it resolves to is not allowed."""

    def __init__(self, policy: EgressPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self.inner = inner or DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        try:
            self.policy.check_resolved(host, [r["host"] for r in results])
        except EgressError as exc:
            raise EgressRefused(str(exc)) from None
        return results

    async def close(self) -> None:
        await self.inner.close()


def client_session(policy: EgressPolicy, timeout: float, **connector: Any
                   ) -> aiohttp.ClientSession:
    """Every aiohttp session that leaves Círculo is made here (inside a running loop)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(resolver=CheckedResolver(policy), **connector),
        timeout=aiohttp.ClientTimeout(total=timeout))


def refusal(policy: EgressPolicy, url: str) -> str | None:
    """Before an aiohttp request: why a host written as an address may not be reached (the
    resolver sees names only)."""
    host = URL(url).raw_host or ""
    try:
        address = literal_address(host)
        if address is not None:
            policy.check_resolved(host, [str(address)])
    except EgressError as exc:
        return str(exc)
    return None


def refused(exc: BaseException) -> str | None:
    """The reason when an aiohttp connection error was our refusal."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, EgressRefused):
            return str(cause)
        cause = getattr(cause, "os_error", None) or cause.__cause__
    return None


class _CheckedBackend(httpcore.SyncBackend):
    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        try:
            self.policy.check_resolved(host, addresses)
        except EgressError as exc:
            raise httpcore.ConnectError(str(exc)) from None
        error: Exception | None = None
        for address in addresses:  # the checked addresses, not a second lookup
            try:
                return super().connect_tcp(address, port, timeout, local_address,
                                           socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host}: no address")


def checked_transport(policy: EgressPolicy, **options: Any) -> httpx.HTTPTransport:
    """An httpx transport that connects only to addresses ``policy`` allows. httpx does not
    take a network backend, so the pool it builds is given ours (tested:
    tests/connectors/test_generic_rest.py)."""
    transport = httpx.HTTPTransport(**options)
    pool = transport._pool
    if not isinstance(pool, httpcore.ConnectionPool) or \
            not hasattr(pool, "_network_backend"):
        raise RuntimeError("httpx's transport changed: cannot check where it connects")
    pool._network_backend = _CheckedBackend(policy)
    return transport


def _resolved(policy: EgressPolicy, host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, if all are allowed; EgressError otherwise."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    policy.check_resolved(host, addresses)
    return addresses


def _checked_pools(policy: EgressPolicy) -> dict[str, type[HTTPConnectionPool]]:
    def checked(base: type[HTTPConnection]) -> type[HTTPConnection]:
        class Checked(base):  # type: ignore[valid-type,misc]
            def _new_conn(self) -> socket.socket:
                name: str = self._dns_host  # type: ignore[has-type]
                try:
                    addresses = _resolved(policy, name, self.port)
                except EgressError as exc:
                    raise NewConnectionError(self, f"refused: {exc}") from None
                self._dns_host = addresses[0]  # connect where checked; TLS still names host
                try:
                    sock: socket.socket = super()._new_conn()
                finally:
                    self._dns_host = name
                return sock
        return Checked

    class Http(HTTPConnectionPool):
        ConnectionCls = checked(HTTPConnection)

    class Https(HTTPSConnectionPool):
        ConnectionCls = checked(HTTPSConnection)  # type: ignore[assignment]

    return {"http": Http, "https": Https}


def check_pools(policy: EgressPolicy, manager: urllib3.PoolManager) -> None:
    """Make ``manager`` (a vendor client's urllib3 pool manager) connect only to addresses
    ``policy`` allows. Pools it made already are dropped."""
    manager.pool_classes_by_scheme = _checked_pools(policy)
    manager.clear()


def status_text(status: int) -> str:
    """What is kept of a failed answer: its status and the standard phrase for it (not the
    other side's own phrase, nor its body: both are whatever it chose to say, and errors are
    read back through the API)."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def http_error(status: int) -> str:
    return f"HTTP {status_text(status)}"


def connection_reason(exc: aiohttp.ClientConnectorError) -> str:
    """A fixed phrase for why a connection failed (the system's message names addresses)."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "name not resolved"
    if isinstance(exc, aiohttp.ClientSSLError):
        return "TLS handshake failed"
    if isinstance(exc.os_error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc.os_error, TimeoutError):
        return "connection timed out"
    return "connection failed"
