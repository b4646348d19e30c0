"""Tags administration (T1): add, remove, maximum per call."""

from __future__ import annotations

import pytest

from ringtui.screens.admin.tags import TagsScreen
from tests.conftest import ok
from tests.screens.screens_fixtures import (  # noqa: F401
    SUP,
    calls_center_fixture,
    fill,
    form_error,
    host,
    rows,
    select_row,
    status,
)

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("calls_center")]


async def test_add_remove_and_maximum(db_url, cli):
    app = host(TagsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert [r["name"] for r in rows(app)] == ["Callback", "Sale", "Urgent"]
        await fill(pilot, "a", name="VIP", color="#FFD700")
        assert "VIP" in [t["name"] for t in ok(cli("tags", "list", "--json")).json()]
        select_row(app, "name", "Callback")
        await pilot.press("d")
        await pilot.press("enter")
        await pilot.pause()
        assert [r["name"] for r in rows(app)] == ["Sale", "Urgent", "VIP"]
        await fill(pilot, "m", value="5")
        assert ok(cli("tags", "max", "--json")).json() == {"max_tags_per_call": 5}


async def test_bad_colour_and_maximum_are_refused(db_url, cli, unchanged):
    app = host(TagsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await fill(pilot, "a", name="Odd", color="purple")
            assert form_error(app) == cli("tags", "add", "Odd", "--color", "purple").stderr.strip()
            await pilot.press("escape")
            await fill(pilot, "m", value="99")
            assert form_error(app) == cli("tags", "max", "99").stderr.strip()
