"""Wallboard: one card per IVR the user may see, moved by the feed; and the SVG snapshots of
Activity and Wallboard at 80x24 and 160x48 on a fixed dataset with a frozen clock."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from ringtui.screens.app import RingtuiApp
from ringtui.screens.context import TuiContext
from ringtui.screens.feed import LiveState
from ringtui.screens.wallboard import IvrCard, WallboardScreen
from tests.screens.conftest import (
    CUSTOMER,
    FIXED_IVR_TODAY,
    FIXED_SCOPE,
    SUPERVISOR,
    drawn,
    fixed_contact_names,
    fixed_state,
    run,
    running_engine,
    tui_app,
    until,
)
from tests.screens.screens_fixtures import SUP, calls_center_fixture  # noqa: F401
from tests.screens.screens_fixtures import at as history_at
from tests.screens.screens_fixtures import context as history_context


def cards(app) -> dict[str, IvrCard]:
    return {card.ivr: card for card in app.screen.query(IvrCard)}


def details(card: IvrCard) -> str:
    return str(card.query_one(".details", Static).render())


def test_the_wallboard_shows_every_ivr_and_follows_the_feed(center):
    settings = center.settings()

    async def scenario():
        async with running_engine(settings) as (runtime, clock, url):
            app = tui_app(settings, url, start="wallboard")
            async with app.run_test(size=(120, 40)) as pilot:
                await until(lambda: isinstance(app.screen, WallboardScreen) and cards(app), pilot)
                assert set(cards(app)) == {"Standard", "Support"}
                runtime.apply(runtime.center.call_arrived("w-1", CUSTOMER, center.sales_number))
                await until(lambda: "waiting     1" in details(cards(app)["Standard"]), pilot)
                assert "free 0/2" in details(cards(app)["Standard"])
                clock.advance(30)
                runtime.apply(runtime.center.advance())
                await until(lambda: "longest     30s" in details(cards(app)["Standard"]), pilot)
                runtime.apply(runtime.center.caller_hung_up("w-1"))
                await until(lambda: "SL   0%" in details(cards(app)["Standard"]), pilot)
                assert "waiting     0" in details(cards(app)["Standard"])

    run(scenario())


def test_a_supervisor_wallboard_shows_only_her_ivrs(center):
    settings = center.settings(acting_user=SUPERVISOR)

    async def scenario():
        async with running_engine(settings) as (_runtime, _clock, url):
            app = tui_app(settings, url, start="wallboard")
            async with app.run_test(size=(120, 40)) as pilot:
                await until(lambda: isinstance(app.screen, WallboardScreen) and cards(app), pilot)
                assert set(cards(app)) == {"Standard"}

    run(scenario())


def history_app(db_url: str, acting_user: str | None = None) -> tuple[RingtuiApp, LiveState]:
    """The app on the fixed call history's database on the evening of Nov 2, fed by hand."""
    state = LiveState()
    state.apply_many([{"type": "hello", "protocol": 1, "rights": ["feed:read"]},
                      {"type": "snapshot", "agents": [], "waiting": [], "calls": []}])
    app_context = history_context(db_url, acting_user, now=history_at(2, 20), refresh_hz=10, keymap={})
    app_context.feed = state
    return RingtuiApp(app_context, start="wallboard"), state


def ended(ivr: str, kind: str) -> dict:
    return {"type": "call_ended", "at": history_at(2, 20).isoformat(),
            "call": {"call_id": f"{ivr}-{kind}", "direction": "in", "ivr": ivr, "type": kind}}


def test_the_wallboard_service_level_is_todays_records_plus_what_the_feed_ends(calls_center, db_url):
    """Nov 2 in the records: Support c1 answered + c2 missed, Sales c3 answered + c5 voicemail."""
    app, state = history_app(db_url)

    async def scenario():
        async with app.run_test(size=(120, 40)) as pilot:
            await until(lambda: isinstance(app.screen, WallboardScreen) and len(cards(app)) == 2, pilot)
            await until(lambda: "SL  50%" in details(cards(app)["Support"]), pilot)
            assert "SL  50%" in details(cards(app)["Sales"])
            state.apply(ended("Support", "answered"))
            await until(lambda: "SL  67%" in details(cards(app)["Support"]), pilot)
            state.apply(ended("Sales", "missed"))
            await until(lambda: "SL  33%" in details(cards(app)["Sales"]), pilot)
            assert "SL  67%" in details(cards(app)["Support"])

    run(scenario())


def test_a_supervisor_wallboard_reads_only_her_ivrs_records(calls_center, db_url):
    app, _state = history_app(db_url, SUP)

    async def scenario():
        async with app.run_test(size=(120, 40)) as pilot:
            await until(lambda: isinstance(app.screen, WallboardScreen) and cards(app), pilot)
            await until(lambda: "SL  50%" in details(cards(app)["Sales"]), pilot)
            assert set(cards(app)) == {"Sales"}

    run(scenario())


