"""Where the core reads the time: injected, so tests and the simulator own it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, UTC-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _aware(start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back: advance({seconds}) needs seconds >= 0")
        self._now += timedelta(seconds=seconds)
        return self._now

    def set(self, moment: datetime) -> datetime:
        moment = _aware(moment)
        if moment < self._now:
            raise ValueError(f"a clock cannot go back: {moment.isoformat()} is before "
                             f"{self._now.isoformat()}")
        self._now = moment
        return self._now


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no time zone: give a UTC-aware datetime")
    return moment.astimezone(UTC)


class ScaledClock:
    """Time that runs `speed` times faster than the wall clock, from `start` (the simulator's live mode)."""

    def __init__(self, speed: float, start: datetime | None = None) -> None:
        import time

        if speed <= 0:
            raise ValueError(f"speed {speed}: give a positive factor, e.g. 1 or 60")
        self.speed = speed
        self._start = _aware(start or datetime.now(UTC))
        self._monotonic = time.monotonic
        self._began = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(self._monotonic() - self._began) * self.speed)
