"""Periods and hour windows of the call filters (S6), in the account's time zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from ringtui.errors import Invalid
from ringtui.services.filters import Period, hour_windows, parse_hours, parse_period

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 4, 23, 30, tzinfo=UTC)  # Thursday Nov 5, 00:30 in Paris


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(("name", "start", "end"), [
    ("today", utc(11, 4, 23), utc(11, 5, 23)),
    ("yesterday", utc(11, 3, 23), utc(11, 4, 23)),
    ("this-week", utc(11, 1, 23), utc(11, 8, 23)),          # Monday Nov 2 .. Monday Nov 9
    ("last-week", utc(10, 25, 23), utc(11, 1, 23)),
    ("this-month", utc(10, 31, 23), utc(11, 30, 23)),
    ("last-month", utc(9, 30, 22), utc(10, 31, 23)),         # October starts in summer time
    ("2026-10-25..2026-10-25", utc(10, 24, 22), utc(10, 25, 23)),  # the 25-hour day
    ("2026-03-29..2026-03-29", utc(3, 28, 23), utc(3, 29, 22)),    # the 23-hour day
])
def test_periods_are_local_days_as_utc_bounds(name, start, end):
    assert parse_period(name, PARIS, NOW) == Period(start, end)


def test_today_depends_on_the_account_time_zone():
    assert parse_period("today", ZoneInfo("UTC"), NOW) == Period(utc(11, 4, 0), utc(11, 5, 0))


@pytest.mark.parametrize("text", ["tomorrow", "2026-11-02", "2026-11-02..2026-11-01",
                                  "2026-02-30..2026-03-01"])
def test_bad_periods_are_refused_naming_them(text):
    with pytest.raises(Invalid, match=re.escape(repr(text))):
        parse_period(text, PARIS, NOW)


def test_hours_parse_with_24_00_and_refuse_nonsense():
    assert parse_hours("09:00-18:30") == (time(9), time(18, 30))
    assert parse_hours("18:00-24:00") == (time(18), None)
    for bad in ("9-18", "09:00-09:00", "24:00-01:00", "09:60-10:00", "09:00 18:00"):
        with pytest.raises(Invalid, match=bad):
            parse_hours(bad)


def test_hour_windows_follow_daylight_saving_time():
    period = parse_period("2026-10-24..2026-10-26", PARIS, NOW)
    windows = hour_windows(period, parse_hours("09:00-10:00"), PARIS)
    assert windows == [Period(utc(10, 24, 7), utc(10, 24, 8)), Period(utc(10, 25, 8), utc(10, 25, 9)),
                       Period(utc(10, 26, 8), utc(10, 26, 9))]


def test_hour_windows_spanning_midnight_are_clipped_to_the_period():
    period = parse_period("2026-11-02..2026-11-03", PARIS, NOW)
    windows = hour_windows(period, parse_hours("22:00-02:00"), PARIS)
    assert windows == [Period(utc(11, 1, 23), utc(11, 2, 1)),   # Nov 2 00:00-02:00 local
                       Period(utc(11, 2, 21), utc(11, 3, 1)),   # Nov 2 22:00 - Nov 3 02:00
                       Period(utc(11, 3, 21), utc(11, 3, 23))]  # Nov 3 22:00 - end of period
