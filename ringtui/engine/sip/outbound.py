"""Outbound calls over SIP (E1): a registered agent dials an external number, the call goes out by the trunk.

The agent's INVITE (to a number that is not one of the account's) is authenticated
as a PBX does, with a 407 digest challenge answered with the user's SIP credentials
(the registrar's nonces: stale and replayed nonces are challenged again). Then,
before any traffic to the trunk, the dialled number is read in E.164 or national
form, and the off-plan rules (services/dialing.py) and the OUT blacklist (the
core's outbound_call) refuse with 403 and the reason. No trunk configured: 503.

The trunk leg is an INVITE client transaction (RFC 3261 17.1.1: Timer A
retransmissions, Timer B) to [sip.trunk] address, caller ID (From user and
P-Asserted-Identity) the user's outgoing number. A 401/407 of the trunk is
answered once with the trunk's credentials; a second challenge fails the call
(403 to the agent). 180/183/200 and failures are relayed to the agent; ACK, BYE
and CANCEL go both ways. The core hears it all (outbound_call, outbound_answered,
agent_hung_up, caller_hung_up for the called party), so every call leaves its
record (direction out) and live events. Signalling only: the SDP is relayed as is.

An outbound call cannot be transferred yet (the carrier's leg is never re-INVITEd to
another phone): `carries_transfer` refuses the feed's transfer before the core releases
the agent, and a REFER of the agent's phone gets 403 with the reason in a Warning; the call
stays with the agent.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiovoip.message import Response
from sqlmodel import Session

from ringtui.config import TrunkSettings
from ringtui.engine.core import actions as act
from ringtui.engine.core.center import Reaction
from ringtui.engine.core.errors import CoreError
from ringtui.engine.sip.bindings import DUMMY_PASSWORD, SipAccount, sip_account
from ringtui.engine.sip.calls import in_e164, reinvite_ok
from ringtui.engine.sip.digest import (
    Malformed,
    NonceCheck,
    authorization,
    challenges,
    parse_authorization,
    parse_challenge,
    response_matches,
    split_challenges,
)
from ringtui.engine.sip.message import (
    SERVER,
    MalformedMessage,
    SipRequest,
    dialog_of_2xx,
    header_values,
    parse_name_addr,
    parse_via,
    reply,
    reply_address,
)
from ringtui.engine.sip.sdp import answer_again
from ringtui.engine.sip.transport import T1_S, T2_S, TIMER_B_S, invite_client_timers
from ringtui.errors import Invalid, PermissionDenied
from ringtui.services.dialing import Dialler, destination, dialler

if TYPE_CHECKING:
    from ringtui.engine.runtime import EngineRuntime
    from ringtui.engine.sip.registrar import Registrar
    from ringtui.engine.sip.transport import SipEndpoint

OUTBOUND_TRANSFER = "an outbound SIP call cannot be transferred yet (the carrier's leg stays with its agent)"

log = logging.getLogger("ringtui.engine.sip")

# the core's refusal of an outbound call -> the agent's phone hears: blacklisted (603) is the account's
# rule, 403; the agent's channels all taken, 486
REFUSALS = {603: (403, "Forbidden"), 486: (486, "Busy Here")}
CHALLENGED = {401: ("WWW-Authenticate", "Authorization"), 407: ("Proxy-Authenticate", "Proxy-Authorization")}


@dataclass
class OutboundCall:
    """One agent's call out: the agent's leg (we answer it) and the trunk's leg (we place it)."""

    call_id: str  # the core's
    email: str
    number: str  # E.164
    caller_id: str  # E.164
    invite: SipRequest  # the agent's
    to_tag: str
    trunk_dialog: str  # SIP Call-ID of the trunk leg
    from_header: str
    to_header: str
    uri: str  # Request-URI of the trunk INVITE
    branch: str = ""
    cseq: int = 1
    state: str = "waiting"  # waiting (for the core) -> calling -> proceeding -> answered | ended
    challenged: bool = False  # the trunk's challenge was answered once
    cancelled: bool = False  # the agent gave up: the trunk leg ends as soon as it can
    final: int = 0  # the final response sent to the agent
    acked: bool = False
    agent_gone: bool = False  # the agent's leg is over (BYE sent or received, failure acknowledged)
    remote_target: str = ""
    routes: list[str] = field(default_factory=list)  # the trunk's 200 Record-Route, reversed
    agent_sdp: str = ""  # the session the agent's phone was given (the far end's answer)
    agent_cseq: int = 0  # the phone's latest CSeq in its dialog
    trunk_sdp: str = ""  # the session the trunk was given (the phone's offer)
    trunk_cseq: int = 0  # the trunk's latest CSeq in its dialog
    trunk_invite: bytes = b""
    timers: list[asyncio.TimerHandle] = field(default_factory=list)
    retransmit: asyncio.TimerHandle | None = None  # the agent's final response, until the ACK

    @property
    def agent_dialog(self) -> str:
        return str(self.invite.headers["Call-ID"])

    def stop_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()


