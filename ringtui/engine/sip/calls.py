"""Inbound calls over SIP: the caller's leg, the agents' legs, and the core between them.

The caller's INVITE server transaction (RFC 3261 17.2.1): 100 Trying at once
(the endpoint answers a retransmitted INVITE with the latest response, so a
retransmission never becomes a second call), 180 while agents ring or the call
waits in a queue, 200 when one answers (or voicemail picks up), its final
response retransmitted until the ACK (Timer G). A CANCEL ends the call
(caller_hung_up) with 487 to the INVITE. A re-INVITE in a dialog is answered at
once with the session as agreed (sdp.py).

Each RingAgent of the core is an INVITE client transaction (17.1.1) towards
every registered contact of the agent, sent to the address the REGISTER came
from: retransmitted (Timer A) until a response, given up after Timer B. A 1xx
only stops the retransmissions (a 100 without a To-tag builds no dialog:
aiovoip's gap 1); the dialog starts with the 200, acknowledged with an ACK of
its own branch to the Contact of the 200 (gap 5); a failure is an S5 outcome
(RING_OUTCOMES). Signalling only: the phone gets the caller's SDP offer and the
caller the phone's answer, so their media go straight to each other.

Transfers (S6): an agent's phone sends REFER (RFC 3515) in its dialog, Refer-To naming an
agent's SIP username or a number. A target the engine cannot take is refused at once (404
for a name that is nobody, 403 with the core's reason in a Warning, 501 for an attended
transfer's Replaces) and the call stays with the agent. A transfer to an external number
without a trunk to call it by is refused before the core releases anyone (`carries_transfer`),
by REFER (403 with the reason in a Warning) or by the feed (the runtime asks first).
Accepted: 202, a NOTIFY "SIP/2.0 100 Trying" (message/sipfrag),
the core rings the target; the final NOTIFY says "200 OK" when the target answers, or "480
Temporarily Unavailable" when the transfer falls back (the transferrer's recall, voicemail,
the end), and the engine then ends the transferrer's leg with a BYE (RFC 5589) unless the
phone ended it first. The caller, already answered, is re-INVITEd with the target phone's
session description (no media relay: the two phones talk directly).

An external number (the core's TransferOut) is called through the trunk by the Originator,
offered the caller's own session, caller ID the caller's number. Its 200: the final NOTIFY "200
OK", the caller re-INVITEd with the carrier's session, the core told (external_answered); from
then a BYE of either side ends the other. Its failure (486, any 4xx-6xx, no answer within the
core's ring time: 408): the final NOTIFY carries that status and the core recalls the
transferrer (external_failed). The caller hanging up while it rings cancels it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiovoip.message import Response

from ringtui.engine.core import actions as act
from ringtui.engine.core.center import E164, Reaction
from ringtui.engine.core.errors import CoreError, UnknownAgent
from ringtui.engine.sip.bindings import Binding
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
from ringtui.engine.sip.sdp import answer_again, new_session
from ringtui.engine.sip.transport import T1_S, T2_S, TIMER_B_S, invite_client_timers
from ringtui.errors import Invalid
from ringtui.services.phones import to_e164
from ringtui.vocab import Outcome

if TYPE_CHECKING:
    from ringtui.engine.runtime import EngineRuntime
    from ringtui.engine.sip.originate import Leg, Originator, Target
    from ringtui.engine.sip.registrar import Registrar
    from ringtui.engine.sip.transport import SipEndpoint

EXTERNAL_TRANSFER = "no SIP trunk to call an external number ([sip.trunk] address unset or not resolving)"
LATE_OFFER_TRANSFER = "the caller's INVITE had no session offer to give an external number"
EXTERNAL_FAILURES = {408: "Request Timeout", 403: "Forbidden", 404: "Not Found",
                     480: "Temporarily Unavailable", 486: "Busy Here", 487: "Request Terminated",
                     503: "Service Unavailable",
                     600: "Busy Everywhere", 603: "Decline"}

log = logging.getLogger("ringtui.engine.sip")

# Timer B: an INVITE nobody answers; also how long a final response waits for its ACK
# SPEC S5 for the final answer of an agent's phone to our INVITE, in this one table. Not in it:
# 2xx is ANSWERED (TOOLATE when the ring was over: the core's call), a ring running out is NO_ANSWER
# or CALL_ANSWERED (the core's timer), 487 follows our own CANCEL and changes nothing.
RING_OUTCOMES: dict[int, Outcome] = {
    486: Outcome.REJECTED,  # Busy Here: what phones send when their user declines
    600: Outcome.REJECTED,  # Busy Everywhere
    603: Outcome.REJECTED,  # Decline
    607: Outcome.REJECTED,  # Unwanted
    404: Outcome.NOTCONNECTED,  # Not Found: the registered contact is not there any more
    410: Outcome.NOTCONNECTED,  # Gone
    408: Outcome.NOTCONNECTED,  # Request Timeout
    480: Outcome.NOTCONNECTED,  # Temporarily Unavailable: do-not-disturb, user logged out of the phone
    604: Outcome.NOTCONNECTED,  # Does Not Exist Anywhere
}
UNREACHABLE = Outcome.NOTCONNECTED  # no registered phone, or no response at all within Timer B
# With several phones, the attempt is the strongest of their outcomes: one phone's "no" is the agent's.
STRENGTH = (Outcome.NOTCONNECTED, Outcome.SIP_PHONE_ERROR, Outcome.REJECTED)
HANG_UP_STATUS = {603: "Decline", 480: "Temporarily Unavailable", 404: "Not Found"}
VISUAL_SEPARATORS = frozenset("-.() ")  # RFC 3966 5.1.1: what a dialled number may carry beside digits
NORMAL = 200  # the core's cause for a call the scenario ends (its last step done)


@dataclass
class CallerLeg:
    call_id: str  # the core's
    invite: SipRequest
    to_tag: str
    offer: str
    final: int = 0  # status of the final response sent, 0 while the call is set up
    answered: bool = False
    acked: bool = False
    sdp: str = ""  # the session description we gave the caller (our answer)
    remote_cseq: int = 0  # the caller's latest CSeq in the dialog
    played: bool = False  # the scenario played the caller something (announcement, menu ...)
    agent: AgentLeg | None = None  # the leg of the phone that answered
    bye_after_ack: bool = False  # answered only to be ended: the BYE goes once the 200 is acknowledged
    routes: list[str] = field(default_factory=list)  # its Record-Route: the dialog's route set, in order
    retransmit: asyncio.TimerHandle | None = None
    local_cseq: int = 0  # our latest CSeq in the dialog (a re-INVITE after a transfer, the BYE)
    reinvite: bytes = b""  # our re-INVITE waiting for its final response
    reinvite_timers: list[asyncio.TimerHandle] = field(default_factory=list)


@dataclass
class AgentLeg:
    call_id: str  # the core's
    email: str
    dialog_id: str  # the SIP Call-ID of this leg
    branch: str
    uri: str  # the registered contact (Request-URI of the INVITE)
    destination: tuple[str, int]
    from_header: str
    to_header: str
    invite: bytes
    state: str = "calling"  # calling -> proceeding -> answered | ended
    cancelled: bool = False
    remote_target: str = ""
    routes: list[str] = field(default_factory=list)  # the 200's Record-Route, reversed (RFC 3261 12.1.2)
    sdp: str = ""  # the session description we offered the phone (the caller's)
    answer: str = ""  # the phone's answer, in its 200: the caller gets it
    remote_cseq: int = 0  # the phone's latest CSeq in the dialog
    held_ack: Response | None = None  # its 200, whose ACK waits for the caller's answer (a late offer)
    timers: list[asyncio.TimerHandle] = field(default_factory=list)
    local_cseq: int = 1  # our latest CSeq in the dialog (the INVITE; then NOTIFYs of a transfer, the BYE)

    def stop_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()


@dataclass
class Refer:
    """A REFER accepted on an agent's leg: its implicit subscription (RFC 3515) lasts until the
    transfer is over for the engine (the target answered, or the transfer fell back)."""

    leg: AgentLeg
    target: str  # the core's: an agent's e-mail or an E.164 number
    event_id: int  # the REFER's CSeq: the id of the "refer" event package (RFC 3515 2.4.6)


class SipCalls:
    """The call legs of the gateway; `act` is the runtime's action sink."""

    def __init__(self, runtime: EngineRuntime, endpoint: SipEndpoint, registrar: Registrar) -> None:
        self.runtime = runtime
        self.endpoint = endpoint
        self.registrar = registrar
        self.local: tuple[str, int] = ("127.0.0.1", 5060)
        self.callers: dict[str, CallerLeg] = {}  # core call id -> leg
        self.caller_dialogs: dict[str, str] = {}  # the caller's SIP Call-ID -> core call id
        self.agent_legs: dict[str, AgentLeg] = {}  # SIP Call-ID of the agent's leg -> leg
        self.rings: dict[tuple[str, str], list[AgentLeg]] = {}  # (core call id, e-mail) -> forks
        self.failures: dict[tuple[str, str], Outcome] = {}  # the strongest outcome of a ring's failed forks
        self.refers: dict[str, Refer] = {}  # core call id -> the transfer its agent's phone asked for
        # external transfers: the gateway's Originator and trunk (None: no trunk, such transfers refused)
        self.originate: Originator | None = None
        self.trunk_target: Callable[[str], Target | None] = lambda number: None
        self.external: dict[str, Leg] = {}  # core call id -> the leg to the number it is transferred to
        runtime.snapshot_hooks.append(self.describe)

    # ------------------------------------------------------------ the caller

    def owns(self, request: SipRequest) -> bool:
        """Whether a request belongs to one of our dialogs (a caller's or an agent phone's)."""
        dialog = str(request.headers["Call-ID"])
        return dialog in self.caller_dialogs or dialog in self.agent_legs

    def invite(self, request: SipRequest) -> bytes:
        """A new INVITE: 100 Trying now, the core decides right after (call_soon)."""
        if self.owns(request):
            return self._reinvite(request)
        if _tag(str(request.headers["To"])):  # in a dialog we do not know (RFC 3261 12.2.2)
            return reply(request, 481, "Call/Transaction Does Not Exist")
        try:
            caller, number = _caller(request), _dialled(request)
        except MalformedMessage as error:
            return reply(request, 400, "Bad Request", to_tag=secrets.token_hex(6),
                         extra=[("Warning", f'399 ringtui "{error.reason[:80]}"')])
        leg = CallerLeg(call_id=f"sip-{secrets.token_hex(8)}", invite=request, to_tag=secrets.token_hex(6),
                        offer=_text(request), routes=header_values(request.headers, "Record-Route"),
                        remote_cseq=request.cseq)
        self.callers[leg.call_id] = leg
        self.caller_dialogs[str(request.headers["Call-ID"])] = leg.call_id
        asyncio.get_running_loop().call_soon(self._arrive, leg, caller, number)
        return reply(request, 100, "Trying")

    def _arrive(self, leg: CallerLeg, caller: str, number: str) -> None:
        country = self.runtime.config.country if self.runtime.config is not None else ""
        caller, number = in_e164(caller, country), in_e164(number, country)
        if not self._apply(lambda: self.runtime.center.call_arrived(leg.call_id, caller, number)):
            self._finish(leg, 500, "Server Internal Error")

    def cancel(self, request: SipRequest) -> bytes:
        leg = self._caller_leg(request)
        branch = request.via[0].params.get("branch")
        if leg is None or leg.invite.via[0].params.get("branch") != branch:
            return reply(request, 481, "Call/Transaction Does Not Exist")
        if not leg.final:  # after the 200 to the CANCEL has gone (call_soon), as callers expect
            asyncio.get_running_loop().call_soon(self._cancelled, leg)
        return reply(request, 200, "OK")

    def _cancelled(self, leg: CallerLeg) -> None:
        if leg.final:
            return
        self._finish(leg, 487, "Request Terminated")
        self._apply(lambda: self.runtime.center.caller_hung_up(leg.call_id))
        self._tear_down(leg.call_id)

    def bye(self, request: SipRequest) -> bytes:
        dialog = str(request.headers["Call-ID"])
        leg = self._caller_leg(request)
        if leg is not None:
            self._stop_retransmitting(leg)
            leg.final = leg.final or 487
            self._apply(lambda: self.runtime.center.caller_hung_up(leg.call_id))
            self._tear_down(leg.call_id)
            self._forget(leg)
            return reply(request, 200, "OK")
        agent = self.agent_legs.pop(dialog, None)
        if agent is None:
            return reply(request, 481, "Call/Transaction Does Not Exist")
        agent.state = "ended"
        agent.stop_timers()
        self._apply(lambda: self.runtime.center.agent_hung_up(agent.call_id, agent.email))
        return reply(request, 200, "OK")

    def ack(self, request: SipRequest) -> None:
        leg = self._caller_leg(request)
        if leg is None or leg.acked:
            return
        leg.acked = True
        self._stop_retransmitting(leg)
        if leg.agent is not None:
            self._release_ack(leg.agent, _text(request))
        if leg.bye_after_ack:
            self._bye_caller(leg)
            self._forget(leg)
        elif not leg.answered:  # the ACK of a failure ends the transaction and the call
            self._forget(leg)

    def _reinvite(self, request: SipRequest) -> bytes:
        """An INVITE with the Call-ID of one of our dialogs. In the dialog (hold, resume, refresh): 200
        with the session as agreed (sdp.answer_again) at once, since no other leg needs asking (no
        media here); 500 with Retry-After while the first INVITE is not answered (RFC 3261 14.2) or
        for an old CSeq (12.2.2); 481 for a dialog that is not established. Without a To-tag, the
        first INVITE again by another path: 482 (8.2.2.2). 491 is for an INVITE crossing one of ours:
        we never send one."""
        dialog = str(request.headers["Call-ID"])
        caller = self._caller_leg(request)
        agent = self.agent_legs.get(dialog)
        if not _tag(str(request.headers["To"])):  # the same call reaching us again by another path
            return reply(request, 482, "Loop Detected", to_tag=secrets.token_hex(6))  # RFC 3261 8.2.2.2
        if caller is not None:
            ours, established, pending = caller.to_tag, caller.answered, not caller.final
        elif agent is not None:
            ours = _tag(agent.from_header)
            established, pending = agent.state == "answered", agent.state in {"calling", "proceeding"}
        else:
            return reply(request, 481, "Call/Transaction Does Not Exist")
        if _tag(str(request.headers["To"])) != ours or not (established or pending):
            return reply(request, 481, "Call/Transaction Does Not Exist")
        if pending:
            return reply(request, 500, "Server Internal Error", to_tag=ours,
                         extra=[("Retry-After", str(random.randint(0, 10)))])
        leg = caller or agent
        assert leg is not None
        if request.cseq <= leg.remote_cseq:
            return reply(request, 500, "Out of order CSeq", to_tag=ours)
        leg.remote_cseq = request.cseq
        leg.sdp = answer_again(leg.sdp, _text(request))
        return self._ok_until_acked(request, leg.sdp)

    def _ok_until_acked(self, request: SipRequest, sdp: str) -> bytes:
        """The 200 to a re-INVITE, retransmitted by the endpoint until its ACK."""
        response = reinvite_ok(request, sdp, self._contact())
        self.endpoint.until_acked(request, response)
        return response

    def _caller_leg(self, request: SipRequest) -> CallerLeg | None:
        call_id = self.caller_dialogs.get(str(request.headers["Call-ID"]))
        return self.callers.get(call_id) if call_id else None

    def _finish(self, leg: CallerLeg, status: int, reason: str, *, body: str = "",
                extra: tuple[tuple[str, str], ...] = ()) -> None:
        """The INVITE's final response, retransmitted (T1 doubling up to T2) until the ACK."""
        if leg.final:
            return
        leg.final = status
        extra = [*(self._dialog_headers(leg) if status < 300 else []), *extra]
        if body:
            extra.append(("Content-Type", "application/sdp"))
        response = reply(leg.invite, status, reason, to_tag=leg.to_tag, extra=extra, body=body)
        self.endpoint.respond(leg.invite, response)
        destination = reply_address(leg.invite)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMER_B_S

        def again(interval: float) -> None:
            if leg.acked or loop.time() > deadline:
                if not leg.acked:
                    self._ack_timed_out(leg)
                return
            self.endpoint.send(response, destination)
            leg.retransmit = loop.call_later(min(interval * 2, T2_S), again, min(interval * 2, T2_S))

        leg.retransmit = loop.call_later(T1_S, again, T1_S)

    def _ack_timed_out(self, leg: CallerLeg) -> None:
        """No ACK within Timer B. A failure's transaction just ends; a 200 never acknowledged ends the
        session (RFC 3261 13.3.1.4): BYE to the caller and to the agent's phone, and the call ends, so
        that an agent is never held by a caller who went away."""
        if leg.agent is not None:
            self._release_ack(leg.agent, "")
        if leg.answered and not leg.bye_after_ack:
            self._apply(lambda: self.runtime.center.caller_hung_up(leg.call_id))
            self._tear_down(leg.call_id)
        if leg.answered or leg.bye_after_ack:
            self._bye_caller(leg)
        self._forget(leg)

    def _stop_retransmitting(self, leg: CallerLeg) -> None:
        if leg.retransmit is not None:
            leg.retransmit.cancel()
            leg.retransmit = None

    def _forget(self, leg: CallerLeg) -> None:
        self._stop_retransmitting(leg)
        self.callers.pop(leg.call_id, None)
        self.caller_dialogs.pop(str(leg.invite.headers["Call-ID"]), None)

    def _hang_up_caller(self, action: act.HangUp) -> None:
        """The core ends the call: BYE when answered; a scenario that played its last words ends it as
        a PBX does (answered, then BYE: no media, so the caller hears nothing); else the failure
        (603, 404, 480 when nobody could take it)."""
        leg = self.callers.get(action.call_id)
        if leg is None:
            return
        if not leg.final and action.cause == NORMAL and leg.played:
            leg.bye_after_ack = True
            self._answer(leg, _answer(leg.offer, self.local[0]) or _silence(self.local[0]))
        elif not leg.final:
            status = action.cause if action.cause in HANG_UP_STATUS else 480
            self._finish(leg, status, HANG_UP_STATUS[status])
        elif leg.answered and leg.acked:
            self._bye_caller(leg)
            self._forget(leg)
        elif leg.answered:
            leg.bye_after_ack = True
        self._tear_down(action.call_id)

    def _answer(self, leg: CallerLeg, sdp: str) -> None:
        """The caller's INVITE answered 200 with `sdp`."""
        if leg.final:
            return
        leg.answered, leg.sdp = True, sdp
        self._finish(leg, 200, "OK", body=sdp)

    def _bye_caller(self, leg: CallerLeg) -> None:
        invite = leg.invite
        contacts = header_values(invite.headers, "Contact")
        target = parse_name_addr(contacts[0]).uri if contacts else invite.uri
        ours = f"{invite.headers['To']};tag={leg.to_tag}"
        leg.local_cseq += 1
        for timer in leg.reinvite_timers:
            timer.cancel()
        self.endpoint.send(self._request("BYE", target, ours, str(invite.headers["From"]),
                                         str(invite.headers["Call-ID"]), leg.local_cseq, routes=leg.routes),
                           _next_hop(leg.routes, reply_address(invite)))

    def _dialog_headers(self, leg: CallerLeg) -> list[tuple[str, str]]:
        """What a response that creates the dialog carries: our Contact, the Record-Route copied."""
        return [("Contact", self._contact()), *(("Record-Route", route) for route in leg.routes)]

    def _contact(self) -> str:
        return f"<sip:ringtui@{self.local[0]}:{self.local[1]}>"

    # ------------------------------------------------------------ the agents

    def _ring(self, action: act.RingAgent) -> None:
        loop = asyncio.get_running_loop()
        contacts = self.registrar.bindings.get(action.agent, {})
        leg_of_caller = self.callers.get(action.call_id)
        if not contacts or leg_of_caller is None:
            outcome = UNREACHABLE if not contacts else Outcome.SIP_PHONE_ERROR
            loop.call_soon(self._ring_over, action.call_id, action.agent, outcome, "no registered SIP phone")
            return
        for binding in sorted(contacts.values(), key=lambda b: b.expires_at, reverse=True):
            self._fork(action, binding, leg_of_caller)
        self._ringing(leg_of_caller)

    def _ringing(self, leg: CallerLeg) -> None:
        """180 to the caller: an agent's phone rings, or the call waits in a queue (no hold music
        here: the caller's own phone plays ringback)."""
        if not leg.final and not leg.answered:
            self.endpoint.respond(leg.invite, reply(leg.invite, 180, "Ringing", to_tag=leg.to_tag,
                                                    extra=self._dialog_headers(leg)))

    def _fork(self, action: act.RingAgent, binding: Binding, leg_of_caller: CallerLeg) -> None:
        """One INVITE per registered contact of the agent (a desk phone and a softphone ring together)."""
        host, _, port = binding.received.rpartition(":")
        caller = _caller(leg_of_caller.invite)
        leg = AgentLeg(call_id=action.call_id, email=action.agent, dialog_id=secrets.token_hex(12),
                       branch=_branch(), uri=binding.contact_uri, destination=(host, int(port)),
                       from_header=f"<sip:{caller}@{self.local[0]}>;tag={secrets.token_hex(6)}",
                       to_header=f"<{binding.contact_uri}>", invite=b"", sdp=leg_of_caller.offer)
        leg.invite = self._request("INVITE", leg.uri, leg.from_header, leg.to_header, leg.dialog_id, 1,
                                   branch=leg.branch, body=leg_of_caller.offer, contact=True)
        self.agent_legs[leg.dialog_id] = leg
        self.rings.setdefault((action.call_id, action.agent), []).append(leg)
        self.endpoint.send(leg.invite, leg.destination)
        invite_client_timers(leg.timers, lambda: self.endpoint.send(leg.invite, leg.destination),
                             lambda: leg.state == "calling", lambda: self._invite_timed_out(leg), TIMER_B_S)

    def _invite_timed_out(self, leg: AgentLeg) -> None:
        if leg.state != "calling":
            return
        self._end_leg(leg)
        self._fork_over(leg, None, "no response to the INVITE within Timer B")

    def _ring_over(self, call_id: str, email: str, outcome: Outcome, reason: str) -> None:
        """Tell the core how the ring of an agent's phones failed (RING_OUTCOMES)."""
        center = self.runtime.center
        if outcome is Outcome.REJECTED:
            self._apply(lambda: center.agent_rejected(call_id, email))
        elif outcome is Outcome.NOTCONNECTED:
            self._apply(lambda: center.agent_unreachable(call_id, email, reason))
        else:
            self._apply(lambda: center.agent_ring_failed(call_id, email, reason))

    def response(self, response: Response) -> None:
        caller = self.callers.get(self.caller_dialogs.get(str(response.headers["Call-ID"]), ""))
        if caller is not None and response.method == "INVITE":
            self._reinvite_answered(caller, response)
            return
        leg = self.agent_legs.get(str(response.headers["Call-ID"]))
        top = parse_via(header_values(response.headers, "Via")[0])
        if leg is None or top.params.get("branch") != leg.branch or response.method != "INVITE":
            if leg is not None and response.method == "INVITE" and 200 <= response.status_code < 300:
                self._ack(leg, response)  # a 2xx retransmitted after our ACK was lost
            return
        status = response.status_code
        if status < 200:
            if leg.state == "calling":
                leg.state = "proceeding"
                if leg.cancelled:
                    self._cancel(leg)
            return
        if status < 300:
            self._answered(leg, response)
        else:
            self._failed(leg, response)

    def _answered(self, leg: AgentLeg, response: Response) -> None:
        if leg.state == "answered":
            if leg.held_ack is None:
                self._ack(leg, response)
            return
        leg.stop_timers()
        leg.state = "answered"
        leg.to_header, leg.remote_target, leg.routes = dialog_of_2xx(response, leg.uri)
        leg.answer = _text(response)
        caller = self.callers.get(leg.call_id)
        # a late offer (the caller's INVITE had no SDP): the phone's 200 carries the offer, the caller's
        # ACK brings the answer, and our ACK to the phone waits for it (RFC 3261 13.2.1)
        if caller is not None and not caller.offer.strip() and leg.answer.strip() and not leg.cancelled:
            leg.held_ack = response
        else:
            self._ack(leg, response)
        if leg.cancelled:  # answered after the ring ended: it ends at once, the core may count TOOLATE
            self._bye_agent(leg)
        for fork in self.rings.get((leg.call_id, leg.email), []):
            if fork is not leg:
                self._stop_leg(fork)  # the agent's other phones stop ringing
        self._apply(lambda: self.runtime.center.agent_answered(leg.call_id, leg.email))

    def _failed(self, leg: AgentLeg, response: Response) -> None:
        status = response.status_code
        if leg.state == "ended":
            self._ack(leg, response)
            return
        self._ack(leg, response)
        self._end_leg(leg)
        self._fork_over(leg, status, f"{status} {response.status_message}")

    def _fork_over(self, leg: AgentLeg, status: int | None, reason: str) -> None:
        """A fork failed (`status` None: no response); when it was the agent's last one, the core hears
        the strongest outcome of them all (STRENGTH)."""
        if leg.cancelled:  # the ring was over already: its outcome is the core's
            return
        key = (leg.call_id, leg.email)
        outcome, known = ring_outcome(status), self.failures.get(key)
        if known is None or STRENGTH.index(outcome) > STRENGTH.index(known):
            self.failures[key] = outcome
        if key not in self.rings:
            self._ring_over(leg.call_id, leg.email, self.failures.pop(key), reason)

    def _end_leg(self, leg: AgentLeg) -> None:
        leg.state = "ended"
        leg.stop_timers()
        self._unfork(leg)
        # kept a little while to absorb retransmitted final responses
        asyncio.get_running_loop().call_later(TIMER_B_S, self.agent_legs.pop, leg.dialog_id, None)

    def _ack(self, leg: AgentLeg, response: Response, body: str = "") -> None:
        """ACK a final response: a 2xx gets a new transaction to the Contact, a failure its own branch."""
        to = str(response.headers["To"])
        if 200 <= response.status_code < 300:
            data = self._request("ACK", leg.remote_target or leg.uri, leg.from_header, to, leg.dialog_id, 1,
                                 routes=leg.routes, body=body)
            self.endpoint.send(data, _next_hop(leg.routes, leg.destination))
        else:
            data = self._request("ACK", leg.uri, leg.from_header, to, leg.dialog_id, 1, branch=leg.branch)
            self.endpoint.send(data, leg.destination)

    def _release_ack(self, leg: AgentLeg, answer: str) -> None:
        """The held ACK of a late offer goes, with the caller's answer (none if it gave none)."""
        if leg.held_ack is not None:
            response, leg.held_ack = leg.held_ack, None
            self._ack(leg, response, body=answer)

    def _cancel(self, leg: AgentLeg) -> None:
        self.endpoint.send(self._request("CANCEL", leg.uri, leg.from_header, f"<{leg.uri}>", leg.dialog_id, 1,
                                         branch=leg.branch), leg.destination)

    def _bye_agent(self, leg: AgentLeg) -> None:
        self._release_ack(leg, "")  # a dialog is confirmed before it ends
        leg.local_cseq += 1
        self.endpoint.send(self._request("BYE", leg.remote_target or leg.uri, leg.from_header, leg.to_header,
                                         leg.dialog_id, leg.local_cseq, routes=leg.routes),
                           _next_hop(leg.routes, leg.destination))
        self._unfork(leg)
        self.agent_legs.pop(leg.dialog_id, None)
        leg.state = "ended"
        leg.stop_timers()

    def _unfork(self, leg: AgentLeg) -> None:
        key = (leg.call_id, leg.email)
        forks = [fork for fork in self.rings.get(key, []) if fork is not leg]
        if forks:
            self.rings[key] = forks
        else:
            self.rings.pop(key, None)

    def _stop_ringing(self, call_id: str, email: str) -> None:
        self.failures.pop((call_id, email), None)
        for leg in list(self.rings.get((call_id, email), [])):
            self._stop_leg(leg)

    def _stop_leg(self, leg: AgentLeg) -> None:
        if leg.cancelled:
            return
        leg.cancelled = True
        if leg.state == "proceeding":
            self._cancel(leg)
        elif leg.state == "answered":
            self._bye_agent(leg)
        # "calling": the CANCEL waits for a provisional response (RFC 3261 9.1)

    def _connect(self, action: act.ConnectAgent) -> None:
        leg = self.callers.get(action.call_id)
        forks = self.rings.pop((action.call_id, action.agent), [])
        self.failures.pop((action.call_id, action.agent), None)
        answered = next((fork for fork in forks if fork.state == "answered"), None)
        if leg is None or answered is None:
            return
        # the phone's own answer: caller and agent send each other their media (no relay here)
        leg.agent = answered
        self._end_refer(action.call_id, 200, "OK")
        if leg.answered and answered.answer.strip():  # a transfer's target: the caller talks to it now
            self._reinvite_caller(leg, new_session(leg.sdp, answered.answer))
        else:
            self._answer(leg, answered.answer or _answer(leg.offer, self.local[0]))

    def _tear_down(self, call_id: str) -> None:
        """The call is over: every agent leg of it ends (BYE when answered, CANCEL while ringing), and
        the leg to an external number it was transferred to."""
        self._end_refer(call_id, 487, "Request Terminated")
        dialled = self.external.pop(call_id, None)
        if dialled is not None and self.originate is not None:
            self.originate.hang_up(dialled)
        legs = [leg for leg in self.agent_legs.values() if leg.call_id == call_id and leg.state != "ended"]
        for leg in legs:
            if leg.state == "answered":
                self._bye_agent(leg)
            else:
                self._stop_leg(leg)

    def close(self) -> None:
        """The engine stops: every caller still setting up gets 503, every call in progress and every
        ringing agent is ended (BYE or CANCEL), so that no phone is left ringing or talking to nobody."""
        for leg in list(self.callers.values()):
            if not leg.final:
                response = reply(leg.invite, 503, "Service Unavailable", to_tag=leg.to_tag,
                                 extra=[("Retry-After", "30")])
                self.endpoint.respond(leg.invite, response)
            elif leg.answered:
                self._bye_caller(leg)
            self._tear_down(leg.call_id)
            self._forget(leg)

    # ------------------------------------------------------------ transfers (REFER, RFC 3515 and 5589)

    async def refer(self, request: SipRequest) -> bytes:
        """An agent's phone transfers its call: 202 and the transfer, or a refusal that changes nothing."""
        leg = self.agent_legs.get(str(request.headers["Call-ID"]))
        ours = _tag(leg.from_header) if leg is not None else ""
        if leg is None or leg.state != "answered" or _tag(str(request.headers["To"])) != ours:
            return reply(request, 481, "Call/Transaction Does Not Exist")
        if request.cseq <= leg.remote_cseq:
            return reply(request, 500, "Out of order CSeq")
        leg.remote_cseq = request.cseq
        refer_to = header_values(request.headers, "Refer-To")
        try:
            if len(refer_to) != 1:
                raise MalformedMessage(f"a REFER names one Refer-To, this one {len(refer_to)}")
            uri = parse_name_addr(refer_to[0])
        except MalformedMessage as error:
            return _refused(request, 400, "Bad Request", error.reason)
        if "replaces" in uri.uri.lower():
            return _refused(request, 501, "Not Implemented", "attended transfer (Replaces) is not supported")
        user = uri.user.split(";", 1)[0]
        target = await self._transfer_target(user)
        if target is None:
            return _refused(request, 404, "Not Found", f"{user!r} is neither an agent's SIP username nor "
                                                       "a number")
        cannot = self.carries_transfer(leg.call_id, target)
        if cannot is not None:
            return _refused(request, 403, "Forbidden", cannot)
        try:
            reaction = self.runtime.center.transfer(leg.call_id, leg.email, target)
        except UnknownAgent as error:
            return _refused(request, 404, "Not Found", str(error))
        except CoreError as error:
            return _refused(request, 403, "Forbidden", str(error))
        self.refers[leg.call_id] = Refer(leg=leg, target=target, event_id=request.cseq)
        asyncio.get_running_loop().call_soon(self._transfer_accepted, leg.call_id, reaction)
        return reply(request, 202, "Accepted", extra=[("Contact", self._contact())])

    def carries_transfer(self, call_id: str, target: str) -> str | None:
        """Why a transfer of this inbound call to `target` cannot be carried over SIP, or None.

        An external number is called through the trunk with the caller's session offer: without a
        trunk (or an offer, a late-offer caller) it is refused up front, so nobody is released and
        the caller is never left with nobody."""
        leg = self.callers.get(call_id)
        if leg is None or "@" in target or not E164.fullmatch(target):
            return None
        if self.originate is None or self.trunk_target(target) is None:
            return EXTERNAL_TRANSFER
        if not leg.offer.strip():
            return LATE_OFFER_TRANSFER
        return None

    async def _transfer_target(self, user: str) -> str | None:
        """The core's target for a Refer-To user: the e-mail of the agent with that SIP username, an
        E.164 number (a national one in the account's country), or None."""
        from ringtui.engine.sip.bindings import sip_account

        account = await asyncio.to_thread(sip_account, self.runtime.database, user) if user else None
        if account is not None:
            return account.email
        country = self.runtime.config.country if self.runtime.config is not None else ""
        number = in_e164(user, country)
        return number if number.startswith("+") and number[1:].isdigit() else None

    def _transfer_accepted(self, call_id: str, reaction: Reaction) -> None:
        """After the 202: the first NOTIFY, then what the core decided (the target rings ...)."""
        refer = self.refers.get(call_id)
        if refer is not None:
            self._notify(refer, 100, "Trying", final=False)
        self.runtime.apply(reaction)

    def _notify(self, refer: Refer, status: int, reason: str, *, final: bool) -> None:
        leg = refer.leg
        if leg.state != "answered":  # the phone ended its leg already: nobody to tell
            return
        leg.local_cseq += 1
        state = "terminated;reason=noresource" if final else "active;expires=60"
        branch = _branch()
        data = self._request("NOTIFY", leg.remote_target or leg.uri, leg.from_header, leg.to_header,
                             leg.dialog_id, leg.local_cseq, branch=branch, routes=leg.routes, contact=True,
                             body=f"SIP/2.0 {status} {reason}\r\n",
                             content_type="message/sipfrag;version=2.0",
                             extra=(f"Event: refer;id={refer.event_id}", f"Subscription-State: {state}"))
        self.endpoint.send_until_answered(data, _next_hop(leg.routes, leg.destination), branch)

    def _end_refer(self, call_id: str, status: int, reason: str) -> None:
        """The transfer is over for the engine: the final NOTIFY, then BYE to the transferrer's leg."""
        refer = self.refers.pop(call_id, None)
        if refer is None:
            return
        self._notify(refer, status, reason, final=True)
        if refer.leg.state == "answered":
            self._bye_agent(refer.leg)

    def _release_agent(self, action: act.ReleaseAgent) -> None:
        """The core released an agent from the call (a transfer): their phone's leg ends, at once when
        the transfer came from elsewhere (the feed), after the final NOTIFY when it came by REFER."""
        refer = self.refers.get(action.call_id)
        for leg in [leg for leg in self.agent_legs.values() if leg.call_id == action.call_id
                    and leg.email == action.agent and leg.state == "answered"]:
            if refer is None or refer.leg is not leg:
                self._bye_agent(leg)

    def _dial_external(self, leg: CallerLeg, action: act.TransferOut) -> None:
        """Call the number a call is transferred to through the trunk, with the caller's session."""
        target = self.trunk_target(action.number)
        if self.originate is None or target is None or not leg.offer.strip():
            asyncio.get_running_loop().call_soon(self._external_failed, leg.call_id, 503)
            return
        country = self.runtime.config.country if self.runtime.config is not None else ""
        dialled = self.originate.place(target, caller=in_e164(_caller(leg.invite), country), offer=leg.offer,
                                       ring_s=action.ring_s)
        self.external[leg.call_id] = dialled
        dialled.final.add_done_callback(lambda _: self._external_final(leg, dialled))
        dialled.ended.add_done_callback(lambda _: self._external_ended(leg, dialled))

    def _external_final(self, leg: CallerLeg, dialled: Leg) -> None:
        if self.external.get(leg.call_id) is not dialled:  # the call ended while it rang
            return
        status = dialled.final.result()
        if not 200 <= status < 300:
            del self.external[leg.call_id]
            self._external_failed(leg.call_id, status)
            return
        self._end_refer(leg.call_id, 200, "OK")
        self._reinvite_caller(leg, new_session(leg.sdp, dialled.remote_sdp))
        self._apply(lambda: self.runtime.center.external_answered(leg.call_id))

    def _external_failed(self, call_id: str, status: int) -> None:
        reason = EXTERNAL_FAILURES.get(status, "Failed")
        log.info("external transfer of %s failed: %d %s", call_id, status, reason)
        self._end_refer(call_id, status, reason)
        self._apply(lambda: self.runtime.center.external_failed(call_id, f"{status} {reason}"))

    def _external_ended(self, leg: CallerLeg, dialled: Leg) -> None:
        """The external party hung up after answering: the caller's leg ends too."""
        if self.external.get(leg.call_id) is not dialled or dialled.ended.result() != "remote":
            return
        del self.external[leg.call_id]
        if leg.answered and leg.acked:
            self._bye_caller(leg)
        self._forget(leg)
        self._apply(lambda: self.runtime.center.caller_hung_up(leg.call_id))
        self._tear_down(leg.call_id)

    def _reinvite_caller(self, leg: CallerLeg, sdp: str) -> None:
        """Offer the caller the new agent's session (a re-INVITE in the caller's dialog)."""
        invite = leg.invite
        contacts = header_values(invite.headers, "Contact")
        target = parse_name_addr(contacts[0]).uri if contacts else invite.uri
        leg.local_cseq += 1
        leg.sdp = sdp
        leg.reinvite = self._request(
            "INVITE", target, f"{invite.headers['To']};tag={leg.to_tag}", str(invite.headers["From"]),
            str(invite.headers["Call-ID"]), leg.local_cseq, routes=leg.routes, body=sdp, contact=True)
        destination = _next_hop(leg.routes, reply_address(invite))
        self.endpoint.send(leg.reinvite, destination)
        for timer in leg.reinvite_timers:
            timer.cancel()
        leg.reinvite_timers.clear()
        invite_client_timers(leg.reinvite_timers, lambda: self.endpoint.send(leg.reinvite, destination),
                             lambda: bool(leg.reinvite), lambda: self._reinvite_timed_out(leg), TIMER_B_S)

    def _reinvite_timed_out(self, leg: CallerLeg) -> None:
        """No answer to our re-INVITE within Timer B: it is given up (the call goes on as it was)."""
        if leg.reinvite:
            leg.reinvite = b""
            log.info("the caller of %s did not answer the transferred session", leg.call_id)

    def _reinvite_answered(self, leg: CallerLeg, response: Response) -> None:
        """The caller's final answer to our re-INVITE: ACKed (a 2xx to its Contact, RFC 3261 13.2.2.4)."""
        if response.status_code < 200 or response.cseq != leg.local_cseq:  # a 2xx again is ACKed again
            return
        leg.reinvite = b""
        for timer in leg.reinvite_timers:
            timer.cancel()
        leg.reinvite_timers.clear()
        invite = leg.invite
        contacts = header_values(response.headers, "Contact") or header_values(invite.headers, "Contact")
        target = parse_name_addr(contacts[0]).uri if contacts else invite.uri
        ours = f"{invite.headers['To']};tag={leg.to_tag}"
        ack = self._request("ACK", target, ours, str(response.headers["To"]), str(invite.headers["Call-ID"]),
                            response.cseq, routes=leg.routes)
        self.endpoint.send(ack, _next_hop(leg.routes, reply_address(invite)))
        if response.status_code >= 300:
            log.info("the caller of %s refused the transferred session: %d", leg.call_id,
                     response.status_code)

    # ------------------------------------------------------------ engine status

    def describe(self, snapshot: dict[str, Any]) -> None:
        """Add the SIP side to the engine's snapshot (`engine status`, the feed): each registered agent's
        phones; each SIP call's caller address, SIP Call-ID and the legs to the agents' phones."""
        for agent in snapshot.get("agents", []):
            contacts = self.registrar.bindings.get(agent["email"])
            if contacts:
                agent["sip_phones"] = [
                    {"contact": b.contact_uri, "address": b.received, "user_agent": b.user_agent,
                     "expires_at": b.expires_at.isoformat().replace("+00:00", "Z")}
                    for b in sorted(contacts.values(), key=lambda b: b.expires_at, reverse=True)]
        legs: dict[str, list[dict[str, str]]] = {}
        for leg in self.agent_legs.values():
            if leg.state != "ended":
                legs.setdefault(leg.call_id, []).append(
                    {"agent": leg.email, "contact": leg.uri, "address": "{}:{}".format(*leg.destination),
                     "state": "ringing" if leg.state in {"calling", "proceeding"} else leg.state})
        for call in snapshot.get("calls", []):
            caller = self.callers.get(call["call_id"])
            if caller is not None:
                call.update(channel="sip", sip_call_id=str(caller.invite.headers["Call-ID"]),
                            sip_peer="{}:{}".format(*caller.invite.source),
                            sip_legs=legs.get(caller.call_id, []))
                dialled = self.external.get(caller.call_id)
                if dialled is not None:  # the number it is transferred to, through the trunk
                    ringing = dialled.state in {"calling", "proceeding"}
                    call["sip_external"] = {"uri": dialled.target.uri,
                                            "state": "ringing" if ringing else dialled.state}

    # ------------------------------------------------------------ the core's actions

    def act(self, action: act.Action) -> None:
        refer = self.refers.get(action.call_id)
        if refer is not None and _ends_transfer(action, refer):
            self._end_refer(action.call_id, 480, "Temporarily Unavailable")
        if isinstance(action, act.ReleaseAgent):
            self._release_agent(action)
        elif isinstance(action, act.RingAgent):
            self._ring(action)
        elif isinstance(action, act.CancelRing):
            self._stop_ringing(action.call_id, action.agent)
        elif isinstance(action, act.ConnectAgent):
            self._connect(action)
        elif isinstance(action, act.HangUp):
            self._hang_up_caller(action)
        elif isinstance(action, act.StartVoicemail):
            self._voicemail(action.call_id)
        elif isinstance(action, act.Play) and action.call_id in self.callers:
            self.callers[action.call_id].played = True
        elif isinstance(action, act.HoldMusic) and action.call_id in self.callers:
            self._ringing(self.callers[action.call_id])
        elif isinstance(action, act.TransferOut) and action.call_id in self.callers:
            self._dial_external(self.callers[action.call_id], action)
        elif isinstance(action, act.ForwardTo) and action.call_id in self.callers:
            self._redirect(self.callers[action.call_id], action.number)
        # CollectDigits, Record ...: no media yet (signalling only)

    def _redirect(self, leg: CallerLeg, number: str) -> None:
        """A forward step: 302 to the number at the caller's last hop (its carrier or proxy routes it on;
        no media goes through here), and the call is over for the engine once handed on."""
        if leg.final:
            return
        hop = "{}:{}".format(*leg.invite.source)
        self._finish(leg, 302, "Moved Temporarily", extra=(("Contact", f"<sip:{number}@{hop}>"),))
        self._tear_down(leg.call_id)
        asyncio.get_running_loop().call_soon(
            self._apply, lambda: self.runtime.center.caller_hung_up(leg.call_id))

    def _voicemail(self, call_id: str) -> None:
        """The voicemail picks up: the caller's INVITE is answered (it records nothing: no media), the
        call goes on until the caller hangs up or the longest message is reached."""
        leg = self.callers.get(call_id)
        if leg is not None:
            self._answer(leg, _answer(leg.offer, self.local[0]) or _silence(self.local[0]))

    def _apply(self, change: Callable[[], Reaction]) -> bool:
        try:
            self.runtime.apply(change())
        except CoreError as error:
            log.info("SIP event not taken by the engine: %s", error)
            return False
        return True

    # ------------------------------------------------------------ messages we send

    def _request(self, method: str, uri: str, from_header: str, to_header: str, dialog_id: str, cseq: int,
                 *, branch: str = "", body: str = "", contact: bool = False,
                 routes: list[str] | None = None, content_type: str = "application/sdp",
                 extra: tuple[str, ...] = ()) -> bytes:
        host, port = self.local
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP {host}:{port};branch={branch or _branch()};rport",
                 "Max-Forwards: 70", f"From: {from_header}", f"To: {to_header}", f"Call-ID: {dialog_id}",
                 f"CSeq: {cseq} {method}", f"User-Agent: {SERVER}",
                 *(f"Route: {route}" for route in routes or ())]
        if contact:
            lines.append(f"Contact: <sip:ringtui@{host}:{port}>")
        lines.extend(extra)
        if body:
            lines.append(f"Content-Type: {content_type}")
        data = body.encode()
        lines.append(f"Content-Length: {len(data)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def _ends_transfer(action: act.Action, refer: Refer) -> bool:
    """Whether a core action means the transfer fell back: someone else than the target rung (the
    transferrer's recall, the scenario going on), voicemail, the call ending."""
    if isinstance(action, act.RingAgent):
        return action.agent != refer.target
    return isinstance(action, act.StartVoicemail | act.HangUp | act.ForwardTo)


def _refused(request: SipRequest, status: int, reason: str, why: str) -> bytes:
    return reply(request, status, reason, extra=[("Warning", f'399 ringtui "{why[:120]}"')])


def reinvite_ok(request: SipRequest, sdp: str, contact: str) -> bytes:
    extra = [("Contact", contact)] + ([("Content-Type", "application/sdp")] if sdp else [])
    return reply(request, 200, "OK", extra=extra, body=sdp)


def in_e164(number: str, country: str) -> str:
    """A number in national form (or 00...) as E.164 when it is a valid number of `country`; anything
    else (E.164 already, an extension, a name, "anonymous") as it came."""
    if number.startswith("+") or not country or not number or not all(
            char.isdigit() or char in VISUAL_SEPARATORS for char in number):
        return number
    try:
        return to_e164(number, country)
    except Invalid:
        return number


def _tag(header: str) -> str:
    """The tag parameter of a From or To value ("" when it has none)."""
    try:
        return str(parse_name_addr(header).params.get("tag") or "")
    except MalformedMessage:
        return ""


def ring_outcome(status: int | None) -> Outcome:
    """The S5 outcome of a ring whose phone answered `status` (None: no response within Timer B)."""
    if status is None:
        return UNREACHABLE
    return RING_OUTCOMES.get(status, Outcome.SIP_PHONE_ERROR)


def _next_hop(routes: list[str], default: tuple[str, int]) -> tuple[str, int]:
    """Where a request inside a dialog goes: its first Route (a loose router), else `default`."""
    if not routes:
        return default
    uri = parse_name_addr(routes[0])
    rest = uri.uri.split(":", 1)[1].split(";", 1)[0].rsplit("@", 1)[-1]
    port = rest.rsplit(":", 1)[1] if ":" in rest and not rest.endswith("]") else ""
    return uri.host.strip("[]"), int(port) if port.isdigit() else 5060


def _branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)


