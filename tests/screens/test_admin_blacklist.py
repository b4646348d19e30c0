"""Blacklist administration (T3): add and lift entries, company-wide or per user."""

from __future__ import annotations

import pytest

from ringtui.screens.admin.blacklist import BlacklistScreen
from tests.conftest import ok
from tests.screens.screens_fixtures import (  # noqa: F401
    ANA,
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


def entries(cli) -> list[tuple]:
    return [(e["number"], e["direction"], e["user"]) for e in ok(cli("blacklist", "list", "--json")).json()]


async def test_add_and_lift_entries(db_url, cli):
    app = host(BlacklistScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert [(r["number"], r["direction"]) for r in rows(app)] == [("+33899000000", "in")]
        await fill(pilot, "a", number="0899*", direction="out", user=ANA)
        assert ("+33899*", "out", ANA) in entries(cli)
        assert status(app) == f"+33899* is blacklisted for {ANA}, direction out."
        select_row(app, "number", "+33899000000")
        await fill(pilot, "d", direction="")
        assert entries(cli) == [("+33899*", "out", ANA)]


async def test_a_bad_direction_is_refused(db_url, cli, unchanged):
    app = host(BlacklistScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await fill(pilot, "a", number="+33612345678", direction="sideways")
            expected = cli("blacklist", "add", "+33612345678", "--direction", "sideways").stderr.strip()
            assert form_error(app) == expected


async def test_a_supervisor_may_not_blacklist(db_url, unchanged):
    app = host(BlacklistScreen, db_url, SUP)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await fill(pilot, "a", number="+33612345678", direction="in")
            assert form_error(app).startswith("Error: ")
