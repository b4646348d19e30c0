"""The live feed: the engine's events over websockets (E4).

Protocol (version in `PROTOCOL_VERSION`), JSON text frames:
- The client authenticates with `Authorization: Bearer TOKEN` (or `?token=TOKEN`):
  the engine's local token file, or an API key with the `feed:read` right.
  Anything else is refused with HTTP 401 before the websocket opens.
- The server sends `{"type": "hello", "protocol": 1, "rights": [...]}`, then
  `{"type": "snapshot", "agents": [...], "waiting": [...], "calls": [...], "kpis": {...}}`
  (kpis: the last `kpi` event's fields, as of now), then
  every event as `{"type": ..., "at": ..., "seq": N, ...}` (see core/events.py).
- The client may send control messages `{"action": "snooze"|"unsnooze"|"take"|
  "whisper"|"transfer"|"ping", ...}` (all but ping need `feed:control`; transfer:
  `{"call_id", "agent", "target"}`, the agent connected to the call hands it to
  the target agent's e-mail or an E.164 number); each is answered
  with `{"type": "ack", "action": ...}` or `{"type": "error", "error": ...}`.
  A malformed message gets an error event and changes nothing.
A slow client never slows the engine: each has a bounded queue, and a client
whose queue overflows is disconnected (close code 1013, try again later).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlparse

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ringtui.engine.core.events import PROTOCOL_VERSION, Event, plain

Authorize = Callable[[str], frozenset[str] | None]
Snapshot = Callable[[], dict[str, Any]]
# (message, rights of the sender) -> ack fields; raises ControlRefused or ValueError to refuse
Control = Callable[[dict[str, Any], frozenset[str]], dict[str, Any] | Awaitable[dict[str, Any]]]

READ, CONTROL = "feed:read", "feed:control"
CLIENT_QUEUE = 1000


def _json(document: dict[str, Any]) -> str:
    return json.dumps(plain(document))


class ControlRefused(Exception):
    """A control message the engine will not carry out; its text goes back to the client."""


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    query = parse_qs(urlparse(request.path).query)
    return query.get("token", [None])[0]


class Feed:
    def __init__(self, snapshot: Snapshot, authorize: Authorize, control: Control | None = None) -> None:
        self._snapshot = snapshot
        self._authorize = authorize
        self._control = control
        self._clients: dict[ServerConnection, asyncio.Queue[str]] = {}
        self._seq = 0
        self._closing: set[asyncio.Future[None]] = set()
        self.dropped_clients = 0

    @property
    def clients(self) -> int:
        return len(self._clients)

    async def serve(self, host: str, port: int) -> Server:
        return await serve(self._handle, host, port, process_request=self._check_token,
                           compression=None, max_size=65536, close_timeout=2)

    # ------------------------------------------------------------ publishing

    def publish(self, event: Event | dict[str, Any]) -> None:
        """Queue an event for every client; never blocks, never raises."""
        self._seq += 1
        if not self._clients:  # nobody listens: skip the JSON (most of the cost under load)
            return
        body = event.to_dict() if isinstance(event, Event) else dict(event)
        frame = _json({**body, "seq": self._seq})
        for connection, queue in list(self._clients.items()):
            try:
                queue.put_nowait(frame)
            except asyncio.QueueFull:
                self.dropped_clients += 1
                self._clients.pop(connection, None)
                closing = asyncio.ensure_future(connection.close(1013, "too slow: events were dropped"))
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)

    # ------------------------------------------------------------ connections

    def _check_token(self, connection: ServerConnection, request: Request) -> Response | None:
        token = bearer_token(request)
        rights = self._authorize(token) if token else None
        if rights is None or READ not in rights:
            body = b"a token with the feed:read right is needed (the engine's token file or an API key)\n"
            return Response(HTTPStatus.UNAUTHORIZED.value, "Unauthorized",
                            Headers([("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]),
                            body)
        connection.rights = rights  # type: ignore[attr-defined]
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        rights: frozenset[str] = getattr(connection, "rights", frozenset())
        queue: asyncio.Queue[str] = asyncio.Queue(CLIENT_QUEUE)
        await connection.send(json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION,
                                          "rights": sorted(rights)}))
        await connection.send(_json({"type": "snapshot", "seq": self._seq, **self._snapshot()}))
        self._clients[connection] = queue
        sender = asyncio.create_task(self._send_loop(connection, queue))
        try:
            async for message in connection:
                reply = await self._answer(message, rights)
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(json.dumps(reply))
        except ConnectionClosed:
            pass
        finally:
            self._clients.pop(connection, None)
            sender.cancel()

    async def _send_loop(self, connection: ServerConnection, queue: asyncio.Queue[str]) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await connection.send(await queue.get())

    async def _answer(self, message: str | bytes, rights: frozenset[str]) -> dict[str, Any]:
        try:
            request = json.loads(message)
        except (ValueError, UnicodeDecodeError):
            return {"type": "error", "error": "not JSON: send one JSON object per message"}
        if not isinstance(request, dict) or not isinstance(request.get("action"), str):
            return {"type": "error", "error": 'a control message is an object with an "action"'}
        action = request["action"]
        if action == "ping":
            return {"type": "ack", "action": "ping", "seq": self._seq}
        if CONTROL not in rights:
            return {"type": "error", "action": action, "error": "the feed:control right is needed"}
        if self._control is None:
            return {"type": "error", "action": action, "error": "this engine takes no control messages"}
        try:
            result = self._control(request, rights)
            if asyncio.iscoroutine(result):
                result = await result
        except (ControlRefused, ValueError, KeyError) as error:
            return {"type": "error", "action": action, "error": str(error)}
        return {"type": "ack", "action": action, **(result or {})}
