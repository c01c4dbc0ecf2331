"""A replica that is not the database's writer forwards the API to the one that is.

Every `tidal serve` on a database accepts every request. The one holding the writer lock
(`tidal.service.replication.writer_lock`) runs the engine and answers; the others pass each `/v1/*`
request on to it, at the address it advertised in `meta` when it became the writer,
and stream its answer back unchanged: status, body, and for `GET /v1/events` the live
stream itself. So an agent's desk connected to any replica sees the events the writer
produced, whichever replica received the message that caused them. While no writer is
reachable (it died, and a replica is taking over) the answer is a 503 `standby` problem
with `Retry-After`: clients retry, and message ids make retries safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import aiohttp
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send

from tidal.service.http.middleware import read_body
from tidal.service.http.problems import Problem, problem_response

log = logging.getLogger("tidal.forwarding")

#: seconds a looked-up writer address is trusted before it is read again
ADDRESS_TTL_SECONDS = 1.0
#: request headers passed on (the rest, hop-by-hop ones included, are not)
_REQUEST_HEADERS = {"authorization", "content-type", "accept", "last-event-id", "user-agent"}
#: response headers not passed back: the connection to the writer is not the client's.
#: Content-Length is kept: the raw bytes are relayed unchanged (an event stream has none)
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "date", "server"}


class WriterUnreachable(Exception):
    pass


class Forwarder:
    """An ASGI app that answers a request by asking the writer.

    `writer_address` reads the writer's advertised base URL (None: none advertised);
    `own_address` is this service's, never forwarded to.
    """

    def __init__(
        self,
        writer_address: Callable[[], str | None],
        own_address: str | None,
        *,
        max_body_bytes: int,
        retry_after_seconds: int,
    ) -> None:
        self._writer_address = writer_address
        self._own_address = own_address
        self._limit = max_body_bytes
        self._retry_after = retry_after_seconds
        self._address: str | None = None
        self._address_read_at = float("-inf")
        self._session: aiohttp.ClientSession | None = None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await read_body(receive, self._limit)
            response = await self._ask_writer(scope, body)
        except WriterUnreachable as exc:
            problem = Problem(
                "standby",
                f"this service does not write the database and {exc}; retry shortly",
                headers={"Retry-After": str(self._retry_after)},
            )
            await problem_response(problem, scope["path"])(scope, receive, send)
            return
        except Problem as problem:  # the body is too large
            await problem_response(problem, scope["path"])(scope, receive, send)
            return
        except ClientDisconnect:
            return
        try:
            await _relay(response, receive, send)
        finally:
            response.release()

    async def healthy_writer(self) -> str | None:
        """The writer's address if its `/healthz` answers 200 now, else None."""
        try:
            address = await self._address_of_writer()
            async with self._session_for_use().get(
                address + "/healthz", timeout=aiohttp.ClientTimeout(total=2.0)
            ) as answer:
                healthy = answer.status == 200
        except (WriterUnreachable, aiohttp.ClientError, TimeoutError):
            self._address_read_at = float("-inf")
            return None
        return address if healthy else None

    async def _ask_writer(self, scope: Scope, body: bytes) -> aiohttp.ClientResponse:
        address = await self._address_of_writer()
        query = scope.get("query_string", b"").decode("latin-1")
        url = address + scope["path"] + (f"?{query}" if query else "")
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in scope["headers"]
            if name.decode("latin-1").lower() in _REQUEST_HEADERS
        ]
        client_host = (scope.get("client") or ("", 0))[0]
        if client_host:
            headers.append(("X-Forwarded-For", client_host))
        try:
            return await self._session_for_use().request(
                scope["method"], url, headers=headers, data=body, allow_redirects=False
            )
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            self._address_read_at = float("-inf")  # it may have moved: read it again
            raise WriterUnreachable(f"the writer at {address} is not reachable") from exc

    async def _address_of_writer(self) -> str:
        now = time.monotonic()
        if self._address is None or now - self._address_read_at > ADDRESS_TTL_SECONDS:
            self._address = await asyncio.to_thread(self._writer_address)
            self._address_read_at = now
        address = self._address
        if address is None or address == self._own_address:
            # none yet, or this service's own from an earlier run: the writer is gone
            raise WriterUnreachable("no writer has advertised its address")
        return address.rstrip("/")

    def _session_for_use(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                # kept-alive connections for every request in flight: a new connection
                # per request would cost the writer more than the request itself
                connector=aiohttp.TCPConnector(limit=0),
                # no read timeout: an event stream stays open as long as the client's
                timeout=aiohttp.ClientTimeout(total=None, connect=2.0),
                # the writer's bytes are relayed as they are, compressed or not
                auto_decompress=False,
                skip_auto_headers=("Accept-Encoding", "User-Agent"),
            )
        return self._session


async def _relay(response: aiohttp.ClientResponse, receive: Receive, send: Send) -> None:
    """Stream the writer's answer to the client until it ends or the client leaves."""
    headers = [
        (name, value)
        for name, value in response.raw_headers
        if name.decode("latin-1").lower() not in _HOP_BY_HOP
    ]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})

    async def pump() -> None:
        async for chunk in response.content.iter_any():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    if response.content_length is not None:
        # a plain answer: no need to watch for the client leaving meanwhile
        await pump()
        return

    async def client_left() -> None:
        while True:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                return

    pumping = asyncio.create_task(pump())
    watching = asyncio.create_task(client_left())
    try:
        await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pumping, watching):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError, OSError):
                await task
    if pumping.done() and not pumping.cancelled() and pumping.exception() is not None:
        log.warning("the writer's answer broke off", exc_info=pumping.exception())
