"""The app: navigation, palette, help, pause, remapped keys, roles, ASCII mode."""

from __future__ import annotations

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable

from ringtui.errors import Invalid
from ringtui.screens.activity import ActivityScreen
from ringtui.screens.app import HomeScreen, RingtuiApp
from ringtui.screens.help import HelpScreen
from ringtui.screens.launch import build_context
from ringtui.screens.wallboard import WallboardScreen
from tests.screens.conftest import (
    ACCOUNTANT,
    FIXED_SCOPE,
    SALES,
    SUPERVISOR,
    drawn,
    fixed_state,
    run,
    tui_app,
    until,
)


def fixed_app(settings, **options) -> RingtuiApp:
    context = build_context(settings)
    context.options.update(scope=FIXED_SCOPE, **options)
    context.feed = fixed_state()
    return RingtuiApp(context)


def test_digits_open_screens_esc_goes_back_and_q_quits(center):
    async def scenario():
        app = tui_app(center.settings())
        async with app.run_test(size=(100, 30)) as pilot:
            await until(lambda: isinstance(app.screen, ActivityScreen), pilot)
            await pilot.press("2")
            assert isinstance(app.screen, WallboardScreen)
            await pilot.press("1")
            assert isinstance(app.screen, ActivityScreen)
            await pilot.press("escape")
            assert isinstance(app.screen, HomeScreen)
            await pilot.press("escape")  # nothing below home
            assert isinstance(app.screen, HomeScreen)
            await pilot.press("q")
        assert app.return_code == 0

    run(scenario())


def test_the_command_palette_jumps_to_a_screen(center):
    async def scenario():
        app = tui_app(center.settings())
        async with app.run_test(size=(100, 30)) as pilot:
            await until(lambda: isinstance(app.screen, ActivityScreen), pilot)
            await pilot.press("colon")
            assert isinstance(app.screen, CommandPalette)
            await pilot.press(*"open wallb")
            await until(lambda: app.screen.query_one(CommandList).option_count > 0, pilot)
            await pilot.press("down", "enter")
            await until(lambda: isinstance(app.screen, WallboardScreen), pilot)

    run(scenario())


def test_help_lists_the_keys_of_the_current_screen_with_their_ids(center):
    async def scenario():
        app = tui_app(center.settings())
        async with app.run_test(size=(100, 30)) as pilot:
            await until(lambda: isinstance(app.screen, ActivityScreen), pilot)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            table = app.screen.query_one("#help-keys", DataTable)
            rows = [table.get_row_at(i) for i in range(table.row_count)]
            assert ["s", "Snooze", "activity.snooze"] in rows
            assert ["p", "Pause", "app.pause"] in rows
            await pilot.press("escape")
            assert isinstance(app.screen, ActivityScreen)

    run(scenario())


def test_p_pauses_live_updates_and_resumes_them(center):
    async def scenario():
        app = fixed_app(center.settings())
        async with app.run_test(size=(100, 30)) as pilot:
            await until(lambda: isinstance(app.screen, ActivityScreen), pilot)
            screen = app.screen
            free = screen.query_one("#board-free", DataTable)
            await until(lambda: free.row_count == 3, pilot)
            await pilot.press("p")
            assert app.paused
            app.context.feed.apply({"type": "agent_state", "email": "agent00@acme.test", "state": "off"})
            screen.apply_pending()  # what the frame timer runs: nothing moves while paused
            await pilot.pause()
            assert free.row_count == 3, "a paused board does not move"
            assert screen.changes.any(), "the change waits for the resume"
            await pilot.press("p")
            await until(lambda: free.row_count == 2, pilot)

    run(scenario())


def test_a_key_remapped_in_config_replaces_the_default(center):
    async def scenario():
        app = fixed_app(center.settings(tui_keys={"app.pause": "f5"}))
        async with app.run_test(size=(100, 30)) as pilot:
            await until(lambda: isinstance(app.screen, ActivityScreen), pilot)
            await pilot.press("p")
            assert not app.paused
            await pilot.press("f5")
            assert app.paused

    run(scenario())


def test_an_unknown_binding_id_in_config_is_refused_naming_it(center):
    with pytest.raises(Invalid, match=r"'app\.paws' is not a binding id"):
        build_context(center.settings(tui_keys={"app.paws": "f5"}))


def test_bindings_of_shared_widgets_and_dialogs_can_be_remapped(center):
    """Tables, filter lines and forms are used by many screens; their ids are remappable too."""
    context = build_context(center.settings(tui_keys={"records.export": "x", "form.confirm": "ctrl+s"}))
    assert context.options["keymap"] == {"records.export": "x", "form.confirm": "ctrl+s"}


def test_an_accountant_gets_no_activity_screen(center):
    async def scenario():
        app = tui_app(center.settings(acting_user=ACCOUNTANT))
        async with app.run_test(size=(100, 30)) as pilot:
            await until(lambda: app.screens_allowed, pilot)
            assert [e.id for e in app.screens_allowed] == ["contacts"]  # contacts_tab is on by default
            await pilot.press("1")
            await pilot.pause()
            assert not isinstance(app.screen, ActivityScreen)
            assert any("accountant role does not give access to Activity" in str(n.message)
                       for n in app._notifications)

    run(scenario())


