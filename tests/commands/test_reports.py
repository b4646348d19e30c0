"""Image reports (S15): `stats heatmap --out`, `reports subscribe/list/unsubscribe/run-due`,
delivered to a real SMTP server (aiosmtpd on 127.0.0.1, an ephemeral port) or written to a folder."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from ringtui.db import engine_for
from ringtui.engine.recorder import record_all
from ringtui.vocab import CallKind, CallType, Direction, Outcome
from tests.commands.test_calls import ANA, SUP, call
from tests.conftest import ADMIN, ok, refused

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
REFUSED_RECIPIENT = "gone@acme.test"


class Mailbox:
    """An aiosmtpd handler keeping what it received; refuses REFUSED_RECIPIENT with 550."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REFUSED_RECIPIENT:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mailbox(monkeypatch):
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    monkeypatch.setenv("RINGTUI_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("RINGTUI_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("RINGTUI_SMTP_FROM", "reports@acme.test")
    yield box
    controller.stop()


def yesterday_at(hour: int) -> datetime:
    """A time of yesterday in the account's zone (Europe/Paris), in UTC."""
    zone = ZoneInfo("Europe/Paris")
    day = datetime.now(zone).date() - timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


@pytest.fixture
def center(advanced_account, db_url):
    cli = advanced_account
    ok(cli("ivr", "create", "Support"))
    for email in (ANA, SUP):
        ok(cli("users", "add", email))
    ok(cli("users", "role", SUP, "supervisor"))
    record_all(engine_for(db_url), [
        call("y1", yesterday_at(10), Direction.IN, CallKind.IVR, "+33612345678", type_=CallType.ANSWERED,
             ivr="Support", agent=ANA, wait=10, talk=100, attempts=((ANA, Outcome.ANSWERED),)),
        call("y2", yesterday_at(15), Direction.IN, CallKind.IVR, "+33612345679", type_=CallType.MISSED,
             ivr="Support", wait=30, attempts=((ANA, Outcome.NO_ANSWER),)),
    ])
    ok(cli("filters", "save", "daily-support", "--period", "yesterday", "--ivr", "Support"))
    return cli


@pytest.fixture
def out_dir(tmp_path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    return folder


def attachments(message: Message) -> list[tuple[str, bytes]]:
    return [(part.get_filename(), part.get_payload(decode=True)) for part in message.walk()
            if part.get_content_disposition() == "attachment"]


def test_a_due_report_arrives_by_email_with_its_png_once(center, mailbox):
    sub = ok(center("reports", "subscribe", "daily-support", "--every", "daily", "--json")).json()
    assert (sub["every"], sub["period"], sub["to"], sub["subscriber"]) == ("daily", "yesterday", ADMIN, ADMIN)
    run = ok(center("reports", "run-due", "--json")).json()
    delivered = [(d["subscription"], d["channel"], d["to"]) for d in run["delivered"]]
    assert delivered == [(sub["id"], "smtp", ADMIN)]
    yesterday = (datetime.now(ZoneInfo("Europe/Paris")).date() - timedelta(days=1)).isoformat()
    assert run["delivered"][0]["period_start"] == run["delivered"][0]["period_end"] == yesterday
    [message] = mailbox.messages
    assert (message["To"], message["From"]) == (ADMIN, "reports@acme.test")
    assert "daily-support" in message["Subject"] and yesterday in message["Subject"]
    [(filename, image)] = attachments(message)
    assert filename.endswith(".png") and image.startswith(PNG_MAGIC) and len(image) > 10_000

    again = ok(center("reports", "run-due", "--json")).json()
    assert again["delivered"] == [] and [d["subscription"] for d in again["already_delivered"]] == [sub["id"]]
    assert len(mailbox.messages) == 1


def test_one_failed_delivery_does_not_stop_the_others_and_is_named(center, mailbox):
    good = ok(center("reports", "subscribe", "daily-support", "--every", "daily", "--json")).json()
    bad = ok(center("reports", "subscribe", "daily-support", "--every", "daily", "--to", REFUSED_RECIPIENT,
                    "--json")).json()
    result = refused(center("reports", "run-due"), f"report subscription {bad['id']}", REFUSED_RECIPIENT,
                     "550")
    assert "1 report(s) delivered" in result.stderr
    assert [m["To"] for m in mailbox.messages] == [ADMIN]
    retry = refused(center("reports", "run-due", "--json"), REFUSED_RECIPIENT)
    document = retry.json()
    assert [d["subscription"] for d in document["already_delivered"]] == [good["id"]]
    assert [d["subscription"] for d in document["failed"]] == [bad["id"]]
    assert len(mailbox.messages) == 1


def test_without_smtp_the_report_is_written_to_the_out_dir_once(center, out_dir, unchanged):
    ok(center("reports", "subscribe", "daily-support", "--every", "daily"))
    with unchanged():
        refused(center("reports", "run-due"), "no [smtp] host", "--out-dir")
        refused(center("reports", "run-due", "--out-dir", str(out_dir / "nope")), "no such folder")
    run = ok(center("reports", "run-due", "--out-dir", str(out_dir), "--json")).json()
    [delivery] = run["delivered"]
    assert delivery["channel"] == "file"
    image = Path(delivery["location"]).read_bytes()
    assert image.startswith(PNG_MAGIC) and len(image) > 10_000
    assert ok(center("reports", "run-due", "--out-dir", str(out_dir), "--json")).json()["delivered"] == []
    assert [p.name for p in out_dir.iterdir()] == [Path(delivery["location"]).name]


@pytest.mark.parametrize(("args", "fragments"), [
    (["subscribe", "daily-support", "--every", "hourly"], ["unknown frequency 'hourly'"]),
    (["subscribe", "daily-support", "--every", "weekly"],
     ["covers yesterday", "weekly report covers last-week"]),
    (["subscribe", "absolute", "--every", "monthly"], ["period '2026-11-01..2026-11-30'", "relative period"]),
    (["subscribe", "no-period", "--every", "daily"], ["period None", "relative period"]),
    (["subscribe", "missing", "--every", "daily"], ["no saved filter named 'missing'"]),
    (["subscribe", "daily-support", "--every", "daily", "--to", "not-an-address"], ["not-an-address"]),
    (["unsubscribe", "99"], ["no report subscription 99"]),
])
def test_bad_subscriptions_are_refused_naming_the_value(center, unchanged, args, fragments):
    ok(center("filters", "save", "absolute", "--period", "2026-11-01..2026-11-30"))
    ok(center("filters", "save", "no-period", "--ivr", "Support"))
    with unchanged():
        refused(center("reports", *args), *fragments)


def test_subscribers_manage_their_own_and_admins_all(center, unchanged):
    ok(center("filters", "save", "sup-daily", "--period", "yesterday", as_user=SUP))
    with unchanged():
        refused(center("reports", "subscribe", "sup-daily", "--every", "daily", "--to", "boss@elsewhere.test",
                       as_user=SUP), SUP, "own address")
    mine = ok(center("reports", "subscribe", "sup-daily", "--every", "daily", "--json", as_user=SUP)).json()
    boss = ok(center("reports", "subscribe", "daily-support", "--every", "daily", "--json")).json()
    assert [s["id"] for s in ok(center("reports", "list", "--json", as_user=SUP)).json()] == [mine["id"]]
    assert [s["id"] for s in ok(center("reports", "list", "--json")).json()] == [mine["id"], boss["id"]]
    with unchanged():
        refused(center("reports", "unsubscribe", str(boss["id"]), as_user=SUP),
                f"no report subscription {boss['id']}")
        refused(center("reports", "run-due", as_user=SUP), SUP, "run it as an admin")
        refused(center("filters", "remove", "sup-daily"), "sup-daily", f"subscription(s) {mine['id']}")
    ok(center("reports", "unsubscribe", str(mine["id"])))  # an admin stops anyone's
    ok(center("filters", "remove", "sup-daily"))
    assert [s["id"] for s in ok(center("reports", "list", "--json")).json()] == [boss["id"]]


def test_a_report_shows_what_the_subscriber_may_see(center, out_dir):
    """A supervisor limited to another IVR gets a report without Support's calls."""
    ok(center("ivr", "create", "Sales"))
    ok(center("users", "role", SUP, "supervisor", "--scope", "ivr:Sales"))
    ok(center("filters", "save", "sup-daily", "--period", "yesterday", as_user=SUP))
    ok(center("reports", "subscribe", "sup-daily", "--every", "daily", as_user=SUP))
    seen = ok(center("stats", "calls", "--filter", "sup-daily", "--json", as_user=SUP)).json()
    assert seen["total_calls"] == 0
    assert ok(center("stats", "calls", "--period", "yesterday", "--json")).json()["total_calls"] == 2
    ok(center("reports", "run-due", "--out-dir", str(out_dir)))
    assert len(list(out_dir.iterdir())) == 1


@pytest.mark.parametrize(("name", "magic"), [("heat.png", PNG_MAGIC), ("heat.jpg", JPEG_MAGIC)])
def test_stats_heatmap_out_draws_a_real_image(center, tmp_path, name, magic):
    path = tmp_path / name
    result = ok(center("stats", "heatmap", "--period", "yesterday", "--out", str(path)))
    assert f"Heatmap drawn into {path}" in result.stderr
    assert "Mon" in result.stdout  # the terminal grid is still printed
    data = path.read_bytes()
    assert data.startswith(magic) and len(data) > 5_000


def test_heatmap_images_need_an_image_format_and_the_advanced_plan(center, out_dir):
    refused(center("stats", "heatmap", "--out", str(out_dir / "heat.gif")), "heat.gif", ".png, .jpg")
    (out_dir / "folder.png").mkdir()
    refused(center("stats", "heatmap", "--out", str(out_dir / "folder.png")), "is a folder")
    ok(center("account", "plan", "business"))
    refused(center("stats", "heatmap", "--out", str(out_dir / "heat.png")),
            "image reports", "advanced plan")
    refused(center("reports", "subscribe", "daily-support", "--every", "daily"), "advanced plan")
    assert [p.name for p in out_dir.iterdir()] == ["folder.png"]


def test_a_user_removed_takes_their_subscriptions_along(center, out_dir):
    ok(center("filters", "save", "sup-daily", "--period", "yesterday", as_user=SUP))
    ok(center("reports", "subscribe", "sup-daily", "--every", "daily", as_user=SUP))
    ok(center("reports", "run-due", "--out-dir", str(out_dir)))
    ok(center("users", "remove", SUP))
    assert ok(center("reports", "list", "--json")).json() == []
    assert [f["owner"] for f in ok(center("filters", "list", "--json")).json()] == [ADMIN, None]


def test_stats_history_out_draws_the_history_as_an_image(center, out_dir):
    path = out_dir / "history.png"
    result = ok(center("stats", "history", "--interval", "day", "--period", "yesterday", "--out", str(path),
                       "--json"))
    assert [p["value"] for p in result.json()["points"]] == [2]
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5_000
    refused(center("stats", "history", "--interval", "day", "--out", str(out_dir / "h.svg")), "h.svg")


def test_heatmap_into_a_folder_that_cannot_be_written_is_refused_naming_it(center, out_dir, monkeypatch):
    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", read_only)  # a read-only folder, even when tests run as root
    path = out_dir / "heat.png"
    result = refused(center("stats", "heatmap", "--out", str(path)), str(path), "Permission denied")
    assert "Traceback" not in result.stderr
    assert list(out_dir.iterdir()) == []
