"""`ringtui stats history` (S3) and `stats heatmap` (S4) on a history around both 2026
daylight-saving changes of Europe/Paris (the FR account's zone), buckets computed by hand.

Spring: 2026-03-29 01:00 UTC, local 02:00 CET jumps to 03:00 CEST.
Autumn: 2026-10-25 01:00 UTC, local 03:00 CEST falls back to 02:00 CET (02:00-03:00 happens twice).

  id  UTC               local                    dir  type      wait talk
  d3  Mar 28 23:30      Sun Mar 29 00:30 CET     in   answered  30   50
  d1  Mar 29 00:30      Sun Mar 29 01:30 CET     in   answered  10   100
  d2  Mar 29 01:30      Sun Mar 29 03:30 CEST    in   missed    20
  d4  Mar 29 22:30      Mon Mar 30 00:30 CEST    out  answered       40
  e3  Oct 24 22:30      Sun Oct 25 00:30 CEST    in   answered  8    20
  e1  Oct 25 00:30      Sun Oct 25 02:30 CEST    in   answered  4    60
  e2  Oct 25 01:30      Sun Oct 25 02:30 CET     in   missed    6
  e4  Oct 25 23:30      Mon Oct 26 00:30 CET     in   answered  2    10
"""

from __future__ import annotations

import re

import pytest

from ringtui.db import engine_for
from ringtui.engine.recorder import record_all
from ringtui.vocab import CallKind, CallType, Direction, Outcome
from tests.commands import test_calls as base
from tests.commands.test_calls import ANA, at, build_center, call
from tests.conftest import ok, refused

base.register_commands()

IN, OUT, DIRECT = Direction.IN, Direction.OUT, CallKind.DIRECT
ANSWERED, MISSED = CallType.ANSWERED, CallType.MISSED
CUSTOMER = "+33612345678"


def _answered(call_id: str, start, wait: float, talk: float, direction: Direction = IN):
    outcome = Outcome.ANSWERED if direction == IN else Outcome.OUT
    return call(call_id, start, direction, DIRECT, CUSTOMER, type_=ANSWERED, agent=ANA, wait=wait, talk=talk,
                attempts=((ANA, outcome),))


def _missed(call_id: str, start, wait: float):
    return call(call_id, start, IN, DIRECT, CUSTOMER, type_=MISSED, wait=wait,
                attempts=((ANA, Outcome.NO_ANSWER),))


DST_HISTORY = [
    _answered("d3", at(28, 23, 30, month=3), 30, 50),
    _answered("d1", at(29, 0, 30, month=3), 10, 100),
    _missed("d2", at(29, 1, 30, month=3), 20),
    _answered("d4", at(29, 22, 30, month=3), 0, 40, direction=OUT),
    _answered("e3", at(24, 22, 30, month=10), 8, 20),
    _answered("e1", at(25, 0, 30, month=10), 4, 60),
    _missed("e2", at(25, 1, 30, month=10), 6),
    _answered("e4", at(25, 23, 30, month=10), 2, 10),
]


@pytest.fixture
def dst(cli, db_url):
    build_center(cli)
    record_all(engine_for(db_url), DST_HISTORY)
    return cli


def history(cli, *args: str) -> dict:
    return ok(cli("stats", "history", *args, "--json")).json()


def heatmap(cli, *args: str) -> dict:
    return ok(cli("stats", "heatmap", *args, "--json")).json()


def valued(document: dict) -> dict[tuple[int, int], object]:
    """The heatmap cells that have a value (not null), by (weekday, hour)."""
    return {(c["weekday"], c["hour"]): c["value"] for c in document["cells"] if c["value"] is not None}


def points(document: dict) -> list[tuple[str, object]]:
    return [(point["start"], point["value"]) for point in document["points"]]


# ---------------------------------------------------------------- history


