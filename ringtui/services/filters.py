"""Call filters (S6): the FILTERS options of CLI.md turned into SQL conditions on call_record.

Periods and hours are evaluated in the account's time zone. Hours are applied
to every day of the period by generating, per local day, the UTC window the
hours cover (so daylight-saving changes are exact and nothing new is stored);
the windows are OR-ed in SQL, which both SQLite and PostgreSQL answer from
the started_at index. Every condition also carries who may see which calls
(U7 scopes, U4 "own logs only").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Float, and_, exists, false, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from ringtui.errors import Invalid, NotFound, RingtuiError
from ringtui.models import CallRecord, CallTag, CallTransfer, GroupMember, Ivr, IvrStep, Tag, User, UserGroup
from ringtui.services.access import visible_records
from ringtui.services.base import Operation
from ringtui.services.lookups import group_by_name, ivr_by_name, user_by_email
from ringtui.services.phones import check_country, to_e164
from ringtui.services.plans import Feature, require_feature
from ringtui.vocab import CallKind, CallType, Direction, TransfersCounted

RELATIVE_PERIODS = ("today", "yesterday", "this-week", "last-week", "this-month", "last-month")
SCOPES = ("all", "ivrs", "direct", "custom")
DIRECTIONS = (Direction.IN.value, Direction.OUT.value)
TYPES = tuple(t.value for t in CallType)
TRANSFERS = tuple(t.value for t in TransfersCounted)
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
PERIOD_HELP = "today, yesterday, this-week, last-week, this-month, last-month or YYYY-MM-DD..YYYY-MM-DD"


@dataclass(frozen=True)
class FilterOptions:
    """The FILTERS options as typed on the command line (None = not given)."""

    period: str | None = None
    hours: str | None = None
    scope: str | None = None
    # --ivr, --group, --user, --country and --tag take several values (repeated or a comma list),
    # comma-joined here: a call of any of them; different options combine with AND (see `named`)
    ivr: str | None = None
    group: str | None = None
    user: str | None = None
    country: str | None = None
    tag: str | None = None
    direction: str | None = None
    type: str | None = None  # one call type, or several joined by commas (--type given again)
    saved: str | None = None  # --filter NAME: a saved filter (S16) under the options given
    exclude_type: str | None = None  # S6 "include / exclude kinds of call": types left out, comma-joined
    number: str | None = None  # S6 per-IVR refinement: the account number(s) called or calling, comma-joined
    redirection: str | None = None  # S6 per-IVR refinement: the step(s) of --ivr that handled the calls last
    transfers: str | None = None  # S6 "how transfers are counted": all, exclude or only (TransfersCounted)

    def given(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]


@dataclass(frozen=True)
class Period:
    """A half-open UTC interval [start, end)."""

    start: datetime
    end: datetime


# ---------------------------------------------------------------- time


class seconds_between(FunctionElement[float]):
    """Seconds from the first time to the second, on either backend."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between)
def _seconds_default(element: Any, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    later, earlier = compiler.process(end, **kw), compiler.process(start, **kw)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def account_zone(op: Operation) -> ZoneInfo:
    return ZoneInfo(op.account.timezone or "UTC")


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _day(text: str, period: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"period {period!r}: {text!r} is not a date; give {PERIOD_HELP}") from None


def parse_period(text: str, zone: ZoneInfo, now: datetime) -> Period:
    """A period name or an inclusive date range, in `zone`, as UTC bounds."""
    name = text.strip().lower()
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    previous_first = (first - timedelta(days=1)).replace(day=1)
    days: dict[str, tuple[date, date]] = {
        "today": (today, today + timedelta(days=1)),
        "yesterday": (today - timedelta(days=1), today),
        "this-week": (monday, monday + timedelta(days=7)),
        "last-week": (monday - timedelta(days=7), monday),
        "this-month": (first, (first + timedelta(days=32)).replace(day=1)),
        "last-month": (previous_first, first),
    }
    if name in days:
        start, end = days[name]
    else:
        match = _RANGE.match(name)
        if match is None:
            raise Invalid(f"unknown period {text!r}: give {PERIOD_HELP}")
        start, last = _day(match.group(1), text), _day(match.group(2), text)
        if last < start:
            raise Invalid(f"period {text!r} ends before it starts: give FIRST..LAST with FIRST <= LAST")
        end = last + timedelta(days=1)
    return Period(_local_midnight(start, zone), _local_midnight(end, zone))


def parse_hours(text: str) -> tuple[time, time | None]:
    """HH:MM-HH:MM; an end of 24:00 is None (midnight after); an end before the start spans midnight."""
    match = _HOURS.match(text.strip())
    bad = f"bad hours {text!r}: give HH:MM-HH:MM such as 09:00-18:00 (00:00..24:00, start != end)"
    if match is None:
        raise Invalid(bad)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2) or (h1, m1) == (h2, m2):
        raise Invalid(bad)
    return time(h1, m1), None if h2 == 24 else time(h2, m2)


