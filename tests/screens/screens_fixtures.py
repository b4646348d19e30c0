"""A small exact contact center for the screen tests, and a tiny app that shows one screen.

The history (times UTC; the FR account is on Europe/Paris, UTC+1 in November):
  c0  Nov 1 23:30  in  direct   answered by ana  wait 5  talk 50   +33622222222
  c1  Nov 2 08:30  in  Support  answered by ana  wait 20 talk 100  +34612345678  tag Sale
  c2  Nov 2 09:00  in  Support  missed           wait 40           +33612345678
  c4  Nov 2 09:10  out direct   ana calls back +33612345678        talk 60
  c3  Nov 2 12:00  in  Sales    answered by bob  wait 10 talk 200  +33611111111  tag Urgent
  c5  Nov 2 22:30  in  Sales    voicemail        wait 30           +4915112345678
  c6  Nov 2 23:30  out direct   bob, not answered                  +33699999999
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, select
from textual.app import App
from textual.screen import Screen

from ringtui.config import Settings
from ringtui.db import engine_for
from ringtui.engine.recorder import record_all
from ringtui.models import CallRecord
from ringtui.screens.context import TuiContext
from ringtui.vocab import Direction
from tests.commands.test_calls import HISTORY  # the same fixed history as the call-log tests
from tests.conftest import ADMIN, ok

ANA, BOB, SUP, ACC = "ana@acme.test", "bob@acme.test", "sup@acme.test", "acc@acme.test"
LINE = "+33144951479"
NOW = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)  # the frozen clock of the screens


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def build_center(cli: Any) -> None:
    ok(cli("init", "--company", "Acme", "--plan", "business", "--admin", ADMIN, "--country", "FR"))
    for ivr in ("Support", "Sales"):
        ok(cli("ivr", "create", ivr))
    for tag in ("Sale", "Urgent", "Callback"):
        ok(cli("tags", "add", tag))
    ok(cli("groups", "create", "Team A"))
    for email in (ANA, BOB, SUP, ACC):
        ok(cli("users", "add", email, "--first-name", email.split("@")[0].title()))
    ok(cli("groups", "add", "Team A", ANA, BOB))
    ok(cli("users", "role", SUP, "supervisor", "--scope", "ivr:Sales"))
    ok(cli("users", "role", ACC, "accountant"))
    ok(cli("blacklist", "add", "+33899000000", "--direction", "in"))
    ok(cli("contacts", "add", "--name", "Carla Client", "--number", "+33612345678", "--company", "Client SA"))


@pytest.fixture(name="calls_center")
def calls_center_fixture(cli: Any, db_url: str) -> dict[str, int]:
    """The account with the history above; returns {call_id: record id}."""
    build_center(cli)
    engine = engine_for(db_url)
    record_all(engine, HISTORY)
    add_messages(db_url)
    with Session(engine) as db:
        return dict(db.exec(select(CallRecord.call_id, CallRecord.id)).all())


def add_messages(db_url: str) -> None:
    """Two SMS (one received, one sent by ana in unicode) and one meeting of bob's, on Nov 2."""
    from decimal import Decimal

    from ringtui.models import Meeting, SmsMessage, User
    from ringtui.vocab import MeetTool, SmsStatus

    with Session(engine_for(db_url)) as db:
        users = dict(db.exec(select(User.email, User.id)).all())
        db.add(SmsMessage(direction=Direction.IN, customer_number="+33612345678", account_number=LINE,
                          sent_at=at(2, 9, 5), text="Call me back please", status=SmsStatus.RECEIVED))
        db.add(SmsMessage(direction=Direction.OUT, customer_number="+33612345678", account_number=LINE,
                          user_id=users[ANA], sent_at=at(2, 9, 8), text="On my way ☎", unicode=True,
                          fragments=1, price=Decimal("0.0700"), status=SmsStatus.DELIVERED))
        db.add(Meeting(tool=MeetTool.ZOOM, user_id=users[BOB], title="Weekly review",
                       started_at=at(2, 14), ended_at=at(2, 14, 45), participants=4))
        db.commit()


def context(db_url: str, acting_user: str | None = None, **options: Any) -> TuiContext:
    return TuiContext(settings=Settings(database_url=db_url), acting_user=acting_user,
                      options={"now": NOW, **options})


class Host(App[None]):
    """Shows one screen, as the TUI app will once it registers it."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self.make = make

    def on_mount(self) -> None:
        self.push_screen(self.make())


def host(screen_class: type[Screen[Any]], db_url: str, acting_user: str | None = None,
         **options: Any) -> Host:
    return Host(lambda: screen_class(context(db_url, acting_user, **options)))


def record_state(db_url: str, record_id: int) -> dict[str, Any]:
    from ringtui.models import CallTag

    with Session(engine_for(db_url)) as db:
        record = db.get(CallRecord, record_id)
        tags = db.exec(select(CallTag.tag_id).where(CallTag.call_record_id == record_id)).all()
        return {"flagged": record.flagged, "processed_channel": record.processed_channel,
                "tags": len(tags)}


# ---------------------------------------------------------------- driving screens


def status(app: App[Any]) -> str:
    from textual.widgets import Static

    return str(app.screen.query_one("#status", Static).render())


def form_error(app: App[Any]) -> str:
    from textual.widgets import Static

    return str(app.screen.query_one("#form-error", Static).render())


async def fill(pilot: Any, key: str, **values: str) -> None:
    """Press `key` to open a form, type the values into its fields and confirm with Enter."""
    from textual.widgets import Input

    await pilot.press(key)
    await pilot.pause()
    for name, value in values.items():
        pilot.app.screen.query_one(f"#field-{name}", Input).value = value
    await pilot.press("enter")
    await pilot.pause()


def rows(app: App[Any], table_id: str = "records") -> list[dict[str, Any]]:
    from ringtui.screens.widgets.records_table import RecordsTable

    return app.screen.query_one(f"#{table_id}", RecordsTable).view_rows


def select_row(app: App[Any], key: str, value: Any, table_id: str = "records") -> None:
    from ringtui.screens.widgets.records_table import RecordsTable

    table = app.screen.query_one(f"#{table_id}", RecordsTable)
    table.move_cursor(row=[row[key] for row in table.view_rows].index(value))
