"""The UDP endpoint: datagrams in, requests to a handler, responses back where requests came from.

What aiovoip's UDP protocol lacks is done here, once:
- edge protection first (edge.py): datagrams from a banned source, and requests over
  a source's rate, are dropped before they are even parsed;
- the tolerant parser (message.py); a malformed request is answered 400 when it
  has a Via to answer to, dropped otherwise, and logged once per source a minute,
  never with a traceback (nor does a datagram the parser trips on stop the endpoint);
- responses go to the source address (and port, with rport), not the Via host;
- server transactions (RFC 3261 17.2.1, 17.2.2): a retransmitted request gets the
  latest response again (an INVITE's 100, 180 or final one: `respond` updates it),
  and is not run twice while the first is in progress;
- non-INVITE client transactions of ours (`send_until_answered`, RFC 3261 17.1.2.2: a NOTIFY
  of a transfer) are retransmitted (Timer E) until their final response, given up at Timer F;
- responses and ACKs go to the call legs (calls.py), which keep the INVITE
  client transactions and the dialogs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiovoip.message import Response

from ringtui.engine.sip.edge import SourceGuard
from ringtui.engine.sip.message import (
    MalformedMessage,
    SipRequest,
    header_values,
    parse,
    parse_via,
    reply,
    reply_address,
)

log = logging.getLogger("ringtui.engine.sip")

T1_S, T2_S = 0.5, 4.0
TIMER_B_S = 64 * T1_S  # also how long a 2xx is retransmitted waiting for its ACK
TIMER_J_S = 32.0  # 64 * T1: how long a non-INVITE server transaction absorbs retransmissions
LOG_EVERY_S = 60.0
SOCKET_BUFFER = 4 * 2**20
_PENDING = b""
_RESPONSE = b"SIP/2.0 "

Handler = Callable[[SipRequest], Awaitable[bytes | None]]
Listener = Callable[[Any], None]


def transaction_key(request: SipRequest) -> tuple[str, ...]:
    top = parse_via(header_values(request.headers, "Via")[0])  # the top Via only: this runs per datagram
    branch = str(top.params.get("branch") or "")
    if branch.startswith("z9hG4bK"):  # RFC 3261 17.2.3
        return (branch, f"{top.host}:{top.port}", request.method)
    from_tag = str(request.headers["From"]).partition(";tag=")[2].split(";")[0]
    return (str(request.headers["Call-ID"]), str(request.cseq), request.method, from_tag,
            *request.source[:1])


def widen_buffers(sock: socket.socket | None) -> None:
    """A pause of the loop (a busy machine, a GC) must not cost datagrams: the kernel's default
    receive buffer (about 200 KiB) holds a third of a second at 400 calls/s; this one (capped by
    net.core.rmem_max) some seconds."""
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)



def invite_client_timers(timers: list[asyncio.TimerHandle], resend: Callable[[], None],
                         calling: Callable[[], bool], timed_out: Callable[[], None],
                         timer_b_s: float = TIMER_B_S) -> None:
    """An INVITE client transaction's timers (RFC 3261 17.1.1.2), their handles kept in `timers`:
    Timer A resends the INVITE after T1, then after twice the last wait (no cap for INVITE) while
    `calling()`; Timer B calls `timed_out` after `timer_b_s` (it checks the state itself)."""
    loop = asyncio.get_running_loop()

    def again(wait: float) -> None:
        if calling():
            resend()
            timers.append(loop.call_later(wait * 2, again, wait * 2))

    timers.append(loop.call_later(T1_S, again, T1_S))
    timers.append(loop.call_later(timer_b_s, timed_out))

class SipEndpoint(asyncio.DatagramProtocol):
    def __init__(self, handler: Handler, *, clock: Callable[[], float] = time.monotonic,
                 on_response: Listener | None = None, on_ack: Listener | None = None,
                 guard: SourceGuard | None = None) -> None:
        self.handler = handler
        self.guard = guard or SourceGuard(clock=clock)
        self.on_response = on_response
        self.on_ack = on_ack
        self.transport: asyncio.DatagramTransport | None = None
        self.transactions: dict[tuple[str, ...], tuple[float, bytes, tuple[str, int]]] = {}
        self.unacked: dict[tuple[str, int], float] = {}  # (Call-ID, CSeq) of a re-INVITE's 200 -> deadline
        self.tasks: set[asyncio.Task[None]] = set()
        self.unanswered: dict[str, asyncio.TimerHandle] = {}  # our non-INVITE request's branch -> Timer E
        self.malformed = 0
        self._clock = clock
        self._logged: dict[str, float] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not data.strip():  # CRLF keep-alive
            return
        if not self.guard.admit(addr[0], request=not data.startswith(_RESPONSE)):
            return
        source = (addr[0], addr[1])
        try:
            message = parse(data, source)
        except MalformedMessage as error:
            self._refuse(error, source)
            return
        except Exception as error:  # a parser bug must not cost more than this datagram
            self._refuse(MalformedMessage(f"unparsable ({type(error).__name__}: {error})"), source)
            return
        if isinstance(message, Response) or message.method == "ACK":
            if isinstance(message, Response):
                self._answered(message)
            if not self._acknowledges(message):
                self._hand_over(message)
            return
        key = transaction_key(message)
        known = self.transactions.get(key)
        if known is not None:
            if known[1]:  # answered: send the same response again
                self._send(known[1], known[2])
            return
        destination = reply_address(message)
        self.transactions[key] = (self._clock(), _PENDING, destination)
        task = asyncio.get_running_loop().create_task(self._serve(message, key, destination))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _serve(self, request: SipRequest, key: tuple[str, ...], destination: tuple[str, int]) -> None:
        try:
            response = await self.handler(request)
        except Exception:
            log.exception("SIP %s from %s:%d failed", request.method, *request.source)
            response = reply(request, 500, "Server Internal Error")
        if response is None:
            self.transactions.pop(key, None)
            return
        self.transactions[key] = (self._clock(), response, destination)
        self._send(response, destination)

    def _hand_over(self, message: SipRequest | Response) -> None:
        listener = self.on_response if isinstance(message, Response) else self.on_ack
        if listener is None:
            return
        try:
            listener(message)
        except Exception:
            log.exception("SIP %s from %s:%d failed", "response" if isinstance(message, Response)
                          else "ACK", *getattr(message, "source", ("?", 0)))

    def respond(self, request: SipRequest, response: bytes) -> None:
        """Send a later response of a server transaction (an INVITE's 180, 200, 487 ...); a
        retransmitted request gets this one from now on."""
        destination = reply_address(request)
        self.transactions[transaction_key(request)] = (self._clock(), response, destination)
        self._send(response, destination)

    def until_acked(self, request: SipRequest, response: bytes) -> None:
        """Retransmit the 200 to a re-INVITE (T1 doubling up to T2) until its ACK or Timer B (RFC
        3261 13.3.1.4); the ACK stops here. (An initial INVITE's 200 is the call legs': its ACK
        carries the caller's media answer and confirms the call.)"""
        key = (str(request.headers["Call-ID"]), request.cseq)
        loop = asyncio.get_running_loop()
        self.unacked[key] = loop.time() + TIMER_B_S
        destination = reply_address(request)

        def again(interval: float) -> None:
            deadline = self.unacked.get(key)
            if deadline is None or loop.time() > deadline:
                self.unacked.pop(key, None)
                return
            self._send(response, destination)
            loop.call_later(min(interval * 2, T2_S), again, min(interval * 2, T2_S))

        loop.call_later(T1_S, again, T1_S)

    def send_until_answered(self, data: bytes, destination: tuple[str, int], branch: str, *,
                            timed_out: Callable[[], None] | None = None) -> None:
        """Send a non-INVITE request of ours (top Via branch `branch`) as its client transaction over
        UDP does (RFC 3261 17.1.2.2): again after T1, the wait doubling up to T2 (Timer E), until a
        final response with that branch arrives; at Timer F (64*T1) it gives up and `timed_out` runs."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMER_B_S

        def again(interval: float) -> None:
            if loop.time() + interval >= deadline:
                self.unanswered[branch] = loop.call_at(deadline, gave_up)
                return
            self.unanswered[branch] = loop.call_later(interval, resend, min(interval * 2, T2_S))

        def resend(interval: float) -> None:
            self._send(data, destination)
            again(interval)

        def gave_up() -> None:
            self.unanswered.pop(branch, None)
            if timed_out is not None:
                timed_out()

        self._send(data, destination)
        again(T1_S)

    def _answered(self, response: Response) -> None:
        """A final response ends our non-INVITE client transaction of its branch (Timer E stops)."""
        if not self.unanswered or response.status_code < 200:
            return
        with contextlib.suppress(MalformedMessage, KeyError, IndexError):
            branch = str(parse_via(header_values(response.headers, "Via")[0]).params.get("branch") or "")
            timer = self.unanswered.pop(branch, None)
            if timer is not None:
                timer.cancel()

    def _acknowledges(self, message: SipRequest | Response) -> bool:
        return isinstance(message, SipRequest) and bool(self.unacked) and self.unacked.pop(
            (str(message.headers["Call-ID"]), message.cseq), None) is not None

    def send(self, data: bytes, destination: tuple[str, int]) -> None:
        self._send(data, destination)

    def _refuse(self, error: MalformedMessage, source: tuple[str, int]) -> None:
        self.malformed += 1
        now = self._clock()
        if now - self._logged.get(source[0], -LOG_EVERY_S) >= LOG_EVERY_S:
            self._logged[source[0]] = now
            log.warning("malformed SIP from %s:%d: %s (further ones from this address are not logged "
                        "for a minute)", source[0], source[1], error.reason)
        if error.request is not None:
            error.request.source = source
            with contextlib.suppress(MalformedMessage, ValueError, KeyError, IndexError):
                self._send(reply(error.request, 400, "Bad Request"), reply_address(error.request))

    def _send(self, data: bytes, destination: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, destination)

    def sweep(self) -> None:
        """Forget finished transactions older than Timer J and old log marks."""
        now = self._clock()
        for key in [k for k, (at, response, _) in self.transactions.items()
                    if response and now - at > TIMER_J_S]:
            del self.transactions[key]
        for source in [s for s, at in self._logged.items() if now - at > LOG_EVERY_S]:
            del self._logged[source]
        self.guard.sweep()

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for timer in self.unanswered.values():
            timer.cancel()
        self.unanswered.clear()
        if self.transport is not None:
            self.transport.close()