def test_ascii_mode_draws_no_box_or_block_glyph(center):
    async def scenario():
        app = fixed_app(center.settings(), ascii=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(lambda: isinstance(app.screen, ActivityScreen), pilot)
            await until(lambda: app.screen.query_one("#board-free", DataTable).row_count == 3, pilot)
            for key in ("1", "2"):
                await pilot.press(key)
                await until(lambda: drawn(app.screen), pilot)
                await pilot.pause()
                text = app.export_screenshot()
                lines = [line for line in text.splitlines() if "<text" in line]
                bad = {ch for line in lines for ch in line if ord(ch) > 127 and ch not in "\u00a0"}
                assert not bad, f"non-ASCII glyphs on screen {key}: {sorted(bad)}"

    run(scenario())


def test_tui_in_a_script_is_refused_with_what_to_use_instead(center):
    result = center.cli("tui")
    assert result.exit_code == 1
    assert "the TUI needs a terminal" in result.stderr and "engine status --json" in result.stderr


def test_every_screen_of_the_registry_opens_for_an_admin_and_a_supervisor_gets_hers_only(center):
    from ringtui.screens.registry import SCREENS

    async def scenario(acting_user, expected):
        app = tui_app(center.settings(acting_user=acting_user))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(lambda: app.screens_allowed, pilot)
            assert [e.id for e in app.screens_allowed] == expected
            for entry in app.screens_allowed:
                await app.open_screen(entry.id)
                await until(lambda wanted=entry.id: getattr(app.screen, "screen_id", None) == wanted, pilot)
                assert type(app.screen).__name__ == entry.target.rsplit(":", 1)[1]
            await app.action_back()
            assert isinstance(app.screen, HomeScreen)

    run(scenario(None, [e.id for e in SCREENS]))
    run(scenario(SUPERVISOR, ["activity", "wallboard", "logs", "missed", "statistics", "contacts"]))


def test_without_an_engine_the_tui_opens_offline_and_says_why(center):
    import socket

    from ringtui.screens.feed import FeedConnection
    from ringtui.screens.launch import token_from

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = center.settings()

    async def scenario():
        missing_token = RingtuiApp(build_context(settings), start="activity", connection=FeedConnection(
            f"ws://127.0.0.1:{port}", token_from(settings.token_file, None)))
        async with missing_token.run_test(size=(100, 30)) as pilot:
            await until(lambda: isinstance(missing_token.screen, ActivityScreen)
                        and "no engine token file" in (missing_token.screen.sub_title or ""), pilot)
        no_engine = RingtuiApp(build_context(settings), start="activity",
                               connection=FeedConnection(f"ws://127.0.0.1:{port}", "some-token"))
        async with no_engine.run_test(size=(100, 30)) as pilot:
            offline = f"no engine answers at ws://127.0.0.1:{port}"
            await until(lambda: isinstance(no_engine.screen, ActivityScreen)
                        and offline in (no_engine.screen.sub_title or ""), pilot)
            await pilot.press("3")  # the other screens work without an engine
            await until(lambda: type(no_engine.screen).__name__ == "LogsScreen", pilot)

    run(scenario())


def test_an_unknown_screen_is_refused_naming_the_screens(center):
    result = center.cli("tui", "--screen", "dashbord")
    assert result.exit_code == 2
    assert "unknown screen 'dashbord'" in result.stderr and "wallboard" in result.stderr


QUICK_SCOPE = """
import json, sys
from ringtui.config import load_settings
from ringtui.services.live_scope import quick_scope

scope = quick_scope(load_settings(database_url=sys.argv[1]), sys.argv[2])
orm = sorted(m for m in ("sqlmodel", "ringtui.models") if m in sys.modules)
print(json.dumps({"scope": scope, "orm": orm}))
"""


@pytest.mark.parametrize("who", [SUPERVISOR, ACCOUNTANT])
def test_the_first_screen_knows_the_role_without_loading_the_orm(center, who):
    """The role and scopes the TUI opens with: the services' rules, read without SQLModel and the
    models (the first paint does not wait for them)."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", QUICK_SCOPE, center.db_url, who], capture_output=True,
                          text=True, timeout=60, check=True)
    read = json.loads(done.stdout)
    assert read["orm"] == []
    scope = read["scope"]
    if who == SUPERVISOR:
        assert scope["role"] == "supervisor"
        assert scope["areas"] == ["activity", "contacts", "logs", "statistics"]
        assert scope["agents"] == sorted([*SALES, SUPERVISOR]) and scope["ivrs"] == ["Standard"]
        assert scope["may_take"] and scope["may_whisper"]  # take_waiting_calls is on by default
    else:
        assert (scope["role"], scope["agents"]) == ("accountant", None)
        assert scope["areas"] == ["billing", "contacts"]


def test_an_acting_user_who_is_not_in_the_account_stops_the_tui_saying_so(center, capsys):
    async def scenario():
        app = tui_app(center.settings(acting_user="nobody@acme.test"))
        async with app.run_test(size=(100, 30)) as pilot:
            await until(lambda: app.return_code is not None, pilot)
        assert app.return_code == 1

    run(scenario())
    assert "'nobody@acme.test' (--as / RINGTUI_USER) is not a user of this account" in capsys.readouterr().err
