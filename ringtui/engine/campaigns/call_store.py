"""What the power dialer and the voice-message runner read and write, each in one short transaction.

A number is claimed (IN_PROGRESS, attempts + 1) and that is committed before
its INVITE leaves. Each call has a call id made of the recipient and the attempt
(`campaign-<recipient id>-<attempt>`), which names its call record: a result links
the record by that id, and a restart finds what a killed engine was doing.

After a kill, a number left IN_PROGRESS may have been called: the INVITE may have
left between the commit and the kill, and nothing proves it did not. The rule is
at most once (`reconcile`): it is never called again; it takes the result its
call record shows (answered when it was answered), else failed, "interrupted".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, String, cast, func, insert, literal, or_, select, update

from ringtui.engine.campaigns.store import C, R
from ringtui.engine.campaigns.store import _finish_if_done as _finish_in
from ringtui.models import CallRecord, CampaignAssignee, GroupMember, User
from ringtui.models.types import utcnow
from ringtui.services.rollups import add_calls
from ringtui.vocab import (
    CallKind,
    CallType,
    CampaignKind,
    CampaignStatus,
    Direction,
    EndedBy,
    RecipientStatus,
)

log = logging.getLogger("ringtui.engine.campaigns")

CR = CallRecord.__table__
ASSIGNEE = CampaignAssignee.__table__
MEMBER = GroupMember.__table__
U = User.__table__
PENDING, IN_PROGRESS = RecipientStatus.PENDING.value, RecipientStatus.IN_PROGRESS.value
RETRIED = frozenset({RecipientStatus.NO_ANSWER, RecipientStatus.BUSY})
INTERRUPTED = ("interrupted: the engine stopped during this call; not called again so that nobody is "
               "called twice")


@dataclass(frozen=True)
class CallCampaign:
    id: int
    name: str
    kind: CampaignKind
    attempts: int
    retry_delay_s: int
    dial_order: str
    script: str
    tags: tuple[str, ...]
    from_number: str
    audio_path: str


@dataclass(frozen=True)
class Claimed:
    """One number taken for one call."""

    id: int
    number: str
    columns: dict[str, Any]
    attempt: int

    @property
    def call_id(self) -> str:
        return call_id_of(self.id, self.attempt)


def call_id_of(recipient_id: int, attempt: int) -> str:
    return f"campaign-{recipient_id}-{attempt}"


_CALL_ID = literal("campaign-") + cast(R.c.id, String) + literal("-") + cast(R.c.attempts, String)
_RECORD_OF = select(CR.c.id).where(CR.c.call_id == _CALL_ID).scalar_subquery()


def running_campaigns(database: Engine, kind: CampaignKind) -> list[CallCampaign]:
    with database.connect() as connection:
        rows = connection.execute(select(C).where(C.c.kind == kind.value,
                                                  C.c.status == CampaignStatus.RUNNING.value)
                                  .order_by(C.c.launched_at, C.c.id)).all()
    return [CallCampaign(r.id, r.name, kind, max(1, r.attempts), max(0, r.retry_delay_s), r.dial_order,
                         r.script or "", tuple(r.tags or ()), r.from_number or "", r.audio_path or "")
            for r in rows]


def assignees(database: Engine, campaign_id: int) -> list[str]:
    """The e-mails of the users who call for a campaign: named ones, then its groups' members."""
    named = select(U.c.email, U.c.id).join(ASSIGNEE, ASSIGNEE.c.user_id == U.c.id).where(
        ASSIGNEE.c.campaign_id == campaign_id)
    grouped = select(U.c.email, U.c.id).join(MEMBER, MEMBER.c.user_id == U.c.id).join(
        ASSIGNEE, ASSIGNEE.c.group_id == MEMBER.c.group_id).where(ASSIGNEE.c.campaign_id == campaign_id)
    with database.connect() as connection:
        emails = [row.email for row in connection.execute(named.order_by(U.c.id))]
        emails += [row.email for row in connection.execute(grouped.order_by(U.c.id))]
    return list(dict.fromkeys(emails))


def user_id_of(database: Engine, email: str) -> int | None:
    with database.connect() as connection:
        return connection.execute(select(U.c.id).where(U.c.email == email)).scalar()


def claim(database: Engine, campaign: CallCampaign, *, user_id: int | None = None,
          record_from: str | None = None) -> Claimed | None:
    """The next due number of a running campaign, claimed for one call and committed; None when none is
    due. `record_from`: also open the call's record (a voice message: no core call writes one)."""
    now = utcnow()
    with database.begin() as connection:
        running = connection.execute(select(C.c.status).where(C.c.id == campaign.id)).scalar_one()
        if running != CampaignStatus.RUNNING.value:
            return None
        row = connection.execute(select(R.c.id, R.c.number, R.c.columns, R.c.attempts).where(
            R.c.campaign_id == campaign.id, R.c.status == RecipientStatus.PENDING.value,
            or_(R.c.next_attempt_at.is_(None), R.c.next_attempt_at <= now))
            .order_by(R.c.position).limit(1).with_for_update(skip_locked=True)).first()
        if row is None:
            _finish_in(connection, campaign, now)
            return None
        taken = connection.execute(update(R).where(R.c.id == row.id, R.c.status == PENDING).values(
            status=IN_PROGRESS, attempts=R.c.attempts + 1, last_attempt_at=now, user_id=user_id,
            next_attempt_at=None))
        if taken.rowcount != 1:
            return None
        claimed = Claimed(row.id, row.number, dict(row.columns or {}), row.attempts + 1)
        if record_from is not None:
            connection.execute(insert(CR).values(
                call_id=claimed.call_id, direction=Direction.OUT.value, kind=CallKind.DIRECT.value,
                from_number=record_from, to_number=row.number, started_at=now, wait_s=0.0, talk_s=0.0,
                recorded=False, vip=False, flagged=False))
    return claimed


