"""SVG snapshots of the Logs, Missed, Statistics and administration screens at 80x24 and 160x48,
on the fixed history of screens_fixtures with a frozen clock (`--snapshot-update` to accept changes)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ringtui.cli import app as cli_app
from ringtui.db import engine_for
from ringtui.engine.recorder import record_all
from ringtui.screens.admin.blacklist import BlacklistScreen
from ringtui.screens.admin.contacts import ContactsScreen
from ringtui.screens.admin.groups import GroupsScreen
from ringtui.screens.admin.ivrs import IvrsScreen
from ringtui.screens.admin.numbers import NumbersScreen
from ringtui.screens.admin.tags import TagsScreen
from ringtui.screens.admin.users import UsersScreen
from ringtui.screens.logs import LogsScreen
from ringtui.screens.missed import MissedScreen
from ringtui.screens.statistics import StatisticsScreen
from tests.screens.screens_fixtures import HISTORY, add_messages, build_center, host

SCREENS = {"logs": LogsScreen, "missed": MissedScreen, "statistics": StatisticsScreen,
           "users": UsersScreen, "groups": GroupsScreen, "numbers": NumbersScreen, "ivrs": IvrsScreen,
           "blacklist": BlacklistScreen, "tags": TagsScreen, "contacts": ContactsScreen}
SIZES = {"80x24": (80, 24), "160x48": (160, 48)}


@pytest.fixture(scope="module")
def seeded_url(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite database with the fixed center and history, shared by the read-only snapshots."""
    path = tmp_path_factory.mktemp("snapshots") / "ringtui.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    runner = CliRunner()

    def cli(*args: str) -> Any:
        from tests.conftest import Result

        result = runner.invoke(cli_app, ["--db", url, *args], catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    build_center(cli)
    record_all(engine_for(url), HISTORY)
    add_messages(url)
    return url


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", SCREENS)
def test_screen_snapshot(snap_compare, seeded_url: str, name: str, size: str, monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert snap_compare(host(SCREENS[name], seeded_url), terminal_size=SIZES[size])


async def until(pilot, ready, what: str) -> None:
    for _ in range(200):
        await pilot.pause()
        if ready():
            return
    raise AssertionError(f"the statistics screen never showed {what}")


async def show_tab(pilot, tab: str, ready) -> None:
    """The first family drawn (the tabs are mounted: switching earlier is undone by their own
    mount on a busy machine), then the tab shown once `ready()`."""
    screen = pilot.app.screen
    await until(pilot, lambda: screen.query_one("#figures").row_count > 0, "the call figures")
    screen.action_show_tab(tab)
    await until(pilot, lambda: screen.tab == tab and ready(), tab)


@pytest.mark.parametrize("tab", ["heatmap", "leaderboard"])
def test_statistics_heatmap_and_leaderboard_snapshot(snap_compare, seeded_url: str, tab: str) -> None:
    async def show(pilot) -> None:
        screen = pilot.app.screen
        await show_tab(pilot, tab, lambda: tab != "leaderboard" or screen.query_one("#leaderboard").row_count)
        await pilot.pause()

    assert snap_compare(host(StatisticsScreen, seeded_url), run_before=show, terminal_size=(160, 48))


def test_missed_snapshot_in_ascii_mode(snap_compare, seeded_url: str) -> None:
    assert snap_compare(host(MissedScreen, seeded_url, ascii=True), terminal_size=(80, 24))


@pytest.fixture(scope="module")
def omni_url(seeded_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The snapshots' database with the CLI tests' messages (omnichannel among them) and the add-on."""
    import sqlite3

    from tests.commands.test_stats_messages import activate_omnichannel, seed_messages

    path = tmp_path_factory.mktemp("omni") / "ringtui.db"
    with sqlite3.connect(seeded_url.removeprefix("sqlite:///")) as source, sqlite3.connect(path) as copy:
        source.backup(copy)  # the WAL's pages too
    url = f"sqlite:///{path}"
    seed_messages(url)
    activate_omnichannel(url)
    return url


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("view", ["summary", "heatmap"])
def test_statistics_omnichannel_snapshot(snap_compare, omni_url: str, view: str, size: str) -> None:
    async def show(pilot) -> None:
        screen = pilot.app.screen
        await show_tab(pilot, "omnichannel", lambda: screen.query_one("#omnichannel-board").row_count)
        if view == "heatmap":
            await pilot.press("v", "v")
            await until(pilot, lambda: screen.omni_view == "heatmap"
                        and "by weekday" in str(screen.query_one("#omni-heatmap").render()), "the heatmap")
        await pilot.pause()

    assert snap_compare(host(StatisticsScreen, omni_url), run_before=show, terminal_size=SIZES[size])
