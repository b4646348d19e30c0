"""Transfers and area codes in the TUI: the Logs detail lists a call's transfers, the Statistics callers
tab shows received / transferred / transfer_ratio and the geo tab the area codes with the busiest named;
`transfers=` in the filters line narrows like the CLI's --transfers."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from ringtui.db import engine_for
from ringtui.engine.recorder import record_all
from ringtui.screens.logs import LogsScreen
from ringtui.screens.statistics import StatisticsScreen
from ringtui.screens.widgets.forms import DetailScreen
from ringtui.screens.widgets.records_table import RecordsTable
from tests.commands.test_geo_areas import LANDLINES
from tests.commands.test_transfers import add_transfers
from tests.screens.screens_fixtures import calls_center_fixture, host  # noqa: F401
from tests.screens.test_logs import shown, type_filters
from tests.screens.test_statistics import rows, show

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("calls_center")]


@pytest.fixture
def transfers_and_landlines(db_url, calls_center):
    add_transfers(db_url)
    record_all(engine_for(db_url), LANDLINES)
    return calls_center


async def test_the_call_detail_lists_its_transfers(db_url, transfers_and_landlines):
    ids = transfers_and_landlines
    app = host(LogsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await type_filters(pilot, "transfers=only")
        assert sorted(shown(app)) == sorted(ids[c] for c in ("c1", "c3", "c4"))
        table = app.screen.query_one("#calls", RecordsTable)
        table.move_cursor(row=shown(app).index(ids["c3"]))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        listed = str(app.screen.query_one("#transfers", Static).render())
        assert "attended by bob@acme.test to ana@acme.test  (answered)" in listed
        assert "blind by ana@acme.test to +33140000000  (answered)" in listed
        await pilot.press("escape")
        table.move_cursor(row=shown(app).index(ids["c4"]))
        await pilot.press("enter")
        await pilot.pause()
        assert "+33155555555  (not answered)" in str(app.screen.query_one("#transfers", Static).render())


async def test_a_call_never_transferred_has_no_transfers_part(db_url, transfers_and_landlines):
    ids = transfers_and_landlines
    app = host(LogsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        app.screen.query_one("#calls", RecordsTable).move_cursor(row=shown(app).index(ids["c0"]))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        assert not app.screen.query("#transfers")


async def test_callers_and_geo_tabs_show_transfers_and_area_codes(db_url, transfers_and_landlines):
    app = host(StatisticsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await show(pilot, "callers")
        await pilot.pause()
        callers = {r["number"]: r for r in rows(app, "callers")}
        assert (callers["+33611111111"]["received"], callers["+33611111111"]["transferred"],
                callers["+33611111111"]["transfer_ratio"]) == (1, 1, 1.0)
        assert callers["+33612345678"]["transfer_ratio"] == 0.0  # its transferred call was outbound
        await show(pilot, "geo")
        await pilot.pause()
        assert [(r["area"], r["zone"], r["calls"]) for r in rows(app, "geo-areas")] == [
            ("+33 1", "Paris", 2), ("+1 212", "New York, NY", 1), ("+33 4", "France", 1)]
        busiest = str(app.screen.query_one("#geo-busiest", Static).render())
        assert "Busiest country: FR" in busiest and "Busiest area code: +33 1 (Paris)" in busiest
        await type_filters(pilot, "transfers=exclude country=US")
        assert [r["area"] for r in rows(app, "geo-areas")] == ["+1 212"]
