"""What the campaign runner reads and writes, each in one short transaction.

The progress of a campaign is its recipients' rows. A recipient is claimed
(IN_PROGRESS, attempts + 1) in the transaction that records its SMS, so a crash
leaves either nothing (the recipient is still PENDING and is sent after the
restart) or a recorded SMS (never sent twice). See `reconcile`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, Engine, Integer, and_, any_, bindparam, func, insert, select, text, update

from ringtui.config import SmsSettings
from ringtui.models import Account, Campaign, CampaignRecipient, SmsMessage
from ringtui.models.types import utcnow
from ringtui.services.campaigns.sms import price_of
from ringtui.vocab import (
    UNSETTLED_RECIPIENTS,
    CampaignKind,
    CampaignStatus,
    Direction,
    RecipientStatus,
    SmsStatus,
)

log = logging.getLogger("ringtui.engine.campaigns")

R = CampaignRecipient.__table__
M = SmsMessage.__table__
C = Campaign.__table__
A = Account.__table__


@dataclass(frozen=True)
class SmsCampaign:
    id: int
    name: str
    sender: str
    message: str
    unicode: bool
    fragments: int
    created_by: int | None


@dataclass(frozen=True)
class Outgoing:
    """One SMS recorded and ready for the carrier."""

    sms_id: int
    recipient_id: int
    number: str
    price: Decimal


def running_sms_campaigns(database: Engine) -> list[SmsCampaign]:
    with database.connect() as connection:
        rows = connection.execute(select(C.c.id, C.c.name, C.c.sender, C.c.message, C.c.encoding,
                                         C.c.fragments_per_message, C.c.created_by)
                                  .where(C.c.kind == CampaignKind.SMS.value,
                                         C.c.status == CampaignStatus.RUNNING.value)
                                  .order_by(C.c.launched_at, C.c.id)).all()
    return [SmsCampaign(r.id, r.name, r.sender or "", r.message or "", r.encoding == "ucs2",
                        max(1, r.fragments_per_message), r.created_by) for r in rows]


def _affordable(connection: Any, prices: list[Decimal]) -> int:
    """How many of the next SMS the credits pay for when off-plan consumption is blocked (B1)."""
    blocked, credits = connection.execute(select(A.c.off_plan_blocked, A.c.credits)).one()
    if not blocked:
        return len(prices)
    spent, count = Decimal(0), 0
    for price in prices:
        if spent + price > credits:
            break
        spent, count = spent + price, count + 1
    return count


class _Contended(Exception):
    """Another engine claimed some of the same recipients first."""


def claim(database: Engine, campaign: SmsCampaign, settings: SmsSettings, limit: int,
          status: SmsStatus) -> list[Outgoing]:
    """Claim the next `limit` recipients and record their SMS (`status`: SENT for the outbox,
    QUEUED while an SMPP carrier has not acknowledged them); the credits are debited.
    Nothing is claimed (and nothing written) when another engine took any of them first."""
    try:
        return _claim(database, campaign, settings, limit, status)
    except _Contended:
        log.warning("campaign %s: recipients claimed by another engine on the same database", campaign.name)
        return []


def _claim(database: Engine, campaign: SmsCampaign, settings: SmsSettings, limit: int,
           status: SmsStatus) -> list[Outgoing]:
    now = utcnow()
    with database.begin() as connection:
        running = connection.execute(select(C.c.status).where(C.c.id == campaign.id)).scalar_one()
        if running != CampaignStatus.RUNNING.value:
            return []
        # PostgreSQL: a second engine on the same database skips the rows this one holds
        rows = connection.execute(select(R.c.id, R.c.number).where(
            R.c.campaign_id == campaign.id, R.c.status == RecipientStatus.PENDING.value)
            .order_by(R.c.position).limit(limit).with_for_update(skip_locked=True)).all()
        if not rows:
            _finish_if_done(connection, campaign, now)
            return []
        prices = [price_of(settings, row.number, campaign.fragments) for row in rows]
        affordable = _affordable(connection, prices)
        if affordable < len(rows):
            rows, prices = rows[:affordable], prices[:affordable]
            if not rows:
                connection.execute(update(C).where(C.c.id == campaign.id)
                                   .values(status=CampaignStatus.PAUSED.value))
                log.warning("campaign %s paused: the credits are spent and off-plan consumption is blocked",
                            campaign.name)
                return []
        # The claim proper: only rows still pending. pysqlite reads outside the transaction
        # (it begins one at the first write), so two SQLite engines can read the same rows:
        # the second one's update waits for the first one's commit and then finds them taken.
        postgresql = connection.dialect.name == "postgresql"
        recipient_ids = [row.id for row in rows]
        # PostgreSQL: one array parameter, not a thousand placeholders psycopg parses each time
        wanted = R.c.id == any_(bindparam("rids", recipient_ids, type_=ARRAY(Integer))) if postgresql else (
            R.c.id.in_(recipient_ids))
        taken = connection.execute(update(R).where(wanted, R.c.status == RecipientStatus.PENDING.value)
                                   .values(status=RecipientStatus.IN_PROGRESS.value,
                                           attempts=R.c.attempts + 1, last_attempt_at=now))
        if taken.rowcount != len(rows):
            raise _Contended
        ids = _insert_sms(connection, campaign, [row.number for row in rows], prices, status, now)
        recipient_status = (RecipientStatus.SENT if status == SmsStatus.SENT else RecipientStatus.IN_PROGRESS)
        _link(connection, recipient_status, [row.id for row in rows], ids)
        connection.execute(update(A).values(credits=A.c.credits - sum(prices, Decimal(0))))
        if len(rows) < limit:
            _finish_if_done(connection, campaign, now)
    return [Outgoing(sms_id, row.id, row.number, price)
            for row, sms_id, price in zip(rows, ids, prices, strict=True)]


def _insert_sms(connection: Any, campaign: SmsCampaign, numbers: list[str], prices: list[Decimal],
                status: SmsStatus, now: datetime) -> list[int]:
    """The batch's SMS rows; their ids in the order of `numbers`."""
    same = {"direction": Direction.OUT.value, "account_number": campaign.sender,
            "user_id": campaign.created_by, "campaign_id": campaign.id, "text": campaign.message,
            "unicode": campaign.unicode, "fragments": campaign.fragments, "status": status.value}
    if connection.dialect.name == "postgresql":
        by_number = dict(connection.execute(_INSERT_SMS_POSTGRESQL, same | {
            "now": now, "numbers": numbers, "prices": prices}).all())
        return [by_number[number] for number in numbers]
    rows = [same | {"customer_number": number, "price": price, "ivr_id": None, "sent_at": now,
                    "status_at": now, "carrier_id": None}
            for number, price in zip(numbers, prices, strict=True)]
    return list(connection.execute(insert(M).returning(M.c.id, sort_by_parameter_order=True), rows).scalars())


