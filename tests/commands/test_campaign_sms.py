"""`campaign sms create` and the life of a campaign: fields, cost, credits (B1), launch/pause/resume."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from ringtui import db as ringtui_db
from tests.conftest import ok, refused

FIELDS = {"recipients", "duplicates", "invalid", "fragments_per_message", "encoding", "estimated_cost"}


@pytest.fixture
def sms(account):
    ok(account("campaign", "sms", "request-access"))
    ok(account("campaign", "sms", "approve", "boss@acme.test"))
    return account


def create(cli, *args: str, name: str = "Promo", to: str = "0612345678,+34612345678,+447400123456",
           message: str = "Hello"):
    return cli("campaign", "sms", "create", name, "--sender", "Acme", "--country", "FR",
               *(["--message", message] if message is not None else []), "--to", to, *args)


def set_credits(db_url: str, credits: str, blocked: bool) -> None:
    with ringtui_db.engine_for(db_url).begin() as connection:
        connection.execute(text("UPDATE account SET credits = :c, off_plan_blocked = :b"),
                           {"c": credits, "b": blocked})


def test_create_reports_the_contract_fields_and_a_per_country_cost(sms):
    result = ok(create(sms, "--json")).json()
    assert set(result) >= FIELDS
    assert (result["recipients"], result["duplicates"], result["invalid"]) == (3, 0, 0)
    assert (result["encoding"], result["fragments_per_message"]) == ("gsm7", 1)
    # config defaults: FR 0.05, ES 0.05, GB 0.04 per fragment
    assert result["estimated_cost"] == pytest.approx(0.14)
    assert result["status"] == "draft"


@pytest.mark.parametrize(("message", "encoding", "fragments"), [
    ("a" * 160, "gsm7", 1),
    ("a" * 161, "gsm7", 2),
    ("€" * 80, "gsm7", 1),  # extension characters count two septets
    ("€" * 81, "gsm7", 2),
    ("é" * 160, "gsm7", 1),  # é is in the GSM-7 basic table
    ("á" * 70, "ucs2", 1),
    ("á" * 71, "ucs2", 2),
    ("😀" * 35, "ucs2", 1),  # two UTF-16 units each
    ("😀" * 36, "ucs2", 2),
])
def test_encoding_and_fragments_drive_the_cost(sms, message, encoding, fragments):
    result = ok(create(sms, "--json", to="0612345678", message=message)).json()
    assert (result["encoding"], result["fragments_per_message"]) == (encoding, fragments)
    assert result["estimated_cost"] == pytest.approx(0.05 * fragments)


def test_prices_come_from_the_config_file(sms, tmp_path: Path):
    config = tmp_path / "ringtui.toml"
    config.write_text('[sms]\nprice_default = "0.2"\n[sms.prices]\nFR = "0.07"\n')
    result = ok(sms("--config", str(config), "campaign", "sms", "create", "P", "--sender", "Acme",
                    "--country", "FR", "--message", "Hi", "--to", "0612345678,+34612345678", "--json")).json()
    assert result["estimated_cost"] == pytest.approx(0.27)


def test_message_from_a_file(sms, tmp_path: Path):
    path = tmp_path / "text.txt"
    path.write_text("Bonjour à tous !\n", encoding="utf-8")
    result = ok(create(sms, "--message-file", str(path), "--json", message=None)).json()
    assert (result["encoding"], result["fragments_per_message"]) == ("gsm7", 1)


def test_short_credits_with_off_plan_blocked_are_refused(sms, db_url, unchanged):
    set_credits(db_url, "0.10", True)
    with unchanged():
        refused(create(sms), "costs 0.14", "0.10 credits", "off-plan consumption is blocked")
    set_credits(db_url, "0.10", False)  # not blocked: consumption goes off plan
    ok(create(sms))


def test_launch_is_refused_when_the_credits_no_longer_cover_it(sms, db_url, unchanged):
    ok(create(sms))
    set_credits(db_url, "0.01", True)
    with unchanged():
        refused(sms("campaign", "launch", "Promo"), "the rest of campaign 'Promo'", "0.14")


@pytest.mark.parametrize(("args", "fragments"), [
    (("--sender", "Far too long sender"), ("'Far too long sender'", "11")),
    (("--sender", "Acme!"), ("'Acme!'",)),
    (("--country", "XX"), ("'XX'", "ISO 3166")),
])
def test_bad_sender_or_country_is_refused(sms, unchanged, args, fragments):
    base = {"--sender": "Acme", "--country": "FR"}
    base[args[0]] = args[1]
    with unchanged():
        refused(sms("campaign", "sms", "create", "P", "--sender", base["--sender"], "--country",
                    base["--country"], "--message", "Hi", "--to", "0612345678"), *fragments)


def test_numeric_sender_is_stored_in_e164(sms):
    result = ok(sms("campaign", "sms", "create", "P", "--sender", "01 40 50 60 70", "--country", "FR",
                    "--message", "Hi", "--to", "0612345678", "--json")).json()
    assert result["sender"] == "+33140506070"


def test_bad_messages_and_names_are_refused(sms, unchanged, tmp_path):
    with unchanged():
        refused(create(sms, message="   "), "message is empty")
        refused(create(sms, message="x" * 1601), "1601", "1600")
        refused(create(sms, message=None), "--message TEXT or --message-file")
        refused(create(sms, name=" "), "campaign name")
    ok(create(sms))
    with unchanged():
        refused(create(sms), "'Promo' already exists")


def test_list_show_launch_pause_resume(sms):
    ok(create(sms))
    [row] = ok(sms("campaign", "list", "--json")).json()
    assert (row["name"], row["kind"], row["status"], row["recipients"], row["pending"]) == (
        "Promo", "sms", "draft", 3, 3)
    launched = ok(sms("campaign", "launch", "Promo", "--json")).json()
    assert launched["status"] == "running" and launched["launched_at"]
    assert ok(sms("campaign", "pause", "Promo", "--json")).json()["status"] == "paused"
    assert ok(sms("campaign", "resume", "Promo", "--json")).json()["status"] == "running"
    shown = ok(sms("campaign", "show", "Promo", "--json")).json()
    assert (shown["sender"], shown["message"], shown["by_status"], shown["sms_sent"]) == (
        "Acme", "Hello", {"pending": 3}, 0)
    lines = ok(sms("campaign", "list", "--csv")).stdout.splitlines()
    assert lines[0].startswith("name,kind,status,recipients")


def test_wrong_transitions_are_refused(sms, unchanged):
    ok(create(sms))
    with unchanged():
        refused(sms("campaign", "pause", "Promo"), "cannot pause", "draft", "launch it first")
        refused(sms("campaign", "resume", "Promo"), "cannot resume", "draft")
        refused(sms("campaign", "launch", "Nope"), "no campaign 'Nope'")
    ok(sms("campaign", "launch", "Promo"))
    with unchanged():
        refused(sms("campaign", "launch", "Promo"), "cannot launch", "running")
        refused(sms("campaign", "resume", "Promo"), "cannot resume", "running")


def test_lifecycle_needs_the_same_access_as_creation(sms, unchanged):
    ok(create(sms))
    ok(sms("users", "add", "sup@acme.test"))
    ok(sms("users", "role", "sup@acme.test", "supervisor", "--campaigns"))
    with unchanged():
        refused(sms("campaign", "launch", "Promo", as_user="sup@acme.test"), "approved access request")


def test_create_and_launch_in_one_command(sms, db_url, unchanged):
    result = ok(create(sms, "--launch", "--json")).json()
    assert (result["status"], result["recipients"]) == ("running", 3) and result["launched_at"]
    set_credits(db_url, "0.01", True)
    with unchanged():  # refused as a whole: nothing created, nothing launched
        refused(create(sms, "--launch", name="Second"), "costs 0.14")
