"""Call logs (L1-L3): list with filters, one call in detail, tag a call (T1), flag a call (L2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import aliased

from ringtui.errors import Invalid, NotFound, PermissionDenied
from ringtui.models import CallRecord, CallTag, CallTransfer, Ivr, RingAttempt, SurveyAnswer, Tag, User
from ringtui.services.access import Area, areas_of, may_hear_recording, require_area
from ringtui.services.base import Operation, audit
from ringtui.services.filters import FilterOptions, call_conditions, transferred, visible_calls
from ringtui.services.permissions import permission_value
from ringtui.services.plans import Feature, require_feature
from ringtui.vocab import EndedBy

DEFAULT_LIMIT = 100
LIMIT_RANGE = range(1, 100_001)
LIST_FIELDS = ("id", "started_at", "direction", "type", "from_number", "to_number", "ivr", "agent",
               "wait_s", "talk_s", "tags", "ended_by_customer", "processed_channel", "transferred")

_Processor = aliased(User)


def require_call_logs(op: Operation) -> None:
    require_feature(op.account, Feature.CALL_LOGS)
    require_area(op, Area.LOGS)


def call_rows(conditions: list[ColumnElement[bool]]) -> Select[Any]:
    """Call records with their IVR name, agent e-mail and processor e-mail, newest first."""
    return (select(CallRecord, Ivr.name, User.email, _Processor.email, transferred())
            .outerjoin(Ivr, Ivr.id == CallRecord.ivr_id)
            .outerjoin(User, User.id == CallRecord.user_id)
            .outerjoin(_Processor, _Processor.id == CallRecord.processed_by)
            .where(*conditions)
            .order_by(CallRecord.started_at.desc(), CallRecord.id.desc()))


def tags_of(op: Operation, record_ids: list[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {record_id: [] for record_id in record_ids}
    if record_ids:
        rows = op.session.execute(select(CallTag.call_record_id, Tag.name)
                                  .join(Tag, Tag.id == CallTag.tag_id)
                                  .where(CallTag.call_record_id.in_(record_ids)).order_by(Tag.name))
        for record_id, name in rows:
            tags[record_id].append(name)
    return tags


def call_dict(record: CallRecord, ivr: str | None, agent: str | None, tags: list[str],
              was_transferred: Any) -> dict[str, Any]:
    return call_values(record.id, record.started_at, record.direction, record.type, record.from_number,
                       record.to_number, ivr, agent, record.wait_s, record.talk_s, tags, record.ended_by,
                       record.processed_channel, was_transferred)


def call_values(id: int, started_at: Any, direction: str, type: str, from_number: str, to_number: str,
                ivr: str | None, agent: str | None, wait_s: float, talk_s: float, tags: list[str],
                ended_by: str | None, processed_channel: str | None, was_transferred: Any) -> dict[str, Any]:
    """A call as the lists show it (LIST_FIELDS), from its columns (exports pass plain rows).
    `transferred`: an agent handed the call on at least once (SQLite gives EXISTS as 0 or 1)."""
    return {"id": id, "started_at": started_at, "direction": direction, "type": type,
            "from_number": from_number, "to_number": to_number, "ivr": ivr, "agent": agent,
            "wait_s": wait_s, "talk_s": talk_s, "tags": tags,
            "ended_by_customer": ended_by == EndedBy.CUSTOMER, "processed_channel": processed_channel,
            "transferred": bool(was_transferred)}


def _check_limit(limit: int) -> None:
    if limit not in LIMIT_RANGE:
        raise Invalid(f"limit {limit} is out of range: give 1..{LIMIT_RANGE.stop - 1}")


def fetch_calls(op: Operation, conditions: list[ColumnElement[bool]], limit: int) -> list[dict[str, Any]]:
    _check_limit(limit)
    rows = op.session.execute(call_rows(conditions).limit(limit)).all()
    tags = tags_of(op, [record.id for record, *_ in rows])
    return [call_dict(record, ivr, agent, tags[record.id], handed_on) | {
                "processed_by": processor, "processed_at": record.processed_at}
            for record, ivr, agent, processor, handed_on in rows]


def list_calls(op: Operation, options: FilterOptions | None = None, *, limit: int = DEFAULT_LIMIT,
               now: datetime | None = None) -> list[dict[str, Any]]:
    """The filtered calls the acting user may see, newest first (L1)."""
    require_call_logs(op)
    conditions = call_conditions(op, options, now=now)
    return [{name: call[name] for name in LIST_FIELDS} for call in fetch_calls(op, conditions, limit)]


# ---------------------------------------------------------------- one call


def _visible_record(op: Operation, call_id: int, *, own_allowed: bool = False) -> CallRecord:
    """The call if the acting user may see it; agents without the logs area see their own calls."""
    if own_allowed and Area.LOGS not in areas_of(op.actor):
        conditions = [CallRecord.user_id == op.actor.id]
    else:
        require_call_logs(op)
        conditions = visible_calls(op)
    record = op.session.execute(select(CallRecord).where(CallRecord.id == call_id, *conditions)).scalar()
    if record is None:
        raise NotFound(
            f"no call {call_id} among the calls {op.actor.email} may see (see `ringtui calls list`)")
    return record


def _names(op: Operation, record: CallRecord) -> tuple[str | None, str | None]:
    ivr = op.session.get(Ivr, record.ivr_id) if record.ivr_id else None
    agent = op.session.get(User, record.user_id) if record.user_id else None
    return (ivr.name if ivr else None), (agent.email if agent else None)


def _attempts(op: Operation, record_id: int) -> list[dict[str, Any]]:
    rows = op.session.execute(
        select(User.email, RingAttempt.started_at, RingAttempt.ended_at, RingAttempt.outcome)
        .select_from(RingAttempt).outerjoin(User, User.id == RingAttempt.user_id)
        .where(RingAttempt.call_record_id == record_id)
        .order_by(RingAttempt.started_at, RingAttempt.id))
    return [{"agent": agent, "started_at": started, "ended_at": ended, "outcome": outcome}
            for agent, started, ended, outcome in rows]


def _survey(op: Operation, record_id: int) -> list[dict[str, Any]]:
    answers = op.session.execute(select(SurveyAnswer).where(SurveyAnswer.call_record_id == record_id)
                                 .order_by(SurveyAnswer.id)).scalars()
    return [{"category": a.category, "question": a.question, "rating": a.rating} for a in answers]


_By, _To = aliased(User), aliased(User)


def _transfers(op: Operation, record_id: int) -> list[dict[str, Any]]:
    """Each hand-on of the call, oldest first: when, blind or attended, by which agent, to which agent
    (e-mail) or number, and whether the target took it."""
    rows = op.session.execute(
        select(CallTransfer.transferred_at, CallTransfer.kind, _By.email, _To.email, CallTransfer.to_number,
               CallTransfer.answered)
        .select_from(CallTransfer)
        .outerjoin(_By, _By.id == CallTransfer.by_user_id)
        .outerjoin(_To, _To.id == CallTransfer.to_user_id)
        .where(CallTransfer.call_record_id == record_id)
        .order_by(CallTransfer.transferred_at, CallTransfer.id))
    return [{"at": at, "kind": kind, "by": by, "to": to_agent or to_number, "answered": answered}
            for at, kind, by, to_agent, to_number, answered in rows]


def show_call(op: Operation, call_id: int) -> dict[str, Any]:
    """One call with its ring attempts and their outcomes, tags, survey, transfers and recorded flag (L2).

    Whether it was recorded is shown only to who may hear its recording (U4 `recordings`):
    otherwise `recorded` is null and `recording_visible` false."""
    record = _visible_record(op, call_id)
    hears = may_hear_recording(op, record.user_id)
    ivr, agent = _names(op, record)
    processor = op.session.get(User, record.processed_by) if record.processed_by else None
    transfers = _transfers(op, call_id)
    return call_dict(record, ivr, agent, tags_of(op, [call_id])[call_id], transfers) | {
        "kind": record.kind, "ivr_step": record.ivr_step, "caller_country": record.caller_country,
        "caller_area": record.caller_area, "answered_at": record.answered_at,
        "ended_at": record.ended_at, "ended_by": record.ended_by,
        "recorded": record.recorded if hears else None, "recording_visible": hears,
        "flagged": record.flagged, "vip": record.vip, "processed_at": record.processed_at,
        "processed_by": processor.email if processor else None,
        "attempts": _attempts(op, call_id), "survey": _survey(op, call_id), "transfers": transfers,
    }


def tag_call(op: Operation, call_id: int, names: list[str]) -> dict[str, Any]:
    """Add tags to a call, within the account's maximum of tags per call (T1)."""
    require_feature(op.account, Feature.TAGS)
    if not permission_value(op.actor, "tag_calls"):
        raise PermissionDenied(f"{op.actor.email} may not tag calls (permission tag_calls=false)")
    record = _visible_record(op, call_id, own_allowed=True)
    if not names:
        raise Invalid("give at least one tag name (see `ringtui tags list`)")
    wanted: dict[int, str] = {}
    for name in names:
        tag = op.session.execute(select(Tag).where(func.lower(Tag.name) == name.strip().lower())).scalar()
        if tag is None:
            raise NotFound(f"no tag {name!r} (see `ringtui tags list`)")
        wanted[tag.id] = tag.name
    before = tags_of(op, [call_id])[call_id]
    present = set(op.session.execute(
        select(CallTag.tag_id).where(CallTag.call_record_id == call_id)).scalars())
    added = [tag_id for tag_id in wanted if tag_id not in present]
    total = len(present) + len(added)
    if total > op.account.max_tags_per_call:
        names_after = ", ".join(sorted(before + [wanted[tag_id] for tag_id in added]))
        raise Invalid(f"call {call_id} would have {total} tags ({names_after}); "
                      f"the account allows at most {op.account.max_tags_per_call} per call")
    for tag_id in added:
        op.session.add(CallTag(call_record_id=record.id, tag_id=tag_id))
    op.session.flush()
    after = tags_of(op, [call_id])[call_id]
    audit(op, "call.tag", f"call {call_id}", before={"tags": before}, after={"tags": after})
    return {"id": call_id, "tags": after}


def flag_call(op: Operation, call_id: int, *, flagged: bool = True) -> dict[str, Any]:
    """Flag a call for attention (L2), or take the flag off."""
    record = _visible_record(op, call_id)
    before = record.flagged
    record.flagged = flagged
    op.session.add(record)
    op.session.flush()
    audit(op, "call.flag", f"call {call_id}", before={"flagged": before}, after={"flagged": flagged})
    return {"id": call_id, "flagged": flagged}