def hour_windows(period: Period, hours: tuple[time, time | None], zone: ZoneInfo) -> list[Period]:
    """The UTC windows that `hours` cover on each local day touching the period."""
    start, end = hours
    first = period.start.astimezone(zone).date() - timedelta(days=1)
    last = period.end.astimezone(zone).date()
    windows: list[Period] = []
    day = first
    while day <= last:
        opens = datetime.combine(day, start, tzinfo=zone)
        if end is None or end <= start:
            closes = datetime.combine(day + timedelta(days=1), end or time(0), tzinfo=zone)
        else:
            closes = datetime.combine(day, end, tzinfo=zone)
        window = Period(max(opens.astimezone(UTC), period.start), min(closes.astimezone(UTC), period.end))
        if window.start < window.end:
            windows.append(window)
        day += timedelta(days=1)
    return windows


def _within(column: Any, window: Period) -> ColumnElement[bool]:
    return and_(column >= window.start, column < window.end)


# ---------------------------------------------------------------- who sees what


def visible_calls(op: Operation) -> list[ColumnElement[bool]]:
    """The calls the acting user may see: own or own groups' calls (U4), a supervisor's IVRs and
    groups (U7); the rule lives in access.visible_records."""
    return visible_records(op, user=CallRecord.user_id, ivr=CallRecord.ivr_id)


# ---------------------------------------------------------------- the filters


def _choice(value: str, what: str, accepted: tuple[str, ...]) -> str:
    clean = value.strip().lower()
    if clean not in accepted:
        raise Invalid(f"unknown {what} {value!r}: give {', '.join(accepted)}")
    return clean


def _choices(value: str, what: str, accepted: tuple[str, ...]) -> list[str]:
    """A comma-separated list of choices (a repeated option arrives joined by commas)."""
    return [_choice(item, what, accepted) for item in value.split(",") if item.strip()] or [
        _choice(value, what, accepted)]


def _numbers(op: Operation, value: str) -> list[str]:
    return [to_e164(item, op.account.country) for item in value.split(",") if item.strip()] or [
        to_e164(value, op.account.country)]


def _scope_condition(options: FilterOptions) -> list[ColumnElement[bool]]:
    scope = _choice(options.scope, "scope", SCOPES) if options.scope else "all"
    if scope == "custom" and not (options.ivr or options.group or options.user):
        raise Invalid("scope 'custom' needs --ivr, --group or --user to say which calls")
    if scope == "ivrs":
        return [CallRecord.kind == CallKind.IVR]
    if scope == "direct":
        return [CallRecord.kind == CallKind.DIRECT]
    return []


def _time_conditions(op: Operation, options: FilterOptions, now: datetime) -> list[ColumnElement[bool]]:
    zone = account_zone(op)
    period = parse_period(options.period, zone, now) if options.period else None
    hours = parse_hours(options.hours) if options.hours else None
    conditions = [] if period is None else [_within(CallRecord.started_at, period)]
    if hours is None:
        return conditions
    if period is None:  # hours over all the history: its first and last calls bound the days
        first, last = op.session.execute(
            select(func.min(CallRecord.started_at), func.max(CallRecord.started_at))).one()
        if first is None:
            return [false()]
        period = Period(first, last + timedelta(seconds=1))
    windows = hour_windows(period, hours, zone)
    conditions.append(or_(*(_within(CallRecord.started_at, w) for w in windows)) if windows else false())
    return conditions


