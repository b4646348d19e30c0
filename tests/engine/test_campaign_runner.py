"""The engine's SMS campaign runner through the outbox adapter, on both databases: what is sent
lands in the SMS logs with price, unicode flag and fragments; pause, credits and restarts hold."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, text, update
from sqlmodel import Session, select

from ringtui.config import load_settings
from ringtui.db import engine_for
from ringtui.engine.campaigns import store
from ringtui.engine.campaigns.outbox import OutboxAdapter
from ringtui.engine.campaigns.runner import SmsCampaignRunner
from ringtui.models import Account, Campaign, CampaignRecipient, SmsMessage
from ringtui.vocab import RecipientStatus, SmsStatus
from tests.conftest import ok

NUMBERS = "0612345678,+34612345678,+447400123456"


@pytest.fixture
def sms(account):
    ok(account("campaign", "sms", "request-access"))
    ok(account("campaign", "sms", "approve", "boss@acme.test"))
    return account


def create(cli, name: str = "Promo", message: str = "Olá 😀", to: str = NUMBERS) -> None:
    ok(cli("campaign", "sms", "create", name, "--sender", "Acme", "--country", "FR", "--message", message,
           "--to", to))


def runner(db_url: str, **sms_settings) -> SmsCampaignRunner:
    settings = load_settings(database_url=db_url)
    database = engine_for(db_url)
    return SmsCampaignRunner(database, OutboxAdapter(database, replace(settings.sms, **sms_settings)))


def run_steps(runner: SmsCampaignRunner, steps: int = 3) -> int:
    async def go() -> int:
        return sum([await runner.step() for _ in range(steps)])

    return asyncio.run(go())


def messages(db_url: str) -> list[SmsMessage]:
    with Session(engine_for(db_url)) as db:
        return list(db.exec(select(SmsMessage).order_by(SmsMessage.id)))


def statuses(db_url: str) -> list[str]:
    with Session(engine_for(db_url)) as db:
        return list(db.exec(select(CampaignRecipient.status).order_by(CampaignRecipient.position)))


def test_a_launched_campaign_is_sent_once_to_every_recipient_and_finishes(sms, db_url, tmp_path: Path):
    create(sms)
    outbox = tmp_path / "outbox.jsonl"
    engine_runner = runner(db_url, outbox_file=str(outbox))
    assert run_steps(engine_runner) == 0  # a draft is not sent
    ok(sms("campaign", "launch", "Promo"))
    assert run_steps(engine_runner) == 3
    sent = messages(db_url)
    assert [m.customer_number for m in sent] == ["+33612345678", "+34612345678", "+447400123456"]
    assert {(m.direction, m.account_number, m.text, m.unicode, m.fragments, m.status) for m in sent} == {
        ("out", "Acme", "Olá 😀", True, 1, "sent")}
    assert [m.price for m in sent] == [Decimal("0.05"), Decimal("0.05"), Decimal("0.04")]
    assert {m.campaign_id for m in sent} != {None}
    assert statuses(db_url) == ["sent"] * 3
    shown = ok(sms("campaign", "show", "Promo", "--json")).json()
    progress = (shown["status"], shown["sms_sent"], shown["cost_so_far"], shown["done"])
    assert progress == ("finished", 3, 0.14, 3)
    assert [json.loads(line)["to"] for line in outbox.read_text().splitlines()] == [
        "+33612345678", "+34612345678", "+447400123456"]
    with Session(engine_for(db_url)) as db:  # consumed in real time from the credits (B1)
        assert db.exec(select(Account.credits)).one() == Decimal("-0.14")
    stats = ok(sms("stats", "sms", "--period", "today", "--json")).json()  # S7 counts them
    assert (stats["campaign_sms"], stats["unicode_sms"], stats["total_price"]) == (3, 3, pytest.approx(0.14))


def test_a_paused_campaign_sends_nothing_until_resumed(sms, db_url):
    create(sms)
    ok(sms("campaign", "launch", "Promo"))
    ok(sms("campaign", "pause", "Promo"))
    engine_runner = runner(db_url)
    assert run_steps(engine_runner) == 0
    ok(sms("campaign", "resume", "Promo"))
    assert run_steps(engine_runner) == 3


def test_blocked_off_plan_consumption_stops_at_the_credits(sms, db_url):
    create(sms)
    ok(sms("campaign", "launch", "Promo"))
    with engine_for(db_url).begin() as connection:  # credits drop after the launch
        connection.execute(text("UPDATE account SET credits = 0.10, off_plan_blocked = :b"), {"b": True})
    assert run_steps(runner(db_url)) == 2  # 0.05 + 0.05; the 0.04 one would pass 0.10
    assert statuses(db_url) == ["sent", "sent", "pending"]
    assert ok(sms("campaign", "show", "Promo", "--json")).json()["status"] == "paused"


def test_campaigns_running_together_take_turns(sms, db_url):
    create(sms, "A")
    create(sms, "B", to="0698765432")
    ok(sms("campaign", "launch", "A"))
    ok(sms("campaign", "launch", "B"))
    assert run_steps(runner(db_url), 1) == 4


def test_restart_reconciles_what_a_stopped_engine_had_claimed(sms, db_url):
    create(sms)
    ok(sms("campaign", "launch", "Promo"))
    database = engine_for(db_url)
    settings = load_settings(database_url=db_url).sms
    [campaign] = store.running_sms_campaigns(database)
    # an SMPP engine recorded two SMS then died: one acknowledged by the carrier, one not
    claimed = store.claim(database, campaign, settings, 2, SmsStatus.QUEUED)
    store.record_outcomes(database, [{"sms_id": claimed[0].sms_id, "status": "sent", "carrier_id": "c1"}])
    with database.begin() as connection:  # the answer came, the recipient update did not
        connection.execute(update(CampaignRecipient.__table__)
                           .where(CampaignRecipient.__table__.c.sms_message_id == claimed[0].sms_id)
                           .values(status=RecipientStatus.IN_PROGRESS.value))
    counts = store.reconcile(database, acknowledged_only=True)
    assert counts == {"sent": 1, "pending": 0, "unknown": 1}
    assert statuses(db_url) == ["sent", "failed", "pending"]  # the unacknowledged one is never resent
    with Session(database) as db:
        detail = db.exec(select(CampaignRecipient.detail).where(CampaignRecipient.status == "failed")).one()
    assert "not resent" in detail
    assert run_steps(runner(db_url)) == 1
    with Session(database) as db:
        assert db.exec(select(func.count(SmsMessage.id))).one() == 3
        assert db.exec(select(Campaign.status)).one() == "finished"


def test_two_engines_on_one_database_never_send_a_recipient_twice(sms, db_url, caplog):
    total = 3000
    create(sms, to=",".join(f"06{i:08d}" for i in range(10_000_000, 10_000_000 + total)), message="Hi")
    ok(sms("campaign", "launch", "Promo"))

    async def both() -> None:
        tasks = [asyncio.create_task(runner(db_url).run()) for _ in range(2)]
        try:
            async with asyncio.timeout(60):
                while statuses(db_url).count("sent") < total:
                    await asyncio.sleep(0.1)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(both())
    with Session(engine_for(db_url)) as db:
        assert db.exec(select(func.count(SmsMessage.id))).one() == total
        assert db.exec(select(func.count(func.distinct(SmsMessage.customer_number)))).one() == total
        assert set(db.exec(select(CampaignRecipient.attempts))) == {1}
