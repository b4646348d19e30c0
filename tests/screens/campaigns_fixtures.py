"""A center for the campaign screens: advanced plan with the power dialer, the owner approved for SMS,
a supervisor with the Campaigns right and one without, an agent, a tag and an account number."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from ringtui.db import engine_for
from ringtui.models import PhoneNumber
from tests.conftest import ADMIN, ok

CAMPAIGNER, PLAIN_SUP, AGENT = "eve@acme.test", "sam@acme.test", "ana@acme.test"
OURS = "+33140506070"


def build_campaign_center(cli: Any, db_url: str) -> None:
    ok(cli("init", "--company", "Acme", "--plan", "advanced", "--admin", ADMIN, "--country", "FR"))
    ok(cli("account", "power-dialer", "on"))
    ok(cli("groups", "create", "Sales"))
    for email in (CAMPAIGNER, PLAIN_SUP, AGENT):
        ok(cli("users", "add", email, "--group", "Sales"))
    ok(cli("users", "role", CAMPAIGNER, "supervisor", "--scope", "group:Sales", "--campaigns"))
    ok(cli("users", "role", PLAIN_SUP, "supervisor", "--scope", "group:Sales"))
    ok(cli("tags", "add", "Hot"))
    ok(cli("campaign", "sms", "request-access", "--reason", "newsletters"))
    ok(cli("campaign", "sms", "approve", ADMIN))
    with Session(engine_for(db_url)) as db:
        db.add(PhoneNumber(e164=OURS, country="FR", format="national", status="available"))
        db.commit()


def tone(path: Path, seconds: float = 1.0, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / rate * 2 * math.pi * 440)))
                                 for i in range(int(seconds * rate))))
    return path


def set_results(db_url: str, campaign: str, statuses: dict[int, tuple[str, str | None]]) -> None:
    """Set numbers of a campaign (by list position) to a result, called by an agent (e-mail or None),
    as the engine's runner records them."""
    with engine_for(db_url).begin() as connection:
        def one(sql: str, value: str) -> int:
            return connection.execute(text(sql), {"v": value}).scalar_one()

        cid = one("SELECT id FROM campaign WHERE name = :v", campaign)
        for position, (status, agent) in statuses.items():
            uid = one("SELECT id FROM app_user WHERE email = :v", agent) if agent else None
            connection.execute(text("UPDATE campaign_recipient SET status = :s, attempts = 1, user_id = :u "
                                    "WHERE campaign_id = :c AND position = :p"),
                               {"s": status, "u": uid, "c": cid, "p": position})


def freeze_times(db_url: str) -> None:
    """Fixed creation and launch times (the snapshots must not show the wall clock)."""
    with engine_for(db_url).begin() as connection:
        connection.execute(text("UPDATE campaign SET created_at = '2026-11-02 09:00:00', "
                                "launched_at = CASE WHEN launched_at IS NULL THEN NULL "
                                "ELSE '2026-11-02 09:30:00' END"))


def campaigns_host(db_url: str, acting_user: str | None = None, feed: Any = None) -> Any:
    """The Campaigns screen for `acting_user`, with the settings the CLI loads (SMS prices included)
    and, when given, a feed state the test feeds as the engine would."""
    from ringtui.config import load_settings
    from ringtui.screens.campaigns import CampaignsScreen
    from ringtui.screens.context import TuiContext
    from tests.screens.screens_fixtures import NOW, Host

    shared = TuiContext(settings=load_settings(database_url=db_url), acting_user=acting_user,
                        feed=feed, options={"now": NOW})
    return Host(lambda: CampaignsScreen(shared))


def cli_on(url: str) -> Any:
    """`ringtui --db URL [--as USER] ARGS...` in-process, for module-scoped databases (the `cli`
    fixture is per test)."""
    from typer.testing import CliRunner

    from ringtui.cli import app as cli_app
    from tests.conftest import Result

    runner = CliRunner()

    def run(*args: str, as_user: str | None = None) -> Result:
        prefix = ["--db", url] + (["--as", as_user] if as_user else [])
        result = runner.invoke(cli_app, [*prefix, *args], catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    return run


def template_copy(sqlite_template: Path, folder: Path) -> str:
    """A migrated SQLite database of its own (a copy of the session's template), as a URL."""
    import shutil

    path = folder / "ringtui.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"