def _record_conditions(op: Operation, options: FilterOptions) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if options.direction:
        conditions.append(CallRecord.direction == _choice(options.direction, "direction", DIRECTIONS))
    if options.type:
        conditions.append(CallRecord.type.in_(_choices(options.type, "call type", TYPES)))
    if options.exclude_type:
        left_out = _choices(options.exclude_type, "call type", TYPES)
        conditions.append(or_(CallRecord.type.is_(None), CallRecord.type.not_in(left_out)))
    if options.number:
        require_feature(op.account, Feature.IVR_FILTERS)
        numbers = _numbers(op, options.number)
        called = and_(CallRecord.direction == Direction.IN, CallRecord.to_number.in_(numbers))
        calling = and_(CallRecord.direction == Direction.OUT, CallRecord.from_number.in_(numbers))
        conditions.append(or_(called, calling))
    if options.ivr:
        require_feature(op.account, Feature.IVR_FILTERS)
        conditions.append(CallRecord.ivr_id.in_(ivr_ids(op, options.ivr)))
    if options.redirection:
        require_feature(op.account, Feature.IVR_FILTERS)
        conditions.append(CallRecord.ivr_step.in_(redirections(op, options)))
    if options.group:
        conditions.append(CallRecord.user_id.in_(group_members(op, options.group)))
    if options.user:
        conditions.append(CallRecord.user_id.in_(user_ids(op, options.user)))
    if options.country:
        conditions.append(CallRecord.caller_country.in_(countries(options.country)))
    if options.tag:  # an alias: a query that reads call_tag itself (stats tags) must not correlate it
        tagged = aliased(CallTag)
        conditions.append(exists().where(tagged.call_record_id == CallRecord.id,
                                         tagged.tag_id.in_(tag_ids(op, options.tag))))
    conditions += transfer_conditions(options)
    return conditions


def transfers_counted(options: FilterOptions) -> TransfersCounted:
    """--transfers checked: all (the default), exclude or only."""
    if options.transfers is None:
        return TransfersCounted.ALL
    return TransfersCounted(_choice(options.transfers, "transfers value", TRANSFERS))


def transferred() -> ColumnElement[bool]:
    """The call was handed on at least once (a call_transfer row; its call_record_id is indexed)."""
    return exists().where(CallTransfer.call_record_id == CallRecord.id)


def transfer_conditions(options: FilterOptions) -> list[ColumnElement[bool]]:
    counted = transfers_counted(options)
    if counted == TransfersCounted.EXCLUDE:
        return [~transferred()]
    if counted == TransfersCounted.ONLY:
        return [transferred()]
    return []


def redirections(op: Operation, options: FilterOptions) -> list[str]:
    """The step names --redirection asks for, as the IVR of --ivr spells them; a step name means
    something only within one IVR, so --ivr is required."""
    given = [item.strip() for item in (options.redirection or "").split(",") if item.strip()]
    if not options.ivr:
        raise Invalid(f"--redirection {', '.join(given) or options.redirection!r} needs --ivr NAME: "
                      "a redirection is a step of one IVR")
    chosen_ivrs = ivrs(op, options.ivr)
    if len(chosen_ivrs) > 1:
        several = ", ".join(repr(ivr.name) for ivr in chosen_ivrs)
        raise Invalid(f"--redirection {', '.join(given) or options.redirection!r} needs a single --ivr "
                      f"(given {several}): a redirection is a step of one IVR")
    ivr = chosen_ivrs[0]
    steps = list(op.session.execute(
        select(IvrStep.name).where(IvrStep.ivr_id == ivr.id).order_by(IvrStep.position)).scalars())
    by_lower = {name.lower(): name for name in reversed(steps)}
    chosen = []
    for name in given or [options.redirection or ""]:
        step = name if name in steps else by_lower.get(name.lower())
        if step is None:
            known = ", ".join(steps) or "none: add one with `ringtui ivr step add`"
            raise Invalid(f"unknown redirection {name!r}: IVR {ivr.name!r} has the steps {known}")
        chosen.append(step)
    return chosen


_T = TypeVar("_T")


def named(value: str, lookup: Callable[[str], _T], several_unknown: str) -> list[_T]:
    """What each value of an option that takes several stands for (`lookup` of each), in the order
    given. The values arrive comma-joined (the option repeated, or a comma list); a name may itself
    hold a comma ("Sales, Paris"), so the longest run of comma-separated pieces that `lookup` knows
    is one value. Every value `lookup` does not know is named in one error: its own message for one,
    `several_unknown` (with "{}" for the values) for more."""
    pieces = value.split(",")
    found: list[_T] = []
    unknown: list[str] = []
    refusals: list[RingtuiError] = []
    start = 0
    while start < len(pieces):
        if not pieces[start].strip():  # "A,,B" or a trailing comma
            start += 1
            continue
        stop = start + 1
        refusal: RingtuiError | None = None
        for end in range(len(pieces), start, -1):
            try:
                found.append(lookup(",".join(pieces[start:end])))
            except (NotFound, Invalid) as error:
                refusal = error
                continue
            stop, refusal = end, None
            break
        if refusal is not None:
            unknown.append(pieces[start].strip())
            refusals.append(refusal)
        start = stop
    if not found and not refusals:  # only commas
        raise Invalid(f"{value!r} holds no value: give one, or several separated by commas")
    if len(refusals) == 1:
        raise refusals[0]
    if refusals:
        raise type(refusals[0])(several_unknown.format(", ".join(repr(name) for name in unknown)))
    return found