def settle(database: Engine, campaign: CallCampaign, claimed: Claimed, result: RecipientStatus,
           detail: str = "") -> RecipientStatus:
    """The call's result: final, or back to PENDING for a later attempt (no answer or busy, attempts
    left, after the campaign's retry delay). The call record is linked if already written."""
    now = utcnow()
    again = result in RETRIED and claimed.attempt < campaign.attempts
    values: dict[str, Any] = {"status": RecipientStatus.PENDING.value if again else result.value,
                              "detail": detail[:200], "call_record_id": _RECORD_OF}
    if again:
        values["next_attempt_at"] = now + timedelta(seconds=campaign.retry_delay_s)
    with database.begin() as connection:
        connection.execute(update(R).where(R.c.id == claimed.id, R.c.status == IN_PROGRESS).values(**values))
        _finish_in(connection, campaign, now)
    return RecipientStatus.PENDING if again else result


def release(database: Engine, claimed: Claimed, detail: str) -> None:
    """The number was not called after all (the agent did not pick up): pending again, attempt not counted."""
    with database.begin() as connection:
        connection.execute(update(R).where(R.c.id == claimed.id, R.c.status == IN_PROGRESS).values(
            status=PENDING, attempts=R.c.attempts - 1, user_id=None, detail=detail[:200]))


def close_record(database: Engine, claimed: Claimed, *, started: datetime, answered: datetime | None,
                 ended: datetime, ended_by: EndedBy) -> None:
    """Close the record `claim` opened for a voice message."""
    talk = (ended - answered).total_seconds() if answered else 0.0
    wait = ((answered or ended) - started).total_seconds()
    with database.begin() as connection:
        connection.execute(update(CR).where(CR.c.call_id == claimed.call_id).values(
            answered_at=answered, ended_at=ended, ended_by=ended_by.value, talk_s=max(0.0, talk),
            wait_s=max(0.0, wait), type=(CallType.ANSWERED if answered else CallType.MISSED).value))
        add_calls(connection, [claimed.call_id])  # no core call, so no recorder: the roll-ups here


def link_records(database: Engine) -> int:
    """Link call records written after their number's result (the recorder writes in batches)."""
    with database.begin() as connection:
        done = connection.execute(update(R).where(
            R.c.call_record_id.is_(None), R.c.attempts > 0, R.c.sms_message_id.is_(None),
            R.c.status.not_in([RecipientStatus.IN_PROGRESS.value, RecipientStatus.BLACKLISTED.value]),
            select(CR.c.id).where(CR.c.call_id == _CALL_ID).exists()).values(call_record_id=_RECORD_OF))
    return done.rowcount or 0


def reconcile(database: Engine) -> dict[str, int]:
    """After a restart: numbers of call and voice campaigns a stopped engine left IN_PROGRESS are settled,
    never called again (see the module's docstring). Run after the open call records are closed."""
    counts = {"answered": 0, "interrupted": 0}
    kinds = [CampaignKind.CALLS.value, CampaignKind.VOICE.value]
    with database.begin() as connection:
        rows = connection.execute(select(R.c.id, CR.c.id.label("record"), CR.c.answered_at).select_from(
            R.join(C, C.c.id == R.c.campaign_id).outerjoin(CR, CR.c.call_id == _CALL_ID)).where(
            R.c.status == RecipientStatus.IN_PROGRESS.value, C.c.kind.in_(kinds))).all()
        for row in rows:
            answered = row.answered_at is not None
            connection.execute(update(R).where(R.c.id == row.id).values(
                status=(RecipientStatus.ANSWERED if answered else RecipientStatus.FAILED).value,
                call_record_id=row.record, detail=INTERRUPTED[:200]))
            counts["answered" if answered else "interrupted"] += 1
    if any(counts.values()):
        log.warning("campaign calls left in progress by a stopped engine, not called again: %s", counts)
    return counts


def progress(database: Engine, campaign_id: int) -> dict[str, Any]:
    """A campaign's figures for the feed: status, total, done, results by status."""
    with database.connect() as connection:
        status = connection.execute(select(C.c.status).where(C.c.id == campaign_id)).scalar_one()
        counts = dict(connection.execute(select(R.c.status, func.count(R.c.id)).where(
            R.c.campaign_id == campaign_id).group_by(R.c.status)).all())
    open_ = counts.get(RecipientStatus.PENDING.value, 0) + counts.get(RecipientStatus.IN_PROGRESS.value, 0)
    total = sum(counts.values())
    results = {status: count for status, count in counts.items()
               if status not in (RecipientStatus.PENDING.value, RecipientStatus.IN_PROGRESS.value)}
    return {"status": status, "total": total, "done": total - open_, "results": results}

