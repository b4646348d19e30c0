"""TUI tests: a small center in the database, a real engine on 127.0.0.1:0 with a frozen
clock, and a fixed live dataset for the snapshots (no engine, no wall clock)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from textual.css.query import NoMatches
from textual.widgets import DataTable, Static

from ringtui.config import Settings, load_settings
from ringtui.engine.core.clock import FakeClock
from ringtui.engine.runtime import EngineRuntime
from ringtui.screens.activity import ActivityScreen
from ringtui.screens.app import RingtuiApp
from ringtui.screens.feed import FeedConnection, LiveState
from ringtui.screens.launch import build_context
from ringtui.screens.wallboard import IvrCard, WallboardScreen
from tests.conftest import ok
from tests.engine.conftest import running_engine as engine_running

SUPERVISOR, ACCOUNTANT = "sup@acme.test", "acc@acme.test"
SALES = ("ana@acme.test", "bob@acme.test")
SUPPORT = ("cid@acme.test",)
CUSTOMER = "+33612345678"
FROZEN = datetime(2026, 11, 2, 10, 30, tzinfo=UTC)


def run(coroutine: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, timeout=timeout))


@dataclass
class Center:
    cli: Callable[..., Any]
    db_url: str
    sales_number: str
    support_number: str

    def settings(self, acting_user: str | None = None, **tui: Any) -> Settings:
        base = load_settings(database_url=self.db_url, acting_user=acting_user)
        return Settings(**{**base.__dict__, **tui})


@pytest.fixture
def center(advanced_account, db_url, tmp_path, monkeypatch) -> Center:
    """Sales (ana, bob) behind the Standard IVR, Support (cid) behind the Support IVR, a contact
    for CUSTOMER, a supervisor of Sales/Standard only and an accountant."""
    cli = advanced_account
    monkeypatch.setenv("RINGTUI_ENGINE_TOKEN_FILE", str(tmp_path / "engine.token"))
    numbers = [n["number"] for n in ok(cli("numbers", "search", "--country", "FR", "--format", "national",
                                           "--limit", "2", "--json")).json()]
    for group, members, ivr, number in (("Sales", SALES, "Standard", numbers[0]),
                                        ("Support", SUPPORT, "Support", numbers[1])):
        ok(cli("groups", "create", group))
        for email in members:
            ok(cli("users", "add", email, "--group", group))
        ok(cli("ivr", "create", ivr))
        ok(cli("ivr", "step", "add", ivr, "--type", "queue", "--group", group))
        ok(cli("numbers", "add", number))
        ok(cli("numbers", "assign", number, "--ivr", ivr))
    ok(cli("users", "add", SUPERVISOR))
    ok(cli("users", "role", SUPERVISOR, "supervisor", "--scope", "group:Sales", "--scope", "ivr:Standard"))
    ok(cli("users", "add", ACCOUNTANT))
    ok(cli("users", "role", ACCOUNTANT, "accountant"))
    ok(cli("contacts", "add", "--name", "Claire Martin", "--number", CUSTOMER))
    return Center(cli, db_url, numbers[0], numbers[1])


@contextlib.asynccontextmanager
async def running_engine(settings: Settings) -> AsyncIterator[tuple[EngineRuntime, FakeClock, str]]:
    """A real engine (feed, recorder, reload) on 127.0.0.1:0 whose clock moves only when told."""
    clock = FakeClock(FROZEN)
    async with engine_running(settings, clock) as (runtime, url):
        yield runtime, clock, url


def tui_app(settings: Settings, url: str | None = None, *, start: str | None = None,
            ascii_only: bool = False) -> RingtuiApp:
    context = build_context(settings, ascii_only=ascii_only)
    connection = None
    if url is not None:
        token = settings.token_file.read_text().strip()
        connection = FeedConnection(url, token)
    return RingtuiApp(context, connection=connection, start=start)


async def until(condition: Callable[[], Any], pilot: Any = None, timeout: float = 20.0) -> None:
    """Wait for a condition the app reaches asynchronously (feed frames, workers)."""
    def reached() -> Any:
        try:
            return condition()
        except NoMatches:  # the screen is there, its widgets not mounted yet
            return False

    async with asyncio.timeout(timeout):
        while not reached():
            if pilot is not None:
                await pilot.pause(0.05)
            else:
                await asyncio.sleep(0.05)


def drawn(screen) -> bool:
    """The live screen shows the fixed dataset: the board and KPIs, or every card filled in."""
    if isinstance(screen, WallboardScreen):
        filled = [card for card in screen.query(IvrCard)
                  if "free" in str(card.query_one(".details", Static).render())]
        return bool(filled) and len(filled) == len(screen.query(IvrCard)) and \
            str(screen.query_one("#summary", Static).render()).startswith("Waiting")
    if isinstance(screen, ActivityScreen):
        return "SL" in str(screen.query_one("#kpis", Static).render()) and \
            screen.query_one("#board-free", DataTable).row_count > 0
    return False


# ---------------------------------------------------------------- the fixed dataset of the snapshots

def _t(seconds: float) -> str:
    return (FROZEN - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def fixed_state() -> LiveState:
    """Twelve agents in every state, five waiting calls, six calls in progress, today's KPIs."""
    agents = []
    states = ["free", "free", "free", "in_call", "in_call", "ringing", "after_call_work", "snooze", "snooze",
              "off", "off", "out_of_schedule"]
    interfaces = ["sip", "web", "ios", "sip", "android", "web", "sip", "web", "sip", None, None, "web"]
    for index, (state, interface) in enumerate(zip(states, interfaces, strict=True)):
        agents.append({"email": f"agent{index:02d}@acme.test", "name": f"Agent {index:02d}", "state": state,
                       "reason": ("Lunch" if index == 7 else "Training") if state == "snooze" else None,
                       "interface": interface, "device": "Yealink T46U" if interface == "sip" else None,
                       "since": _t(60 * index + 5)})
    waiting = [{"call_id": f"w{i}", "from_number": f"+3361000000{i}", "ivr": ("Standard", "Support")[i % 2],
                "wait_s": 15.0 * (i + 1), "vip": i == 1} for i in range(5)]
    calls = [{"call_id": f"c{i}", "direction": ("in", "out")[i % 2], "from_number": f"+3362000000{i}",
              "to_number": "+33140000000" if i % 2 == 0 else f"+3363000000{i}",
              "ivr": "Standard" if i in (0, 2) else None, "agent": f"agent{3 + i % 4:02d}@acme.test",
              "state": "connected", "duration_s": 42.0 * (i + 1)} for i in range(6)]
    calls += [{"call_id": row["call_id"], "direction": "in", "from_number": row["from_number"],
               "to_number": "", "ivr": row["ivr"], "agent": None, "state": "queued",
               "duration_s": row["wait_s"]} for row in waiting]
    state = LiveState()
    state.apply_many([
        {"type": "hello", "protocol": 1, "rights": ["feed:read", "feed:control"]},
        {"type": "snapshot", "agents": agents, "waiting": waiting, "calls": calls},
        {"type": "kpi", "at": _t(0), "day": "2026-11-02", "inbound_calls": 184, "answered_calls": 171,
         "missed_calls": 13, "outbound_calls": 57, "service_level": 0.9293, "avg_wait_s": 14.2,
         "avg_abandon_s": 48.0, "max_wait_s": 212.0, "avg_talk_in_s": 245.0, "avg_talk_out_s": 131.0},
    ])
    for ivr, inbound, answered in (("Standard", 120, 113), ("Support", 64, 58)):
        state.ivr_tally[ivr] = [inbound, answered]
    state.connected, state.status = True, "live: ws://127.0.0.1:8765"
    return state


def fixed_contact_names() -> dict[str, str | None]:
    """Names of the fixed dataset's customers (None: not a contact), so that no lookup runs."""
    names: dict[str, str | None] = {f"+3361000000{i}": None for i in range(5)}
    names.update({f"+3362000000{i}": None for i in range(6)})
    names.update({f"+3363000000{i}": None for i in range(6)})
    names.update({"+33610000001": "Claire Martin", "+33620000000": "Hugo Bernard",
                  "+33630000001": "Ines Leroy"})
    return names


FIXED_SCOPE = {"email": "boss@acme.test", "role": "super_admin",
               "areas": ["activity", "billing", "configuration", "contacts", "logs", "statistics"],
               "agents": None, "ivrs": None, "may_take": True, "may_whisper": True}
# The wallboard's IVRs with the agents they reach and today's calls in the records before the feed's
FIXED_IVR_TODAY = {
    ivr: {"agents": agents, "inbound": 0, "answered": 0}
    for ivr, agents in (("Standard", [f"agent{i:02d}@acme.test" for i in range(0, 8)]),
                        ("Support", [f"agent{i:02d}@acme.test" for i in range(6, 12)]),
                        ("Sales FR", []), ("Night line", ["agent11@acme.test"]))}