def _unique(ids: list[int]) -> list[int]:
    return list(dict.fromkeys(ids))


def ivrs(op: Operation, value: str) -> list[Ivr]:
    """The IVRs of --ivr (one or several), each once."""
    chosen = {ivr.id: ivr for ivr in named(value, lambda name: ivr_by_name(op, name),
                                           "no IVRs {} (see `ringtui ivr list`)")}
    return list(chosen.values())


def ivr_ids(op: Operation, value: str) -> list[int]:
    return [ivr.id for ivr in ivrs(op, value)]


def group_ids(op: Operation, value: str) -> list[int]:
    """The groups of --group (one or several)."""
    found: list[UserGroup] = named(value, lambda name: group_by_name(op, name),
                                   "no groups {} (see `ringtui groups list`)")
    return _unique([group.id for group in found])


def group_members(op: Operation, value: str) -> Any:
    """The users in any group of --group, as a subquery."""
    return select(GroupMember.user_id).where(GroupMember.group_id.in_(group_ids(op, value)))


def user_ids(op: Operation, value: str) -> list[int]:
    """The users of --user (one e-mail or several)."""
    found: list[User] = named(value, lambda email: user_by_email(op, email),
                              "no users {} in this account (see `ringtui users list`)")
    return _unique([user.id for user in found])


def countries(value: str) -> list[str]:
    """The ISO codes of --country (one or several)."""
    return list(dict.fromkeys(named(value, check_country, "unknown countries {}: give ISO 3166 "
                                    "two-letter codes such as FR, ES, US")))


def tag_ids(op: Operation, value: str) -> list[int]:
    """The tags of --tag (one or several, any case), on calls and meetings."""
    return _unique(named(value, lambda name: tag_id(op, name), "unknown tags {} (see `ringtui tags list`)"))


def tag_id(op: Operation, name: str) -> int:
    """The id of the tag named `name` (any case), for --tag on calls and meetings."""
    tag = op.session.execute(select(Tag.id).where(func.lower(Tag.name) == name.strip().lower())).scalar()
    if tag is None:
        raise Invalid(f"unknown tag {name!r} (see `ringtui tags list`)")
    return tag


def with_saved_filter(op: Operation, options: FilterOptions) -> FilterOptions:
    """`--filter NAME` resolved: the saved filter's options under the ones given (which win)."""
    if options.saved is None:
        return options
    from ringtui.services.saved_filters import with_saved  # it builds on this module

    return with_saved(op, options)


def unusable_options(given: FilterOptions, merged: FilterOptions,
                     usable: tuple[str, ...]) -> tuple[str, str] | None:
    """The options of `merged` (`given` with its --filter NAME resolved) outside `usable`, as an error
    names them: the flags, and a note naming the saved filter that holds those the user did not
    type ("" when they typed them all); None when every option is usable."""
    unusable = [name for name in merged.given() if name not in usable and name != "saved"]
    if not unusable:
        return None
    flags = ", ".join(f"--{name.replace('_', '-')}" for name in unusable)
    saved = [f"--{name.replace('_', '-')}" for name in unusable if getattr(given, name) is None]
    note = (f"; saved filter {given.saved!r} holds {', '.join(saved)}: use a filter without them"
            if saved and given.saved else "")
    return flags, note


def call_conditions(
    op: Operation, options: FilterOptions | None = None, *, now: datetime | None = None
) -> list[ColumnElement[bool]]:
    """SQL conditions on call_record for these filters and the acting user's visibility."""
    options = with_saved_filter(op, options or FilterOptions())
    if options.given():
        require_feature(op.account, Feature.CALL_FILTERS)
    return [
        *visible_calls(op),
        *_scope_condition(options),
        *_time_conditions(op, options, now or datetime.now(UTC)),
        *_record_conditions(op, options),
    ]