def test_days_are_local_days_across_both_changes(dst):
    document = history(dst, "--interval", "day")
    assert list(document) == ["indicator", "interval", "points"]
    assert (document["indicator"], document["interval"]) == ("total_calls", "day")
    assert all(list(point) == ["start", "value"] for point in document["points"])
    assert points(document) == [
        ("2026-03-28T23:00:00Z", 3),   # Sun Mar 29 from 00:00 CET: d3 d1 d2
        ("2026-03-29T22:00:00Z", 1),   # Mon Mar 30 from 00:00 CEST: d4
        ("2026-10-24T22:00:00Z", 3),   # Sun Oct 25 from 00:00 CEST: e3 e1 e2
        ("2026-10-25T23:00:00Z", 1),   # Mon Oct 26 from 00:00 CET: e4
    ]


def test_the_repeated_autumn_hour_is_two_hours(dst):
    document = history(dst, "--interval", "hour", "--period", "2026-10-25..2026-10-25")
    assert points(document) == [
        ("2026-10-24T22:00:00Z", 1),   # 00:00 CEST: e3
        ("2026-10-25T00:00:00Z", 1),   # 02:00 CEST: e1
        ("2026-10-25T01:00:00Z", 1),   # 02:00 CET, again: e2
    ]


def test_spring_hours_skip_the_missing_hour(dst):
    document = history(dst, "--interval", "hour", "--period", "2026-03-29..2026-03-29")
    assert points(document) == [
        ("2026-03-28T23:00:00Z", 1),   # 00:00 CET: d3
        ("2026-03-29T00:00:00Z", 1),   # 01:00 CET: d1
        ("2026-03-29T01:00:00Z", 1),   # 03:00 CEST: d2
    ]


def test_weeks_start_on_local_monday_and_months_on_the_first(dst):
    history(dst, "--interval", "day")  # same query shape: its SQL must not be reused for weeks
    weeks = history(dst, "--interval", "week")
    assert points(weeks) == [
        ("2026-03-22T23:00:00Z", 3),   # Mon Mar 23 00:00 CET
        ("2026-03-29T22:00:00Z", 1),   # Mon Mar 30 00:00 CEST
        ("2026-10-18T22:00:00Z", 3),   # Mon Oct 19 00:00 CEST
        ("2026-10-25T23:00:00Z", 1),   # Mon Oct 26 00:00 CET
    ]
    months = history(dst, "--interval", "month", "--indicator", "avg_wait_s")
    assert months["indicator"] == "avg_wait_s"
    assert points(months) == [
        ("2026-02-28T23:00:00Z", 20.0),  # (30 + 10) / 2 over answered inbound
        ("2026-09-30T22:00:00Z", 4.7),   # (8 + 4 + 2) / 3
    ]


def test_service_level_per_day_is_null_without_inbound_calls(dst):
    document = history(dst, "--interval", "day", "--indicator", "service_level")
    assert [value for _, value in points(document)] == [0.6667, None, 0.6667, 1.0]


def test_filters_apply_to_the_history(dst):
    document = history(dst, "--interval", "month", "--type", "missed")
    assert points(document) == [("2026-02-28T23:00:00Z", 1), ("2026-09-30T22:00:00Z", 1)]
    assert history(dst, "--interval", "day", "--period", "2026-01-01..2026-01-31")["points"] == []


def test_history_chart_in_local_time(dst):
    result = ok(dst("stats", "history", "--interval", "day", env={"NO_COLOR": "1"}))
    assert "total_calls per day (Europe/Paris)" in result.stdout
    assert "03-29" in result.stdout and "10-26" in result.stdout
    assert "\x1b[" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    empty = ok(dst("stats", "history", "--interval", "day", "--period", "2026-01-01..2026-01-31"))
    assert "No calls" in empty.stderr and empty.stdout == ""


# ---------------------------------------------------------------- heatmap


