"""Activity (A1-A5) on a real engine feed: the board moves in place, actions go through the
feed's control messages, refusals show the engine's or the service's words, scopes hold."""

from __future__ import annotations

from textual.widgets import DataTable

from ringtui.screens.activity import ActivityScreen
from ringtui.screens.feed import FeedConnection
from ringtui.vocab import AgentState
from tests.conftest import ADMIN, ok
from tests.screens.conftest import CUSTOMER, SUPERVISOR, run, running_engine, tui_app, until


def messages(app) -> list[str]:
    return [str(notification.message) for notification in app._notifications]


def board(app, column: str) -> DataTable:
    return app.screen.query_one(f"#board-{column}", DataTable)


def row_of(table: DataTable, key: str) -> list[str]:
    return [str(cell) for cell in table.get_row(key)]


def keys(table: DataTable) -> set[str]:
    return {key.value for key in table.rows}


def test_a_feed_event_updates_the_board_in_place(center):
    settings = center.settings()

    async def scenario():
        async with running_engine(settings) as (runtime, clock, url):
            runtime.apply(runtime.center.agent_connected("ana@acme.test", "sip", "Yealink T46U"))
            app = tui_app(settings, url, start="activity")
            async with app.run_test(size=(120, 40)) as pilot:
                await until(lambda: isinstance(app.screen, ActivityScreen)
                            and "ana@acme.test" in keys(board(app, "free")), pilot)
                free, in_call = board(app, "free"), board(app, "in_call")
                cleared = []
                for table in (free, in_call):
                    original = table.clear
                    table.clear = lambda *a, _o=original, **k: (cleared.append(1), _o(*a, **k))[1]
                assert row_of(free, "ana@acme.test")[1] == "sip (Yealink T46U)"
                # a call rings ana: she moves from Free to In call, by her row key
                runtime.apply(runtime.center.call_arrived("call-1", CUSTOMER, center.sales_number))
                await until(lambda: "ana@acme.test" in keys(in_call), pilot)
                assert "ana@acme.test" not in keys(free)
                assert row_of(in_call, "ana@acme.test")[1] == "ringing"
                # she answers: same row, same table, one cell changed
                runtime.apply(runtime.center.agent_answered("call-1", "ana@acme.test"))
                await until(lambda: row_of(in_call, "ana@acme.test")[1] == "in call", pilot)
                assert board(app, "in_call") is in_call and board(app, "free") is free
                assert not cleared, "tables are updated in place, never cleared and rebuilt"
                # the call in progress carries the customer's name from the contacts (A4)
                calls = app.screen.query_one("#calls", DataTable)
                await until(lambda: "call-1" in keys(calls) and row_of(calls, "call-1")[3] == "Claire Martin",
                            pilot)
                assert row_of(calls, "call-1")[5] == "Standard" and row_of(calls, "call-1")[6] == "talking"
                # time moves: the duration cell follows the engine's clock
                clock.advance(75)
                runtime.apply(runtime.center.advance())
                await until(lambda: row_of(calls, "call-1")[0] == "1m15", pilot, timeout=5)

    run(scenario())


def test_todays_kpis_come_with_the_snapshot_not_a_second_later(center):
    """The first paint shows today's figures: they arrive with the snapshot, before any kpi event."""
    settings = center.settings()

    async def scenario():
        async with running_engine(settings) as (runtime, _clock, url):
            runtime.apply(runtime.center.call_arrived("call-1", CUSTOMER, center.sales_number))
            runtime.apply(runtime.center.caller_hung_up("call-1"))
            connection = FeedConnection(url, settings.token_file.read_text().strip())
            await connection.connect_once()
            try:
                assert connection.state.kpis["inbound_calls"] == 1
                assert connection.state.kpis["missed_calls"] == 1
            finally:
                await connection.close()

    run(scenario())