# The batch's SMS in one statement: what varies per SMS comes in two arrays.
_INSERT_SMS_POSTGRESQL = text(
    "INSERT INTO sms_message (direction, customer_number, account_number, user_id, ivr_id, campaign_id, "
    "sent_at, text, unicode, fragments, price, status, status_at, carrier_id) "
    "SELECT :direction, v.number, :account_number, :user_id, NULL, :campaign_id, :now, :text, :unicode, "
    ":fragments, v.price, :status, :now, NULL "
    "FROM unnest(CAST(:numbers AS varchar[]), CAST(:prices AS numeric[])) AS v(number, price) "
    "RETURNING customer_number, id")

_LINK_POSTGRESQL = text(
    "UPDATE campaign_recipient SET status = :status, sms_message_id = v.sid "
    "FROM unnest(CAST(:rids AS integer[]), CAST(:sids AS integer[])) AS v(rid, sid) "
    "WHERE campaign_recipient.id = v.rid")


def _link(connection: Any, status: RecipientStatus, recipient_ids: list[int], sms_ids: list[int]) -> None:
    """Each recipient gets its SMS: one statement on PostgreSQL (executemany there is a round
    trip per row), executemany on SQLite (in-process, fast)."""
    if connection.dialect.name == "postgresql":
        connection.execute(_LINK_POSTGRESQL, {"status": status.value, "rids": recipient_ids, "sids": sms_ids})
        return
    connection.execute(update(R).where(R.c.id == bindparam("rid")).values(
        status=status.value, sms_message_id=bindparam("sid")),
        [{"rid": rid, "sid": sid} for rid, sid in zip(recipient_ids, sms_ids, strict=True)])




def _finish_if_done(connection: Any, campaign: SmsCampaign, now: datetime) -> None:
    left = connection.execute(select(func.count(R.c.id)).where(
        R.c.campaign_id == campaign.id,
        R.c.status.in_(UNSETTLED_RECIPIENTS))).scalar_one()
    if not left:
        connection.execute(update(C).where(C.c.id == campaign.id, C.c.status == CampaignStatus.RUNNING.value)
                           .values(status=CampaignStatus.FINISHED.value, finished_at=now))
        log.info("campaign %s finished", campaign.name)


def finish_if_done(database: Engine, campaign: SmsCampaign) -> None:
    with database.begin() as connection:
        _finish_if_done(connection, campaign, utcnow())


