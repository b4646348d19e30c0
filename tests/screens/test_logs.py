"""The Logs screen (L1-L6) driven from the keyboard: calls shown, filtered, sorted, exported,
opened, tagged and flagged through the same services as the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from ringtui.screens.logs import LogsScreen
from ringtui.screens.widgets.forms import DetailScreen, FormScreen
from ringtui.screens.widgets.records_table import RecordsTable
from tests.screens.screens_fixtures import SUP, calls_center_fixture, host, record_state  # noqa: F401

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("calls_center")]


def shown(app) -> list[int]:
    return [row["id"] for row in app.screen.query_one("#calls", RecordsTable).view_rows]


def status(app) -> str:
    return str(app.screen.query_one("#status", Static).render())


async def type_filters(pilot, text: str) -> None:
    await pilot.press("f")
    field = pilot.app.screen.query_one("#filters-input", Input)
    field.value = text
    await pilot.press("enter")
    await pilot.pause()


async def test_calls_are_listed_newest_first(db_url, calls_center):
    app = host(LogsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        order = ["c6", "c5", "c3", "c4", "c2", "c1", "c0"]
        assert shown(app) == [calls_center[name] for name in order]
        assert "7 call(s)" in status(app)


async def test_filters_are_the_cli_filters(db_url, calls_center):
    app = host(LogsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await type_filters(pilot, "period=2026-11-02..2026-11-02 direction=in type=missed")
        assert shown(app) == [calls_center["c2"]]
        await type_filters(pilot, "--tag Urgent")
        assert shown(app) == [calls_center["c3"]]


async def test_a_bad_filter_is_refused_with_the_cli_message(db_url, calls_center):
    app = host(LogsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await type_filters(pilot, "period=someday")
        assert "Error: unknown period 'someday'" in status(app)
        assert shown(app) == []  # no rows that the filters shown would not select
        await type_filters(pilot, "colour=red")
        assert "Error: unknown filter 'colour'" in status(app)


async def test_table_filter_sort_and_export(db_url, calls_center, tmp_path: Path):
    app = host(LogsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        app.screen.query_one(Input).value = "Support"
        await pilot.press("enter")
        assert sorted(shown(app)) == sorted([calls_center["c1"], calls_center["c2"]])
        table = app.screen.query_one("#calls", RecordsTable)
        table.sort_by("wait_s", reverse=True)
        assert shown(app) == [calls_center["c2"], calls_center["c1"]]
        await pilot.press("s")  # the next column after wait_s
        assert table.sort_column == "talk_s"
        assert shown(app) == [calls_center["c2"], calls_center["c1"]]
        out = tmp_path / "calls.csv"
        await pilot.press("e")
        app.screen.query_one(Input).value = str(out)
        await pilot.press("enter")
        rows = list(csv.DictReader(out.open()))
        assert [int(r["id"]) for r in rows] == shown(app)
        assert rows[0]["started_at"] == "2026-11-02T09:00:00Z"
        out_json = tmp_path / "calls.json"
        await pilot.press("e")
        app.screen.query_one(Input).value = str(out_json)
        await pilot.press("enter")
        assert [r["id"] for r in json.loads(out_json.read_text())] == shown(app)


async def test_enter_opens_the_call_with_its_attempts(db_url, calls_center):
    app = host(LogsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#calls", RecordsTable)
        table.move_cursor(row=shown(app).index(calls_center["c2"]))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        attempts = app.screen.query_one("#attempts", RecordsTable)
        assert [(a["agent"], a["outcome"]) for a in attempts.view_rows] == [
            ("ana@acme.test", "NO_ANSWER"), ("bob@acme.test", "REJECTED")]
        await pilot.press("escape")
        assert isinstance(app.screen, LogsScreen)


async def test_tag_and_flag_a_call(db_url, calls_center):
    app = host(LogsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        app.screen.query_one("#calls", RecordsTable).move_cursor(row=shown(app).index(calls_center["c2"]))
        await pilot.press("t")
        app.screen.query_one("#field-tags", Input).value = "Callback"
        await pilot.press("enter")
        await pilot.pause()
        assert "tagged: Callback" in status(app)
        assert record_state(db_url, calls_center["c2"])["tags"] == 1
        await pilot.press("x")
        assert record_state(db_url, calls_center["c2"])["flagged"] is True
        await pilot.press("x")
        assert record_state(db_url, calls_center["c2"])["flagged"] is False


async def test_an_unknown_tag_is_refused_and_nothing_changes(db_url, calls_center, unchanged):
    app = host(LogsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await pilot.press("t")
            app.screen.query_one("#field-tags", Input).value = "Nope"
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, FormScreen)
            error = str(app.screen.query_one("#form-error", Static).render())
            assert error == "Error: no tag 'Nope' (see `ringtui tags list`)"


async def test_a_supervisor_sees_only_the_ivrs_granted(db_url, calls_center):
    app = host(LogsScreen, db_url, SUP)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert shown(app) == [calls_center["c5"], calls_center["c3"]]


def rows_of(app, table_id: str) -> list[dict]:
    return app.screen.query_one(f"#{table_id}", RecordsTable).view_rows


async def test_sms_and_meet_logs(db_url, calls_center, tmp_path: Path):
    app = host(LogsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        app.screen.query_one("#logs-tabs").active = "tab-sms"
        await pilot.pause()
        sms = rows_of(app, "sms")
        assert [(m["direction"], m["agent"], m["unicode"]) for m in sms] == [
            ("out", "ana@acme.test", True), ("in", None, False)]
        assert status(app) == "2 SMS: all calls"
        await type_filters(pilot, "direction=in")
        assert [m["status"] for m in rows_of(app, "sms")] == ["received"]
        await type_filters(pilot, "type=missed")  # a call-only filter: refused as the CLI refuses it
        assert status(app).startswith("Error: ") and "type" in status(app)
        await pilot.press("enter")
        app.screen.query_one("#logs-tabs").active = "tab-meet"
        await type_filters(pilot, "tool=zoom")
        assert [(m["agent"], m["duration_s"], m["participants"]) for m in rows_of(app, "meet")] == [
            ("bob@acme.test", 2700.0, 4)]
        out = tmp_path / "meetings.csv"
        await pilot.press("e")
        app.screen.query_one(Input).value = str(out)
        await pilot.press("enter")
        assert [row["title"] for row in csv.DictReader(out.open())] == ["Weekly review"]
        await type_filters(pilot, "tool=skype")
        assert "skype" in status(app)


async def test_a_saved_filter_is_used_by_name(db_url, calls_center, cli):
    from tests.conftest import ok

    ok(cli("filters", "save", "support-calls", "--ivr", "Support"))
    app = host(LogsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await type_filters(pilot, "filter=support-calls")
        assert sorted(shown(app)) == sorted([calls_center["c1"], calls_center["c2"]])
        await type_filters(pilot, "--filter nobody-saved-this")
        assert "nobody-saved-this" in status(app)


async def test_at_80_columns_the_calls_fit_and_a_resize_brings_every_column_back(db_url, calls_center,
                                                                                  tmp_path: Path):
    app = host(LogsScreen, db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#calls", RecordsTable)
        labels = [str(column.label) for column in table.ordered_columns]
        assert labels == ["id", "started", "dir", "type", "customer", "ivr", "talk"]
        assert table.virtual_size.width <= table.scrollable_content_region.width  # no sideways scrolling
        outbound = next(row for row in table.view_rows if row["direction"] == "out")
        assert str(table.get_cell(str(outbound["id"]), "customer")) == outbound["to_number"]
        out = tmp_path / "narrow.csv"
        await pilot.press("e")
        app.screen.query_one(Input).value = str(out)
        await pilot.press("enter")
        header = out.read_text().splitlines()[0].split(",")
        assert "from_number" in header and "processed_channel" in header and "customer" not in header
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        keys = [column.key.value for column in table.ordered_columns]
        assert len(keys) == 13 and "from_number" in keys and "customer" not in keys
        assert sorted(shown(app)) == sorted(calls_center.values())
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert len(table.ordered_columns) == 7 and table.row_count == len(calls_center)
