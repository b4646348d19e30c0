"""SMS (S7), Meet (S8) and omnichannel (S9) statistics: each indicator defined once, in SQL.

Response time: for each inbound SMS, the seconds until the first outbound SMS (not a campaign's)
from the same number of ours to the same customer number, sent at or after it; for an omnichannel
message, until the first outbound message of the same conversation. The average is over the
inbound messages that got such an answer; the others are the unanswered ones. Meetings count once
ended (as calls do).
History and heatmap use the call statistics' bucketing (services/stats), on `sent_at`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import aliased

from ringtui.errors import Invalid
from ringtui.models import Meeting, OmniMessage, SmsMessage, User
from ringtui.services.base import Operation
from ringtui.services.filters import FilterOptions, seconds_between
from ringtui.services.meetings import duration_s
from ringtui.services.message_filters import (
    MEET_TOOLS,
    PLATFORMS,
    choice,
    meeting_conditions,
    omni_conditions,
    sms_conditions,
)
from ringtui.services.plans import Feature, require_feature
from ringtui.services.stats import (
    _require_statistics,
    call_heatmap,
    call_history,
    survey_history,
    time_buckets,
    weekday_hour_values,
)
from ringtui.vocab import Direction

Indicator = Callable[[], Any]


def _count(condition: ColumnElement[bool]) -> Any:
    return func.count(case((condition, 1)))


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


# ---------------------------------------------------------------- S7 SMS


def _sms_in() -> ColumnElement[bool]:
    return SmsMessage.direction == Direction.IN


def _sms_out() -> ColumnElement[bool]:
    return SmsMessage.direction == Direction.OUT


def sms_reply_at() -> Any:
    """When the customer of an SMS was first written to from the same number of ours (not by a
    campaign) at or after it."""
    reply = aliased(SmsMessage)
    return select(func.min(reply.sent_at)).where(
        reply.direction == Direction.OUT, reply.campaign_id.is_(None),
        reply.customer_number == SmsMessage.customer_number,
        reply.account_number == SmsMessage.account_number,
        reply.sent_at >= SmsMessage.sent_at).correlate(SmsMessage).scalar_subquery()


SMS_INDICATORS: dict[str, Indicator] = {
    "total_sms": lambda: func.count(SmsMessage.id),
    "sent_sms": lambda: _count(_sms_out()),
    "received_sms": lambda: _count(_sms_in()),
    "direct_sms": lambda: _count(SmsMessage.campaign_id.is_(None)),
    "campaign_sms": lambda: _count(SmsMessage.campaign_id.is_not(None)),
    "total_fragments": lambda: func.coalesce(func.sum(SmsMessage.fragments), 0),
    "unicode_sms": lambda: _count(SmsMessage.unicode.is_(True)),
    "total_price": lambda: func.coalesce(func.sum(case((_sms_out(), SmsMessage.price))), 0),
    "avg_response_s": lambda: func.avg(case((_sms_in(), seconds_between(SmsMessage.sent_at,
                                                                          sms_reply_at())))),
    "unanswered_sms": lambda: _count(and_(_sms_in(), sms_reply_at().is_(None))),
}

# ---------------------------------------------------------------- S9 omnichannel


def _omni_in() -> ColumnElement[bool]:
    return OmniMessage.direction == Direction.IN


def omni_reply_at() -> Any:
    """When the conversation of a message was first answered at or after it."""
    reply = aliased(OmniMessage)
    return select(func.min(reply.sent_at)).where(
        reply.direction == Direction.OUT, reply.conversation == OmniMessage.conversation,
        reply.platform == OmniMessage.platform,
        reply.sent_at >= OmniMessage.sent_at).correlate(OmniMessage).scalar_subquery()


OMNI_INDICATORS: dict[str, Indicator] = {
    "total_messages": lambda: func.count(OmniMessage.id),
    "sent_messages": lambda: _count(OmniMessage.direction == Direction.OUT),
    "received_messages": lambda: _count(_omni_in()),
    "avg_response_s": lambda: func.avg(case((_omni_in(), seconds_between(OmniMessage.sent_at,
                                                                           omni_reply_at())))),
    "unanswered_messages": lambda: _count(and_(_omni_in(), omni_reply_at().is_(None))),
}


def _figure(name: str, value: Any) -> Any:
    if name == "avg_response_s":
        return _seconds(value)
    if name == "total_price":
        return round(float(value or 0), 4)
    return int(value or 0)


def _figures(op: Operation, indicators: dict[str, Indicator],
             conditions: list[ColumnElement[bool]]) -> dict[str, Any]:
    query = select(*(indicator().label(name) for name, indicator in indicators.items())).where(*conditions)
    row = op.session.execute(query).one()._mapping
    return {name: _figure(name, row[name]) for name in indicators}


def _per_agent(op: Operation, user_column: Any, figures: dict[str, Any],
               conditions: list[ColumnElement[bool]], order: tuple[str, ...]) -> list[dict[str, Any]]:
    """One row per agent (e-mail) with these aggregates, largest first by `order`, then e-mail."""
    query = (select(User.email.label("agent"), *(value.label(name) for name, value in figures.items()))
             .select_from(user_column.table)
             .join(User, User.id == user_column)
             .where(*conditions)
             .group_by(User.email))
    rows = [dict(row._mapping) for row in op.session.execute(query)]
    return sorted(rows, key=lambda row: (*(-(row[key] or 0) for key in order), row["agent"]))


def sms_stats(op: Operation, options: FilterOptions | None = None, *,
              now: datetime | None = None) -> dict[str, Any]:
    """S7: totals (direct and campaigns), fragments, price, response time, unanswered; leaderboard."""
    _require_statistics(op)
    conditions = sms_conditions(op, options, now=now)
    figures = _figures(op, SMS_INDICATORS, conditions)
    board = _per_agent(op, SmsMessage.user_id, {
        "sent": _count(_sms_out()), "received": _count(_sms_in()),
        "fragments": func.coalesce(func.sum(case((_sms_out(), SmsMessage.fragments))), 0),
    }, conditions, ("sent", "received"))
    return figures | {"leaderboard": board}


def omni_stats(op: Operation, options: FilterOptions | None = None, platform: str | None = None, *,
               now: datetime | None = None) -> dict[str, Any]:
    """S9: totals per platform, response time, unanswered; leaderboard (omnichannel add-on)."""
    _require_statistics(op)
    require_feature(op.account, Feature.OMNICHANNEL)
    conditions = omni_conditions(op, options, platform, now=now)
    figures = _figures(op, OMNI_INDICATORS, conditions)
    per_platform = dict(op.session.execute(
        select(OmniMessage.platform, func.count(OmniMessage.id)).where(*conditions)
        .group_by(OmniMessage.platform)).all())
    board = _per_agent(op, OmniMessage.user_id, {
        "sent": _count(OmniMessage.direction == Direction.OUT), "received": _count(_omni_in()),
    }, conditions, ("sent", "received"))
    return figures | {"by_platform": {name: int(per_platform.get(name, 0)) for name in PLATFORMS},
                      "leaderboard": board}


# ---------------------------------------------------------------- S8 Meet

MEET_SORTS = ("meetings", "duration")


def meet_stats(op: Operation, options: FilterOptions | None = None, tool: str | None = None,
               sort: str = "meetings", *, now: datetime | None = None) -> dict[str, Any]:
    """S8: ended meetings by tool, total and average duration, average participants; leaderboard
    by number of meetings or total duration per agent."""
    _require_statistics(op)
    order = choice(sort, "sort", MEET_SORTS)
    conditions = [Meeting.ended_at.is_not(None), *meeting_conditions(op, options, tool, now=now)]
    row = op.session.execute(select(
        func.count(Meeting.id).label("total_meetings"),
        func.sum(duration_s()).label("total_duration_s"),
        func.avg(duration_s()).label("avg_duration_s"),
        func.avg(Meeting.participants).label("avg_participants")).where(*conditions)).one()
    per_tool = dict(op.session.execute(
        select(Meeting.tool, func.count(Meeting.id)).where(*conditions).group_by(Meeting.tool)).all())
    board = _per_agent(op, Meeting.user_id, {
        "meetings": func.count(Meeting.id), "duration_s": func.sum(duration_s()),
    }, conditions, ("meetings", "duration_s") if order == "meetings" else ("duration_s", "meetings"))
    for line in board:
        line["duration_s"] = round(float(line["duration_s"] or 0), 1)
    return {
        "total_meetings": int(row.total_meetings or 0),
        "by_tool": {name: int(per_tool.get(name, 0)) for name in MEET_TOOLS},
        "total_duration_s": round(float(row.total_duration_s or 0), 1),
        "avg_duration_s": _seconds(row.avg_duration_s),
        "avg_participants": None if row.avg_participants is None else round(float(row.avg_participants), 2),
        "leaderboard": board,
    }


# ---------------------------------------------------------------- S3 / S4 for messages

CHANNELS = ("calls", "sms", "omnichannel")
_DEFAULTS = {"sms": "total_sms", "omnichannel": "total_messages"}


def _channel(op: Operation, channel: str, indicator: str | None, options: FilterOptions | None,
             now: datetime | None, platform: str | None = None,
             ) -> tuple[str, Indicator, Any, list[ColumnElement[bool]]]:
    """(indicator name, definition, time column, conditions) of a message channel; `platform`
    narrows omnichannel messages to one platform."""
    _require_statistics(op)
    clean = choice(channel, "channel", CHANNELS[1:])  # calls are stats.call_history / call_heatmap
    indicators = SMS_INDICATORS if clean == "sms" else OMNI_INDICATORS
    name = (indicator or _DEFAULTS[clean]).strip().lower()
    if name not in indicators:
        raise Invalid(f"unknown {clean} indicator {indicator!r}: give one of {', '.join(indicators)}")
    if clean == "sms":
        if platform:
            raise Invalid(f"platform {platform!r} applies to omnichannel messages, not to sms")
        return name, indicators[name], SmsMessage.sent_at, sms_conditions(op, options, now=now)
    require_feature(op.account, Feature.OMNICHANNEL)
    return name, indicators[name], OmniMessage.sent_at, omni_conditions(op, options, platform, now=now)


def message_history(op: Operation, channel: str, interval: str, indicator: str | None = None,
                    options: FilterOptions | None = None, *, now: datetime | None = None,
                    platform: str | None = None) -> dict[str, Any]:
    """S3 for SMS (S7) or omnichannel messages (S9): one indicator per local hour, day, week or month."""
    name, value, column, conditions = _channel(op, channel, indicator, options, now, platform)
    points = time_buckets(op, column, value(), conditions, interval)
    return {"indicator": name, "interval": interval.strip().lower(),
            "points": [{"start": start, "value": _figure(name, raw)} for start, raw in points]}


def message_heatmap(op: Operation, channel: str, indicator: str | None = None,
                    options: FilterOptions | None = None, *, now: datetime | None = None,
                    platform: str | None = None) -> dict[str, Any]:
    """S4 for SMS or omnichannel messages: all 168 weekday x hour cells (empty counts 0, averages null)."""
    name, value, column, conditions = _channel(op, channel, indicator, options, now, platform)
    values = weekday_hour_values(op, column, value(), conditions)
    empty = None if name == "avg_response_s" else 0
    cells = [{"weekday": day, "hour": hour,
              "value": _figure(name, values[(day, hour)]) if (day, hour) in values else empty}
             for day in range(7) for hour in range(24)]
    return {"indicator": name, "cells": cells}


def history(op: Operation, channel: str, interval: str, indicator: str | None = None,
            options: FilterOptions | None = None, *, now: datetime | None = None) -> dict[str, Any]:
    """`stats history --channel calls|sms|omnichannel|surveys`."""
    clean = choice(channel, "channel", (*CHANNELS, "surveys"))  # S11: a history of ratings, no heatmap
    if clean == "surveys":
        return survey_history(op, interval, indicator, options, now=now)
    if clean == "calls":
        return call_history(op, interval, indicator, options, now=now)
    return message_history(op, channel, interval, indicator, options, now=now)


def heatmap(op: Operation, channel: str, indicator: str | None = None,
            options: FilterOptions | None = None, *, now: datetime | None = None) -> dict[str, Any]:
    """`stats heatmap --channel calls|sms|omnichannel`."""
    if choice(channel, "channel", CHANNELS) == "calls":
        return call_heatmap(op, indicator, options, now=now)
    return message_heatmap(op, channel, indicator, options, now=now)
