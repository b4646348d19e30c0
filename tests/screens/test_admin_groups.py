"""Groups administration (U2) through services/groups.py."""

from __future__ import annotations

import pytest

from ringtui.screens.admin.groups import GroupsScreen
from ringtui.screens.widgets.forms import DetailScreen, FormScreen
from tests.conftest import ok
from tests.screens.screens_fixtures import (  # noqa: F401
    ANA,
    BOB,
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


def groups(cli) -> dict[str, dict]:
    return {g["name"]: g for g in ok(cli("groups", "list", "--json")).json()}


async def test_create_fill_empty_and_delete_a_group(db_url, cli):
    app = host(GroupsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert rows(app) == [{"name": "Team A", "open": False, "member_count": 2}]
        await fill(pilot, "a", name="Night shift", open="yes")
        assert groups(cli)["Night shift"]["open"] is True
        select_row(app, "name", "Night shift")
        await fill(pilot, "plus", emails=f"{ANA}, {BOB}")
        assert groups(cli)["Night shift"]["member_count"] == 2
        await fill(pilot, "minus", emails=BOB)
        assert groups(cli)["Night shift"]["member_count"] == 1
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("escape")
        await pilot.press("d")
        await pilot.press("enter")
        await pilot.pause()
        assert "Night shift" not in groups(cli)
        assert status(app) == "Group Night shift deleted."


async def test_a_duplicate_group_or_unknown_member_is_refused(db_url, cli, unchanged):
    app = host(GroupsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await fill(pilot, "a", name="Team A")
            assert form_error(app) == cli("groups", "create", "Team A").stderr.strip()
            await pilot.press("escape")
            await fill(pilot, "plus", emails="ghost@acme.test")
            assert isinstance(app.screen, FormScreen)
            assert "ghost@acme.test" in form_error(app)


async def test_a_supervisor_may_not_create_groups(db_url, unchanged):
    app = host(GroupsScreen, db_url, SUP)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await fill(pilot, "a", name="Mine")
            assert form_error(app).startswith(f"Error: {SUP}")
