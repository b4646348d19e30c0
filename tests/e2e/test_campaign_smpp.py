"""SMS campaigns over real SMPP: the engine's aiosmpplib adapter against an SMSC built on
smpp.twisted3's server (tests/e2e/smsc.py), on 127.0.0.1 and an ephemeral port."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlmodel import Session, select

from ringtui.config import load_settings
from ringtui.db import engine_for
from ringtui.engine.campaigns.runner import SmsCampaignRunner
from ringtui.engine.campaigns.smpp import SmppAdapter
from ringtui.models import Campaign, CampaignRecipient, SmsMessage
from tests.conftest import ok

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
FINAL = {"delivered", "failed"}


class Smsc:
    def __init__(self, tmp_path: Path, *fail: str, silent: bool = False) -> None:
        self.log = tmp_path / "smsc.jsonl"
        args = [sys.executable, "-m", "tests.e2e.smsc", "--log", str(self.log), "--lifetime", "60",
                *(["--silent"] if silent else [])]
        for number in fail:
            args += ["--fail", number]
        self.process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True)
        line = self.process.stdout.readline()
        assert line.startswith("LISTENING"), f"the SMSC did not start: {line!r}"
        self.port = int(line.split()[1])

    def received(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def smsc(tmp_path: Path):
    started: list[Smsc] = []

    def start(*fail: str, silent: bool = False) -> Smsc:
        started.append(Smsc(tmp_path, *fail, silent=silent))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def sms(account):
    ok(account("campaign", "sms", "request-access"))
    ok(account("campaign", "sms", "approve", "boss@acme.test"))
    return account


def launch(cli, to: str, message: str = "Olá 😀 — spring sale") -> None:
    ok(cli("campaign", "sms", "create", "Promo", "--sender", "Acme", "--country", "FR", "--message", message,
           "--to", to))
    ok(cli("campaign", "launch", "Promo"))


def recipients(db_url: str) -> list[tuple[str, str, str]]:
    with Session(engine_for(db_url)) as db:
        return [tuple(r) for r in db.exec(select(CampaignRecipient.number, CampaignRecipient.status,
                                                 CampaignRecipient.detail).order_by(CampaignRecipient.position))]


def run_until_settled(db_url: str, port: int, *, rate: float = 100, password: str = "secret",
                      timeout: float = 20.0) -> float:
    """Run the runner with the SMPP adapter until every recipient has a final status; seconds taken."""
    settings = load_settings(database_url=db_url)
    sms_settings = replace(settings.sms, adapter="smpp", smpp_port=port, smpp_system_id="ringtui",
                           smpp_password=password, carrier_rate=rate)
    database = engine_for(db_url)

    async def go() -> float:
        runner = SmsCampaignRunner(database, SmppAdapter(database, sms_settings))
        task = asyncio.create_task(runner.run())
        started = time.monotonic()
        try:
            while time.monotonic() - started < timeout:
                await asyncio.sleep(0.1)
                if all(status in FINAL for _, status, _ in recipients(db_url)):
                    return time.monotonic() - started
            return time.monotonic() - started
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    return asyncio.run(go())


def test_sms_are_submitted_once_and_delivery_receipts_update_recipients_and_logs(sms, db_url, smsc):
    server = smsc("33698765432")
    launch(sms, "0612345678,0698765432,+34612345678")
    run_until_settled(db_url, server.port)
    assert recipients(db_url) == [("+33612345678", "delivered", ""),
                                  ("+33698765432", "failed", "carrier receipt UNDELIV err 0"),
                                  ("+34612345678", "delivered", "")]
    received = server.received()
    assert sorted(m["to"] for m in received) == ["33612345678", "33698765432", "34612345678"]
    assert {m["text"] for m in received} == {"Olá 😀 — spring sale"}
    with Session(engine_for(db_url)) as db:
        logged = db.exec(select(SmsMessage).order_by(SmsMessage.id)).all()
        assert [(m.status, m.unicode, m.carrier_id) for m in logged] == [
            ("delivered", True, received_id(received, "33612345678")),
            ("failed", True, received_id(received, "33698765432")),
            ("delivered", True, received_id(received, "34612345678"))]
        assert db.exec(select(Campaign.status)).one() == "finished"


def received_id(received: list[dict], number: str) -> str:
    return next(m["id"] for m in received if m["to"] == number)


def test_throughput_is_limited_to_the_carrier_rate(sms, db_url, smsc):
    server = smsc()
    numbers = ",".join(f"+336123456{i:02d}" for i in range(40))
    launch(sms, numbers, message="Hello")
    rate = 20
    elapsed = run_until_settled(db_url, server.port, rate=rate)
    assert len(server.received()) == 40
    # the token bucket starts full (one second's worth): the other 20 need about a second more
    assert elapsed >= 0.9, f"40 SMS at {rate}/s took only {elapsed:.2f} s"
    assert {status for _, status, _ in recipients(db_url)} == {"delivered"}


def test_a_carrier_refusing_the_bind_gets_nothing_and_nothing_is_claimed(sms, db_url, smsc):
    server = smsc()
    launch(sms, "0612345678")
    run_until_settled(db_url, server.port, password="wrong", timeout=2.0)
    assert server.received() == []
    assert recipients(db_url) == [("+33612345678", "pending", "")]


def test_sms_the_carrier_never_answers_are_failed_not_resent(sms, db_url, smsc, monkeypatch):
    monkeypatch.setattr("ringtui.engine.campaigns.smpp.ANSWER_TIMEOUT_S", 1.0)
    server = smsc(silent=True)
    launch(sms, "0612345678,0698765432")
    run_until_settled(db_url, server.port, timeout=10.0)
    assert [(number, status) for number, status, _ in recipients(db_url)] == [
        ("+33612345678", "failed"), ("+33698765432", "failed")]
    assert all("no answer from the carrier" in detail for _, _, detail in recipients(db_url))
    assert len(server.received()) == 2  # each submitted once, never again