class Outbound:
    """The outbound legs of the gateway; `act` is one more action sink of the runtime."""

    def __init__(self, runtime: EngineRuntime, endpoint: SipEndpoint, registrar: Registrar,
                 trunk: TrunkSettings | None, *,
                 on_auth_failure: Callable[[str], object] | None = None) -> None:
        self.runtime = runtime
        self.on_auth_failure = on_auth_failure  # the edge's ban after repeated failures
        self.endpoint = endpoint
        self.registrar = registrar
        self.trunk = trunk
        self.local: tuple[str, int] = ("127.0.0.1", 5060)
        self.calls: dict[str, OutboundCall] = {}  # core call id -> call
        self.by_agent_dialog: dict[str, OutboundCall] = {}
        self.by_trunk_dialog: dict[str, OutboundCall] = {}
        self.trunk_address: tuple[str, int] | None = None  # the trunk's IP address, resolved once
        runtime.snapshot_hooks.append(self.describe)

    async def resolve(self) -> None:
        """Resolve the trunk's host once (a name would cost a blocking DNS lookup per datagram)."""
        if self.trunk is None:
            return
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                self.trunk.host, self.trunk.port, family=socket.AF_INET, type=socket.SOCK_DGRAM)
        except OSError as error:
            log.error("the SIP trunk's host %s does not resolve (%s): outbound calls are refused 503",
                      self.trunk.host, error)
            return
        self.trunk_address = found[0][4][:2]

    # ------------------------------------------------------------ which INVITEs are ours

    def places(self, request: SipRequest) -> bool:
        """Whether a new INVITE is an outbound call: a number that is not one of the account's (IVR or
        direct line) dialled from a named user. Whether that user exists is not asked here: every such
        INVITE is challenged alike, and an unknown user refused only after the digest, so that
        usernames cannot be probed."""
        try:
            dialled = _dialled(request)
            user = _from_user(request)
        except MalformedMessage:
            return False  # the inbound side answers it 400
        center, config = self.runtime.center, self.runtime.config
        number = in_e164(dialled, config.country if config is not None else "")
        return bool(dialled and user) and number not in center.scenario_by_number \
            and number not in center.direct_lines

    def owns(self, request: SipRequest) -> bool:
        dialog = str(request.headers["Call-ID"])
        return dialog in self.by_agent_dialog or dialog in self.by_trunk_dialog

    # ------------------------------------------------------------ the agent's INVITE

    async def invite(self, request: SipRequest) -> bytes:
        """A new INVITE of a user's phone (the gateway answers re-INVITEs): 100 Trying, or the refusal."""
        to_tag = secrets.token_hex(6)
        account = await asyncio.to_thread(sip_account, self.runtime.database, _from_user(request))
        refusal = self._authenticate(request, account, to_tag)
        if refusal is not None:
            return refusal
        assert account is not None
        dialled = _dialled(request)
        try:
            who = await asyncio.to_thread(self._dialler, account.email)
            number = destination(who, dialled)
        except Invalid as error:
            log.info("outbound call from %s to %r refused: %s", account.email, dialled, error)
            return _refuse(request, 484, "Address Incomplete", str(error), to_tag)
        except PermissionDenied as error:
            log.info("outbound call from %s to %r refused: %s", account.email, dialled, error)
            self._record_refused(account.email, who, dialled, str(error))
            return _refuse(request, 403, "Forbidden", str(error), to_tag)
        if self.trunk is None:
            log.warning("outbound call from %s to %s refused 503: no SIP trunk is configured "
                        "([sip.trunk] address in config.toml, or RINGTUI_SIP_TRUNK)", account.email, number)
            return _refuse(request, 503, "Service Unavailable", "no SIP trunk is configured", to_tag)
        if self.trunk_address is None:
            log.warning("outbound call from %s to %s refused 503: the SIP trunk's address %s does not "
                        "resolve", account.email, number, self.trunk.host)
            return _refuse(request, 503, "Service Unavailable", "the SIP trunk's address does not resolve",
                           to_tag)
        call = self._open(request, account.email, number, who.caller_id or "", to_tag)
        asyncio.get_running_loop().call_soon(self._start, call)
        return reply(request, 100, "Trying")

    def _record_refused(self, email: str, who: Dialler, dialled: str, why: str) -> None:
        """A call the dialling rules refused still leaves its record (direction out, ended by the system)."""
        call_id = f"sip-out-{secrets.token_hex(8)}"
        self._apply(lambda: self.runtime.center.outbound_call(
            call_id, email, in_e164(dialled, who.country), who.caller_id or "", refused=why))

    def _dialler(self, email: str) -> Dialler:
        with Session(self.runtime.database) as db:
            return dialler(db, email)

    def _authenticate(self, request: SipRequest, account: SipAccount | None, to_tag: str) -> bytes | None:
        """None when the INVITE carries the user's valid credentials, else the response (407 or 403);
        an unknown user (`account` None) is challenged and refused like a wrong password."""
        realm = self.registrar.realm
        offered = [value for value in header_values(request.headers, "Proxy-Authorization")
                   if value.strip().lower().startswith("digest")]
        try:
            credentials = next((c for c in map(parse_authorization, offered)
                                if c.realm.lower() in {realm.lower(), *self.registrar.domains}), None)
        except Malformed as error:
            return _refuse(request, 400, "Bad Request", str(error), to_tag)
        if credentials is None:
            return self._challenge(request, to_tag)
        password = account.password if account else DUMMY_PASSWORD  # the same work for unknown users
        if (not response_matches(credentials, password, request.method) or account is None
                or credentials.username != account.username or not account.allowed):
            log.info("outbound INVITE from %s:%d refused 403: bad credentials for %s", *request.source,
                     credentials.username)
            if self.on_auth_failure is not None:
                self.on_auth_failure(request.source[0])
            return reply(request, 403, "Forbidden", to_tag=to_tag)
        verdict = self.registrar.nonces.check(credentials.nonce, credentials.count)
        if verdict is not NonceCheck.FRESH:
            return self._challenge(request, to_tag, stale=verdict is NonceCheck.STALE)
        return None

    def _challenge(self, request: SipRequest, to_tag: str, *, stale: bool = False) -> bytes:
        offers = challenges(self.registrar.realm, self.registrar.nonces.issue(), stale=stale,
                            algorithms=self.registrar.options.algorithms)
        return reply(request, 407, "Proxy Authentication Required", to_tag=to_tag,
                     extra=[("Proxy-Authenticate", offer) for offer in offers])

    def _open(self, request: SipRequest, email: str, number: str, caller_id: str,
              to_tag: str) -> OutboundCall:
        trunk = self.trunk
        assert trunk is not None
        domain = trunk.from_domain or trunk.host
        call = OutboundCall(
            call_id=f"sip-out-{secrets.token_hex(8)}", email=email, number=number, caller_id=caller_id,
            invite=request, to_tag=to_tag, trunk_dialog=secrets.token_hex(12),
            from_header=f"<sip:{caller_id}@{domain}>;tag={secrets.token_hex(6)}",
            to_header=f"<sip:{number}@{domain}>", uri=f"sip:{number}@{trunk.host}:{trunk.port}",
            agent_cseq=request.cseq, trunk_sdp=_text(request))
        self.calls[call.call_id] = call
        self.by_agent_dialog[call.agent_dialog] = call
        self.by_trunk_dialog[call.trunk_dialog] = call
        return call

    def _start(self, call: OutboundCall) -> None:
        if call.cancelled:
            return
        if not self._apply(lambda: self.runtime.center.outbound_call(call.call_id, call.email, call.number,
                                                                        call.caller_id)):
            self._final(call, 403, "Forbidden", warning=f"{call.email} is not an agent of the engine")
            self._forget_later(call)

    # ------------------------------------------------------------ the core's actions

    def act(self, action: act.Action) -> None:
        call = self.calls.get(action.call_id)
        if call is None:
            return
        if isinstance(action, act.Dial):
            self._dial(call)
        elif isinstance(action, act.HangUp):
            self._hang_up(call, action)

    def _hang_up(self, call: OutboundCall, action: act.HangUp) -> None:
        """The core ended the call: the blacklist refused it (603, answered 403), or the agent hung up."""
        if not call.final:
            status, reason = REFUSALS.get(action.cause, (480, "Temporarily Unavailable"))
            log.info("outbound call %s from %s to %s refused %d: %s", call.call_id, call.email, call.number,
                     status, action.reason)
            self._final(call, status, reason, warning=action.reason)
        elif call.final < 300 and not call.agent_gone:
            self._bye_agent(call)
        self._end_trunk(call)
        self._forget_later(call)

    # ------------------------------------------------------------ the trunk's leg

    def _dial(self, call: OutboundCall) -> None:
        call.state = "calling"
        self._send_invite(call, extra=[])

    def _send_invite(self, call: OutboundCall, extra: list[tuple[str, str]]) -> None:
        call.branch = _branch()
        call.stop_timers()
        call.trunk_invite = self._request(
            "INVITE", call.uri, call, call.to_header, call.cseq, branch=call.branch, body=call.trunk_sdp,
            extra=[("Contact", self._contact()),
                   ("P-Asserted-Identity", parse_name_addr(call.from_header).uri.join("<>")), *extra])
        self._to_trunk(call, call.trunk_invite)
        invite_client_timers(call.timers, lambda: self._to_trunk(call, call.trunk_invite),
                             lambda: call.state == "calling", lambda: self._invite_timed_out(call), TIMER_B_S)

    def _invite_timed_out(self, call: OutboundCall) -> None:
        if call.state not in {"calling", "proceeding"}:
            return
        log.info("outbound call %s: the trunk did not answer the INVITE (408)", call.call_id)
        call.state = "ended"
        self._far_end_failed(call, 408, "Request Timeout")

    def response(self, response: Response) -> bool:
        """A response from the trunk; False when it belongs to no outbound call."""
        call = self.by_trunk_dialog.get(str(response.headers["Call-ID"]))
        if call is None:
            return False
        if response.method != "INVITE":
            return True  # the trunk's answer to our BYE or CANCEL
        branch = parse_via(header_values(response.headers, "Via")[0]).params.get("branch")
        status = response.status_code
        if branch != call.branch:
            if 200 <= status < 300:
                self._ack(call, response)  # a 2xx retransmitted after our ACK was lost
            return True
        if status < 200:
            self._provisional(call, response)
        elif status < 300:
            self._answered(call, response)
        elif status in CHALLENGED and call.state in {"calling", "proceeding"}:
            self._ack(call, response)
            self._authenticate_to_trunk(call, response)
        elif call.state in {"calling", "proceeding"}:
            self._ack(call, response)
            call.state = "ended"
            self._far_end_failed(call, status, response.status_message or "Failed")
        else:
            self._ack(call, response)  # a retransmitted failure
        return True

    def _provisional(self, call: OutboundCall, response: Response) -> None:
        if call.state == "calling":
            call.state = "proceeding"
            if call.cancelled:
                self._cancel_trunk(call)
                return
        status = response.status_code
        if status == 100 or call.final or call.cancelled:
            return
        body = _text(response)
        extra = self._dialog_headers(call)
        if body:
            extra.append(("Content-Type", "application/sdp"))
        self.endpoint.respond(call.invite, reply(call.invite, status, response.status_message or "Ringing",
                                                 to_tag=call.to_tag, extra=extra, body=body))

    def _authenticate_to_trunk(self, call: OutboundCall, response: Response) -> None:
        """Answer the trunk's challenge once; a second one (or none we can answer) fails the call: 403."""
        trunk = self.trunk
        assert trunk is not None
        challenge_header, answer_header = CHALLENGED[response.status_code]
        offers = []
        for value in split_challenges(header_values(response.headers, challenge_header)):
            try:
                offers.append(parse_challenge(value))
            except Malformed:
                continue
        offers = [offer for offer in offers if not trunk.realm or offer.realm == trunk.realm]
        if call.challenged or not offers or not trunk.username:
            why = ("the trunk refused our credentials" if call.challenged
                   else "no trunk credentials for its challenge")
            log.warning("outbound call %s to %s failed: %s (%d %s)", call.call_id, call.number, why,
                        response.status_code, response.status_message)
            call.state = "ended"
            self._far_end_failed(call, 403, "Forbidden", warning=why)
            return
        call.challenged = True
        call.cseq += 1
        credentials = authorization(offers[0], username=trunk.username, password=trunk.password,
                                    method="INVITE", uri=call.uri)
        call.state = "calling"
        self._send_invite(call, extra=[(answer_header, credentials)])

    def _answered(self, call: OutboundCall, response: Response) -> None:
        if call.state == "answered":
            self._ack(call, response)
            return
        call.stop_timers()
        call.state = "answered"
        call.to_header, call.remote_target, call.routes = dialog_of_2xx(response, call.uri)
        self._ack(call, response)
        if call.cancelled or call.agent_gone:  # the agent gave up meanwhile: the called party is hung up on
            self._bye_trunk(call)
            return
        call.agent_sdp = _text(response)
        self._final(call, 200, "OK", body=call.agent_sdp)
        self._apply(lambda: self.runtime.center.outbound_answered(call.call_id))

    def _far_end_failed(self, call: OutboundCall, status: int, reason: str, *, warning: str = "") -> None:
        """The trunk leg failed: the agent hears it, the core ends the call (the called party's side)."""
        call.stop_timers()
        if not call.final:
            self._final(call, status, reason, warning=warning)
        if call.call_id in self.runtime.center.calls:
            self._apply(lambda: self.runtime.center.caller_hung_up(call.call_id))
        self._forget_later(call)

    def _ack(self, call: OutboundCall, response: Response) -> None:
        """ACK a final response: a 2xx gets a new transaction to the Contact, a failure its own branch."""
        to = str(response.headers["To"])
        if 200 <= response.status_code < 300:
            data = self._request("ACK", call.remote_target or call.uri, call, to, call.cseq,
                                 routes=call.routes)
            self.endpoint.send(data, self._next_hop(call))
        else:
            branch = parse_via(header_values(response.headers, "Via")[0]).params.get("branch") or call.branch
            self._to_trunk(call, self._request("ACK", call.uri, call, to, call.cseq, branch=str(branch)))

    def _cancel_trunk(self, call: OutboundCall) -> None:
        self._to_trunk(call, self._request("CANCEL", call.uri, call, call.to_header, call.cseq,
                                           branch=call.branch))

    def _bye_trunk(self, call: OutboundCall) -> None:
        call.state = "ended"
        call.stop_timers()
        data = self._request("BYE", call.remote_target or call.uri, call, call.to_header, call.cseq + 1,
                             routes=call.routes)
        self.endpoint.send(data, self._next_hop(call))

    def _end_trunk(self, call: OutboundCall) -> None:
        """The call is over for the agent: the trunk leg ends (CANCEL while ringing, BYE when answered)."""
        if call.cancelled:
            return
        call.cancelled = True
        if call.state == "proceeding":
            self._cancel_trunk(call)
        elif call.state == "answered":
            self._bye_trunk(call)
        elif call.state == "waiting":
            call.state = "ended"
        # "calling": the CANCEL waits for a provisional response (RFC 3261 9.1)

    def _to_trunk(self, call: OutboundCall, data: bytes) -> None:
        assert self.trunk_address is not None
        self.endpoint.send(data, self.trunk_address)

    def _next_hop(self, call: OutboundCall) -> tuple[str, int]:
        assert self.trunk_address is not None
        if not call.routes:
            return self.trunk_address
        route = parse_name_addr(call.routes[0])
        hostport = route.uri.split(":", 1)[1].split(";", 1)[0].rsplit("@", 1)[-1]
        port = hostport.rsplit(":", 1)[1] if ":" in hostport else ""
        return route.host, int(port) if port.isdigit() else 5060

    # ------------------------------------------------------------ the agent's leg

    def ack(self, request: SipRequest) -> bool:
        call = self.by_agent_dialog.get(str(request.headers["Call-ID"]))
        if call is None:
            return False
        call.acked = True
        self._stop_retransmitting(call)
        if call.final >= 300:
            call.agent_gone = True
        return True

    def reinvite(self, request: SipRequest) -> bytes:
        """A re-INVITE in one of an outbound call's dialogs (hold, resume, a session refresh), from the
        agent's phone or the trunk: answered at once with the session as agreed, in the direction the
        offer asks for (sdp.answer_again), as the inbound legs do: signalling only, the media go
        between the phone and the far end. 500 with Retry-After while the call is being set up."""
        dialog = str(request.headers["Call-ID"])
        from_agent = dialog in self.by_agent_dialog
        call = self.by_agent_dialog.get(dialog) or self.by_trunk_dialog[dialog]
        ours = call.to_tag if from_agent else str(parse_name_addr(call.from_header).params.get("tag") or "")
        to = parse_name_addr(str(request.headers["To"])).params.get("tag")
        if to != ours or call.state == "ended" or call.agent_gone:
            return reply(request, 481, "Call/Transaction Does Not Exist")
        if call.state != "answered":
            return reply(request, 500, "Server Internal Error", to_tag=ours, extra=[("Retry-After", "2")])
        if request.cseq <= (call.agent_cseq if from_agent else call.trunk_cseq):
            return reply(request, 500, "Out of order CSeq", to_tag=ours)
        if from_agent:
            call.agent_cseq = request.cseq
            call.agent_sdp = sdp = answer_again(call.agent_sdp, _text(request))
        else:
            call.trunk_cseq = request.cseq
            call.trunk_sdp = sdp = answer_again(call.trunk_sdp, _text(request))
        response = reinvite_ok(request, sdp, self._contact())
        self.endpoint.until_acked(request, response)
        return response

    def carries_transfer(self, call_id: str, target: str) -> str | None:
        """Why a transfer of this call cannot be carried over SIP, or None (not an outbound SIP call)."""
        return OUTBOUND_TRANSFER if call_id in self.calls else None

    def refer(self, request: SipRequest) -> bytes:
        """A REFER of the agent's phone in an outbound call's dialog: refused, the call goes on."""
        call = self.by_agent_dialog.get(str(request.headers["Call-ID"]))
        to = parse_name_addr(str(request.headers["To"])).params.get("tag")
        if call is None or to != call.to_tag or call.state != "answered" or call.agent_gone:
            return reply(request, 481, "Call/Transaction Does Not Exist")
        if request.cseq <= call.agent_cseq:
            return reply(request, 500, "Out of order CSeq", to_tag=call.to_tag)
        call.agent_cseq = request.cseq
        return _refuse(request, 403, "Forbidden", OUTBOUND_TRANSFER, call.to_tag)

    def cancel(self, request: SipRequest) -> bytes | None:
        call = self.by_agent_dialog.get(str(request.headers["Call-ID"]))
        if call is None:
            return None
        if call.invite.via[0].params.get("branch") != request.via[0].params.get("branch"):
            return reply(request, 481, "Call/Transaction Does Not Exist")
        if not call.final:
            asyncio.get_running_loop().call_soon(self._agent_cancelled, call)
        return reply(request, 200, "OK")

    def _agent_cancelled(self, call: OutboundCall) -> None:
        if call.final:
            return
        self._final(call, 487, "Request Terminated")
        self._agent_left(call)

    def bye(self, request: SipRequest) -> bytes | None:
        dialog = str(request.headers["Call-ID"])
        call = self.by_agent_dialog.get(dialog)
        if call is not None:
            call.agent_gone = True
            self._stop_retransmitting(call)
            self._agent_left(call)
            return reply(request, 200, "OK")
        call = self.by_trunk_dialog.get(dialog)
        if call is None:
            return None
        call.state = "ended"
        call.stop_timers()
        if not call.agent_gone:
            self._bye_agent(call)
        if call.call_id in self.runtime.center.calls:
            self._apply(lambda: self.runtime.center.caller_hung_up(call.call_id))
        self._forget_later(call)
        return reply(request, 200, "OK")

    def _agent_left(self, call: OutboundCall) -> None:
        """The agent hung up (BYE) or gave up (CANCEL): the trunk leg ends, the core ends the call."""
        self._end_trunk(call)
        if call.call_id in self.runtime.center.calls:
            self._apply(lambda: self.runtime.center.agent_hung_up(call.call_id, call.email))
        self._forget_later(call)

    def _final(self, call: OutboundCall, status: int, reason: str, *, body: str = "",
               warning: str = "") -> None:
        """The agent's INVITE gets its final response, retransmitted (T1 doubling to T2) until the ACK."""
        if call.final:
            return
        call.final = status
        extra = self._dialog_headers(call) if status < 300 else []
        if warning:
            extra.append(("Warning", _warning(warning)))
        if body:
            extra.append(("Content-Type", "application/sdp"))
        response = reply(call.invite, status, reason, to_tag=call.to_tag, extra=extra, body=body)
        self.endpoint.respond(call.invite, response)
        destination = reply_address(call.invite)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMER_B_S

        def again(interval: float) -> None:
            if call.acked or loop.time() > deadline:
                return
            self.endpoint.send(response, destination)
            call.retransmit = loop.call_later(min(interval * 2, T2_S), again, min(interval * 2, T2_S))

        call.retransmit = loop.call_later(T1_S, again, T1_S)

    def _stop_retransmitting(self, call: OutboundCall) -> None:
        if call.retransmit is not None:
            call.retransmit.cancel()
            call.retransmit = None

    def _bye_agent(self, call: OutboundCall) -> None:
        call.agent_gone = True
        self._stop_retransmitting(call)
        invite = call.invite
        contacts = header_values(invite.headers, "Contact")
        target = parse_name_addr(contacts[0]).uri if contacts else invite.uri
        routes = header_values(invite.headers, "Record-Route")
        lines = [f"BYE {target} SIP/2.0",
                 f"Via: SIP/2.0/UDP {self.local[0]}:{self.local[1]};branch={_branch()};rport",
                 "Max-Forwards: 70", f"From: {invite.headers['To']};tag={call.to_tag}",
                 f"To: {invite.headers['From']}", f"Call-ID: {call.agent_dialog}", "CSeq: 1 BYE",
                 f"User-Agent: {SERVER}", *(f"Route: {route}" for route in routes), "Content-Length: 0"]
        hop = reply_address(invite)
        if routes:
            route = parse_name_addr(routes[0])
            hostport = route.uri.split(":", 1)[1].split(";", 1)[0].rsplit("@", 1)[-1]
            port = hostport.rsplit(":", 1)[1] if ":" in hostport else ""
            hop = (route.host, int(port) if port.isdigit() else 5060)
        self.endpoint.send(("\r\n".join(lines) + "\r\n\r\n").encode(), hop)

    def _dialog_headers(self, call: OutboundCall) -> list[tuple[str, str]]:
        return [("Contact", self._contact()),
                *(("Record-Route", route) for route in header_values(call.invite.headers, "Record-Route"))]

    # ------------------------------------------------------------ engine status

    def describe(self, snapshot: dict[str, Any]) -> None:
        """Add the SIP side of outbound calls to the engine's snapshot (`engine status`, the feed): the
        agent's phone (SIP Call-ID, address) and the trunk leg (Request-URI, address, state)."""
        for row in snapshot.get("calls", []):
            call = self.calls.get(row["call_id"])
            if call is None:
                continue
            trunk = "{}:{}".format(*self.trunk_address) if self.trunk_address else ""
            state = {"calling": "ringing", "proceeding": "ringing"}.get(call.state, call.state)
            row.update(channel="sip", sip_call_id=call.agent_dialog,
                       sip_peer="{}:{}".format(*call.invite.source),
                       sip_trunk={"uri": call.uri, "address": trunk, "state": state})

    # ------------------------------------------------------------ bookkeeping

    def _forget_later(self, call: OutboundCall) -> None:
        """Keep the call a while to absorb retransmissions, then forget it."""
        asyncio.get_running_loop().call_later(TIMER_B_S, self._forget, call)

    def _forget(self, call: OutboundCall) -> None:
        call.stop_timers()
        self._stop_retransmitting(call)
        self.calls.pop(call.call_id, None)
        self.by_agent_dialog.pop(call.agent_dialog, None)
        self.by_trunk_dialog.pop(call.trunk_dialog, None)

    def close(self) -> None:
        """The engine stops: calls being set up get 503, calls in progress end on both legs."""
        for call in list(self.calls.values()):
            if not call.final:
                self._final(call, 503, "Service Unavailable")
            elif call.final < 300 and not call.agent_gone:
                self._bye_agent(call)
            if call.state != "ended":
                self._end_trunk(call)
            self._forget(call)

    def _apply(self, change: Callable[[], Reaction]) -> bool:
        try:
            self.runtime.apply(change())
        except CoreError as error:
            log.info("outbound SIP event not taken by the engine: %s", error)
            return False
        return True

    def _contact(self) -> str:
        return f"<sip:ringtui@{self.local[0]}:{self.local[1]}>"

    def _request(self, method: str, uri: str, call: OutboundCall, to_header: str, cseq: int, *,
                 branch: str = "", body: str = "", routes: list[str] | None = None,
                 extra: list[tuple[str, str]] | None = None) -> bytes:
        host, port = self.local
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP {host}:{port};branch={branch or _branch()};rport",
                 "Max-Forwards: 70", f"From: {call.from_header}", f"To: {to_header}",
                 f"Call-ID: {call.trunk_dialog}", f"CSeq: {cseq} {method}", f"User-Agent: {SERVER}",
                 *(f"Route: {route}" for route in routes or ()),
                 *(f"{name}: {value}" for name, value in extra or ())]
        if body:
            lines.append("Content-Type: application/sdp")
        data = body.encode()
        lines.append(f"Content-Length: {len(data)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def _refuse(request: SipRequest, status: int, reason: str, why: str, to_tag: str) -> bytes:
    return reply(request, status, reason, to_tag=to_tag, extra=[("Warning", _warning(why))])


def _warning(text: str) -> str:
    """A Warning header value (RFC 3261 20.43): code 399, our agent name, the text quoted."""
    clean = "".join(c if c.isprintable() and c not in '"\\' else " " for c in text)[:200]
    return f'399 ringtui "{clean}"'


def _from_user(request: SipRequest) -> str:
    return parse_name_addr(request.headers["From"]).user.split(";", 1)[0]


def _dialled(request: SipRequest) -> str:
    """The number the agent dialled: the Request-URI's user (visual separators dropped), else To's."""
    for uri in (request.uri, parse_name_addr(request.headers["To"]).uri):
        rest = uri.split(":", 1)[1] if ":" in uri else uri
        if "@" in rest:
            user = rest.split("@", 1)[0].split(";", 1)[0]
            number = "".join(c for c in user if c not in " -.()")
            if number:
                return number
    return ""


def _branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)


def _text(message: object) -> str:
    raw = getattr(message, "_raw_payload", b"") or b""
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)

