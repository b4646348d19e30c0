"""The FILTERS options (S6) on SMS, meetings and omnichannel messages (S7-S9, L5, L6).

The period and hours are read exactly as for calls (services/filters: account time zone,
hours applied to every local day, daylight-saving exact), on the table's own time column;
who may see what is access.visible_records, as for calls. Options that have no meaning for
a kind of record are refused naming the option, rather than silently ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select

from ringtui.errors import Invalid
from ringtui.models import GroupMember, Meeting, MeetingTag, OmniMessage, SmsMessage
from ringtui.services.access import visible_records
from ringtui.services.base import Operation
from ringtui.services.filters import (
    DIRECTIONS,
    SCOPES,
    FilterOptions,
    Period,
    account_zone,
    countries,
    group_ids,
    group_members,
    hour_windows,
    ivr_ids,
    parse_hours,
    parse_period,
    tag_ids,
    unusable_options,
    user_ids,
    with_saved_filter,
)
from ringtui.vocab import MeetTool, OmniPlatform

MEET_TOOLS = tuple(tool.value for tool in MeetTool)
PLATFORMS = tuple(platform.value for platform in OmniPlatform)


def choice(value: str, what: str, accepted: tuple[str, ...]) -> str:
    clean = value.strip().lower()
    if clean not in accepted:
        raise Invalid(f"unknown {what} {value!r}: give {', '.join(accepted)}")
    return clean


# call filters no message or meeting carries
CALL_ONLY = ("exclude_type", "number", "redirection", "transfers")


def _refuse(given: FilterOptions, options: FilterOptions, names: tuple[str, ...], what: str) -> None:
    """Refuse the options `names` (and the call-only ones) in `options`, `given` resolved."""
    usable = tuple(name for name in FilterOptions.__dataclass_fields__ if name not in (*names, *CALL_ONLY))
    unusable = unusable_options(given, options, usable)
    if unusable:
        flags, note = unusable
        raise Invalid(f"{what} take no {flags} filter (they apply to calls){note}")


def time_conditions(op: Operation, options: FilterOptions, column: Any,
                    now: datetime | None = None) -> list[ColumnElement[bool]]:
    """--period and --hours on `column`, in the account's time zone."""
    zone = account_zone(op)
    period = parse_period(options.period, zone, now or datetime.now(UTC)) if options.period else None
    hours = parse_hours(options.hours) if options.hours else None
    conditions = [] if period is None else [and_(column >= period.start, column < period.end)]
    if hours is None:
        return conditions
    if period is None:  # hours over the whole history: its first and last records bound the days
        first, last = op.session.execute(select(func.min(column), func.max(column))).one()
        if first is None:
            return [false()]
        period = Period(first, last + timedelta(seconds=1))
    windows = hour_windows(period, hours, zone)
    if not windows:
        return [false()]
    return [or_(*(and_(column >= w.start, column < w.end) for w in windows))]


def _country_prefixes(value: str) -> list[str]:
    """The calling codes of --country (one or several), each once (+1 is the US and Canada)."""
    return list(dict.fromkeys(f"+{phonenumbers.country_code_for_region(code)}" for code in countries(value)))


def sms_conditions(op: Operation, options: FilterOptions | None = None, *,
                   now: datetime | None = None) -> list[ColumnElement[bool]]:
    """SQL conditions on sms_message for FILTERS and the acting user's visibility.

    --scope ivrs: SMS of the IVRs' numbers; direct: of the users' direct lines (not campaigns);
    --country: customer numbers of that country's calling code.
    """
    given = options or FilterOptions()
    options = with_saved_filter(op, given)
    _refuse(given, options, ("tag", "type"), "SMS")
    conditions = [*visible_records(op, user=SmsMessage.user_id, ivr=SmsMessage.ivr_id, what="SMS logs"),
                  *time_conditions(op, options, SmsMessage.sent_at, now)]
    scope = choice(options.scope, "scope", SCOPES) if options.scope else "all"
    if scope == "custom" and not (options.ivr or options.group or options.user):
        raise Invalid("scope 'custom' needs --ivr, --group or --user to say which SMS")
    if scope == "ivrs":
        conditions.append(SmsMessage.ivr_id.is_not(None))
    elif scope == "direct":
        conditions += [SmsMessage.ivr_id.is_(None), SmsMessage.campaign_id.is_(None)]
    if options.direction:
        conditions.append(SmsMessage.direction == choice(options.direction, "direction", DIRECTIONS))
    if options.ivr:
        conditions.append(SmsMessage.ivr_id.in_(ivr_ids(op, options.ivr)))
    if options.group:
        conditions.append(SmsMessage.user_id.in_(group_members(op, options.group)))
    if options.user:
        conditions.append(SmsMessage.user_id.in_(user_ids(op, options.user)))
    if options.country:
        conditions.append(or_(*(SmsMessage.customer_number.startswith(prefix)
                                for prefix in _country_prefixes(options.country))))
    return conditions


def meeting_conditions(op: Operation, options: FilterOptions | None = None, tool: str | None = None, *,
                       now: datetime | None = None) -> list[ColumnElement[bool]]:
    """SQL conditions on meeting: --tool, period and hours on the start, --group, --user, --tag,
    visibility."""
    given = options or FilterOptions()
    options = with_saved_filter(op, given)
    _refuse(given, options, ("scope", "ivr", "country", "direction", "type"), "meetings")
    conditions = [*visible_records(op, user=Meeting.user_id, what="Meet logs"),
                  *time_conditions(op, options, Meeting.started_at, now)]
    if tool:
        conditions.append(Meeting.tool == choice(tool, "meeting tool", MEET_TOOLS))
    if options.group:
        conditions.append(Meeting.user_id.in_(group_members(op, options.group)))
    if options.user:
        conditions.append(Meeting.user_id.in_(user_ids(op, options.user)))
    if options.tag:
        conditions.append(exists().where(MeetingTag.meeting_id == Meeting.id,
                                         MeetingTag.tag_id.in_(tag_ids(op, options.tag))))
    return conditions


def omni_conditions(op: Operation, options: FilterOptions | None = None, platform: str | None = None, *,
                    now: datetime | None = None) -> list[ColumnElement[bool]]:
    """SQL conditions on omni_message: --platform, period, hours, direction, group, user, visibility."""
    given = options or FilterOptions()
    options = with_saved_filter(op, given)
    _refuse(given, options, ("scope", "ivr", "country", "tag", "type"), "omnichannel messages")
    conditions = [*visible_records(op, user=OmniMessage.user_id, group=OmniMessage.group_id,
                                   what="omnichannel messages"),
                  *time_conditions(op, options, OmniMessage.sent_at, now)]
    if platform:
        conditions.append(OmniMessage.platform == choice(platform, "platform", PLATFORMS))
    if options.direction:
        conditions.append(OmniMessage.direction == choice(options.direction, "direction", DIRECTIONS))
    if options.group:
        groups = group_ids(op, options.group)
        conditions.append(or_(OmniMessage.group_id.in_(groups), OmniMessage.user_id.in_(
            select(GroupMember.user_id).where(GroupMember.group_id.in_(groups)))))
    if options.user:
        conditions.append(OmniMessage.user_id.in_(user_ids(op, options.user)))
    return conditions
