"""Benchmark: sending an SMS campaign through the engine's campaign runner.

outbox: N recipients (default 100,000) through the embedded outbox adapter, which
records every SMS in the SMS logs in batches of 1,000 (one transaction each, the
claim of the recipients included). Target: 2,000 messages/s or more.

smpp: M recipients (default 5,000) through the aiosmpplib adapter to a local SMSC
(tests/e2e/smsc.py, smpp.twisted3's server) at the configured carrier rate
(default 500/s); reports the rate achieved and the time until every delivery
receipt is recorded.

    .venv/bin/python bench/campaign_sms.py [--recipients N] [--smpp M] [--rate R] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from ringtui.config import load_settings  # noqa: E402
from ringtui.db import engine_for  # noqa: E402
from ringtui.engine.campaigns.outbox import OutboxAdapter  # noqa: E402
from ringtui.engine.campaigns.runner import SmsCampaignRunner  # noqa: E402
from ringtui.engine.campaigns.smpp import SmppAdapter  # noqa: E402
from ringtui.models import Campaign, CampaignRecipient  # noqa: E402

TARGET_PER_S = 2000


def cli(*args: str, db: str) -> None:
    ringtui = Path(sys.executable).parent / "ringtui"
    subprocess.run([str(ringtui), "--db", db, *args], check=True, capture_output=True, text=True)


def campaign(folder: Path, db: str, name: str, count: int, first: bool) -> None:
    listing = folder / f"{name}.txt"
    listing.write_text("".join(f"+33 6 {i:08d}\n" for i in range(count)))
    if first:
        cli("init", "--company", "Bench", "--plan", "business", "--admin", "boss@bench.test",
            "--country", "FR", db=db)
        cli("campaign", "sms", "request-access", db=db)
        cli("campaign", "sms", "approve", "boss@bench.test", db=db)
    cli("campaign", "sms", "create", name, "--sender", "Bench", "--country", "FR", "--message",
        "Spring sale: 20% off this week", "--recipients", str(listing), db=db)
    cli("campaign", "launch", name, db=db)


def settled(database, name: str, final: tuple[str, ...]) -> int:
    with database.connect() as connection:
        return connection.execute(select(func.count(CampaignRecipient.id)).join(
            Campaign, Campaign.id == CampaignRecipient.campaign_id).where(
            Campaign.name == name, CampaignRecipient.status.in_(final))).scalar_one()


async def drive(runner: SmsCampaignRunner, database, name: str, count: int, final: tuple[str, ...],
                timeout: float) -> tuple[float, float]:
    """Seconds until the last SMS left, and until every recipient reached a final status."""
    task = asyncio.create_task(runner.run())
    started = time.perf_counter()
    sent_at = None
    try:
        while time.perf_counter() - started < timeout:
            await asyncio.sleep(0.05)
            if sent_at is None and settled(database, name, ("sent", "delivered", "failed")) == count:
                sent_at = time.perf_counter() - started
            if sent_at is not None and settled(database, name, final) == count:
                return sent_at, time.perf_counter() - started
        raise SystemExit(f"{name}: not settled after {timeout} s")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--smpp", type=int, default=5_000)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--db", help="a fresh PostgreSQL database URL; default a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = args.db or f"sqlite:///{folder / 'bench.db'}"
        kind = "PostgreSQL" if args.db else "SQLite"
        settings = load_settings(database_url=db)
        database = engine_for(db)
        if args.recipients:
            campaign(folder, db, "Outbox", args.recipients, first=True)
            outbox = OutboxAdapter(database, replace(settings.sms, adapter="outbox"))
            runner = SmsCampaignRunner(database, outbox)
            sent, _ = asyncio.run(drive(runner, database, "Outbox", args.recipients, ("sent",), 600))
            rate = args.recipients / sent
            print(f"outbox, {kind}: {args.recipients:,} SMS in {sent:.2f} s = {rate:,.0f} msg/s; "
                  f"target {TARGET_PER_S:,}/s: {'met' if rate >= TARGET_PER_S else 'NOT met'}")
        if args.smpp:
            campaign(folder, db, "Smpp", args.smpp, first=not args.recipients)
            log = folder / "smsc.jsonl"
            smsc = subprocess.Popen([sys.executable, "-m", "tests.e2e.smsc", "--log", str(log), "--lifetime",
                                     "900"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    text=True)
            try:
                port = int(smsc.stdout.readline().split()[1])
                sms = replace(settings.sms, adapter="smpp", smpp_port=port, smpp_system_id="ringtui",
                              smpp_password="secret", carrier_rate=args.rate)
                runner = SmsCampaignRunner(database, SmppAdapter(database, sms))
                sent, receipts = asyncio.run(drive(runner, database, "Smpp", args.smpp,
                                                   ("delivered", "failed"), 900))
            finally:
                smsc.terminate()
                smsc.wait()
            received = len(log.read_text().splitlines())
            print(f"smpp, {kind}: {args.smpp:,} SMS at a carrier rate of {args.rate:g}/s: submitted and "
                  f"acknowledged in {sent:.2f} s = {args.smpp / sent:,.0f} msg/s, every delivery receipt "
                  f"recorded after {receipts:.2f} s; the SMSC received {received:,}")


if __name__ == "__main__":
    main()