def test_snooze_and_take_go_through_the_engine_feed(center):
    settings = center.settings()

    async def scenario():
        async with running_engine(settings) as (runtime, _clock, url):
            runtime.apply(runtime.center.agent_connected("ana@acme.test", "sip"))
            app = tui_app(settings, url, start="activity")
            async with app.run_test(size=(120, 40)) as pilot:
                await until(lambda: isinstance(app.screen, ActivityScreen)
                            and "ana@acme.test" in keys(board(app, "free")), pilot)
                free = board(app, "free")
                free.focus()
                free.move_cursor(row=free.get_row_index("ana@acme.test"))
                await pilot.press("s")
                await pilot.press(*["backspace"] * 5, *"Lunch", "enter")
                await until(lambda: "ana@acme.test" in keys(board(app, "snooze")), pilot)
                assert row_of(board(app, "snooze"), "ana@acme.test")[1] == "Lunch"
                assert runtime.center.agent_state("ana@acme.test") == AgentState.SNOOZE
                # nobody of Sales is free: the call waits; taking it with nobody to take it is refused
                runtime.apply(runtime.center.call_arrived("call-2", CUSTOMER, center.sales_number))
                waiting = app.screen.query_one("#waiting", DataTable)
                await until(lambda: "call-2" in keys(waiting), pilot)
                assert row_of(waiting, "call-2")[2] == "Standard"
                waiting.focus()
                await pilot.press("t")
                await until(lambda: any("refused by the engine" in m for m in messages(app)), pilot)
                assert any(f"agent '{ADMIN}' cannot take a call now" in m for m in messages(app))
                assert "call-2" in keys(waiting)
                # once the admin is connected, t connects the waiting call to them
                runtime.apply(runtime.center.agent_connected(ADMIN, "web"))
                await pilot.press("t")
                await until(lambda: "call-2" not in keys(waiting), pilot)
                calls = app.screen.query_one("#calls", DataTable)
                await until(lambda: "call-2" in keys(calls), pilot)
                assert runtime.center.calls["call-2"].agent == ADMIN
                # whisper to the agent of the call in progress
                calls.focus()
                calls.move_cursor(row=calls.get_row_index("call-2"))
                await pilot.press("w")
                await until(lambda: any("whisper: done (call-2)" in m for m in messages(app)), pilot)
                # unsnooze from the board
                snooze = board(app, "snooze")
                snooze.focus()
                snooze.move_cursor(row=snooze.get_row_index("ana@acme.test"))
                await pilot.press("u")
                await until(lambda: "ana@acme.test" in keys(board(app, "free")), pilot)

    run(scenario())


def test_a_supervisor_sees_only_her_groups_and_ivrs_and_is_refused_what_she_may_not_do(center):
    ok(center.cli("users", "perms", SUPERVISOR, "take_waiting_calls=false"))
    settings = center.settings(acting_user=SUPERVISOR)

    async def scenario():
        async with running_engine(settings) as (runtime, _clock, url):
            for email in ("ana@acme.test", "cid@acme.test"):
                runtime.apply(runtime.center.agent_connected(email, "sip"))
            runtime.apply(runtime.center.snooze("ana@acme.test", "Training"))
            runtime.apply(runtime.center.snooze("cid@acme.test", "Training"))
            runtime.apply(runtime.center.call_arrived("sales-1", CUSTOMER, center.sales_number))
            runtime.apply(runtime.center.call_arrived("support-1", "+33699999999", center.support_number))
            app = tui_app(settings, url, start="activity")
            async with app.run_test(size=(120, 40)) as pilot:
                await until(lambda: isinstance(app.screen, ActivityScreen)
                            and "ana@acme.test" in keys(board(app, "snooze")), pilot)
                everyone = set().union(*(keys(board(app, c)) for c in ("free", "in_call", "snooze", "off")))
                assert everyone == {"ana@acme.test", "bob@acme.test", SUPERVISOR}
                waiting = app.screen.query_one("#waiting", DataTable)
                await until(lambda: "sales-1" in keys(waiting), pilot)
                assert "support-1" not in keys(waiting)
                waiting.focus()
                await pilot.press("t")
                await until(lambda: any("take refused" in m for m in messages(app)), pilot)
                assert any("may not take waiting calls (permission take_waiting_calls=false)" in m
                           for m in messages(app))
                assert "sales-1" in runtime.center.calls and "sales-1" in keys(waiting)

    run(scenario())


