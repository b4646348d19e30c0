"""Weekly hours (IVR opening hours, agents' personal schedules) evaluated in a time zone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from ringtui.engine.core.scenario import WeekHours

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def week_hours(raw: Mapping[str, Iterable[Iterable[str]]] | None) -> WeekHours | None:
    """{"mon": [["09:00", "18:00"]]} (lists from JSON) -> the immutable form; None = always open."""
    if raw is None:
        return None
    hours: WeekHours = {}
    for day, ranges in raw.items():
        if day not in DAYS:
            raise ValueError(f"unknown day {day!r}: use one of {', '.join(DAYS)}")
        spans = tuple((str(start), str(end)) for start, end in ranges)
        for start, end in spans:
            if not (_valid(start) and _valid(end) and start < end):
                raise ValueError(f"bad hours {start}-{end} on {day}: use HH:MM-HH:MM with start before end")
        hours[day] = spans
    return hours


def is_within(hours: WeekHours | None, moment: datetime, zone: ZoneInfo) -> bool:
    """Whether `moment` falls inside `hours` read in `zone` (end of a range excluded)."""
    if hours is None:
        return True
    local = moment.astimezone(zone)
    clock = local.strftime("%H:%M")
    return any(start <= clock < end for start, end in hours.get(DAYS[local.weekday()], ()))


def _valid(text: str) -> bool:
    if len(text) != 5 or text[2] != ":" or not (text[:2] + text[3:]).isdigit():
        return False
    return int(text[:2]) <= 24 and int(text[3:]) < 60 and (text[:2] != "24" or text == "24:00")
