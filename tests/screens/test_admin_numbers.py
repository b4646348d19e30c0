"""Numbers administration (N1-N3): search the inventory, add, assign, release."""

from __future__ import annotations

import pytest

from ringtui.screens.admin.numbers import NumbersScreen
from tests.conftest import ok
from tests.screens.screens_fixtures import (  # noqa: F401
    ACC,
    ANA,
    calls_center_fixture,
    fill,
    form_error,
    host,
    rows,
    select_row,
    status,
)

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("calls_center")]


def numbers(cli) -> dict[str, dict]:
    return {n["number"]: n for n in ok(cli("numbers", "list", "--json")).json()}


async def test_search_add_assign_release(db_url, cli):
    app = host(NumbersScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert rows(app) == []
        await fill(pilot, "n", country="FR", format="national", limit="3")
        found = rows(app, "found")
        assert len(found) == 3 and all(r["number"].startswith("+33") for r in found)
        await pilot.press("enter")  # Enter on an available number: the add form, prefilled
        await pilot.press("enter")
        await pilot.pause()
        picked = found[0]["number"]
        assert numbers(cli)[picked]["status"] == "available"
        assert [r["number"] for r in rows(app)] == [picked]
        select_row(app, "number", picked)
        await fill(pilot, "g", user=ANA, label="Ana direct")
        assert numbers(cli)[picked]["assigned_to"] == {"kind": "user", "name": ANA}
        assert status(app) == f"{picked} assigned to user {ANA}."
        await pilot.press("x")
        await pilot.press("enter")
        await pilot.pause()
        assert numbers(cli)[picked]["status"] == "available"


async def test_refusals_change_nothing(db_url, cli, unchanged):
    app = host(NumbersScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await fill(pilot, "n", country="XX", format="national")
            assert form_error(app) == cli("numbers", "search", "--country", "XX", "--format",
                                          "national").stderr.strip()
            await pilot.press("escape")
            await fill(pilot, "g", number="+33999", user=ANA)
            assert form_error(app).startswith("Error: ")


async def test_an_accountant_may_not_add_numbers(db_url, unchanged):
    app = host(NumbersScreen, db_url, ACC)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await fill(pilot, "a", number="+33144951479")
            assert form_error(app).startswith("Error: ")
