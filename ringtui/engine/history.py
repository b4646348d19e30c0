"""Past traffic for a new account: the simulator replays N days on the real core,
fast-forwarded, and the recorder writes every call (E5; `ringtui init --demo`)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from ringtui.engine.config import load_config
from ringtui.engine.core.center import CallCenter, Reaction
from ringtui.engine.core.clock import FakeClock
from ringtui.engine.core.events import CallStarted
from ringtui.engine.recorder import Recorder
from ringtui.engine.simulator import Behaviour, Simulator

FLUSH_EVERY = 5000  # events per transaction


@dataclass(frozen=True)
class HistoryReport:
    days: int
    calls: int
    events: int
    first_day: str
    last_day: str


def blocked_samples(entries: frozenset[tuple[str, str, str | None]]) -> list[str]:
    """Caller numbers the blacklist refuses inbound (a prefix entry gets a number under it)."""
    samples = []
    for number, direction, owner in entries:
        if owner is None and direction in ("in", "both"):
            samples.append(number.rstrip("*") + "1234567"[: max(0, 12 - len(number))])
    return samples


def simulate_history(database: Engine, *, days: int, seed: int, end: datetime,
                     behaviour: Behaviour | None = None) -> HistoryReport:
    """Replay `days` days of traffic ending at `end`; every call is recorded."""
    config = load_config(database)
    zone = ZoneInfo(config.timezone)
    start_local = (end.astimezone(zone) - timedelta(days=days)).replace(hour=0, minute=0, second=0,
                                                                      microsecond=0)
    clock = FakeClock(start_local.astimezone(end.tzinfo))
    center = CallCenter(clock, time_zone=config.timezone, rng=random.Random(seed))
    center.load_agents(config.agents)
    center.load_scenarios(config.scenarios)
    center.load_direct_lines(config.direct_lines)
    center.set_blacklist(config.blacklist.blocks)
    recorder = Recorder(database)
    counted = {"events": 0, "calls": 0}

    def record(reaction: Reaction) -> None:
        for event in reaction.events:
            recorder.handle(event)
            counted["events"] += 1
            counted["calls"] += isinstance(event, CallStarted)
        if recorder.pending >= FLUSH_EVERY:
            recorder.flush()

    simulator = Simulator(center, random.Random(seed),
                          inbound_numbers=[n for s in config.scenarios for n in s.numbers],
                          direct_numbers=list(config.direct_lines),
                          agents=[a.email for a in config.agents], time_zone=config.timezone,
                          blocked_numbers=blocked_samples(config.blacklist.entries),
                          behaviour=behaviour, sink=record)
    simulator.run_until(end)
    simulator.stop_calls()  # let the last ones finish
    simulator.run_until(end + timedelta(hours=2))
    recorder.flush()
    return HistoryReport(days=days, calls=counted["calls"], events=counted["events"],
                         first_day=start_local.date().isoformat(),
                         last_day=end.astimezone(zone).date().isoformat())
