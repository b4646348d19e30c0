"""Calls the engine places itself (campaigns, a call transferred to an external number): a user
agent client on the gateway's endpoint.

One `Leg` is one INVITE client transaction (RFC 3261 17.1.1: Timer A
retransmissions, Timer B) and then its dialog, to a registered agent's phone
(the address its REGISTER came from) or to an external number through the
trunk ([sip.trunk]; a 401/407 of the trunk is answered once with its
credentials). The leg rings at most `ring_s`: then it is cancelled (CANCEL once
a provisional response came, RFC 3261 9.1) and ends as unanswered. Either side
may hang up (BYE). A re-INVITE of ours (`reoffer`) changes the session of an
answered leg: that is how the power dialer bridges two legs (RFC 3725 flow I:
the second leg is offered the first one's SDP, and its answer is then offered
to the first one). A re-INVITE of the far end is answered with the session as
agreed (sdp.py).

Callers await `leg.final` (the final status: 200, a failure, 408 when nobody
answered the INVITE, 487 when it was cancelled) and then `leg.ended`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from aiovoip.message import Response

from ringtui.config import TrunkSettings
from ringtui.engine.sip.digest import Malformed, authorization, parse_challenge, split_challenges
from ringtui.engine.sip.message import (
    SERVER,
    SipRequest,
    dialog_of_2xx,
    header_values,
    parse_name_addr,
    parse_via,
    reply,
)
from ringtui.engine.sip.sdp import answer_again
from ringtui.engine.sip.transport import T1_S, T2_S, TIMER_B_S, invite_client_timers
from ringtui.vocab import RecipientStatus

log = logging.getLogger("ringtui.engine.sip")

CHALLENGED = {401: ("WWW-Authenticate", "Authorization"), 407: ("Proxy-Authenticate", "Proxy-Authorization")}
CANCELLED = 487
TIMED_OUT = 408


@dataclass(frozen=True)
class Target:
    """Where a leg goes: the Request-URI, the address the datagrams go to, the To header, and the
    credentials a challenge of this peer is answered with (the trunk's), if any."""

    uri: str
    destination: tuple[str, int]
    to_header: str
    credentials: TrunkSettings | None = None


@dataclass
class Leg:
    target: Target
    dialog: str  # our SIP Call-ID
    from_header: str
    offer: str  # the SDP we offered (and, once answered, our side of the session)
    to_header: str = ""
    cseq: int = 1
    branch: str = ""
    invite: bytes = b""
    state: str = "calling"  # calling -> proceeding -> answered | ended
    remote_sdp: str = ""
    remote_target: str = ""
    routes: list[str] = field(default_factory=list)
    challenged: bool = False
    cancel_wanted: bool = False  # hang up as soon as a provisional response allows a CANCEL
    timed_out: bool = False  # rang its full ring_s
    timers: list[asyncio.TimerHandle] = field(default_factory=list)
    final: asyncio.Future[int] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    ended: asyncio.Future[str] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    reoffered: asyncio.Future[str] | None = None  # our re-INVITE's answer

    def stop_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()

    def finish(self, status: int) -> None:
        if not self.final.done():
            self.final.set_result(status)

    def end(self, by: str) -> None:
        self.state = "ended"
        self.stop_timers()
        self.finish(TIMED_OUT if self.timed_out else CANCELLED)
        if not self.ended.done():
            self.ended.set_result(by)
        if self.reoffered is not None and not self.reoffered.done():
            self.reoffered.set_result("")


def result_of(status: int, *, timed_out: bool = False) -> RecipientStatus:
    """A campaign number's result from the final response of the call to it."""
    if 200 <= status < 300:
        return RecipientStatus.ANSWERED
    if timed_out or status in {TIMED_OUT, 480, CANCELLED}:
        return RecipientStatus.NO_ANSWER
    if status in {486, 600, 603}:  # busy here, busy everywhere, declined
        return RecipientStatus.BUSY
    if status in {404, 410, 484, 485, 604}:
        return RecipientStatus.INVALID
    return RecipientStatus.FAILED


class Originator:
    """The engine's own calls on the gateway's endpoint; the gateway hands it responses and requests."""

    def __init__(self, send: Callable[[bytes, tuple[str, int]], None]) -> None:
        self.send = send
        self.local: tuple[str, int] = ("127.0.0.1", 5060)
        self.legs: dict[str, Leg] = {}
        self.unanswered: dict[tuple[str, str], asyncio.TimerHandle] = {}  # our BYE/CANCEL, resent

    # ------------------------------------------------------------ placing a call

    def place(self, target: Target, *, caller: str, offer: str, ring_s: float) -> Leg:
        host = self.local[0]
        leg = Leg(target=target, dialog=secrets.token_hex(12), offer=offer, to_header=target.to_header,
                  from_header=f"<sip:{caller}@{host}>;tag={secrets.token_hex(6)}")
        self.legs[leg.dialog] = leg
        self._send_invite(leg, extra=[])
        leg.timers.append(asyncio.get_running_loop().call_later(ring_s, self._ring_over, leg))
        leg.ended.add_done_callback(lambda _: self._forget_later(leg))
        return leg

    def _send_invite(self, leg: Leg, extra: list[tuple[str, str]]) -> None:
        leg.branch = _branch()
        leg.invite = self._request("INVITE", leg.target.uri, leg, leg.to_header, leg.cseq, branch=leg.branch,
                                   body=leg.offer, extra=[("Contact", self._contact()), *extra])
        self.send(leg.invite, leg.target.destination)
        invite_client_timers(leg.timers, lambda: self.send(leg.invite, leg.target.destination),
                             lambda: leg.state == "calling", lambda: self._no_response(leg), TIMER_B_S)

    def _no_response(self, leg: Leg) -> None:
        if leg.state in {"calling", "proceeding"}:
            leg.finish(TIMED_OUT)
            leg.end("remote")

    def _ring_over(self, leg: Leg) -> None:
        if leg.state in {"calling", "proceeding"}:
            leg.timed_out = True
            self.hang_up(leg)

    # ------------------------------------------------------------ ending and changing a call

    def hang_up(self, leg: Leg) -> None:
        """CANCEL while it rings (or as soon as it may), BYE when answered."""
        if leg.state == "answered":
            leg.cseq += 1
            self._until_answered(leg, "BYE", self._request("BYE", leg.remote_target or leg.target.uri, leg,
                                                           leg.to_header, leg.cseq, routes=leg.routes))
            leg.end("local")
        elif leg.state == "proceeding":
            cancel = self._request("CANCEL", leg.target.uri, leg, leg.to_header, leg.cseq, branch=leg.branch)
            self._until_answered(leg, "CANCEL", cancel)
            leg.cancel_wanted = True
        elif leg.state == "calling":
            leg.cancel_wanted = True

    def _until_answered(self, leg: Leg, method: str, data: bytes) -> None:
        """Send a BYE or CANCEL, again (Timer E: T1 doubling to T2) until its response or Timer F."""
        loop, key = asyncio.get_running_loop(), (leg.dialog, method)
        deadline = loop.time() + TIMER_B_S

        def again(interval: float) -> None:
            self.send(data, leg.target.destination)
            if loop.time() + interval < deadline:
                self.unanswered[key] = loop.call_later(interval, again, min(interval * 2, T2_S))
            else:
                self.unanswered.pop(key, None)

        again(T1_S)

    def reoffer(self, leg: Leg, sdp: str) -> asyncio.Future[str]:
        """Offer `sdp` to an answered leg (re-INVITE); the future holds its answer ('' if refused)."""
        leg.reoffered = asyncio.get_running_loop().create_future()
        if leg.state != "answered":
            leg.reoffered.set_result("")
            return leg.reoffered
        leg.cseq += 1
        leg.offer, leg.branch = sdp, _branch()
        data = self._request("INVITE", leg.remote_target or leg.target.uri, leg, leg.to_header, leg.cseq,
                             branch=leg.branch, body=sdp, routes=leg.routes,
                             extra=[("Contact", self._contact())])
        leg.invite = data
        self.send(data, leg.target.destination)
        for delay in (T1_S, 3 * T1_S, 7 * T1_S):  # Timer A over a short re-INVITE transaction
            leg.timers.append(asyncio.get_running_loop().call_later(delay, self._resend_reoffer, leg, data))
        return leg.reoffered

    def _resend_reoffer(self, leg: Leg, data: bytes) -> None:
        if leg.reoffered is not None and not leg.reoffered.done() and leg.invite is data:
            self.send(data, leg.target.destination)

    # ------------------------------------------------------------ what the far end sends

    def owns(self, request: SipRequest) -> bool:
        return str(request.headers["Call-ID"]) in self.legs

    def response(self, response: Response) -> bool:
        leg = self.legs.get(str(response.headers["Call-ID"]))
        if leg is None:
            return False
        if response.method != "INVITE":  # the answer to our BYE or CANCEL
            timer = self.unanswered.pop((leg.dialog, response.method), None)
            if timer is not None:
                timer.cancel()
            return True
        status = response.status_code
        branch = parse_via(header_values(response.headers, "Via")[0]).params.get("branch")
        if branch != leg.branch:
            if 200 <= status < 300:
                self._ack(leg, response)  # a 2xx retransmitted after our ACK was lost
            return True
        if leg.reoffered is not None:
            self._reoffer_answered(leg, response)
        elif status < 200:
            self._provisional(leg)
        elif status < 300:
            self._answered(leg, response)
        elif status in CHALLENGED and leg.state in {"calling", "proceeding"} and not leg.cancel_wanted:
            self._ack(leg, response)
            self._authenticate(leg, response)
        else:
            self._ack(leg, response)
            if leg.state in {"calling", "proceeding"}:
                leg.finish(TIMED_OUT if leg.timed_out else status)
                leg.end("remote")
        return True

    def _provisional(self, leg: Leg) -> None:
        if leg.state == "calling":
            leg.state = "proceeding"
            if leg.cancel_wanted:
                self.hang_up(leg)

    def _answered(self, leg: Leg, response: Response) -> None:
        if leg.state == "answered" or leg.state == "ended":
            self._ack(leg, response)
            return
        leg.stop_timers()
        leg.state = "answered"
        leg.to_header, leg.remote_target, leg.routes = dialog_of_2xx(response, leg.target.uri)
        leg.remote_sdp = _body(response)
        self._ack(leg, response)
        if leg.cancel_wanted:  # answered as the CANCEL crossed it: hung up at once, still unanswered
            leg.finish(TIMED_OUT if leg.timed_out else CANCELLED)
            self.hang_up(leg)
            return
        leg.finish(response.status_code)

    def _reoffer_answered(self, leg: Leg, response: Response) -> None:
        if response.status_code < 200:
            return
        self._ack(leg, response)
        waiter = leg.reoffered
        leg.reoffered = None
        if waiter is not None and not waiter.done():
            ok = 200 <= response.status_code < 300
            if ok:
                leg.remote_sdp = _body(response) or leg.remote_sdp
            waiter.set_result(_body(response) if ok else "")

    def _authenticate(self, leg: Leg, response: Response) -> None:
        """Answer the trunk's challenge once; a second one (or one we cannot answer) fails the leg."""
        credentials = leg.target.credentials
        header, answer_header = CHALLENGED[response.status_code]
        offers = []
        for value in split_challenges(header_values(response.headers, header)):
            try:
                offers.append(parse_challenge(value))
            except Malformed:
                continue
        if credentials is not None and credentials.realm:
            offers = [offer for offer in offers if offer.realm == credentials.realm]
        if leg.challenged or not offers or credentials is None or not credentials.username:
            why = "credentials refused" if leg.challenged else "no credentials"
            log.warning("engine's call to %s refused: %d %s (%s)", leg.target.uri, response.status_code,
                        response.status_message, why)
            leg.finish(403)
            leg.end("remote")
            return
        leg.challenged = True
        leg.cseq += 1
        leg.stop_timers()
        leg.state = "calling"
        answer = authorization(offers[0], username=credentials.username, password=credentials.password,
                               method="INVITE", uri=leg.target.uri)
        self._send_invite(leg, extra=[(answer_header, answer)])

    def _ack(self, leg: Leg, response: Response) -> None:
        to = str(response.headers["To"])
        if 200 <= response.status_code < 300:
            contacts = header_values(response.headers, "Contact")
            uri = parse_name_addr(contacts[0]).uri if contacts else leg.target.uri
            routes = header_values(response.headers, "Record-Route")[::-1]
            cseq = int(str(response.headers["CSeq"]).split()[0])
            data = self._request("ACK", uri, leg, to, cseq, routes=routes)
        else:
            data = self._request("ACK", leg.target.uri, leg, to, leg.cseq, branch=leg.branch)
        self.send(data, leg.target.destination)

    def invite(self, request: SipRequest) -> bytes:
        """A re-INVITE of the far end (hold, refresh): the session as agreed, its direction as asked."""
        leg = self.legs[str(request.headers["Call-ID"])]
        sdp = answer_again(leg.offer, _body(request))
        extra = [("Contact", self._contact())] + ([("Content-Type", "application/sdp")] if sdp else [])
        return reply(request, 200, "OK", extra=extra, body=sdp)

    def ack(self, request: SipRequest) -> bool:
        return self.owns(request)

    def bye(self, request: SipRequest) -> bytes | None:
        leg = self.legs.get(str(request.headers["Call-ID"]))
        if leg is None:
            return None
        if leg.state != "ended":
            leg.end("remote")
        return reply(request, 200, "OK")

    # ------------------------------------------------------------ bookkeeping

    def _forget_later(self, leg: Leg) -> None:
        asyncio.get_running_loop().call_later(TIMER_B_S, self.legs.pop, leg.dialog, None)

    def close(self) -> None:
        """The engine stops: every leg ends (CANCEL or BYE)."""
        for leg in list(self.legs.values()):
            if leg.state != "ended":
                self.hang_up(leg)
                leg.end("local")
        self.legs.clear()
        for timer in self.unanswered.values():
            timer.cancel()
        self.unanswered.clear()

    def _contact(self) -> str:
        return f"<sip:ringtui@{self.local[0]}:{self.local[1]}>"

    def _request(self, method: str, uri: str, leg: Leg, to_header: str, cseq: int, *, branch: str = "",
                 body: str = "", routes: list[str] | None = None,
                 extra: list[tuple[str, str]] | None = None) -> bytes:
        host, port = self.local
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP {host}:{port};branch={branch or _branch()};rport",
                 "Max-Forwards: 70", f"From: {leg.from_header}", f"To: {to_header}",
                 f"Call-ID: {leg.dialog}", f"CSeq: {cseq} {method}", f"User-Agent: {SERVER}",
                 *(f"Route: {route}" for route in routes or ()),
                 *(f"{name}: {value}" for name, value in extra or ())]
        data = body.encode()
        if data:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(data)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def _branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)


def _body(message: object) -> str:
    raw = getattr(message, "_raw_payload", b"") or b""
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