def test_a_supervisor_whispers_only_where_the_agent_may_be_listened_and_snoozes_only_her_agents(center):
    """U4 may_be_listened=false keeps a supervisor out of that agent's calls; an agent outside her
    groups (never on her board, but a stale or forged request) cannot be snoozed by her."""
    ok(center.cli("users", "perms", "ana@acme.test", "may_be_listened=false"))
    settings = center.settings(acting_user=SUPERVISOR)

    async def scenario():
        async with running_engine(settings) as (runtime, _clock, url):
            for call_id, agent in (("call-ana", "ana@acme.test"), ("call-bob", "bob@acme.test")):
                runtime.apply(runtime.center.agent_connected(agent, "sip"))
                runtime.apply(runtime.center.call_arrived(call_id, CUSTOMER, center.sales_number))
                runtime.apply(runtime.center.agent_answered(call_id, agent))
            runtime.apply(runtime.center.agent_connected("cid@acme.test", "sip"))
            app = tui_app(settings, url, start="activity")
            async with app.run_test(size=(120, 40)) as pilot:
                await until(lambda: isinstance(app.screen, ActivityScreen), pilot)
                calls = app.screen.query_one("#calls", DataTable)
                await until(lambda: {"call-ana", "call-bob"} <= keys(calls), pilot)
                calls.focus()
                calls.move_cursor(row=calls.get_row_index("call-ana"))
                await pilot.press("w")
                await until(lambda: any("whisper refused" in m for m in messages(app)), pilot)
                assert any("ana@acme.test's calls may not be listened to (permission may_be_listened=false)"
                           in m for m in messages(app))
                calls.move_cursor(row=calls.get_row_index("call-bob"))
                await pilot.press("w")
                await until(lambda: any("whisper: done (call-bob)" in m for m in messages(app)), pilot)
                assert "cid@acme.test" not in keys(board(app, "free"))
                app.screen.control("snooze", agent="cid@acme.test", reason="Lunch")
                await until(lambda: any("snooze refused" in m for m in messages(app)), pilot)
                assert any(f"cid@acme.test is outside the groups {SUPERVISOR} supervises" in m
                           for m in messages(app))
                assert runtime.center.agent_state("cid@acme.test") == AgentState.FREE

    run(scenario())


def test_removing_rows_in_bulk_leaves_the_table_as_one_by_one_removal_would():
    from textual.app import App, ComposeResult

    from ringtui.screens.widgets.live_table import LiveTable

    class Two(App[None]):
        def compose(self) -> ComposeResult:
            for name, kind in (("bulk", LiveTable), ("single", DataTable)):
                table = kind(id=name)
                table.add_columns("Agent", "State")
                for index in range(50):
                    table.add_row(f"agent {index}", "free", key=f"a{index}")
                yield table

    async def scenario():
        app = Two()
        async with app.run_test() as pilot:
            bulk, single = app.query_one("#bulk", LiveTable), app.query_one("#single", DataTable)
            gone = [f"a{index}" for index in (0, 7, 8, 30, 49, 12)]
            bulk.remove_rows([*gone, "not-there"])
            for key in gone:
                single.remove_row(key)
            await pilot.pause()
            assert [bulk.get_row_at(i) for i in range(bulk.row_count)] == [
                single.get_row_at(i) for i in range(single.row_count)]
            assert [bulk.get_row_index(k.value) for k in bulk.rows] == list(range(44))
            bulk.add_row("agent 99", "off", key="a99")
            assert bulk.get_row_index("a99") == 44 and row_of(bulk, "a99") == ["agent 99", "off"]

    run(scenario())


def test_names_and_reasons_show_as_typed_not_as_markup(center):
    from ringtui.screens.app import RingtuiApp
    from ringtui.screens.launch import build_context
    from tests.screens.conftest import FIXED_SCOPE, fixed_state

    async def scenario():
        context = build_context(center.settings())
        context.options.update(scope=FIXED_SCOPE)
        context.feed = fixed_state()
        app = RingtuiApp(context, start="activity")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(lambda: "agent00@acme.test" in keys(board(app, "free")), pilot)
            context.feed.apply({"type": "agent_state", "email": "agent00@acme.test", "state": "snooze",
                                "reason": "[b]Doctor[/b] [red]x"})
            await until(lambda: "agent00@acme.test" in keys(board(app, "snooze")), pilot)
            assert row_of(board(app, "snooze"), "agent00@acme.test")[1] == "[b]Doctor[/b] [red]x"

    run(scenario())


