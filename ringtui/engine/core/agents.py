"""Agents as the core sees them: configuration (replaceable) and live facts.

An agent's state is never stored: it is derived from its facts, so that exactly one
state holds at a time (free, ringing, in_call, after_call_work, snooze, off,
out_of_schedule). Routing reads the facts, not the displayed state: an agent with two
channels and call waiting is in_call and still reachable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ringtui.engine.core.hours import is_within, week_hours
from ringtui.engine.core.scenario import WeekHours
from ringtui.vocab import AgentState, Outcome


@dataclass(frozen=True)
class AgentConfig:
    email: str
    name: str = ""
    groups: tuple[str, ...] = ()
    max_channels: int = 1
    after_call_work_s: float = 0.0
    call_waiting: bool = False
    schedule: WeekHours | None = None  # None = no personal schedule: always on duty
    ring_s: float = 20.0  # how long a direct call rings this agent (U5)
    weight: int = 1  # weighted-random
    snooze_reason: str | None = None  # snoozed when first loaded (state kept across restarts)
    # recording policy (U4, U5): whether the agent's calls may be recorded, what share of them,
    # and whether direct-line calls are recorded by default
    record_conversations: bool = True
    recorded_percent: int = 100
    record_by_default: bool = False

    @classmethod
    def of(cls, email: str, *, groups: Iterable[str] = (), schedule: Mapping | None = None,
           **settings: object) -> AgentConfig:
        """Build from plain data (lists, JSON-shaped schedule)."""
        return cls(email=email, groups=tuple(groups), schedule=week_hours(schedule), **settings)  # type: ignore[arg-type]


@dataclass
class Agent:
    """One agent's live facts."""

    config: AgentConfig
    order: int  # position in the configuration: stable tie-breaker
    interface: str | None = None
    device: str | None = None  # what the agent is connected with, e.g. a SIP phone's User-Agent
    snooze_reason: str | None = None
    snoozed_at: datetime | None = None
    ringing: set[str] = field(default_factory=set)  # call ids
    in_calls: set[str] = field(default_factory=set)
    after_call_work_until: datetime | None = None
    last_call_end: datetime | None = None
    calls_today: int = 0
    talk_today_s: float = 0.0
    day: date | None = None
    unanswered_in_a_row: int = 0
    shown: tuple[AgentState, str | None, str | None] | None = None  # last state announced
    since: datetime | None = None
    retired: bool = False  # removed from the configuration while still in a call
    offered_key: float | None = None  # idle key last offered to the IdleIndex (None = not offered)

    @property
    def email(self) -> str:
        return self.config.email

    def on_schedule(self, now: datetime, zone: ZoneInfo) -> bool:
        return is_within(self.config.schedule, now, zone)

    def in_after_call_work(self, now: datetime) -> bool:
        return self.after_call_work_until is not None and now < self.after_call_work_until

    def state(self, now: datetime, zone: ZoneInfo) -> AgentState:
        if self.interface is None:
            return AgentState.OFF
        if self.in_calls:
            return AgentState.IN_CALL
        if self.ringing:
            return AgentState.RINGING
        if self.snooze_reason is not None:
            return AgentState.SNOOZE
        if self.in_after_call_work(now):
            return AgentState.AFTER_CALL_WORK
        if not self.on_schedule(now, zone):
            return AgentState.OUT_OF_SCHEDULE
        return AgentState.FREE

    def has_channel(self) -> bool:
        """A channel left for one more call: max_channels, and call waiting when already talking."""
        if self.in_calls and not self.config.call_waiting:
            return False
        return len(self.in_calls) + len(self.ringing) < self.config.max_channels

    def refusal(self, now: datetime, zone: ZoneInfo) -> Outcome | None:
        """Why this agent cannot be rung now (an S5 outcome), or None when it can."""
        if self.retired or self.interface is None:
            return Outcome.NOTCONNECTED
        if self.snooze_reason is not None:
            return Outcome.SNOOZE
        if not self.on_schedule(now, zone):
            return Outcome.PLANNING
        # after-call work is part of handling the previous call: counted as INCALL
        if self.in_after_call_work(now) or not self.has_channel():
            return Outcome.INCALL
        return None

    def idle_key(self) -> float:
        """Longest-idle key: when the last call ended (never called = idle forever)."""
        return self.last_call_end.timestamp() if self.last_call_end else float("-inf")

    def busy_idle_key(self) -> tuple[bool, float]:
        """Longest-idle order over busy agents too: one on a call or ringing is not idle at all."""
        return bool(self.in_calls or self.ringing), self.idle_key()

    def roll_day(self, today: date) -> None:
        if self.day != today:
            self.day, self.calls_today, self.talk_today_s = today, 0, 0.0
