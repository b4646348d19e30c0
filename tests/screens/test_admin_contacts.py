"""Contacts administration (T2): find by name or number prefix, add, import, remove."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from ringtui.screens.admin.contacts import ContactsScreen
from tests.screens.screens_fixtures import (  # noqa: F401
    calls_center_fixture,
    fill,
    form_error,
    host,
    rows,
    select_row,
    status,
)

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("calls_center")]


async def find(pilot, text: str) -> None:
    await pilot.press("f")
    pilot.app.screen.query_one(Input).value = text
    await pilot.press("enter")
    await pilot.pause()


async def test_add_find_import_remove(db_url, tmp_path: Path):
    app = host(ContactsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert [r["name"] for r in rows(app)] == ["Carla Client"]
        await fill(pilot, "a", name="Dan Dealer", numbers="06 98 76 54 32", company="Deals")
        assert [r["name"] for r in rows(app)] == ["Carla Client", "Dan Dealer"]
        await find(pilot, "0698")
        assert [r["numbers"] for r in rows(app)] == [["+33698765432"]]
        await find(pilot, "carla")
        assert [r["name"] for r in rows(app)] == ["Carla Client"]
        await find(pilot, "")
        path = tmp_path / "people.csv"
        path.write_text("name,number\nEve Early,+33611223344\nFay Far,+34612000111\n")
        await fill(pilot, "i", file=str(path))
        assert status(app) == "Imported 2 contact(s) from people.csv."
        assert len(rows(app)) == 4
        select_row(app, "name", "Dan Dealer")
        await pilot.press("d")
        await pilot.press("enter")
        await pilot.pause()
        assert "Dan Dealer" not in [r["name"] for r in rows(app)]


async def test_a_bad_import_changes_nothing(db_url, cli, unchanged, tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text("name,number\nGil Good,+33611223344\nHal Bad,not-a-number\n")
    app = host(ContactsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await fill(pilot, "i", file=str(path))
            assert form_error(app) == cli("contacts", "import", str(path)).stderr.strip()
            assert "line 3" in form_error(app)
