"""S14 by area code: the recorder writes call_record.caller_area, `stats geo` ranks the areas and names
the busiest, `stats rebuild` fills the areas older records lack (once: running it again changes nothing).

The history of tests/commands/test_calls.py (every customer there is on a mobile: no area) plus:
  g1  Nov 2 10:00 UTC  in   +33144444444 (Paris, +33 1)   answered by ana
  g2  Nov 2 11:00      in   +33144444444                  missed
  g3  Nov 2 15:00      out  +12125551234 (New York, +1 212)  ana, answered
  g4  Nov 2 16:00      in   +33478000000 (+33 4)          missed
  g5  Nov 2 17:00      in   01 44 44 44 45 as the carrier sent it (not E.164: no area, never filled)
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from ringtui.db import engine_for
from ringtui.engine.recorder import record_all
from ringtui.models import CallRecord
from tests.commands import test_calls as base
from tests.commands.test_calls import ANA, IN, OUT, at, call
from tests.conftest import ok

base.register_commands()
history = base.history

ANSWERED, MISSED, DIRECT = base.ANSWERED, base.MISSED, base.DIRECT
PARIS, NEW_YORK, LYON_AREA = "+33144444444", "+12125551234", "+33478000000"
LANDLINES = [
    call("g1", at(2, 10), IN, DIRECT, PARIS, type_=ANSWERED, agent=ANA, wait=4, talk=30),
    call("g2", at(2, 11), IN, DIRECT, PARIS, type_=MISSED, wait=12),
    call("g3", at(2, 15), OUT, DIRECT, NEW_YORK, type_=ANSWERED, agent=ANA, talk=90),
    call("g4", at(2, 16), IN, DIRECT, LYON_AREA, type_=MISSED, wait=20),
    call("g5", at(2, 17), IN, DIRECT, "0144444445", type_=MISSED, wait=3),
]
AREAS = [
    {"area": "+33 1", "zone": "Paris", "calls": 2, "answered": 1, "inbound": 2, "outbound": 0},
    {"area": "+1 212", "zone": "New York, NY", "calls": 1, "answered": 1, "inbound": 0, "outbound": 1},
    {"area": "+33 4", "zone": "France", "calls": 1, "answered": 0, "inbound": 1, "outbound": 0},
]


@pytest.fixture
def landlines(history, db_url):
    cli, _ = history
    record_all(engine_for(db_url), LANDLINES)
    return cli, db_url


def geo(cli, *args: str) -> dict:
    return ok(cli("stats", "geo", *args, "--json")).json()


def stored_areas(db_url: str) -> dict[str, str | None]:
    with engine_for(db_url).connect() as connection:
        return dict(connection.execute(select(CallRecord.call_id, CallRecord.caller_area)).all())


def test_the_recorder_writes_the_customer_s_area_code(landlines):
    _, db_url = landlines
    areas = stored_areas(db_url)
    assert {call_id: areas[call_id] for call_id in ("g1", "g2", "g3", "g4", "g5")} == {
        "g1": "+33 1", "g2": "+33 1", "g3": "+1 212", "g4": "+33 4", "g5": None}
    assert all(areas[call_id] is None for call_id in ("c0", "c1", "c2", "c3", "c4", "c5", "c6"))  # mobiles


def test_geo_ranks_area_codes_and_names_the_busiest(landlines):
    cli, _ = landlines
    figures = geo(cli)
    assert list(figures) == ["countries", "busiest", "areas", "busiest_area"]
    assert figures["areas"] == AREAS  # ties (1 call) by area code
    assert figures["busiest_area"] == "+33 1"
    assert figures["busiest"] == "FR"  # the countries are as before, the US added
    assert {row["country"]: row["calls"] for row in figures["countries"]}["US"] == 1
    assert geo(cli, "--country", "US")["areas"] == [AREAS[1]]
    assert geo(cli, "--direction", "in", "--type", "missed")["areas"] == [
        {**AREAS[0], "calls": 1, "answered": 0, "inbound": 1}, AREAS[2]]
    empty = geo(cli, "--period", "2026-01-01..2026-01-31")
    assert (empty["areas"], empty["busiest_area"]) == ([], None)


def test_geo_areas_stop_at_ten(landlines, db_url):
    cli, _ = landlines
    record_all(engine_for(db_url), [
        call(f"a{n}", at(3, 9, n), IN, DIRECT, f"+1{number}5550100", type_=MISSED, wait=1)
        for n, number in enumerate((213, 312, 415, 305, 617, 202, 206, 512, 702, 808))])
    areas = geo(cli)["areas"]
    assert len(areas) == 10 and areas[0]["area"] == "+33 1"


def test_human_output_highlights_the_busiest_area(landlines):
    cli, _ = landlines
    text = ok(cli("stats", "geo")).stdout
    assert "Area codes" in text and "New York, NY" in text
    assert "Busiest area: +33 1 (Paris)" in text
    coloured = ok(cli("stats", "geo", env={"FORCE_COLOR": "1"})).stdout
    busiest_line = next(line for line in coloured.splitlines() if "Paris" in line and "+33 1" in line)
    assert "\x1b[1;7m" in busiest_line  # bold reverse
    assert "\x1b[1;7m" not in next(line for line in coloured.splitlines() if "New York" in line)


def test_rebuild_fills_missing_areas_once(landlines):
    cli, db_url = landlines
    before = geo(cli)
    with engine_for(db_url).begin() as connection:
        connection.execute(update(CallRecord.__table__).values(caller_area=None))
    assert geo(cli)["areas"] == []  # what records written before migration 0012 show
    first = ok(cli("stats", "rebuild", "--json")).json()
    assert first["caller_areas_filled"] == 4  # g1 g2 g3 g4; mobiles and g5 stay without one
    assert geo(cli) == before
    areas = stored_areas(db_url)
    again = ok(cli("stats", "rebuild", "--json")).json()
    assert again["caller_areas_filled"] == 0
    assert stored_areas(db_url) == areas and geo(cli) == before


def test_rebuild_of_a_period_fills_only_its_records(landlines):
    cli, db_url = landlines
    with engine_for(db_url).begin() as connection:
        connection.execute(update(CallRecord.__table__).values(caller_area=None))
        connection.execute(update(CallRecord.__table__).where(CallRecord.call_id == "g4")
                           .values(started_at=at(10, 16)))
    filled = ok(cli("stats", "rebuild", "--period", base.NOV_2, "--json")).json()
    assert filled["caller_areas_filled"] == 3
    assert stored_areas(db_url)["g4"] is None


def test_calls_show_gives_the_area_code(landlines):
    cli, _ = landlines
    rows = ok(cli("calls", "list", "--json")).json()
    by_number = {(row["from_number"] if row["direction"] == "in" else row["to_number"]): row["id"]
                 for row in rows}
    assert ok(cli("calls", "show", str(by_number[NEW_YORK]), "--json")).json()["caller_area"] == "+1 212"
    assert ok(cli("calls", "show", str(by_number["+33611111111"]), "--json")).json()["caller_area"] is None
