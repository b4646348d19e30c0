"""A seedable traffic simulator (E5): customers call, agents answer, miss, reject,
snooze, call back and rate calls, on the real core.

It is a discrete-event simulation: a heap of things that will happen (a call
arrives, an agent picks up, a caller gives up), executed in time order on the
clock the core reads. With a FakeClock it replays days in seconds (history for
`init --demo`, benchmarks); with the engine's ScaledClock it runs live at any
speed. The same seed gives the same history.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import random
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers

from ringtui.engine.config import CenterConfig
from ringtui.engine.core import actions as act
from ringtui.engine.core.center import CallCenter, Reaction
from ringtui.engine.core.clock import FakeClock
from ringtui.engine.core.errors import CoreError
from ringtui.engine.core.events import CallEnded, CallSummary
from ringtui.vocab import AgentState, CallType, Direction, EndedBy

# Relative call volume by hour of a weekday (local time): busy mornings, a lunch dip,
# a second peak in the afternoon, quiet nights.
WEEKDAY_HOURS = (0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.2, 0.7, 1.0, 1.0, 0.9,
                 0.55, 0.6, 0.85, 0.9, 0.8, 0.6, 0.3, 0.15, 0.08, 0.05, 0.03, 0.02)
DAY_FACTORS = (1.0, 0.95, 0.9, 0.9, 0.85, 0.3, 0.08)  # Monday .. Sunday
INTERFACES = ("sip", "web", "web", "ios", "android")
SNOOZE_REASONS = ("Lunch", "Break", "Meeting", "Training")
COUNTRY_PREFIXES = (("+336", 8, 0.45), ("+337", 8, 0.1), ("+331", 8, 0.12), ("+346", 8, 0.12),
                    ("+447", 9, 0.08), ("+324", 8, 0.05), ("+4915", 9, 0.04), ("+1212", 7, 0.04))


@dataclass(frozen=True)
class Behaviour:
    """How people behave; every figure may be changed for a what-if run."""

    calls_per_busy_hour: float = 60.0
    ivr_share: float = 0.75  # of calls to an IVR number rather than a direct line
    answer: float = 0.8  # an agent rung picks up ...
    reject: float = 0.05  # ... or rejects ...
    phone_error: float = 0.01  # ... or the phone fails; otherwise the ring times out
    too_late: float = 0.03  # a missed ring answered just after it stopped
    pick_up_s: tuple[float, float] = (2.0, 12.0)
    talk_mean_s: float = 170.0
    patience_mean_s: float = 75.0
    press_key: float = 0.88
    leave_voicemail: float = 0.45
    rate_survey: float = 0.4
    customer_hangs_up: float = 0.65
    call_back: float = 0.35
    tag_calls: float = 0.5
    transfer: float = 0.05  # an answered inbound call handed on to another free agent (S6)
    anonymous: float = 0.02
    blacklisted: float = 0.01
    repeat_caller: float = 0.3
    snoozes_per_agent_day: float = 2.0
    shift: tuple[int, int] = (8, 19)  # local hours agents are connected on weekdays
    saturday_share: float = 0.25


class Simulator:
    def __init__(self, center: CallCenter, rng: random.Random, *, inbound_numbers: Sequence[str],
                 agents: Sequence[str], direct_numbers: Sequence[str] = (), time_zone: str = "UTC",
                 blocked_numbers: Sequence[str] = (),
                 behaviour: Behaviour | None = None, sink: Callable[[Reaction], None] | None = None,
                 id_prefix: str = "sim", responds: bool = True, tags: Sequence[str] = ()) -> None:
        self.center = center
        self.rng = rng
        self.numbers = list(inbound_numbers)
        self.direct_numbers = list(direct_numbers)
        self.tags = list(tags)
        self.agents = list(agents)
        self.zone = ZoneInfo(time_zone)
        self.blocked = list(blocked_numbers)
        self.behaviour = behaviour or Behaviour()
        self.sink = sink or (lambda reaction: None)
        # The engine's runtime hands every action back through respond(); alone, the
        # simulator answers the actions of its own inputs.
        self.responds = responds
        self.id_prefix = f"{id_prefix}-"
        self._heap: list[tuple[datetime, int, Callable[[], None]]] = []  # (when, order, what)
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self._customers: list[str] = []
        self._connected: set[str] = set()
        self._digits: dict[str, str] = {}
        self._planned_until: datetime | None = None
        self._stopped = False
        self._online: set[str] = set()
        self._transferred: set[str] = set()  # calls handed on once already: not again
        self._rest_of_talk: dict[str, float] = {}  # a transferred call: what its next agent talks
        self.calls_started = 0

    # ------------------------------------------------------------ the event heap

    def at(self, moment: datetime, work: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (moment, next(self._seq), work))

    def after(self, seconds: float, work: Callable[[], None]) -> None:
        self.at(self.center.clock.now() + timedelta(seconds=max(0.0, seconds)), work)

    def _react(self, reaction: Reaction) -> None:
        self.sink(reaction)
        if self.responds:
            for action in reaction.actions:
                self.respond(action)
        for event in reaction.events:
            if isinstance(event, CallEnded):
                self._after_call(event.call)

    # ------------------------------------------------------------ after a call: callbacks

    def _after_call(self, call: CallSummary) -> None:
        """A missed customer is often called back by an agent a little later (L4, S2)."""
        self._transferred.discard(call.call_id)
        self._rest_of_talk.pop(call.call_id, None)
        if (call.direction == Direction.IN and call.type == CallType.MISSED
                and call.ended_by == EndedBy.CUSTOMER  # not the blacklisted or refused ones
                and call.from_number.startswith("+")
                and self.rng.random() < self.behaviour.call_back):
            self.after(self.rng.uniform(120, 5400), lambda: self._call_back(call.from_number, call.to_number))

    def _call_back(self, customer: str, our_number: str) -> None:
        if self._stopped:
            return
        free = [email for email in self.agents if email in self._online
                and self.center.agent_state(email) == AgentState.FREE]
        if not free:
            return
        call_id, agent = f"{self.id_prefix}cb{next(self._ids)}", self.rng.choice(free)
        self._react(self.center.outbound_call(call_id, agent, customer, our_number))
        if self.rng.random() < 0.7:
            self.after(self.rng.uniform(5, 15), lambda: self._customer_answers(call_id, agent))
        else:
            self.after(25, lambda: self._agent_hangs_up(call_id, agent))

    def _customer_answers(self, call_id: str, agent: str) -> None:
        self._input(self.center.outbound_answered, call_id)
        self._connected.add(call_id)
        talk = self.rng.lognormvariate(math.log(self.behaviour.talk_mean_s) - 0.7, 0.8)
        self.after(talk, lambda: self._agent_hangs_up(call_id, agent))

    def _input(self, method: Callable[..., Reaction], *args: Any) -> None:
        """Feed the core an input if the call or agent it names is still there."""
        named = args[0] if args and isinstance(args[0], str) else ""
        call_id = named if named.startswith(self.id_prefix) else None
        if call_id is not None and call_id not in self.center.calls:
            return
        self._react(method(*args))

    # ------------------------------------------------------------ running

    def run_until(self, end: datetime, set_clock: Callable[[datetime], None] | None = None) -> None:
        """Execute everything due up to `end`, in time order, firing the core's timers between."""
        clock = self.center.clock
        move = set_clock or (clock.set if isinstance(clock, FakeClock) else (lambda moment: None))
        self._plan(end)
        while True:
            next_event = self._heap[0][0] if self._heap else None
            next_timer = self.center.next_timer_at()
            due = min((t for t in (next_event, next_timer) if t is not None), default=None)
            if due is None or due > end:
                break
            move(max(due, clock.now()))
            if next_timer is not None and next_timer <= due:
                self._react(self.center.advance())
            if self._heap and self._heap[0][0] <= clock.now():
                heapq.heappop(self._heap)[2]()
        move(max(end, clock.now()))
        self._react(self.center.advance())

    async def run_live(self, poll_s: float = 0.05) -> None:
        """Follow the center's own (scaled) clock in real time, until cancelled."""
        import asyncio

        while True:
            self.run_until(self.center.clock.now(), set_clock=lambda moment: None)
            await asyncio.sleep(poll_s)

    def _plan(self, end: datetime) -> None:
        """Arrivals and the agents' days up to `end`, an hour at a time."""
        start = self._planned_until or self.center.clock.now()
        hour = start.replace(minute=0, second=0, microsecond=0)
        if self._planned_until is None:
            self._plan_agents_now(start)
        while hour < end:
            if self._planned_until is None or hour >= self._planned_until:
                self._plan_hour(hour)
            hour += timedelta(hours=1)
        self._planned_until = max(hour, self._planned_until or hour)

    def _plan_hour(self, hour: datetime) -> None:
        local = hour.astimezone(self.zone)
        rate = (self.behaviour.calls_per_busy_hour * WEEKDAY_HOURS[local.hour]
                * DAY_FACTORS[local.weekday()])
        for _ in range(_poisson(self.rng, rate)):
            self.at(hour + timedelta(seconds=self.rng.uniform(0, 3600)), self._arrival)
        self._plan_shift_edges(hour, local)

    # ------------------------------------------------------------ agents' days

    def _works(self, email: str, local: datetime) -> bool:
        start, end = self.behaviour.shift
        if not start <= local.hour < end or local.weekday() == 6:
            return False
        if local.weekday() == 5:
            return local.hour < 13 and _stable_share(email, self.behaviour.saturday_share)
        return True

    def _plan_agents_now(self, now: datetime) -> None:
        local = now.astimezone(self.zone)
        for email in self.agents:
            if self._works(email, local):
                self._connect(email)

    def _plan_shift_edges(self, hour: datetime, local: datetime) -> None:
        for email in self.agents:
            works, worked = self._works(email, local), self._works(email, local - timedelta(hours=1))
            jitter = timedelta(seconds=self.rng.uniform(-600, 600))
            if works and not worked:
                self.at(max(hour + jitter, hour), lambda e=email: self._connect(e))
            elif worked and not works:
                self.at(hour + abs(jitter), lambda e=email: self._disconnect(e))
            if works and self.rng.random() < self.behaviour.snoozes_per_agent_day / 10:
                self.at(hour + timedelta(seconds=self.rng.uniform(0, 3600)),
                        lambda e=email: self._snooze(e))

    def _connect(self, email: str) -> None:
        if email in self._online:
            return
        self._online.add(email)
        self._input(self.center.agent_connected, email, self.rng.choice(INTERFACES))

    def _disconnect(self, email: str) -> None:
        self._online.discard(email)
        self._input(self.center.agent_disconnected, email)

    def _snooze(self, email: str) -> None:
        if email not in self._online:
            return
        reason = self.rng.choice(SNOOZE_REASONS)
        self._input(self.center.snooze, email, reason)
        minutes = {"Lunch": 45, "Break": 10, "Meeting": 30, "Training": 60}[reason]
        back = self.rng.uniform(0.6, 1.4) * minutes * 60
        self.after(back, lambda: self._input(self.center.unsnooze, email))

    # ------------------------------------------------------------ customers

    def _caller(self) -> str:
        behaviour = self.behaviour
        draw = self.rng.random()
        if draw < behaviour.anonymous:
            return "anonymous"
        if draw < behaviour.anonymous + behaviour.blacklisted and self.blocked:
            return self.rng.choice(self.blocked)
        if self._customers and self.rng.random() < behaviour.repeat_caller:
            return self.rng.choice(self._customers)
        prefix, digits, _ = self.rng.choices(COUNTRY_PREFIXES, [w for _, _, w in COUNTRY_PREFIXES])[0]
        while True:  # a real, valid number of that country
            number = prefix + "".join(self.rng.choice("0123456789") for _ in range(digits))
            if phonenumbers.is_valid_number(phonenumbers.parse(number)):
                self._customers.append(number)
                return number

    def _destination(self) -> str | None:
        """Most customers call an IVR; some dial an agent's direct line."""
        use_direct = self.direct_numbers and (
            not self.numbers or self.rng.random() >= self.behaviour.ivr_share)
        pool = self.direct_numbers if use_direct else self.numbers
        return self.rng.choice(pool) if pool else None

    def stop_calls(self) -> None:
        """No new calls from now on (callbacks included); those in progress go on to their end."""
        self.numbers, self.direct_numbers = [], []
        self._stopped = True

    def _arrival(self) -> None:
        to_number = self._destination()
        if to_number is None:
            return
        call_id = f"{self.id_prefix}{next(self._ids)}"
        self.calls_started += 1
        self._react(self.center.call_arrived(call_id, self._caller(), to_number))
        patience = self.rng.expovariate(1 / self.behaviour.patience_mean_s)
        self.after(patience, lambda: self._give_up(call_id))

    def _give_up(self, call_id: str) -> None:
        if call_id not in self._connected:
            self._input(self.center.caller_hung_up, call_id)

    # ------------------------------------------------------------ answering the core's actions

    def respond(self, action: act.Action) -> None:
        """Have the simulated people react to what the core asks (ring, connect, ...)."""
        handler = _RESPONSES.get(type(action))
        if handler is not None:
            handler(self, action)

    def _ring(self, action: act.RingAgent) -> None:
        b, draw = self.behaviour, self.rng.random()
        call_id, email = action.call_id, action.agent
        low, high = b.pick_up_s
        if draw < b.answer:
            delay = self.rng.uniform(low, min(high, max(low, action.ring_s - 0.5)))
            self.after(delay, lambda: self._pick_up(call_id, email))
        elif draw < b.answer + b.reject:
            reject = self.center.agent_rejected
            self.after(self.rng.uniform(1, 5), lambda: self._input(reject, call_id, email))
        elif draw < b.answer + b.reject + b.phone_error:
            self.after(0.5, lambda: self._input(self.center.agent_ring_failed, call_id, email, "488"))
        elif draw < b.answer + b.reject + b.phone_error + b.too_late:
            self.after(action.ring_s + 0.5, lambda: self._late_answer(call_id, email))

    def _pick_up(self, call_id: str, email: str) -> None:
        """Most agents see a ring-all call taken by a colleague and leave it; a few still try."""
        if call_id in self._connected and self.rng.random() < 0.9:
            return
        self._input(self.center.agent_answered, call_id, email)

    def _late_answer(self, call_id: str, email: str) -> None:
        """The agent picks up after the ring stopped: the core files it as TOOLATE."""
        with contextlib.suppress(CoreError):  # a call the core no longer remembers
            self._react(self.center.agent_answered(call_id, email))

    def _connected_to(self, action: act.ConnectAgent) -> None:
        call_id, email = action.call_id, action.agent
        self._connected.add(call_id)
        if self.tags and self.rng.random() < self.behaviour.tag_calls:
            chosen = self.rng.sample(self.tags, k=min(len(self.tags), self.rng.choice((1, 1, 2))))
            self.after(self.rng.uniform(5, 60), lambda: self._input(self.center.tag_call, call_id, chosen))
        talk = self.rng.lognormvariate(math.log(self.behaviour.talk_mean_s) - 0.5, 1.0)
        # a transferred call lasts what it would have: the target (or the recalled agent) talks the rest
        talk = self._rest_of_talk.pop(call_id, talk)
        if self._transfers(call_id):
            self._transferred.add(call_id)
            self.after(min(talk, 300) / 2, lambda: self._transfer(call_id, email, talk / 2))
            return
        self._talk_ends(call_id, email, talk)

    def _talk_ends(self, call_id: str, email: str, talk: float) -> None:
        if self.rng.random() < self.behaviour.customer_hangs_up:
            self.after(talk, lambda: self._hang_up(call_id))
        else:
            self.after(talk, lambda: self._agent_hangs_up(call_id, email))

    def _transfers(self, call_id: str) -> bool:
        """Whether the agent hands this call on: a share of inbound calls decided by the call id alone
        (the random stream stays the same as without transfers until the first one happens)."""
        share = self.behaviour.transfer
        if not share or call_id in self._transferred:
            return False
        return zlib.crc32(call_id.encode()) % 10_000 < share * 10_000

    def _transfer(self, call_id: str, email: str, talk: float) -> None:
        """The agent hands the call to a free colleague (the core rings them; if they do not answer,
        the call comes back); with nobody free, the agent keeps it."""
        call = self.center.calls.get(call_id)
        if call is None or call.agent != email:
            return
        target = self._free_colleague(email)
        if target is None:
            self._talk_ends(call_id, email, talk)
            return
        self._rest_of_talk[call_id] = talk
        try:
            self._react(self.center.transfer(call_id, email, target))
        except CoreError:  # a colleague the configuration no longer has
            self._talk_ends(call_id, email, talk)

    def _free_colleague(self, email: str) -> str | None:
        """A free agent other than `email`: the first one from a random place in the list (reading
        every agent's state on every transfer would cost a 200-agent day a noticeable share)."""
        count = len(self.agents)
        start = self.rng.randrange(count) if count else 0
        for index in range(count):
            other = self.agents[(start + index) % count]
            if other != email and other in self._online and self.center.agent_state(other) == AgentState.FREE:
                return other
        return None

    def _hang_up(self, call_id: str) -> None:
        self._input(self.center.caller_hung_up, call_id)

    def _agent_hangs_up(self, call_id: str, email: str) -> None:
        self._input(self.center.agent_hung_up, call_id, email)

    def _digits_wanted(self, action: act.CollectDigits) -> None:
        call_id = action.call_id
        if call_id in self._connected:  # after an agent: the survey
            if self.rng.random() < self.behaviour.rate_survey:
                rating = str(self.rng.choices("12345", (0.05, 0.07, 0.15, 0.35, 0.38))[0])
                self.after(self.rng.uniform(1, 4), lambda: self._input(self.center.dtmf, call_id, rating))
            else:
                self.after(self.rng.uniform(0.5, 2), lambda: self._hang_up(call_id))
        elif self.rng.random() < self.behaviour.press_key:
            digit = self.rng.choice("1112223")
            self.after(self.rng.uniform(1, 5), lambda: self._input(self.center.dtmf, call_id, digit))

    def _voicemail(self, action: act.StartVoicemail) -> None:
        call_id = action.call_id
        self._connected.add(call_id)  # no more giving up: the caller talks to the box or leaves
        if self.rng.random() < self.behaviour.leave_voicemail:
            self.after(self.rng.uniform(10, 45), lambda: self._hang_up(call_id))
        else:
            self.after(self.rng.uniform(1, 4), lambda: self._hang_up(call_id))

    def _forwarded(self, action: act.ForwardTo) -> None:
        self._connected.add(action.call_id)
        self.after(self.rng.lognormvariate(math.log(self.behaviour.talk_mean_s) - 0.5, 1.0),
                   lambda: self._hang_up(action.call_id))

    def _transferred_out(self, action: act.TransferOut) -> None:
        """A transfer to an external number (the feed's): the number answers at once, talks, hangs up."""
        call_id = action.call_id

        def answered() -> None:
            call = self.center.calls.get(call_id)
            if call is not None and call.pending_transfer is not None:
                self._react(self.center.external_answered(call_id))
                self._forwarded(act.ForwardTo(call_id, action.number))

        self.after(0, answered)

    def _ended(self, action: act.HangUp) -> None:
        self._connected.discard(action.call_id)


