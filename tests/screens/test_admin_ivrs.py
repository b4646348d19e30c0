"""IVR administration (I1-I3): scenario with skip-if conditions, delete, apply a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringtui.screens.admin.ivrs import IvrsScreen
from ringtui.screens.widgets.forms import DetailScreen
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

SCENARIO = """
[[ivr]]
name = "Hotline"

[[ivr.step]]
name = "hello"
type = "announce"
text = "Welcome"

[[ivr.step]]
name = "agents"
type = "ring"
agents = ["ana@acme.test"]
skip_if = ["offline", "snooze"]
"""


async def test_apply_a_file_show_the_scenario_and_delete(db_url, cli, tmp_path: Path):
    path = tmp_path / "hotline.toml"
    path.write_text(SCENARIO)
    app = host(IvrsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert [r["name"] for r in rows(app)] == ["Sales", "Support"]
        await fill(pilot, "A", file=str(path))
        assert status(app) == "Hotline: created"
        select_row(app, "name", "Hotline")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        steps = rows(app, "steps")
        assert [(s["name"], s["type"], s["skip_if"]) for s in steps] == [
            ("hello", "announce", []), ("agents", "ring", ["offline", "snooze"])]
        await pilot.press("escape")
        await pilot.press("d")
        await pilot.press("enter")
        await pilot.pause()
        assert [i["name"] for i in ok(cli("ivr", "list", "--json")).json()] == ["Sales", "Support"]


async def test_a_bad_file_is_refused_and_nothing_changes(db_url, cli, unchanged, tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text(SCENARIO.replace('"ring"', '"teleport"'))
    app = host(IvrsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await fill(pilot, "A", file=str(path))
            assert form_error(app) == cli("ivr", "apply", str(path)).stderr.strip()
            assert "teleport" in form_error(app)


async def test_a_supervisor_sees_only_the_ivrs_granted(db_url):
    app = host(IvrsScreen, db_url, SUP)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert [r["name"] for r in rows(app)] == ["Sales"]
