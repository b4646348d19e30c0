"""ASCII-only mode: the Logs, Missed, Statistics and administration screens draw no box or block
glyph (terminals that break line drawing), with the app's ASCII styles."""

from __future__ import annotations

import pytest

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
from ringtui.screens.theme import ASCII_CSS
from tests.screens.screens_fixtures import Host, calls_center_fixture, context  # noqa: F401

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("calls_center")]
SCREENS = [LogsScreen, MissedScreen, StatisticsScreen, UsersScreen, GroupsScreen, NumbersScreen, IvrsScreen,
           BlacklistScreen, TagsScreen, ContactsScreen]


class AsciiHost(Host):
    """The test host with the app's ASCII mode: its flag, its styles, no command palette in the footer."""

    CSS = ASCII_CSS
    ENABLE_COMMAND_PALETTE = False
    ascii = True


def glyphs(app) -> set[str]:
    drawn = [line for line in app.export_screenshot().splitlines() if "<text" in line]
    return {ch for line in drawn for ch in line if ord(ch) > 127 and ch != "\u00a0"}


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: s.__name__)
async def test_no_box_or_block_glyph(db_url, screen):
    app = AsciiHost(lambda: screen(context(db_url, ascii=True)))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert not glyphs(app), sorted(glyphs(app))
        if screen is StatisticsScreen:
            for tab in ("history", "heatmap"):
                app.screen.action_show_tab(tab)
                await pilot.pause()
                assert not glyphs(app), (tab, sorted(glyphs(app)))
        await pilot.press("enter")  # a detail view
        await pilot.pause()
        assert not glyphs(app), sorted(glyphs(app))