_RESPONSES: dict[type, Callable[[Simulator, Any], None]] = {
    act.RingAgent: Simulator._ring,
    act.ConnectAgent: Simulator._connected_to,
    act.CollectDigits: Simulator._digits_wanted,
    act.StartVoicemail: Simulator._voicemail,
    act.ForwardTo: Simulator._forwarded,
    act.TransferOut: Simulator._transferred_out,
    act.HangUp: Simulator._ended,
}


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method for small means, a rounded normal beyond."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def _stable_share(key: str, share: float) -> bool:
    """The same yes/no for the same key in every run (a stable slice of the agents)."""
    return (sum(map(ord, key)) % 100) < share * 100


def blocked_samples(entries: frozenset[tuple[str, str, str | None]]) -> list[str]:
    """Caller numbers the blacklist refuses inbound (a prefix entry gets a number under it)."""
    samples = []
    for number, direction, owner in entries:
        if owner is None and direction in ("in", "both"):
            samples.append(number.rstrip("*") + "1234567"[: max(0, 12 - len(number))])
    return sorted(samples)  # a set's order changes with every process: the seed alone decides


def simulator_for(center: CallCenter, config: CenterConfig, rng: random.Random, **options: Any) -> Simulator:
    """A simulator calling the account's IVR numbers and direct lines, with its agents."""
    return Simulator(center, rng, inbound_numbers=[n for s in config.scenarios for n in s.numbers],
                     direct_numbers=list(config.direct_lines), agents=[a.email for a in config.agents],
                     time_zone=config.timezone, blocked_numbers=blocked_samples(config.blacklist.entries),
                     tags=config.tags, **options)