def record_outcomes(database: Engine, outcomes: list[dict[str, Any]]) -> None:
    """Carrier answers: each {"sms_id", "status" (SmsStatus), "carrier_id" or None, "detail"}.
    The SMS and its recipient change together; a late answer never turns DELIVERED back."""
    if not outcomes:
        return
    rows = [{"sid": o["sms_id"], "status": o["status"], "carrier_id": o.get("carrier_id") or None,
             "detail": (o.get("detail") or "")[:200], "now": utcnow()} for o in outcomes]
    final = (SmsStatus.DELIVERED.value, SmsStatus.FAILED.value)  # same values for recipients
    with database.begin() as connection:
        connection.execute(update(M).where(
            M.c.id == bindparam("sid"), M.c.status != final[0], M.c.status != final[1]).values(
            status=bindparam("status"), status_at=bindparam("now"),
            carrier_id=func.coalesce(bindparam("carrier_id", type_=M.c.carrier_id.type), M.c.carrier_id)),
            rows)
        connection.execute(update(R).where(
            R.c.sms_message_id == bindparam("sid"), R.c.status != final[0], R.c.status != final[1])
                           .values(status=bindparam("status"), detail=bindparam("detail")), rows)
        _finish_answered(connection, [row["sid"] for row in rows], rows[0]["now"])


def _finish_answered(connection: Any, sms_ids: list[int], now: datetime) -> None:
    """The campaigns whose last recipients these answers settled are finished in the same
    transaction: a receipt-driven campaign (SMPP) must not wait for the next claim to say so."""
    campaigns = select(M.c.campaign_id).where(M.c.id.in_(sms_ids), M.c.campaign_id.is_not(None))
    unsettled = select(R.c.id).where(R.c.campaign_id == C.c.id, R.c.status.in_(UNSETTLED_RECIPIENTS))
    connection.execute(update(C).where(C.c.id.in_(campaigns), C.c.status == CampaignStatus.RUNNING.value,
                                       ~unsettled.exists())
                       .values(status=CampaignStatus.FINISHED.value, finished_at=now))


def sms_id_of_carrier(database: Engine, carrier_id: str) -> int | None:
    with database.connect() as connection:
        return connection.execute(select(M.c.id).where(M.c.carrier_id == carrier_id,
                                                       M.c.campaign_id.is_not(None))).scalar()


def reconcile(database: Engine, *, acknowledged_only: bool) -> dict[str, int]:
    """After a restart, settle the recipients of SMS campaigns a stopped engine had claimed
    (call and voice campaigns: call_store.reconcile).

    - An SMS the carrier acknowledged (SENT, DELIVERED or FAILED): the recipient takes its status.
    - No SMS recorded: it was never sent; back to PENDING, sent after the restart.
    - An SMS recorded but not acknowledged (SMPP: submitted, the submit_sm_resp never
      came back): the SMSC may or may not have it. Sending again could text the person
      twice, so the rule is at most once: it is FAILED with the reason, never resent.
      With the outbox (`acknowledged_only` False) the record is the sending: SENT.
    """
    counts = {"sent": 0, "pending": 0, "unknown": 0}
    with database.begin() as connection:
        rows = connection.execute(select(R.c.id, R.c.sms_message_id, M.c.status).select_from(
            R.join(C, C.c.id == R.c.campaign_id).outerjoin(M, M.c.id == R.c.sms_message_id)).where(
            R.c.status == RecipientStatus.IN_PROGRESS.value, C.c.kind == CampaignKind.SMS.value)).all()
        for row in rows:
            if row.sms_message_id is None:
                connection.execute(update(R).where(R.c.id == row.id).values(
                    status=RecipientStatus.PENDING.value, attempts=R.c.attempts - 1))
                counts["pending"] += 1
            elif row.status != SmsStatus.QUEUED.value or not acknowledged_only:
                status = SmsStatus.SENT.value if row.status == SmsStatus.QUEUED.value else row.status
                connection.execute(update(M).where(and_(M.c.id == row.sms_message_id,
                                                        M.c.status == SmsStatus.QUEUED.value))
                                   .values(status=status))
                connection.execute(update(R).where(R.c.id == row.id).values(
                    status={"sent": "sent", "delivered": "delivered"}.get(status, "failed")))
                counts["sent"] += 1
            else:
                detail = ("engine stopped before the carrier acknowledged this SMS; not resent so that "
                          "nobody is texted twice")
                connection.execute(update(M).where(M.c.id == row.sms_message_id)
                                   .values(status=SmsStatus.FAILED.value, status_at=utcnow()))
                connection.execute(update(R).where(R.c.id == row.id).values(
                    status=RecipientStatus.FAILED.value, detail=detail))
                counts["unknown"] += 1
    if any(counts.values()):
        log.warning("campaign recipients left in progress by a stopped engine: %s", counts)
    return counts
