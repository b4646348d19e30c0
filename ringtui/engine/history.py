"""Past traffic for a new account: the simulator replays N days on the real core,
fast-forwarded, and the recorder writes every call (E5; `ringtui init --demo`); SMS, meetings
and omnichannel messages of the same days are written beside them (engine/message_history)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from ringtui.config import Settings
from ringtui.db import engine_for
from ringtui.engine.config import load_config
from ringtui.engine.core.center import CallCenter, Reaction
from ringtui.engine.core.clock import FakeClock
from ringtui.engine.core.events import CallStarted
from ringtui.engine.message_history import seed_message_history
from ringtui.engine.recorder import Recorder
from ringtui.engine.simulator import Behaviour, simulator_for

FLUSH_EVERY = 5000  # events per transaction


@dataclass(frozen=True)
class HistoryReport:
    days: int
    calls: int
    events: int
    first_day: str
    last_day: str
    sms: int = 0
    meetings: int = 0
    omni_messages: int = 0


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

    simulator = simulator_for(center, config, random.Random(seed), behaviour=behaviour, sink=record,
                              id_prefix=f"hist{start_local:%Y%m%d}")
    simulator.run_until(end)
    simulator.stop_calls()  # let the last ones finish
    simulator.run_until(end + timedelta(hours=2))
    recorder.flush()
    messages = seed_message_history(database, first_day=start_local.date(),
                                    last_day=end.astimezone(zone).date(), seed=seed, end=end)
    return HistoryReport(days=days, calls=counted["calls"], events=counted["events"],
                         first_day=start_local.date().isoformat(),
                         last_day=end.astimezone(zone).date().isoformat(), sms=messages.sms,
                         meetings=messages.meetings, omni_messages=messages.omni_messages)


def simulate_recent_history(settings: Settings, *, days: int, seed: int) -> HistoryReport:
    """`days` days of traffic up to an hour ago, on the settings' database."""
    database = engine_for(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    return simulate_history(database, days=days, seed=seed, end=datetime.now(UTC) - timedelta(hours=1))