def test_heatmap_has_all_168_cells_by_local_weekday_and_hour(dst):
    document = heatmap(dst)
    assert list(document) == ["indicator", "cells"] and document["indicator"] == "total_calls"
    cells = document["cells"]
    assert all(list(cell) == ["weekday", "hour", "value"] for cell in cells)
    assert [(c["weekday"], c["hour"]) for c in cells] == [(d, h) for d in range(7) for h in range(24)]
    busy = {(c["weekday"], c["hour"]): c["value"] for c in cells if c["value"]}
    assert busy == {
        (6, 0): 2,   # d3 e3
        (6, 1): 1,   # d1
        (6, 2): 2,   # e1 e2: both 02:30, once CEST and once CET
        (6, 3): 1,   # d2
        (0, 0): 2,   # d4 e4
    }
    assert sum(1 for c in cells if c["value"] == 0) == 168 - 5


def test_heatmap_ratios_and_averages_are_null_where_empty(dst):
    assert valued(heatmap(dst, "--indicator", "service_level")) == {
        (6, 0): 1.0, (6, 1): 1.0, (6, 2): 0.5, (6, 3): 0.0, (0, 0): 1.0}
    assert valued(heatmap(dst, "--indicator", "avg_talk_in_s")) == {
        (6, 0): 35.0, (6, 1): 100.0, (6, 2): 60.0, (0, 0): 10.0}


def test_heatmap_with_filters(dst):
    cells = heatmap(dst, "--period", "2026-10-01..2026-10-31", "--indicator", "missed_calls")["cells"]
    assert {(c["weekday"], c["hour"]): c["value"] for c in cells if c["value"]} == {(6, 2): 1}


def test_heatmap_grid_fits_80_columns_without_colour(dst):
    result = ok(dst("stats", "heatmap", env={"NO_COLOR": "1"}))
    lines = result.stdout.splitlines()
    assert "\x1b[" not in result.stdout
    assert max(len(line) for line in lines) <= 80
    sunday = next(line for line in lines if line.startswith("Sun"))
    cells = re.findall(r"(..) ?", sunday[5:])[:24]
    assert cells[:4] == ["██", "▒▒", "██", "▒▒"]   # 2, 1, 2, 1 of a highest 2
    assert set(cells[4:]) == {"  "}


def test_heatmap_grid_marks_cells_without_a_value(dst):
    stdout = ok(dst("stats", "heatmap", "--indicator", "avg_wait_s", env={"NO_COLOR": "1"})).stdout
    tuesday = next(line for line in stdout.splitlines() if line.startswith("Tue"))
    assert tuesday[5:].split() == ["··"] * 24


# ---------------------------------------------------------------- refused


@pytest.mark.parametrize("command", [
    ("stats", "history", "--interval", "fortnight"),
    ("stats", "history", "--interval", "day", "--indicator", "calls_per_moon"),
    ("stats", "heatmap", "--indicator", "calls_per_moon"),
])
def test_unknown_interval_or_indicator_is_refused(dst, unchanged, command):
    bad = command[-1]
    with unchanged():
        result = refused(dst(*command, "--json"), repr(bad))
    assert result.stdout == ""
    assert "total_calls" in result.stderr or "hour, day, week, month" in result.stderr


def test_history_needs_an_interval(dst, unchanged):
    with unchanged():
        assert dst("stats", "history", "--json").exit_code == 2


def test_bad_filter_is_refused(dst, unchanged):
    with unchanged():
        refused(dst("stats", "heatmap", "--period", "someday", "--json"), "'someday'")


def test_smart_plan_has_no_history(dst, unchanged):
    ok(dst("account", "plan", "smart"))
    with unchanged():
        refused(dst("stats", "history", "--interval", "day"), "business")


def test_an_account_without_calls_has_an_empty_grid_and_no_points(account):
    grid = heatmap(account, "--indicator", "answered_calls")
    assert len(grid["cells"]) == 168 and {c["value"] for c in grid["cells"]} == {0}
    assert {c["value"] for c in heatmap(account, "--indicator", "max_wait_s")["cells"]} == {None}
    assert history(account, "--interval", "month") == {"indicator": "total_calls", "interval": "month",
                                                       "points": []}