def _text(request: SipRequest) -> str:
    raw = getattr(request, "_raw_payload", b"") or b""
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)


def _user(uri: str) -> str:
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    return rest.split("@", 1)[0].split(";", 1)[0] if "@" in rest else ""


def _dialled(request: SipRequest) -> str:
    """The number called: the Request-URI's user when it is E.164, else the To user."""
    for candidate in (_user(request.uri), parse_name_addr(request.headers["To"]).user.split(";", 1)[0]):
        if candidate.startswith("+"):
            return candidate
    to_user = parse_name_addr(request.headers["To"]).user or _user(request.uri)
    if not to_user:
        raise MalformedMessage(f"no number in the Request-URI {request.uri!r} or the To header")
    return to_user


def _caller(request: SipRequest) -> str:
    user = parse_name_addr(request.headers["From"]).user.split(";", 1)[0]
    return "anonymous" if user.lower() in {"", "anonymous"} else user


def _silence(host: str) -> str:
    """Our own offer when the caller made none (a late offer) and nobody else will: audio, inactive."""
    return (f"v=0\r\no=ringtui 1 1 IN IP4 {host}\r\ns=ringtui\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
            "m=audio 9 RTP/AVP 0\r\na=inactive\r\n")


def _answer(offer: str, host: str) -> str:
    """An SDP answer on the offer's own connection and media lines (no media relay yet)."""
    if not offer.strip():
        return ""
    kept = [line for line in offer.splitlines() if line[:2] in {"c=", "m=", "a="}]
    connection = next((line for line in kept if line.startswith("c=")), f"c=IN IP4 {host}")
    lines = ["v=0", f"o=ringtui 1 1 IN IP4 {host}", "s=ringtui", connection, "t=0 0",
             *(line for line in kept if not line.startswith("c="))]
    return "\r\n".join(lines) + "\r\n"
