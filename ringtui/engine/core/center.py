"""The call center: agents, IVR scenarios, calls and the waiting list, driven by inputs and a clock.

Every input (a call arrives, a digit, an agent answers, `advance()` ...) reads the time
from the injected clock, first fires the timers already due, then applies the input,
and returns a Reaction: the actions adapters must carry out and the typed events
they publish. Nothing here does I/O, sleeps or knows about asyncio.

Rules worth knowing (S5 outcomes, call types):
- every ring attempt on an agent ends with exactly one Outcome. A ring that ran its
  full ring_s stays open until the call ends: CALL_ANSWERED if an agent answered
  the call after all, NO_ANSWER otherwise. A missed call later returned by the same
  agent (callback) is also CALL_ANSWERED: that link is the recorder's to make.
- an agent answering a ring that is already over is TOOLATE; when the call itself is
  over, an AttemptOutcomeChanged event tells the recorder.
- agents who cannot be rung when a ring or queue step wants them get an instant
  attempt: NOTCONNECTED, SNOOZE, PLANNING or INCALL (after-call work counts as INCALL).
  A ring step's hunt records them as it reaches each agent in the strategy's order, up to
  HUNT_REFUSALS_KEPT a step (ring-all: every agent of the step).
- call type: answered (an agent or a forward answered), voicemail (the caller hung
  up after the voicemail step started), no-key (the caller left a menu without ever
  pressing a key), missed otherwise.
"""

from __future__ import annotations

import heapq
import random
import re
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from ringtui.engine.core import actions as act
from ringtui.engine.core.agents import Agent, AgentConfig
from ringtui.engine.core.calls import Call, Phase, RingAttempt, Transfer
from ringtui.engine.core.clock import Clock
from ringtui.engine.core.errors import (
    AgentUnavailable,
    DuplicateCall,
    TransferRefused,
    UnknownAgent,
    UnknownCall,
)
from ringtui.engine.core.events import (
    AgentStateChanged,
    AttemptOutcomeChanged,
    CallAnswered,
    CallEnded,
    CallRinging,
    CallStarted,
    CallSummary,
    CallTransferred,
    CallWaiting,
    Event,
    SupervisorWhispered,
    WaitingListChanged,
    json_ready,
)
from ringtui.engine.core.hours import is_within
from ringtui.engine.core.scenario import Scenario, Step
from ringtui.engine.core.strategies import IdleIndex, RoundRobinMemory, preference
from ringtui.engine.core.waiting import WaitingList
from ringtui.vocab import (
    AgentState,
    AnonymousPolicy,
    CallKind,
    CallType,
    Direction,
    EndedBy,
    Outcome,
    SkipCondition,
    StepType,
    Strategy,
    TransferKind,
)

ANONYMOUS = frozenset({"anonymous", ""})
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
VOICEMAIL_MAX_S = 120.0  # longest message; then the engine hangs up
SURVEY_WAIT_S = 10.0
EXTERNAL_RING_S = 30.0  # an external number a call is transferred to rings this long
# A hunt (one agent at a time) walks the whole group when every agent is busy: the refusals of the
# first ones it reaches are kept, not one per agent of a large group on every call, which under
# overload was most of what the engine wrote (500,000 INCALL rows for 2,500 calls at 150 agents)
HUNT_REFUSALS_KEPT = 10
ENDED_CALLS_KEPT = 10_000  # ended calls remembered to classify late answers as TOOLATE
# what a ring attempt that really rang may have come to before a late answer turns it into TOOLATE
RANG = frozenset({None, Outcome.NO_ANSWER, Outcome.CALL_ANSWERED, Outcome.TOOLATE})
DECLINED, CLOSED, NOT_FOUND, NORMAL, FORBIDDEN, BUSY = 603, 480, 404, 200, 403, 486

Blacklist = Callable[[str, Direction, str | None], bool]


@dataclass
class Reaction:
    """What one input produced: actions for the adapters, events for the world."""

    actions: list[act.Action] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    ignored: str | None = None  # why the input changed nothing, when it did not

    def of(self, kind: type) -> list[Any]:
        """The actions or events of one type, in order."""
        return [item for item in (*self.actions, *self.events) if isinstance(item, kind)]


class _Stay:
    """A step that waits for an input."""


STAY = _Stay()


