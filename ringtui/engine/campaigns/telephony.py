"""How campaign calls are carried: over SIP (the engine's gateway), or simulated (`ringtui demo`).

The power dialer and the voice runner decide who is called and what a result
means; a telephony places the calls and says how they went (`Outcome`).
Power-dialer call over SIP (RFC 3725 flow I): the first party (the agent, or
the customer with dial order customer-first) is offered an inactive stream of
the engine; once answered, the second party is offered the first one's SDP;
its answer is offered to the first party by a re-INVITE, and their media flow
straight to each other. Voice message: the customer is offered the engine's
PCMU stream and hears the message (rtp.py) on answer, then the engine hangs up.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from ringtui.engine.sip.originate import Leg, Originator, Target, result_of
from ringtui.engine.sip.rtp import PACKET_S, RtpSocket, media_of, offer
from ringtui.models.types import utcnow
from ringtui.vocab import RecipientStatus

if TYPE_CHECKING:
    from ringtui.engine.sip.gateway import SipGateway

AGENT, CUSTOMER = "agent", "customer"
REOFFER_S = 8.0


@dataclass(frozen=True)
class PowerCall:
    agent: str  # e-mail
    number: str  # E.164
    caller_id: str  # what the customer sees: the agent's outgoing number
    customer_first: bool
    agent_ring_s: float
    customer_ring_s: float


@dataclass
class Outcome:
    """How a call went. `result` None: the agent was not reached; the number was not really tried."""

    result: RecipientStatus | None
    detail: str = ""
    answered_at: datetime | None = None
    ended_by: str = CUSTOMER  # agent | customer | system


class Telephony(Protocol):
    async def power_call(self, call: PowerCall, report: Callable[[str], None]) -> Outcome: ...

    async def voice_call(self, number: str, caller_id: str, message: bytes, ring_s: float) -> Outcome: ...


async def _first(*futures: asyncio.Future) -> None:
    await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)


class SipTelephony:
    def __init__(self, gateway: SipGateway) -> None:
        self.gateway = gateway
        self.originate: Originator = gateway.originate

    # ------------------------------------------------------------ where calls go

    def agent_target(self, email: str) -> Target | None:
        bindings = self.gateway.registrar.bindings.get(email, {})
        if not bindings:
            return None
        binding = max(bindings.values(), key=lambda b: b.expires_at)
        host, _, port = binding.received.rpartition(":")
        return Target(binding.contact_uri, (host, int(port)), f"<{binding.contact_uri}>")

    def trunk_target(self, number: str) -> Target | None:
        return self.gateway.trunk_target(number)

    # ------------------------------------------------------------ power dialer

    async def power_call(self, call: PowerCall, report: Callable[[str], None]) -> Outcome:
        agent, customer = self.agent_target(call.agent), self.trunk_target(call.number)
        if agent is None:
            return Outcome(None, f"{call.agent} has no registered phone")
        if customer is None:
            return Outcome(RecipientStatus.FAILED, "no SIP trunk is configured ([sip.trunk] address)",
                           ended_by="system")
        parties = [(AGENT, agent, call.number, call.agent_ring_s),
                   (CUSTOMER, customer, call.caller_id, call.customer_ring_s)]
        if call.customer_first:
            parties.reverse()
        (first_party, *first_call), (second_party, *second_call) = parties
        host = self.originate.local[0]
        report(f"dialing_{first_party}")
        first = self._place(*first_call, offer(host, 9, "inactive"))
        if await first.final != 200:
            return self._failed(first_party, first)
        report(f"dialing_{second_party}")
        second = self._place(*second_call, first.remote_sdp)
        await _first(second.final, first.ended)
        if first.ended.done():
            self.originate.hang_up(second)
            await second.final
            result = RecipientStatus.NO_ANSWER if first_party == AGENT else RecipientStatus.FAILED
            return Outcome(result, f"the {first_party} hung up before the {second_party} answered",
                           ended_by=first_party)
        if second.final.result() != 200:
            self.originate.hang_up(first)
            return self._failed(second_party, second)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.originate.reoffer(first, second.remote_sdp), REOFFER_S)
        answered = utcnow()
        report("connected")
        await _first(first.ended, second.ended)
        gone, other = (first, second) if first.ended.done() else (second, first)
        self.originate.hang_up(other)
        by = first_party if gone is first else second_party
        return Outcome(RecipientStatus.ANSWERED, f"{by} hung up", answered_at=answered, ended_by=by)

    def _place(self, target: Target, caller: str, ring_s: float, sdp: str) -> Leg:
        return self.originate.place(target, caller=caller, offer=sdp, ring_s=ring_s)

    @staticmethod
    def _failed(party: str, leg: Leg) -> Outcome:
        status = leg.final.result()
        if party == AGENT:
            return Outcome(None, f"the agent's phone did not answer (SIP {status})", ended_by="agent")
        return Outcome(result_of(status, timed_out=leg.timed_out), f"SIP {status}"
                       + (" (rang the full ring time)" if leg.timed_out else ""))

    # ------------------------------------------------------------ voice messages

    async def voice_call(self, number: str, caller_id: str, message: bytes, ring_s: float) -> Outcome:
        target = self.trunk_target(number)
        if target is None:
            return Outcome(RecipientStatus.FAILED, "no SIP trunk is configured ([sip.trunk] address)",
                           ended_by="system")
        rtp = await RtpSocket.open(self.originate.local[0])
        try:
            sdp = offer(self.originate.local[0], rtp.port, "sendonly")
            leg = self.originate.place(target, caller=caller_id, offer=sdp, ring_s=ring_s)
            status = await leg.final
            if status != 200:
                return Outcome(result_of(status, timed_out=leg.timed_out), f"SIP {status}")
            answered = utcnow()
            media = media_of(leg.remote_sdp)
            if media is None:
                self.originate.hang_up(leg)
                return Outcome(RecipientStatus.FAILED, "the answer has no audio address to play to",
                               answered_at=answered, ended_by="system")
            playing = asyncio.ensure_future(rtp.play(message, media))
            await _first(playing, leg.ended)
            if leg.ended.done():
                playing.cancel()
                return Outcome(RecipientStatus.ANSWERED, "hung up during the message", answered_at=answered)
            sent = playing.result()
            self.originate.hang_up(leg)
            return Outcome(RecipientStatus.ANSWERED, f"message played ({sent * PACKET_S:.1f} s)",
                           answered_at=answered, ended_by="system")
        finally:
            rtp.close()


class SimulatedTelephony:
    """`ringtui demo`: people who answer, are busy or never pick up, in seconds of real time."""

    def __init__(self, rng: random.Random, *, pace: float = 1.0) -> None:
        self.rng = rng
        self.pace = pace  # seconds of real time per simulated second (tests go faster)

    async def _wait(self, low: float, high: float) -> None:
        await asyncio.sleep(self.rng.uniform(low, high) * self.pace)

    async def power_call(self, call: PowerCall, report: Callable[[str], None]) -> Outcome:
        first, second = (CUSTOMER, AGENT) if call.customer_first else (AGENT, CUSTOMER)
        report(f"dialing_{first}")
        await self._wait(1, 3)
        report(f"dialing_{second}")
        result = self._customer()
        await self._wait(2, 6)
        if result != RecipientStatus.ANSWERED:
            return Outcome(result, f"simulated: {result.value}")
        answered = utcnow()
        report("connected")
        await self._wait(8, 30)
        by = self.rng.choice((AGENT, CUSTOMER))
        return Outcome(result, f"simulated: {by} hung up", answered_at=answered, ended_by=by)

    async def voice_call(self, number: str, caller_id: str, message: bytes, ring_s: float) -> Outcome:
        result = self._customer()
        await self._wait(2, 6)
        if result != RecipientStatus.ANSWERED:
            return Outcome(result, f"simulated: {result.value}")
        answered = utcnow()
        await asyncio.sleep(len(message) / 8000 * self.pace)
        return Outcome(result, "simulated: message played", answered_at=answered, ended_by="system")

    def _customer(self) -> RecipientStatus:
        return self.rng.choices((RecipientStatus.ANSWERED, RecipientStatus.NO_ANSWER, RecipientStatus.BUSY,
                                 RecipientStatus.INVALID), (0.6, 0.25, 0.1, 0.05))[0]
