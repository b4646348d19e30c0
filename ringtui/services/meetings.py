"""Meet logs (L6): the meetings agents held, filtered and scoped, newest first.

A meeting still open (no end) has no duration yet; statistics count only ended ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select

from ringtui.models import Meeting, User
from ringtui.services.access import Area, require_area
from ringtui.services.base import Operation
from ringtui.services.filters import FilterOptions, seconds_between
from ringtui.services.message_filters import meeting_conditions
from ringtui.services.messages import DEFAULT_LIMIT, check_limit
from ringtui.services.plans import Feature, require_feature

MEETING_FIELDS = ("id", "started_at", "ended_at", "tool", "agent", "title", "duration_s", "participants")

Row = dict[str, Any]


def require_meet_logs(op: Operation) -> None:
    require_feature(op.account, Feature.MEET_LOGS)
    require_area(op, Area.LOGS)


def duration_s() -> Any:
    """Seconds from start to end (null while the meeting lasts)."""
    return seconds_between(Meeting.started_at, Meeting.ended_at)


def meeting_query(conditions: list[ColumnElement[bool]]) -> Select[Any]:
    return (select(*Meeting.__table__.columns, User.email.label("agent"), duration_s().label("duration_s"))
            .outerjoin(User, User.id == Meeting.user_id)
            .where(*conditions)
            .order_by(Meeting.started_at.desc(), Meeting.id.desc()))


def meeting_dict(row: Any) -> Row:
    duration = None if row.duration_s is None else round(float(row.duration_s), 1)
    return {"id": row.id, "started_at": row.started_at, "ended_at": row.ended_at, "tool": row.tool,
            "agent": row.agent, "title": row.title, "duration_s": duration,
            "participants": row.participants}


def meeting_rows(op: Operation, options: FilterOptions | None = None, tool: str | None = None, *,
                 now: datetime | None = None) -> Select[Any]:
    """The query behind `list_meetings`, after the gates (for exports: no limit)."""
    require_meet_logs(op)
    return meeting_query(meeting_conditions(op, options, tool, now=now))


def list_meetings(op: Operation, options: FilterOptions | None = None, tool: str | None = None, *,
                  limit: int = DEFAULT_LIMIT, now: datetime | None = None) -> list[Row]:
    """The filtered meetings the acting user may see, newest first (L6)."""
    check_limit(limit)
    query = meeting_rows(op, options, tool, now=now).limit(limit)
    return [meeting_dict(row) for row in op.session.execute(query)]