class CallCenter:
    def __init__(self, clock: Clock, *, time_zone: str = "UTC", rng: random.Random | None = None,
                 auto_snooze_after: int = 0) -> None:
        self.clock = clock
        self.zone = ZoneInfo(time_zone)
        self.rng = rng or random.Random()
        self.auto_snooze_after = auto_snooze_after
        self.agents: dict[str, Agent] = {}
        self.scenarios: dict[str, Scenario] = {}
        self.scenario_by_number: dict[str, Scenario] = {}
        self.direct_lines: dict[str, str] = {}
        self.calls: dict[str, Call] = {}
        self.waiting = WaitingList()
        self._is_blocked: Blacklist = lambda number, direction, email: False
        self._ended: OrderedDict[str, Call] = OrderedDict()
        self._timers: list[tuple[datetime, int, str, str, Any]] = []
        self._seq = count()
        self._arrivals = count()
        self._memory = RoundRobinMemory()
        self._idle = IdleIndex()
        self._lines: dict[tuple[str, str], tuple[Step, tuple[str, ...], frozenset[str]]] = {}
        self._direct: dict[str, Scenario] = {}
        self._reaction = Reaction()
        self._touched: dict[str, None] = {}
        self._dispatch_due = False
        self._waiting_dirty = False
        self._now = clock.now()
        self._schedules_read_at: datetime | None = None

    # ------------------------------------------------------------------ configuration

    def load_agents(self, configs: Iterable[AgentConfig]) -> Reaction:
        """Replace the agents' configuration; live facts (connection, snooze, calls) are kept."""
        now = self._begin()
        fresh = {config.email: config for config in configs}
        for order, (email, config) in enumerate(fresh.items()):
            agent = self.agents.get(email)
            if agent is None:
                agent = self.agents[email] = Agent(config=config, order=order)
                if config.snooze_reason:
                    agent.snooze_reason, agent.snoozed_at = config.snooze_reason, now
            elif config.snooze_reason != agent.config.snooze_reason:
                # the stored snooze changed (`ringtui users snooze` while the engine runs)
                agent.snooze_reason = config.snooze_reason
                agent.snoozed_at = now if config.snooze_reason else None
                agent.unanswered_in_a_row = 0
            agent.config, agent.order, agent.retired = config, order, False
            self._touch(email)
        for email in [email for email in self.agents if email not in fresh]:
            self._retire(email)
        self._lines.clear()
        self._direct.clear()
        self._dispatch_due = True
        return self._end()

    def load_scenarios(self, scenarios: Iterable[Scenario]) -> Reaction:
        """Replace the IVRs; calls in progress finish on the scenario they started with."""
        self._begin()
        self.scenarios = {scenario.name: scenario for scenario in scenarios}
        self.scenario_by_number = {number: s for s in self.scenarios.values() for number in s.numbers}
        return self._end()

    def load_direct_lines(self, lines: Mapping[str, str]) -> None:
        """number (E.164) -> the e-mail of the user the number is assigned to."""
        self.direct_lines = dict(lines)

    def set_blacklist(self, rule: Blacklist | Collection[str]) -> None:
        """is_blocked(number, direction, user_email|None), or a set of numbers refused both ways."""
        if callable(rule):
            self._is_blocked = rule
        else:
            numbers = frozenset(rule)
            self._is_blocked = lambda number, direction, email: number in numbers

    def is_blocked(self, number: str, direction: Direction, email: str | None = None) -> bool:
        """Whether the blacklist refuses `number` in `direction` (the company's entries when no e-mail)."""
        return self._is_blocked(number, direction, email)

    def set_time_zone(self, name: str) -> None:
        self.zone = ZoneInfo(name)

    def reconfigure(self, *, agents: Iterable[AgentConfig], scenarios: Iterable[Scenario],
                    direct_lines: Mapping[str, str], blacklist: Blacklist | Collection[str],
                    time_zone: str) -> Reaction:
        """Replace the whole configuration at once (the engine's reload); calls in progress go on."""
        self.set_time_zone(time_zone)
        self.set_blacklist(blacklist)
        self.load_direct_lines(direct_lines)
        reaction = self.load_scenarios(scenarios)
        agents_reaction = self.load_agents(agents)
        return Reaction(actions=reaction.actions + agents_reaction.actions,
                        events=reaction.events + agents_reaction.events)

    # ------------------------------------------------------------------ inputs: calls

    def call_arrived(self, call_id: str, from_number: str, to_number: str) -> Reaction:
        now = self._begin()
        if call_id in self.calls:
            raise DuplicateCall(call_id)
        scenario = self.scenario_by_number.get(to_number)
        owner = self.direct_lines.get(to_number) if scenario is None else None
        if scenario is None and owner is None:
            self._do(act.HangUp(call_id, NOT_FOUND, f"{to_number} is not a number of this account"))
            return self._end(ignored=f"no IVR or direct line has the number {to_number}")
        kind = CallKind.IVR if scenario else CallKind.DIRECT
        call = Call(call_id=call_id, direction=Direction.IN, kind=kind, from_number=from_number,
                    to_number=to_number, started_at=now, arrival=next(self._arrivals), scenario=scenario,
                    vip=bool(scenario and from_number in scenario.vip_numbers))
        self.calls[call_id] = call
        self._emit(CallStarted(at=now, call_id=call_id, direction=call.direction, kind=kind,
                               from_number=from_number, to_number=to_number,
                               ivr=scenario.name if scenario else None, agent=owner, vip=call.vip))
        anonymous = from_number.strip().lower() in ANONYMOUS
        if anonymous and scenario and scenario.anonymous == AnonymousPolicy.REJECT:
            self._end_call(call, EndedBy.SYSTEM, act.HangUp(call_id, DECLINED, "anonymous calls are refused"))
        elif not anonymous and self._is_blocked(from_number, Direction.IN, owner):
            blocked = act.HangUp(call_id, DECLINED, f"{from_number} is blacklisted")
            self._end_call(call, EndedBy.SYSTEM, blocked)
        elif owner is not None:
            call.scenario = self._direct_scenario(owner)
            self._go(call, call.scenario.steps[0])
        else:
            self._open_ivr(call, scenario)
        return self._end()

    def dtmf(self, call_id: str, digit: str) -> Reaction:
        self._begin()
        call = self._call(call_id)
        if call.phase == Phase.MENU and call.step is not None:
            call.key_pressed = True
            target = call.step.choices.get(digit)
            if target is None:
                choices = ", ".join(sorted(call.step.choices)) or "none"
                return self._end(ignored=f"digit {digit!r} is not a choice of menu {call.step.name!r} "
                                         f"(choices: {choices})")
            self._go(call, call.scenario.step(target))
            return self._end()
        if call.phase == Phase.SURVEY and call.survey_step is not None:
            if digit not in "12345" or len(digit) != 1:
                return self._end(ignored=f"survey rating {digit!r} ignored: press 1 to 5")
            call.survey_rating = int(digit)
            self._end_call(call, EndedBy.AGENT, act.HangUp(call_id, NORMAL, "survey answered"))
            return self._end()
        where = call.step.name if call.step else call.phase.value
        return self._end(ignored=f"digit {digit!r} ignored: call {call_id} is in {where!r} "
                                 f"({call.phase.value}), not in a menu or survey")

    def agent_answered(self, call_id: str, email: str) -> Reaction:
        now = self._begin()
        self._agent(email)
        call = self.calls.get(call_id)
        if call is None:
            return self._late_answer(call_id, email)
        attempt = call.live_attempt(email)
        if attempt is None:
            last = call.last_attempt(email)
            if last is None or last.ended_at is None or last.outcome not in RANG:
                return self._end(ignored=f"agent {email} was not rung for call {call_id}")
            last.outcome, last.timed_out = Outcome.TOOLATE, False
            self._do(act.CancelRing(call_id, email))
            return self._end(ignored=f"agent {email} answered call {call_id} too late (TOOLATE)")
        self._connect(call, attempt, now)
        return self._end()

    def agent_rejected(self, call_id: str, email: str) -> Reaction:
        return self._ring_over(call_id, email, Outcome.REJECTED, counts_as_unanswered=True)

    def agent_ring_failed(self, call_id: str, email: str, reason: str = "") -> Reaction:
        """The agent's phone could not be rung (SIP error, unreachable device): SIP_PHONE_ERROR."""
        return self._ring_over(call_id, email, Outcome.SIP_PHONE_ERROR, counts_as_unanswered=False)

    def agent_unreachable(self, call_id: str, email: str, reason: str = "") -> Reaction:
        """The agent's phone is not there (no registered phone, not found, unavailable): NOTCONNECTED."""
        return self._ring_over(call_id, email, Outcome.NOTCONNECTED, counts_as_unanswered=False)

    def agent_hung_up(self, call_id: str, email: str) -> Reaction:
        now = self._begin()
        self._agent(email)
        call = self._call(call_id)
        if call.agent != email or call.phase not in {Phase.CONNECTED, Phase.DIALING}:
            return self._end(ignored=f"agent {email} is not talking on call {call_id}")
        call.talk_ended_at = now
        call.ended_by_agent = True
        self._release(call, now)
        survey = self._survey_after(call)
        if survey is None:
            self._end_call(call, EndedBy.AGENT, act.HangUp(call_id, NORMAL, "agent hung up"))
        else:
            call.phase, call.step, call.survey_step = Phase.SURVEY, survey, survey
            call.step_token += 1
            self._do(act.Play(call_id, survey.text, survey.sound))
            self._do(act.CollectDigits(call_id, SURVEY_WAIT_S))
            self._after(SURVEY_WAIT_S, "survey", call_id, call.step_token)
        return self._end()

    def caller_hung_up(self, call_id: str) -> Reaction:
        """The customer's side hung up (the caller inbound, the called party outbound)."""
        self._begin()
        call = self._call(call_id)
        ended_by = EndedBy.AGENT if call.ended_by_agent else EndedBy.CUSTOMER
        self._end_call(call, ended_by, None)
        return self._end()

    def outbound_call(self, call_id: str, email: str, to_number: str, from_number: str = "", *,
                      refused: str | None = None) -> Reaction:
        """An agent dials out: an OUT attempt. Refused, and recorded all the same: `refused` (the
        dialling rules' reason, 403), a number blacklisted OUT (603), an agent whose channels are
        all taken (486)."""
        now = self._begin()
        agent = self._agent(email)
        if call_id in self.calls:
            raise DuplicateCall(call_id)
        call = Call(call_id=call_id, direction=Direction.OUT, kind=CallKind.DIRECT, from_number=from_number,
                    to_number=to_number, started_at=now, arrival=next(self._arrivals), agent=email,
                    phase=Phase.DIALING)
        call.attempts.append(RingAttempt(agent=email, started_at=now))
        self.calls[call_id] = call
        self._emit(CallStarted(at=now, call_id=call_id, direction=Direction.OUT, kind=CallKind.DIRECT,
                               from_number=from_number, to_number=to_number, agent=email))
        refusal = self._outbound_refusal(agent, call, refused)
        if refusal is not None:
            call.agent = None
            self._end_call(call, EndedBy.SYSTEM, refusal)
            return self._end()
        agent.in_calls.add(call_id)
        self._touch(email)
        self._do(act.Dial(call_id, email, to_number))
        return self._end()

    def _outbound_refusal(self, agent: Agent, call: Call, refused: str | None) -> act.HangUp | None:
        if refused is not None:
            return act.HangUp(call.call_id, FORBIDDEN, refused)
        if self._is_blocked(call.to_number, Direction.OUT, agent.email):
            return act.HangUp(call.call_id, DECLINED, f"{call.to_number} is blacklisted")
        if len(agent.in_calls) >= agent.config.max_channels:
            return act.HangUp(call.call_id, BUSY, f"{agent.email} already has {len(agent.in_calls)} call(s) "
                              f"of max_channels={agent.config.max_channels}")
        return None

    def tag_call(self, call_id: str, tags: Iterable[str]) -> Reaction:
        """The agent tags the call in progress (T1); the tags go into its record."""
        self._begin()
        call = self._call(call_id)
        call.tags.extend(tag for tag in tags if tag not in call.tags)
        return self._end()

    def outbound_answered(self, call_id: str) -> Reaction:
        now = self._begin()
        call = self._call(call_id)
        if call.phase != Phase.DIALING:
            return self._end(ignored=f"call {call_id} is not an outbound call being dialled")
        call.phase, call.answered_at, call.connected_at = Phase.CONNECTED, now, now
        call.first_agent = call.agent
        self._emit(CallAnswered(at=now, call_id=call_id, agent=call.agent or "", wait_s=self._wait_s(call)))
        return self._end()

    # ------------------------------------------------------------------ inputs: agents

    def agent_connected(self, email: str, interface: str, device: str | None = None) -> Reaction:
        self._begin()
        agent = self._agent(email)
        agent.interface, agent.device = interface, device
        self._touch(email)
        self._dispatch_due = True
        return self._end()

    def agent_disconnected(self, email: str) -> Reaction:
        now = self._begin()
        agent = self._agent(email)
        agent.interface = agent.device = None
        for call_id in list(agent.ringing):
            self._stop_ring(self.calls[call_id], email, Outcome.NOTCONNECTED, now)
        self._touch(email)
        return self._end()

    def snooze(self, email: str, reason: str) -> Reaction:
        now = self._begin()
        self._snooze(self._agent(email), reason, now)
        return self._end()

    def unsnooze(self, email: str) -> Reaction:
        self._begin()
        agent = self._agent(email)
        agent.snooze_reason = agent.snoozed_at = None
        agent.unanswered_in_a_row = 0
        self._touch(email)
        self._dispatch_due = True
        return self._end()

    def advance(self) -> Reaction:
        """Fire every timer due now; re-read schedules (an agent's shift may have begun or ended).

        Schedules are to the minute, so agents who have one are re-read once a minute;
        the rest change state only through inputs and timers.
        """
        now = self._begin()
        minute = now.replace(second=0, microsecond=0)
        if minute != self._schedules_read_at:
            self._schedules_read_at = minute
            for email, agent in self.agents.items():
                if agent.config.schedule is not None:
                    self._touch(email)
            self._dispatch_due = True
        return self._end()

    # ------------------------------------------------------------------ supervisor controls (A3)

    def take_waiting_call(self, call_id: str, email: str) -> Reaction:
        """A supervisor or agent takes a waiting call: it is connected to them at once."""
        now = self._begin()
        agent = self._agent(email)
        call = self._call(call_id)
        if call.phase != Phase.QUEUED:
            return self._end(ignored=f"call {call_id} is not waiting (it is {call.phase.value})")
        attempt = call.live_attempt(email)
        if attempt is None:
            refusal = agent.refusal(now, self.zone)
            if refusal is not None:
                raise AgentUnavailable(email, agent.state(now, self.zone).value)
            attempt = RingAttempt(agent=email, started_at=now, live=True)
            agent.ringing.add(call_id)
            call.attempts.append(attempt)
        self._connect(call, attempt, now)
        return self._end()

    def whisper(self, call_id: str, supervisor: str) -> Reaction:
        now = self._begin()
        call = self._call(call_id)
        if call.phase != Phase.CONNECTED:
            return self._end(ignored=f"call {call_id} has no agent to whisper to (it is {call.phase.value})")
        self._do(act.Whisper(call_id, supervisor, call.agent))
        self._emit(SupervisorWhispered(at=now, call_id=call_id, supervisor=supervisor, agent=call.agent))
        return self._end()

    # ------------------------------------------------------------------ transfers (S6)

    def transfer(self, call_id: str, email: str, target: str) -> Reaction:
        """The agent `email`, connected to the call, hands it on at once (a blind transfer).

        `target` is an agent's e-mail or an external E.164 number. The transferring agent is
        released at once (free, or after-call work, as when a call ends for them) and the caller
        hears hold music. A target agent is rung as any ring would (reachable, snooze, schedule,
        channels and call waiting decide; their own ring time); when they answer they are
        connected. An external number is dialled by the telephony (TransferOut, the caller on
        hold meanwhile), which reports the outcome: `external_answered` connects the caller to the
        number (the call is forwarded, the transfer answered), `external_failed` (busy, no answer
        within EXTERNAL_RING_S, an error of the carrier) is handled as a target agent who does
        not answer.

        When the target agent does not take the call (no answer within their ring time, refusal,
        phone error, or not reachable at all), the transferrer's phone rings again with the call
        (a "transfer recall", what operators of most PBXs expect: the customer is not lost and
        the agent who knows the case decides what next). The recall rings through snooze,
        schedule and after-call work (the agent had the call a moment ago) but not through a
        full set of channels or an unregistered phone. When the recall is not answered either,
        the call goes on with its scenario after the step that had connected it (typically
        the IVR's or the direct line's voicemail), or ends when there is no such step.

        A recall the transferrer answers leaves no ring attempt: they already have this call's
        ANSWERED (or OUT) attempt, and taking their own call back is not a second call taken, so
        per-agent figures (agent_hour/agent_day, the leaderboard's answered and talk time) count
        the call once for them. A recall they do not answer stays an attempt with its outcome
        (NO_ANSWER, REJECTED ...): they let the customer ring, as on any ring.

        Refused (TransferRefused, UnknownAgent): a call the agent is not connected to, an
        unknown agent on either side, the agent itself, a number not in E.164 form, a number
        the blacklist refuses outbound for the agent.
        """
        now = self._begin()
        self._agent(email)
        call = self._call(call_id)
        if call.agent != email or call.phase != Phase.CONNECTED:
            where = f"it is with {call.agent}" if call.agent else f"it is {call.phase.value}"
            raise TransferRefused(call_id, target, f"agent {email} is not connected to it ({where})")
        to_agent, to_number = self._transfer_target(call, email, target)
        transfer = Transfer(at=now, by=email, to_agent=to_agent, to_number=to_number, kind=TransferKind.BLIND)
        call.transfers.append(transfer)
        self._release(call, now)
        call.agent, call.connected_at = None, None
        call.step_token += 1
        self._do(act.ReleaseAgent(call_id, email))
        self._emit(CallTransferred(at=now, call_id=call_id, by=email, kind=transfer.kind,
                                   to_agent=to_agent, to_number=to_number))
        call.phase = Phase.TRANSFERRING
        self._do(act.HoldMusic(call_id))
        if to_number is not None:
            self._do(act.TransferOut(call_id, to_number, EXTERNAL_RING_S))
            return self._end()
        assert to_agent is not None
        if not self._ring_transfer(call, to_agent, recall=False):
            self._transfer_unanswered(call)
        return self._end()

    def external_answered(self, call_id: str) -> Reaction:
        """The external number of a transfer answered: the caller talks to it (the call is forwarded
        there and ends when either side hangs up)."""
        now = self._begin()
        call, transfer = self._external_transfer(call_id)
        transfer.answered = True
        call.phase, call.forwarded_to, call.talk_ended_at = Phase.FORWARDED, transfer.to_number, None
        call.step_token += 1
        self._emit(CallAnswered(at=now, call_id=call_id, agent=transfer.to_number or "",
                                wait_s=self._wait_s(call), transferred=True))
        return self._end()

    def external_failed(self, call_id: str, reason: str) -> Reaction:
        """The external number of a transfer did not take the call (busy, no answer, the carrier's
        error): as for a target agent who does not answer, the transferrer is recalled. `reason` is
        the telephony's words for it (its logs); the record keeps the transfer unanswered."""
        self._begin()
        call, _ = self._external_transfer(call_id)
        self._transfer_unanswered(call)
        return self._end()

    def _external_transfer(self, call_id: str) -> tuple[Call, Transfer]:
        call = self._call(call_id)
        transfer = call.pending_transfer
        if transfer is None or transfer.to_number is None or transfer.recalling:
            number = transfer.to_number if transfer is not None and transfer.to_number else ""
            raise TransferRefused(call_id, number, "no transfer to an external number is ringing "
                                  f"(the call is {call.phase.value})")
        return call, transfer

    def _transfer_target(self, call: Call, email: str, target: str) -> tuple[str | None, str | None]:
        """(agent e-mail, None) or (None, E.164 number); refuses what cannot be a target."""
        if "@" in target:
            if target == email:
                raise TransferRefused(call.call_id, target, "an agent cannot transfer a call to themselves")
            agent = self.agents.get(target)
            if agent is None or agent.retired:
                raise UnknownAgent(target)
            return target, None
        if not E164.fullmatch(target):
            raise TransferRefused(call.call_id, target, "not an agent's e-mail nor a number in E.164 form "
                                  "(e.g. +33612345678)")
        if self._is_blocked(target, Direction.OUT, email):
            raise TransferRefused(call.call_id, target, f"{target} is blacklisted for outbound calls")
        return None, target

    def _ring_transfer(self, call: Call, email: str, *, recall: bool) -> bool:
        """Ring the transfer's target (or, on recall, the transferrer); False when they cannot be rung
        (an instant attempt records why)."""
        agent = self.agents.get(email)
        refusal = Outcome.NOTCONNECTED if agent is None else (
            self._recall_refusal(agent) if recall else agent.refusal(self._now, self.zone))
        if agent is None or refusal is not None or call.call_id in agent.ringing:
            call.attempts.append(RingAttempt(agent=email, started_at=self._now, ended_at=self._now,
                                             outcome=refusal or Outcome.INCALL))
            return False
        self._ring(call, agent, agent.config.ring_s)
        self._emit(CallRinging(at=self._now, call_id=call.call_id, agents=(email,)))
        return True

    def _recall_refusal(self, agent: Agent) -> Outcome | None:
        if agent.retired or agent.interface is None:
            return Outcome.NOTCONNECTED
        return None if agent.has_channel() else Outcome.INCALL

    def _transfer_unanswered(self, call: Call) -> None:
        """The target did not take the call: recall the transferrer, then the rest of the scenario."""
        transfer = call.transfers[-1]
        if not transfer.recalling:
            transfer.recalling = True
            if self._ring_transfer(call, transfer.by, recall=True):
                return
        call.talk_ended_at = self._now
        after = None
        if call.scenario is not None and call.connected_step is not None:
            after = call.scenario.after(call.connected_step)
        self._go(call, after)

    # ------------------------------------------------------------------ snapshot (feed, engine status)

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """JSON-ready: times as ISO 8601 UTC strings, enums as their values."""
        now = self.clock.now()
        agents = []
        for agent in self.agents.values():
            state = agent.state(now, self.zone)
            agents.append({"email": agent.email, "name": agent.config.name, "state": state.value,
                           "reason": agent.snooze_reason if state == AgentState.SNOOZE else None,
                           "interface": agent.interface, "device": agent.device, "since": agent.since})
        return json_ready({"agents": agents, "waiting": self._waiting_rows(now), "calls": [
            {"call_id": call.call_id, "direction": call.direction.value, "from_number": call.from_number,
             "to_number": call.to_number, "ivr": self._ivr(call), "agent": call.agent,
             "state": call.phase.value, "duration_s": (now - call.started_at).total_seconds()}
            for call in self.calls.values()]})

    def next_timer_at(self) -> datetime | None:
        """When the earliest pending timer falls due (a driver sleeps until then), or None."""
        return self._timers[0][0] if self._timers else None

    def agent_state(self, email: str) -> AgentState:
        return self._agent(email).state(self.clock.now(), self.zone)

    # ------------------------------------------------------------------ the scenario interpreter

    def _open_ivr(self, call: Call, scenario: Scenario) -> None:
        if scenario.record and scenario.announce_recording:
            self._do(act.Play(call.call_id, "this call may be recorded"))
        if not is_within(scenario.opening_hours, self._now, self.zone):
            if scenario.closed_step is None:
                self._end_call(call, EndedBy.SYSTEM, act.HangUp(call.call_id, CLOSED, "closed"))
                return
            self._go(call, scenario.step(scenario.closed_step))
            return
        self._go(call, scenario.steps[0] if scenario.steps else None)

    def _go(self, call: Call, step: Step | None) -> None:
        """Run steps from `step` until one waits for an input, or the scenario ends."""
        while step is not None:
            self._leave_queue(call)
            call.step, call.tried, call.hunt, call.refusals = step, set(), [], 0
            if step.type != StepType.SURVEY:  # a survey only follows the step that handled the call
                call.handled_by = step.name
            call.step_token += 1
            call.phase = Phase.ROUTING
            following = self._start(call, step)
            if following is STAY:
                return
            step = following  # type: ignore[assignment]
        self._end_call(call, EndedBy.SYSTEM, act.HangUp(call.call_id, NORMAL, "end of the scenario"))

    def _next(self, call: Call) -> Step | None:
        return call.scenario.after(call.step.name) if call.scenario and call.step else None

    def _start(self, call: Call, step: Step) -> Step | _Stay | None:
        starters: dict[StepType, Callable[[Call, Step], Step | _Stay | None]] = {
            StepType.ANNOUNCE: self._announce, StepType.MENU: self._menu, StepType.RING: self._ring_step,
            StepType.QUEUE: self._queue_step, StepType.VOICEMAIL: self._voicemail,
            StepType.FORWARD: self._forward, StepType.SURVEY: lambda call, step: self._next(call),
        }
        return starters[step.type](call, step)

    def _announce(self, call: Call, step: Step) -> Step | None:
        self._do(act.Play(call.call_id, step.text, step.sound))
        return self._next(call)

    def _menu(self, call: Call, step: Step) -> _Stay:
        call.phase, call.menu_seen = Phase.MENU, True
        self._do(act.Play(call.call_id, step.text, step.sound))
        self._do(act.CollectDigits(call.call_id, step.timeout_s))
        self._after(step.timeout_s, "menu", call.call_id, call.step_token)
        return STAY

    def _ring_step(self, call: Call, step: Step) -> Step | _Stay | None:
        """Ring the step's agents in the strategy's order.

        Refusals (INCALL, SNOOZE ...) are recorded as the hunt reaches each agent, so a hunt
        strategy records them only for the agents it would have rung before the one it rings,
        not for every busy agent of a large group on every call (S5: "arrived while the agent
        was on another call"). Ring-all would ring them all: all of them are recorded.
        """
        line, _ = self._line(call, step)
        if step.skip_if and line and all(self._skips(email, step.skip_if) for email in line):
            self._offer_step(call, step)  # skipped: the agents' refusals are recorded all the same
            return self._next(call)
        known = [email for email in line if email in self.agents]
        call.phase = Phase.RINGING
        call.hunt = preference(step.strategy, known, self.agents, step_key=self._step_key(call),
                               memory=self._memory, rng=self.rng, weights=step.weights)
        call.hunt += [email for email in line if email not in self.agents]
        return STAY if self._ring_hunt(call) else self._next(call)

    def _queue_step(self, call: Call, step: Step) -> Step | _Stay | None:
        skipped, _ = self._offer_step(call, step)
        if skipped:
            return self._next(call)
        call.phase, call.queued_at = Phase.QUEUED, self._now
        self.waiting.add(call)
        self._do(act.HoldMusic(call.call_id))
        position = self.waiting.position(call.call_id)
        self._emit(CallWaiting(at=self._now, call_id=call.call_id, from_number=call.from_number,
                               ivr=self._ivr(call), vip=call.vip, position=position))
        self._waiting_changed()
        self._after(step.max_wait_s, "max_wait", call.call_id, call.step_token)
        self._dispatch_due = True
        return STAY

    def _voicemail(self, call: Call, step: Step) -> _Stay:
        call.phase, call.voicemail_started = Phase.VOICEMAIL, True
        self._do(act.Play(call.call_id, step.text, step.sound))
        self._do(act.StartVoicemail(call.call_id, step.mailbox))
        self._after(VOICEMAIL_MAX_S, "voicemail", call.call_id, call.step_token)
        return STAY

    def _forward(self, call: Call, step: Step) -> Step | _Stay | None:
        if not step.number:
            return self._next(call)
        call.phase, call.forwarded_to, call.answered_at = Phase.FORWARDED, step.number, self._now
        self._do(act.ForwardTo(call.call_id, step.number))
        self._emit(CallAnswered(at=self._now, call_id=call.call_id, agent=step.number,
                                wait_s=self._wait_s(call)))
        return STAY

    def _offer_step(self, call: Call, step: Step) -> tuple[bool, list[str]]:
        """Classify the step's agents: refusals get an instant attempt; (skipped, the reachable ones).

        A step is skipped when every one of its agents is in one of its skip-if states (I3);
        its agents' refusals are recorded all the same.
        """
        line, _ = self._line(call, step)
        now, reachable = self._now, []
        skipped = bool(step.skip_if and line) and all(self._skips(email, step.skip_if) for email in line)
        for email in line:
            agent = self.agents.get(email)
            refusal = Outcome.NOTCONNECTED if agent is None else agent.refusal(now, self.zone)
            if refusal is None and not skipped:
                reachable.append(email)
            elif refusal is not None:
                call.attempts.append(RingAttempt(agent=email, started_at=now, ended_at=now, outcome=refusal))
        return skipped, reachable

    def _skips(self, email: str, conditions: frozenset[SkipCondition]) -> bool:
        """I3: whether this agent is in one of the step's skip-if states."""
        agent = self.agents.get(email)
        if agent is None or agent.retired:
            return SkipCondition.OFFLINE in conditions
        facts = {
            SkipCondition.OFFLINE: agent.interface is None,
            SkipCondition.SNOOZE: agent.snooze_reason is not None,
            SkipCondition.OUT_OF_HOURS: not agent.on_schedule(self._now, self.zone),
            SkipCondition.IN_CALL: bool(agent.in_calls),
        }
        return any(facts[condition] for condition in conditions)

    def _ring_hunt(self, call: Call) -> bool:
        """Ring the next agents of a ring step (all of them for ring-all); False when none is left."""
        step = call.step
        assert step is not None
        batch = call.hunt if step.strategy == Strategy.RING_ALL else call.hunt[:1]
        while call.hunt:
            rung = [email for email in batch if self._ring_if_reachable(call, email, step)]
            del call.hunt[:len(batch)]
            if rung:
                self._emit(CallRinging(at=self._now, call_id=call.call_id, agents=tuple(rung)))
                return True
            batch = call.hunt[:1]
        return bool(call.live_attempts())

    def _ring_if_reachable(self, call: Call, email: str, step: Step) -> bool:
        agent = self.agents.get(email)
        refusal = Outcome.NOTCONNECTED if agent is None else agent.refusal(self._now, self.zone)
        if agent is None or refusal is not None:
            if call.refusals < HUNT_REFUSALS_KEPT or step.strategy == Strategy.RING_ALL:
                call.refusals += 1
                call.attempts.append(RingAttempt(agent=email, started_at=self._now, ended_at=self._now,
                                                 outcome=refusal))
            return False
        self._ring(call, agent, self._ring_seconds(call, step, agent))
        return True

    def _ring_seconds(self, call: Call, step: Step, agent: Agent) -> float:
        return agent.config.ring_s if call.kind == CallKind.DIRECT else step.ring_s

    def _ring(self, call: Call, agent: Agent, ring_s: float) -> None:
        attempt = RingAttempt(agent=agent.email, started_at=self._now, live=True)
        call.attempts.append(attempt)
        call.tried.add(agent.email)
        agent.ringing.add(call.call_id)
        self._touch(agent.email)
        self._memory.remember(self._step_key(call), agent.email)
        self._do(act.RingAgent(call.call_id, agent.email, ring_s))
        self._after(ring_s, "ring", call.call_id, attempt)

    def _ring_over(self, call_id: str, email: str, outcome: Outcome, *,
                   counts_as_unanswered: bool) -> Reaction:
        now = self._begin()
        agent = self._agent(email)
        call = self._call(call_id)
        if call.live_attempt(email) is None:
            return self._end(ignored=f"agent {email} is not being rung for call {call_id}")
        self._stop_ring(call, email, outcome, now)
        if counts_as_unanswered:
            self._count_unanswered(agent, now)
        return self._end()

    def _stop_ring(self, call: Call, email: str, outcome: Outcome | None, now: datetime) -> None:
        """End one live ring (outcome None: timed out, settled when the call ends) and route on."""
        attempt = call.live_attempt(email)
        assert attempt is not None
        attempt.close(now, outcome)
        attempt.timed_out = outcome is None
        self._do(act.CancelRing(call.call_id, email))
        self._unring(email, call.call_id)
        self._route_on(call)

    def _route_on(self, call: Call) -> None:
        """A ring ended without an answer: ring the next agent, leave the step, or wait for agents."""
        if call.phase == Phase.QUEUED:
            self._dispatch_due = True
        elif call.phase == Phase.RINGING and not call.live_attempts() and not self._ring_hunt(call):
            self._go(call, self._next(call))
        elif call.phase == Phase.TRANSFERRING and not call.live_attempts():
            self._transfer_unanswered(call)

    def _count_unanswered(self, agent: Agent, now: datetime) -> None:
        agent.unanswered_in_a_row += 1
        limit = self.auto_snooze_after
        if limit and agent.unanswered_in_a_row >= limit and agent.snooze_reason is None:
            self._snooze(agent, f"auto: {limit} unanswered rings", now)

    def _snooze(self, agent: Agent, reason: str, now: datetime) -> None:
        agent.snooze_reason, agent.snoozed_at = reason, now
        agent.unanswered_in_a_row = 0
        self._touch(agent.email)

    def _connect(self, call: Call, attempt: RingAttempt, now: datetime) -> None:
        agent = self.agents[attempt.agent]
        attempt.close(now, Outcome.ANSWERED)
        for other in call.live_attempts():
            other.close(now, Outcome.CALL_ANSWERED)
            self._do(act.CancelRing(call.call_id, other.agent))
            self._unring(other.agent, call.call_id)
        self._unring(agent.email, call.call_id)
        self._leave_queue(call)
        agent.in_calls.add(call.call_id)
        agent.unanswered_in_a_row = 0
        transfer = call.pending_transfer
        call.agent, call.connected_at, call.phase = agent.email, now, Phase.CONNECTED
        call.step_token += 1  # the step's timers (max wait, ring) are void
        self._do(act.ConnectAgent(call.call_id, agent.email))
        if transfer is not None:
            transfer.answered = not transfer.recalling
            if transfer.recalling:  # their own call back: their first attempt already counts it
                call.attempts.remove(attempt)
        if call.answered_at is not None:  # a transfer's target, or a step after one: the first answer stays
            call.talk_ended_at = None
            self._emit(CallAnswered(at=now, call_id=call.call_id, agent=agent.email,
                                    wait_s=self._wait_s(call), transferred=True))
            self._touch(agent.email)
            return
        call.answered_at, call.first_agent = now, agent.email
        call.connected_step = call.step.name if call.step else None
        if self._records(call, agent):
            call.recorded = True
            self._do(act.Record(call.call_id, True))
        self._emit(CallAnswered(at=now, call_id=call.call_id, agent=agent.email, wait_s=self._wait_s(call)))
        self._touch(agent.email)

    def _records(self, call: Call, agent: Agent) -> bool:
        """The recording policy: the IVR's flag (or, on a direct line, the agent's default), the
        agent's permission to be recorded, and the share of the agent's calls that are."""
        config = agent.config
        wanted = config.record_by_default if call.kind == CallKind.DIRECT else bool(
            call.scenario is not None and call.scenario.record)
        if not wanted or not config.record_conversations:
            return False
        return config.recorded_percent >= 100 or self.rng.random() * 100 < config.recorded_percent

    def _survey_after(self, call: Call) -> Step | None:
        if call.scenario is None or call.connected_step is None or call.kind != CallKind.IVR:
            return None
        names = [step.name for step in call.scenario.steps]
        later = call.scenario.steps[names.index(call.connected_step) + 1:]
        return next((step for step in later if step.type == StepType.SURVEY), None)

    # ------------------------------------------------------------------ the waiting list

    def _dispatch(self) -> None:
        """Ring free agents for waiting calls, VIP first then arrival order."""
        if not len(self.waiting) or self._idle.longest_idle(self._reachable) is None:
            return
        for call in list(self.waiting.in_order()):
            step = call.step
            assert step is not None
            if step.strategy != Strategy.RING_ALL and call.live_attempts():
                continue
            chosen = self._choose(call, step)
            if not chosen and call.tried and step.strategy != Strategy.RING_ALL:
                call.tried.clear()  # every agent had its turn: a new round
                chosen = self._choose(call, step)
            for email in chosen:
                self._ring(call, self.agents[email], step.ring_s)
                self._refresh(self.agents[email])  # keep the idle index true for the next call
            if chosen:
                self._emit(CallRinging(at=self._now, call_id=call.call_id, agents=tuple(chosen)))
            if self._idle.longest_idle(self._reachable) is None:
                break

    def _choose(self, call: Call, step: Step) -> list[str]:
        """The agents to ring now for a waiting call; hunt strategies try agents not yet rung first."""
        line, members = self._line(call, step)
        if step.strategy == Strategy.RING_ALL:
            return [email for email in line if self._reachable_for(call, email)]
        def wanted(email: str) -> bool:
            return email not in call.tried and self._reachable_for(call, email)
        if step.strategy == Strategy.LONGEST_IDLE:
            pick = self._idle.longest_idle(lambda email: email in members and wanted(email))
            return [pick] if pick else []
        free = [email for email in line if wanted(email)]
        order = preference(step.strategy, free, self.agents, step_key=self._step_key(call),
                           memory=self._memory, rng=self.rng, weights=step.weights)
        return order[:1]

    def _reachable(self, email: str) -> bool:
        agent = self.agents.get(email)
        return agent is not None and agent.refusal(self._now, self.zone) is None

    def _reachable_for(self, call: Call, email: str) -> bool:
        agent = self.agents.get(email)
        return agent is not None and call.call_id not in agent.ringing and self._reachable(email)

    def _leave_queue(self, call: Call) -> None:
        if self.waiting.remove(call.call_id):
            self._waiting_changed()

    def _waiting_changed(self) -> None:
        self._waiting_dirty = True  # one WaitingListChanged per input, however many calls came and went

    def _waiting_rows(self, now: datetime) -> list[dict[str, Any]]:
        return [{"call_id": call.call_id, "from_number": call.from_number, "ivr": self._ivr(call),
                 "wait_s": (now - call.started_at).total_seconds(), "vip": call.vip}
                for call in self.waiting.in_order()]

    # ------------------------------------------------------------------ timers

    def _after(self, seconds: float, kind: str, key: str, token: Any) -> None:
        due = self._now + timedelta(seconds=seconds)
        heapq.heappush(self._timers, (due, next(self._seq), kind, key, token))

    def _fire_due(self) -> None:
        while self._timers and self._timers[0][0] <= self._now:
            _, _, kind, key, token = heapq.heappop(self._timers)
            if kind == "after_call_work":
                if key in self.agents:
                    self._touch(key)
                    self._dispatch_due = True
                continue
            call = self.calls.get(key)
            if call is None:
                continue
            if kind == "ring":
                if token.live:
                    if token.agent in self.agents:
                        self._count_unanswered(self.agents[token.agent], self._now)
                    timed_out = Outcome.NO_ANSWER if call.phase == Phase.TRANSFERRING else None
                    self._stop_ring(call, token.agent, timed_out, self._now)
            elif token == call.step_token:
                self._step_timer(call, kind)

    def _step_timer(self, call: Call, kind: str) -> None:
        step = call.step
        assert step is not None
        if kind == "menu" and call.phase == Phase.MENU:
            self._go(call, call.scenario.step(step.default) if step.default else self._next(call))
        elif kind == "max_wait" and call.phase == Phase.QUEUED:
            for attempt in call.live_attempts():
                attempt.close(self._now, None)
                attempt.timed_out = True
                self._do(act.CancelRing(call.call_id, attempt.agent))
                self._unring(attempt.agent, call.call_id)
            self._go(call, call.scenario.step(step.exit) if step.exit else self._next(call))
        elif kind == "voicemail" and call.phase == Phase.VOICEMAIL:
            self._end_call(call, EndedBy.SYSTEM, act.HangUp(call.call_id, NORMAL, "longest message reached"))
        elif kind == "survey" and call.phase == Phase.SURVEY:
            self._end_call(call, EndedBy.AGENT, act.HangUp(call.call_id, NORMAL, "survey not answered"))

    # ------------------------------------------------------------------ the end of a call

    def _end_call(self, call: Call, ended_by: EndedBy, hang_up: act.HangUp | None) -> None:
        now = self._now
        for attempt in call.live_attempts():
            attempt.close(now, Outcome.NO_ANSWER)
            self._do(act.CancelRing(call.call_id, attempt.agent))
            self._unring(attempt.agent, call.call_id)
        answered_by_agent = call.agent is not None and call.answered_at is not None
        for attempt in call.attempts:
            if attempt.outcome is None and call.direction == Direction.OUT:
                attempt.ended_at, attempt.outcome = now, Outcome.OUT
            elif attempt.outcome is None:
                attempt.outcome = Outcome.CALL_ANSWERED if answered_by_agent else Outcome.NO_ANSWER
        if call.agent is not None and call.talk_ended_at is None:
            call.talk_ended_at = now
            self._release(call, now)
        self._leave_queue(call)
        if hang_up is not None:
            self._do(hang_up)
        if call.recorded:
            self._do(act.Record(call.call_id, False))
        self._emit(CallEnded(at=now, call=self._summary(call, ended_by, now)))
        del self.calls[call.call_id]
        self._ended[call.call_id] = call
        if len(self._ended) > ENDED_CALLS_KEPT:
            self._ended.popitem(last=False)

    def _call_type(self, call: Call) -> CallType:
        if call.answered_at is not None:
            return CallType.ANSWERED
        if call.voicemail_started:
            return CallType.VOICEMAIL
        if call.phase == Phase.MENU and not call.key_pressed:
            return CallType.NO_KEY
        return CallType.MISSED

    def _summary(self, call: Call, ended_by: EndedBy, now: datetime) -> CallSummary:
        talk_s = 0.0
        if call.answered_at is not None:
            talk_s = ((call.talk_ended_at or now) - call.answered_at).total_seconds()
        survey, ivr = call.survey_step, self._ivr(call)
        return CallSummary(
            call_id=call.call_id, direction=call.direction, kind=call.kind, from_number=call.from_number,
            to_number=call.to_number, started_at=call.started_at, ended_at=now, type=self._call_type(call),
            ended_by=ended_by, ivr=ivr, ivr_step=call.handled_by if ivr else None,
            agent=call.first_agent or call.agent, forwarded_to=call.forwarded_to,
            answered_at=call.answered_at, wait_s=self._wait_s(call), talk_s=talk_s, recorded=call.recorded,
            vip=call.vip, attempts=tuple(attempt.summary() for attempt in call.attempts),
            survey_rating=call.survey_rating, survey_category=survey.category if survey else "",
            survey_question=survey.text if survey else "", tags=tuple(call.tags),
            transfers=tuple(transfer.summary() for transfer in call.transfers),
            last_agent=call.agent if call.transfers else None)

    def _wait_s(self, call: Call) -> float:
        return ((call.answered_at or self._now) - call.started_at).total_seconds()

    def _release(self, call: Call, now: datetime) -> None:
        """The agent's talk on this call is over: statistics for the strategies, after-call work."""
        agent = self.agents.get(call.agent or "")
        if agent is None or call.call_id not in agent.in_calls:
            return
        agent.in_calls.discard(call.call_id)
        if call.answered_at is not None:
            agent.roll_day(now.astimezone(self.zone).date())
            agent.calls_today += 1
            agent.talk_today_s += (now - (call.connected_at or call.answered_at)).total_seconds()
            agent.last_call_end = now
            if agent.config.after_call_work_s > 0:
                agent.after_call_work_until = now + timedelta(seconds=agent.config.after_call_work_s)
                self._after(agent.config.after_call_work_s, "after_call_work", agent.email, None)
        self._touch(agent.email)
        self._dispatch_due = True
        if agent.retired and not agent.in_calls and not agent.ringing:
            self._retire(agent.email)

    def _late_answer(self, call_id: str, email: str) -> Reaction:
        call = self._ended.get(call_id)
        if call is None:
            raise UnknownCall(call_id)
        attempt = call.last_attempt(email)
        if attempt is None or attempt.outcome not in RANG:
            return self._end(ignored=f"agent {email} was not rung for call {call_id}")
        attempt.outcome = Outcome.TOOLATE
        self._do(act.CancelRing(call_id, email))
        self._emit(AttemptOutcomeChanged(at=self._now, call_id=call_id, agent=email,
                                         started_at=attempt.started_at, outcome=Outcome.TOOLATE))
        return self._end(ignored=f"call {call_id} is over: agent {email} answered too late (TOOLATE)")

    # ------------------------------------------------------------------ agents' facts and states

    def _unring(self, email: str, call_id: str) -> None:
        agent = self.agents.get(email)
        if agent is not None:
            agent.ringing.discard(call_id)
            self._touch(email)
            self._dispatch_due = True
            if agent.retired and not agent.ringing and not agent.in_calls:
                self._retire(email)

    def _retire(self, email: str) -> None:
        agent = self.agents[email]
        if agent.in_calls or agent.ringing:
            agent.retired = True
            self._touch(email)
            return
        del self.agents[email]
        self._idle.forget(email)
        self._touched.pop(email, None)

    def _touch(self, email: str) -> None:
        self._touched[email] = None

    def _refresh(self, agent: Agent) -> None:
        """Announce the agent's state when it changed; keep the idle index to the reachable agents."""
        state = agent.state(self._now, self.zone)
        shown = (state, agent.snooze_reason if state == AgentState.SNOOZE else None, agent.interface)
        if shown != agent.shown:
            agent.shown, agent.since = shown, self._now
            self._emit(AgentStateChanged(at=self._now, email=agent.email, state=state, reason=shown[1],
                                         interface=agent.interface, since=self._now))
        if agent.refusal(self._now, self.zone) is None:
            if agent.offered_key != agent.idle_key():
                agent.offered_key = agent.idle_key()
                self._idle.offer(agent)
        elif agent.offered_key is not None:
            agent.offered_key = None
            self._idle.forget(agent.email)

    # ------------------------------------------------------------------ plumbing

    def _begin(self) -> datetime:
        # an input that raised left its timers' output in self._reaction: it goes out with the next one
        self._now = self.clock.now()
        self._fire_due()
        return self._now

    def _end(self, ignored: str | None = None) -> Reaction:
        self._flush_touched()
        while self._dispatch_due:
            self._dispatch_due = False
            self._dispatch()
            self._flush_touched()
        if self._waiting_dirty:
            self._waiting_dirty = False
            self._emit(WaitingListChanged(at=self._now, waiting=tuple(self._waiting_rows(self._now))))
        reaction, self._reaction = self._reaction, Reaction()
        reaction.ignored = ignored
        return reaction

    def _flush_touched(self) -> None:
        while self._touched:
            email = next(iter(self._touched))
            del self._touched[email]
            if email in self.agents:
                self._refresh(self.agents[email])

    def _do(self, action: act.Action) -> None:
        self._reaction.actions.append(action)

    def _emit(self, event: Event) -> None:
        self._reaction.events.append(event)

    def _call(self, call_id: str) -> Call:
        call = self.calls.get(call_id)
        if call is None:
            raise UnknownCall(call_id)
        return call

    def _agent(self, email: str) -> Agent:
        agent = self.agents.get(email)
        if agent is None:
            raise UnknownAgent(email)
        return agent

    def _ivr(self, call: Call) -> str | None:
        return call.scenario.name if call.scenario is not None and call.kind == CallKind.IVR else None

    def _step_key(self, call: Call) -> tuple[str, str]:
        return (call.scenario.name if call.scenario else "", call.step.name if call.step else "")

    def _line(self, call: Call, step: Step) -> tuple[tuple[str, ...], frozenset[str]]:
        """The step's agents: its list, then its groups' members in configuration order, once each."""
        key = (call.scenario.name if call.scenario else "", step.name)
        cached = self._lines.get(key)
        if cached is None or cached[0] is not step:
            line = list(dict.fromkeys(step.agents))
            for group in step.groups:
                line += [a.email for a in self.agents.values() if group in a.config.groups and not a.retired]
            line = list(dict.fromkeys(line))
            cached = self._lines[key] = (step, tuple(line), frozenset(line))
        return cached[1], cached[2]

    def _direct_scenario(self, email: str) -> Scenario:
        """A direct line behaves as: ring the user (their ring seconds), then their voicemail."""
        scenario, owner = self._direct.get(email), self.agents.get(email)
        if scenario is None:
            scenario = self._direct[email] = Scenario(name=f"direct:{email}", steps=(
                Step(name="ring", type=StepType.RING, agents=(email,),
                     ring_s=owner.config.ring_s if owner else 20.0),
                Step(name="voicemail", type=StepType.VOICEMAIL, mailbox=email)))
        return scenario