# ---------------------------------------------------------------- snapshots


def snapshot_app(tmp_path, start: str, *, ascii_only: bool = False) -> RingtuiApp:
    from ringtui.config import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'none.db'}")
    context = TuiContext(settings=settings, options={
        "ascii": ascii_only, "refresh_hz": 10, "keymap": {}, "scope": FIXED_SCOPE,
        "contact_names": fixed_contact_names(), "ivr_today": FIXED_IVR_TODAY})
    context.feed = fixed_state()
    return RingtuiApp(context, start=start)


async def settle(pilot) -> None:
    await until(lambda: drawn(pilot.app.screen), pilot)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize("screen", ["activity", "wallboard"])
def test_snapshot(snap_compare, tmp_path, screen, size):
    assert snap_compare(snapshot_app(tmp_path, screen), terminal_size=size, run_before=settle)


def test_snapshot_ascii_activity(snap_compare, tmp_path):
    assert snap_compare(snapshot_app(tmp_path, "activity", ascii_only=True), terminal_size=(80, 24),
                        run_before=settle)


def test_at_80_columns_waiting_and_calls_fit_and_a_resize_swaps_their_columns(tmp_path):
    from ringtui.screens.widgets.live_table import LiveTable

    app = snapshot_app(tmp_path, "activity")

    def labels(table: LiveTable) -> list[str]:
        return [str(column.label) for column in table.ordered_columns]

    def fits(table: LiveTable) -> bool:
        return table.virtual_size.width <= table.scrollable_content_region.width

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            waiting = app.screen.query_one("#waiting", LiveTable)
            calls = app.screen.query_one("#calls", LiveTable)
            assert labels(waiting) == ["Wait", "VIP", "IVR", "Caller"] and fits(waiting)
            assert labels(calls) == ["Time", "Caller", "Agent", "State"] and fits(calls)
            assert [str(cell) for cell in waiting.get_row("w1")][1:] == ["★", "Support", "Claire Martin"]
            assert str(waiting.get_cell("w0", "caller")) == "+33610000000"  # no contact: the number
            rows = (waiting.row_count, calls.row_count)
            await pilot.resize_terminal(160, 48)
            await pilot.pause()
            assert labels(waiting) == ["Wait", "VIP", "IVR", "Customer", "Name"]
            assert "IVR / line" in labels(calls) and "Dir" in labels(calls)
            assert (waiting.row_count, calls.row_count) == rows
            assert [str(cell) for cell in waiting.get_row("w1")][3:] == ["+33610000001", "Claire Martin"]
            await pilot.resize_terminal(80, 24)
            await pilot.pause()
            assert labels(waiting) == ["Wait", "VIP", "IVR", "Caller"] and fits(waiting) and fits(calls)
            assert (waiting.row_count, calls.row_count) == rows

    run(scenario())


def colours(svg: str) -> set[str]:
    import re

    return set(re.findall(r"(?:fill|color)[=:]\s*\"?#([0-9a-fA-F]{6})", svg))


SVG_FRAME = {"ff5f57", "febc2e", "28c840", "c5c8c6"}  # the window buttons and frame of Rich's SVG


def chromatic(svg: str) -> set[str]:
    """Colours of the screenshot's cells that are not a grey."""
    return {c for c in colours(svg) - SVG_FRAME if len({c[0:2], c[2:4], c[4:6]}) > 1}


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
def test_no_color_draws_every_screen_in_greys_only(tmp_path, monkeypatch, no_color):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)

    async def scenario():
        for start in ("activity", "wallboard"):
            app = snapshot_app(tmp_path, start)
            async with app.run_test(size=(100, 30)) as pilot:
                await settle(pilot)
                svg = app.export_screenshot()
                assert colours(svg)
                assert (not chromatic(svg)) == no_color, (start, sorted(chromatic(svg))[:5])

    run(scenario())


def test_the_palette_runs_the_apps_and_the_screens_actions(tmp_path):
    from textual.command import CommandList, CommandPalette

    from ringtui.screens.activity import ReasonScreen

    app = snapshot_app(tmp_path, "activity")

    async def run_command(pilot, words: str) -> None:
        await pilot.press("colon")
        await until(lambda: isinstance(app.screen, CommandPalette), pilot)
        await pilot.press(*words)
        await until(lambda: app.screen.query_one(CommandList).highlighted == 0, pilot)
        await pilot.press("enter")
        await until(lambda: not isinstance(app.screen, CommandPalette), pilot)

    async def scenario():
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await run_command(pilot, "pause")
            await until(lambda: app.paused and "PAUSED" in app.screen.sub_title, pilot)
            board = app.screen.query_one("#board-free")
            board.focus()
            board.move_cursor(row=1)
            await run_command(pilot, "snooze the selected")
            await until(lambda: isinstance(app.screen, ReasonScreen), pilot)
            assert app.screen.agent == board.coordinate_to_cell_key(board.cursor_coordinate).row_key.value

    run(scenario())