def test_frames_are_skipped_over_the_cpu_budget_but_one_a_second_is_drawn(center, monkeypatch):
    from ringtui.screens import live_screen
    from ringtui.screens.launch import build_context

    clock = {"wall": 100.0, "cpu": 10.0}
    monkeypatch.setattr(live_screen.time, "monotonic", lambda: clock["wall"])
    monkeypatch.setattr(live_screen.time, "process_time", lambda: clock["cpu"])
    screen = ActivityScreen(build_context(center.settings()))
    screen._last_frame_at = clock["wall"]

    def later(wall: float, cpu: float, *, drawn_just_before: bool = True) -> bool:
        if drawn_just_before:
            screen._last_frame_at = clock["wall"] + wall - 0.1
        clock["wall"] += wall
        clock["cpu"] += cpu
        return screen._over_budget()

    assert not later(0.5, 0.05)  # 10 % of a core: draw
    assert later(0.4, 0.4)  # 50 % over the last 0.9 s: skip
    assert not later(1.2, 1.2, drawn_just_before=False)  # busy, but no frame for over a second: draw
    assert later(0.3, 0.3)
    assert not later(3.0, 0.1)  # quiet again over the last window


def test_a_call_in_progress_is_transferred_to_an_agent_from_the_calls_table(center):
    """x on a call in progress, the target typed in the prompt: the engine rings bob, the row shows the
    transfer, then bob; a bad target is refused in the engine's words and the call stays with ana."""
    settings = center.settings()

    async def scenario():
        async with running_engine(settings) as (runtime, _clock, url):
            runtime.apply(runtime.center.agent_connected("ana@acme.test", "sip"))
            runtime.apply(runtime.center.call_arrived("call-1", CUSTOMER, center.sales_number))
            runtime.apply(runtime.center.agent_answered("call-1", "ana@acme.test"))
            app = tui_app(settings, url, start="activity")
            async with app.run_test(size=(120, 40)) as pilot:
                await until(lambda: isinstance(app.screen, ActivityScreen)
                            and "call-1" in keys(app.screen.query_one("#calls", DataTable)), pilot)
                calls = app.screen.query_one("#calls", DataTable)
                calls.focus()
                calls.move_cursor(row=calls.get_row_index("call-1"))
                await pilot.press("x", *"0612345678", "enter")
                await until(lambda: any("transfer refused by the engine" in m for m in messages(app)), pilot)
                assert any("not an agent's e-mail nor a number in E.164 form" in m for m in messages(app))
                assert runtime.center.calls["call-1"].agent == "ana@acme.test"
                runtime.apply(runtime.center.agent_connected("bob@acme.test", "sip"))
                await pilot.press("x", *"bob@acme.test", "enter")
                await until(lambda: row_of(calls, "call-1")[6] == "transferring", pilot)
                assert runtime.center.agents["bob@acme.test"].ringing == {"call-1"}
                runtime.apply(runtime.center.agent_answered("call-1", "bob@acme.test"))
                await until(lambda: row_of(calls, "call-1")[6] == "talking", pilot)
                assert runtime.center.calls["call-1"].agent == "bob@acme.test"

    run(scenario())


def test_a_supervisor_without_transfer_calls_is_refused_before_the_engine_is_asked(center):
    ok(center.cli("users", "perms", SUPERVISOR, "transfer_calls=false"))
    settings = center.settings(acting_user=SUPERVISOR)

    async def scenario():
        async with running_engine(settings) as (runtime, _clock, url):
            for email in ("ana@acme.test", "bob@acme.test"):
                runtime.apply(runtime.center.agent_connected(email, "sip"))
            runtime.apply(runtime.center.call_arrived("sales-1", CUSTOMER, center.sales_number))
            agent = runtime.center.calls["sales-1"].live_attempts()[0].agent
            runtime.apply(runtime.center.agent_answered("sales-1", agent))
            app = tui_app(settings, url, start="activity")
            async with app.run_test(size=(120, 40)) as pilot:
                await until(lambda: isinstance(app.screen, ActivityScreen)
                            and "sales-1" in keys(app.screen.query_one("#calls", DataTable)), pilot)
                calls = app.screen.query_one("#calls", DataTable)
                calls.focus()
                calls.move_cursor(row=calls.get_row_index("sales-1"))
                other = "bob@acme.test" if agent == "ana@acme.test" else "ana@acme.test"
                await pilot.press("x", *other, "enter")
                await until(lambda: any("transfer refused" in m for m in messages(app)), pilot)
                assert any(f"{SUPERVISOR} may not transfer calls (permission transfer_calls=false)" in m
                           for m in messages(app))
                assert runtime.center.calls["sales-1"].agent == agent

    run(scenario())
