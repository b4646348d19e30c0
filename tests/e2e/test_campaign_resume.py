"""Crash and resume: a real `ringtui engine run` is SIGKILLed in the middle of an SMS campaign and
started again; every number gets its SMS exactly once (outbox) or at most once (SMPP, where the
few SMS in flight at the kill are never resent) and the campaign finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from ringtui.db import engine_for
from ringtui.models import Campaign, CampaignRecipient, SmsMessage
from tests.conftest import ok
from tests.e2e.test_campaign_smpp import Smsc

pytestmark = pytest.mark.e2e
RINGTUI = Path(sys.executable).with_name("ringtui")


@pytest.fixture
def sms(account):
    ok(account("campaign", "sms", "request-access"))
    ok(account("campaign", "sms", "approve", "boss@acme.test"))
    return account


def make_campaign(cli, tmp_path: Path, count: int) -> None:
    path = tmp_path / "list.txt"
    path.write_text("".join(f"06{i:08d}\n" for i in range(10_000_000, 10_000_000 + count)))
    ok(cli("campaign", "sms", "create", "Big", "--sender", "Acme", "--country", "FR", "--message", "Hello",
           "--recipients", str(path)))
    ok(cli("campaign", "launch", "Big"))


def engine(db_url: str, tmp_path: Path, config: Path | None = None) -> subprocess.Popen:
    args = [str(RINGTUI), "--db", db_url, *(["--config", str(config)] if config else []),
            "engine", "run", "--ws", "127.0.0.1:0"]
    env = os.environ | {"RINGTUI_ENGINE_TOKEN_FILE": str(tmp_path / "engine.token")}
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def sent_count(db_url: str) -> int:
    with Session(engine_for(db_url)) as db:
        return db.exec(select(func.count(SmsMessage.id))).one()


def campaign_status(db_url: str) -> str:
    with Session(engine_for(db_url)) as db:
        return db.exec(select(Campaign.status)).one()


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def kill_mid_campaign(db_url: str, tmp_path: Path, total: int, config: Path | None = None) -> int:
    first = engine(db_url, tmp_path, config)
    try:
        wait_for(lambda: sent_count(db_url) >= 1, 60, "the first SMS")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    at_kill = sent_count(db_url)
    assert 0 < at_kill < total, f"the kill came too late to prove anything ({at_kill} of {total} sent)"
    return at_kill


def finish(db_url: str, tmp_path: Path, config: Path | None = None, timeout: float = 120) -> None:
    second = engine(db_url, tmp_path, config)
    try:
        wait_for(lambda: campaign_status(db_url) == "finished", timeout, "the campaign to finish")
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=15)
        except subprocess.TimeoutExpired:
            second.kill()


def test_outbox_campaign_killed_and_restarted_texts_every_number_exactly_once(sms, db_url, tmp_path):
    total = 20_000
    make_campaign(sms, tmp_path, total)
    kill_mid_campaign(db_url, tmp_path, total)
    finish(db_url, tmp_path)
    with Session(engine_for(db_url)) as db:
        assert db.exec(select(func.count(SmsMessage.id))).one() == total
        assert db.exec(select(func.count(func.distinct(SmsMessage.customer_number)))).one() == total
        rows = db.exec(select(CampaignRecipient.status, CampaignRecipient.attempts,
                              func.count(CampaignRecipient.id))
                       .group_by(CampaignRecipient.status, CampaignRecipient.attempts)).all()
    assert [tuple(r) for r in rows] == [("sent", 1, total)]


def test_smpp_campaign_killed_and_restarted_never_texts_anyone_twice(sms, db_url, tmp_path):
    total, rate = 600, 200
    server = Smsc(tmp_path)
    try:
        config = tmp_path / "smpp.toml"
        config.write_text(f'[sms]\nadapter = "smpp"\ncarrier_rate = {rate}\n[sms.smpp]\nhost = "127.0.0.1"\n'
                          f'port = {server.port}\nsystem_id = "ringtui"\npassword = "secret"\n')
        make_campaign(sms, tmp_path, total)
        kill_mid_campaign(db_url, tmp_path, total, config)
        finish(db_url, tmp_path, config)
        time.sleep(0.5)
        received = [m["to"] for m in server.received()]
    finally:
        server.stop()
    assert len(received) == len(set(received)), "a number was texted twice"
    with Session(engine_for(db_url)) as db:
        by_status = dict(db.exec(select(CampaignRecipient.status, func.count(CampaignRecipient.id))
                                 .group_by(CampaignRecipient.status)).all())
        in_doubt = db.exec(select(func.count(CampaignRecipient.id)).where(
            CampaignRecipient.detail.contains("not resent"))).one()
    assert set(by_status) <= {"sent", "delivered", "failed"}
    assert by_status.get("failed", 0) == in_doubt <= rate  # at most one claim of the carrier's rate
    assert len(received) >= total - in_doubt  # nobody was skipped: the rest all reached the SMSC
