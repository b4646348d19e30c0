"""The missed-call worklist (L4): the bell counts what is left, processing writes the channel."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from ringtui.screens.missed import MissedScreen
from ringtui.screens.widgets.forms import DetailScreen, FormScreen
from ringtui.screens.widgets.records_table import RecordsTable
from tests.screens.screens_fixtures import SUP, calls_center_fixture, host, record_state  # noqa: F401

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("calls_center")]


def shown(app) -> list[int]:
    return [row["id"] for row in app.screen.query_one("#missed", RecordsTable).view_rows]


def text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_the_worklist_and_its_bell(db_url, calls_center):
    app = host(MissedScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert shown(app) == [calls_center["c5"], calls_center["c2"]]
        assert "🔔 2 unprocessed" in text(app, "#bell")
        table = app.screen.query_one("#missed", RecordsTable)
        table.sort_by("wait_s")
        assert shown(app) == [calls_center["c5"], calls_center["c2"]]
        table.sort_by("wait_s", reverse=True)
        assert shown(app) == [calls_center["c2"], calls_center["c5"]]


async def test_ascii_mode_has_no_emoji_bell(db_url, calls_center):
    app = host(MissedScreen, db_url, ascii=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert text(app, "#bell").startswith("(!) 2 unprocessed")


async def test_process_by_channel_rings_the_bell_down(db_url, calls_center, tmp_path: Path):
    app = host(MissedScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        app.screen.query_one("#missed", RecordsTable).move_cursor(row=shown(app).index(calls_center["c2"]))
        await pilot.press("c")
        await pilot.pause()
        assert record_state(db_url, calls_center["c2"])["processed_channel"] == "call"
        assert "1 unprocessed" in text(app, "#bell")
        assert shown(app) == [calls_center["c5"]]
        await pilot.press("x")
        app.screen.query_one("#field-channel", Input).value = "email"
        await pilot.press("enter")
        await pilot.pause()
        assert record_state(db_url, calls_center["c5"])["processed_channel"] == "email"
        assert "0 unprocessed" in text(app, "#bell")
        await pilot.press("u")  # processed
        assert sorted(shown(app)) == sorted([calls_center["c2"], calls_center["c5"]])
        out = tmp_path / "processed.csv"
        await pilot.press("e")
        app.screen.query_one(Input).value = str(out)
        await pilot.press("enter")
        rows = list(csv.DictReader(out.open()))
        assert {r["processed_channel"] for r in rows} == {"call", "email"}
        assert {r["processed_by"] for r in rows} == {"boss@acme.test"}


async def test_a_bad_channel_or_a_second_processing_is_refused(db_url, calls_center, unchanged):
    app = host(MissedScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await pilot.press("x")
            app.screen.query_one("#field-channel", Input).value = "pigeon"
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, FormScreen)
            assert text(app, "#form-error") == "Error: unknown channel 'pigeon': give call, sms, email"
            await pilot.press("escape")
        await pilot.press("c")
        await pilot.press("u", "u")  # all
        app.screen.query_one("#missed", RecordsTable).move_cursor(row=0)
        with unchanged():
            await pilot.press("t")
            assert "Error: call" in text(app, "#status")
            assert "was already processed by call" in text(app, "#status")


async def test_enter_opens_the_call(db_url, calls_center):
    app = host(MissedScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)


async def test_a_supervisor_works_only_the_ivrs_granted(db_url, calls_center):
    app = host(MissedScreen, db_url, SUP)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert shown(app) == [calls_center["c5"]]
        assert "1 unprocessed" in text(app, "#bell")


async def test_filters_narrow_the_worklist(db_url, calls_center):
    app = host(MissedScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f")
        app.screen.query_one("#filters-input", Input).value = "ivr=Support"
        await pilot.press("enter")
        await pilot.pause()
        assert shown(app) == [calls_center["c2"]]
