"""Today's live KPIs (A1), kept up to date from the calls that end.

Service level = answered inbound / inbound; waits and talk times in seconds.
The figures restart at midnight in the account's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ringtui.engine.core.events import CallSummary
from ringtui.vocab import CallType, Direction


@dataclass
class LiveKpis:
    zone: ZoneInfo
    day: date | None = None
    inbound: int = 0
    answered_in: int = 0
    wait_answered_s: float = 0.0
    max_wait_s: float = 0.0
    abandoned: int = 0
    wait_abandoned_s: float = 0.0
    talk_in_s: float = 0.0
    outbound: int = 0
    talk_out_s: float = 0.0

    def add(self, call: CallSummary) -> None:
        self._roll(call.ended_at)
        if call.direction == Direction.OUT:
            self.outbound += 1
            self.talk_out_s += call.talk_s
            return
        self.inbound += 1
        self.max_wait_s = max(self.max_wait_s, call.wait_s)
        if call.type == CallType.ANSWERED:
            self.answered_in += 1
            self.wait_answered_s += call.wait_s
            self.talk_in_s += call.talk_s
        else:
            self.abandoned += 1
            self.wait_abandoned_s += call.wait_s

    def _roll(self, moment: datetime) -> None:
        today = moment.astimezone(self.zone).date()
        if today != self.day:
            zone = self.zone
            self.__dict__.update(LiveKpis(zone=zone, day=today).__dict__)

    def figures(self, now: datetime) -> dict[str, Any]:
        self._roll(now)

        def ratio(total: float, count: int) -> float | None:
            return round(total / count, 1) if count else None

        return {
            "type": "kpi", "at": now, "day": self.day.isoformat() if self.day else None,
            "inbound_calls": self.inbound, "answered_calls": self.answered_in,
            "missed_calls": self.abandoned, "outbound_calls": self.outbound,
            "service_level": round(self.answered_in / self.inbound, 4) if self.inbound else None,
            "avg_wait_s": ratio(self.wait_answered_s, self.answered_in),
            "avg_abandon_s": ratio(self.wait_abandoned_s, self.abandoned),
            "max_wait_s": round(self.max_wait_s, 1),
            "avg_talk_in_s": ratio(self.talk_in_s, self.answered_in),
            "avg_talk_out_s": ratio(self.talk_out_s, self.outbound),
        }
