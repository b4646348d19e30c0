"""SMS logs (L5) and omnichannel message logs (C2): filtered, scoped lists, newest first.

`list_sms` and `list_omni_messages` serve the CLI and the TUI Logs screen; `sms_query` and
`omni_query` are the same rows as plain SQL for the streamed exports.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select

from ringtui.errors import Invalid
from ringtui.models import Ivr, OmniMessage, SmsMessage, User, UserGroup
from ringtui.services.access import Area, require_area
from ringtui.services.base import Operation
from ringtui.services.filters import FilterOptions
from ringtui.services.message_filters import omni_conditions, sms_conditions
from ringtui.services.plans import Feature, require_feature

DEFAULT_LIMIT = 100
LIMIT_RANGE = range(1, 100_001)
SMS_FIELDS = ("id", "sent_at", "direction", "customer_number", "account_number", "agent", "ivr",
              "campaign_id", "text", "unicode", "fragments", "price", "status")
OMNI_FIELDS = ("id", "sent_at", "platform", "direction", "conversation", "customer", "agent", "group",
               "text")

Row = dict[str, Any]


def check_limit(limit: int) -> None:
    if limit not in LIMIT_RANGE:
        raise Invalid(f"limit {limit} is out of range: give 1..{LIMIT_RANGE.stop - 1}")


# ---------------------------------------------------------------- SMS (L5)


def require_sms_logs(op: Operation) -> None:
    require_feature(op.account, Feature.SMS_LOGS)
    require_area(op, Area.LOGS)


def sms_query(conditions: list[ColumnElement[bool]]) -> Select[Any]:
    """SMS with their agent's e-mail and IVR name, newest first."""
    return (select(*SmsMessage.__table__.columns, User.email.label("agent"), Ivr.name.label("ivr_name"))
            .outerjoin(User, User.id == SmsMessage.user_id)
            .outerjoin(Ivr, Ivr.id == SmsMessage.ivr_id)
            .where(*conditions)
            .order_by(SmsMessage.sent_at.desc(), SmsMessage.id.desc()))


def sms_dict(row: Any) -> Row:
    return {"id": row.id, "sent_at": row.sent_at, "direction": row.direction,
            "customer_number": row.customer_number, "account_number": row.account_number,
            "agent": row.agent, "ivr": row.ivr_name, "campaign_id": row.campaign_id, "text": row.text,
            "unicode": bool(row.unicode), "fragments": row.fragments,
            "price": round(float(row.price or 0), 4), "status": row.status}


def sms_rows(op: Operation, options: FilterOptions | None = None, *,
             now: datetime | None = None) -> Select[Any]:
    """The query behind `list_sms`, after the gates (for exports: no limit)."""
    require_sms_logs(op)
    return sms_query(sms_conditions(op, options, now=now))


def list_sms(op: Operation, options: FilterOptions | None = None, *, limit: int = DEFAULT_LIMIT,
             now: datetime | None = None) -> list[Row]:
    """The filtered SMS the acting user may see, newest first (L5)."""
    check_limit(limit)
    return [sms_dict(row) for row in op.session.execute(sms_rows(op, options, now=now).limit(limit))]


# ---------------------------------------------------------------- omnichannel (C2)


def require_omni_logs(op: Operation) -> None:
    require_feature(op.account, Feature.OMNICHANNEL)
    require_area(op, Area.LOGS)


def omni_query(conditions: list[ColumnElement[bool]]) -> Select[Any]:
    return (select(*OmniMessage.__table__.columns, User.email.label("agent"),
                   UserGroup.name.label("group_name"))
            .outerjoin(User, User.id == OmniMessage.user_id)
            .outerjoin(UserGroup, UserGroup.id == OmniMessage.group_id)
            .where(*conditions)
            .order_by(OmniMessage.sent_at.desc(), OmniMessage.id.desc()))


def omni_dict(row: Any) -> Row:
    return {"id": row.id, "sent_at": row.sent_at, "platform": row.platform, "direction": row.direction,
            "conversation": row.conversation, "customer": row.customer, "agent": row.agent,
            "group": row.group_name, "text": row.text}


def list_omni_messages(op: Operation, options: FilterOptions | None = None, platform: str | None = None,
                       *, limit: int = DEFAULT_LIMIT, now: datetime | None = None) -> list[Row]:
    """The filtered omnichannel messages the acting user may see, newest first (omnichannel add-on)."""
    require_omni_logs(op)
    check_limit(limit)
    query = omni_query(omni_conditions(op, options, platform, now=now)).limit(limit)
    return [omni_dict(row) for row in op.session.execute(query)]
