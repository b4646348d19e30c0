"""Every administration screen's table from the keyboard: `/` filter, `s` sort, `e` export of the rows
shown (CSV with the columns shown), Enter into a row."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from textual.widgets import Input

from ringtui.screens.admin.blacklist import BlacklistScreen
from ringtui.screens.admin.contacts import ContactsScreen
from ringtui.screens.admin.groups import GroupsScreen
from ringtui.screens.admin.ivrs import IvrsScreen
from ringtui.screens.admin.tags import TagsScreen
from ringtui.screens.admin.users import UsersScreen
from ringtui.screens.widgets.forms import DetailScreen
from ringtui.screens.widgets.records_table import RecordsTable
from tests.screens.screens_fixtures import calls_center_fixture, host, rows  # noqa: F401

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("calls_center")]

# screen, text typed after `/`, the first column of the rows it leaves
CASES = {
    "users": (UsersScreen, "team a", ["ana@acme.test", "bob@acme.test"]),
    "groups": (GroupsScreen, "team", ["Team A"]),
    "ivrs": (IvrsScreen, "sup", ["Support"]),
    "blacklist": (BlacklistScreen, "899", ["+33899000000"]),
    "tags": (TagsScreen, "u", ["Urgent"]),
    "contacts": (ContactsScreen, "client sa", [1]),
}


@pytest.mark.parametrize("name", CASES)
async def test_filter_sort_export_and_enter(db_url, name: str, tmp_path: Path):
    screen, needle, expected = CASES[name]
    app = host(screen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#records", RecordsTable)
        first = table.cols[0].key
        await pilot.press("slash")
        app.screen.query_one(Input).value = needle
        await pilot.press("enter")
        assert [row[first] for row in rows(app)] == expected
        await pilot.press("s")
        assert table.sort_column == first
        out = tmp_path / f"{name}.csv"
        await pilot.press("e")
        app.screen.query_one(Input).value = str(out)
        await pilot.press("enter")
        exported = list(csv.DictReader(out.open()))
        assert [line[first] for line in exported] == [str(value) for value in expected]
        assert list(exported[0]) == [c.key for c in table.cols]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
