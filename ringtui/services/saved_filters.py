"""Saved filters (S16): named FILTERS options, reusable with `--filter NAME`.

A saved filter stores the options as typed, so a relative period ("last-week")
stays relative. It holds options only: whoever uses it still sees only the calls
their role, scopes and permissions allow. Each user sees, uses and removes the
filters they saved; admins and the super admin see, use and remove every one.
Names are unique across the account (one name, one filter).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from sqlmodel import select

from ringtui.errors import Conflict, Invalid, NotFound
from ringtui.models import ReportSubscription, SavedFilter, User
from ringtui.services.access import is_admin
from ringtui.services.base import Operation, audit
from ringtui.services.filters import FilterOptions, call_conditions
from ringtui.services.validation import check_name

NAME_MAX = 80
SAVED_FIELD = "saved"  # FilterOptions field naming the saved filter (--filter NAME)


def stored_options(options: FilterOptions) -> dict[str, str]:
    """The options given, as they are stored (the name of another saved filter left out)."""
    return {name: value for name, value in asdict(options).items()
            if value is not None and name != SAVED_FIELD}


def _usable(op: Operation, saved: SavedFilter) -> bool:
    return saved.user_id == op.actor.id or is_admin(op.actor)


def find_filter(op: Operation, name: str) -> SavedFilter:
    """The acting user's saved filter of this name (any one for an admin)."""
    saved = op.session.exec(select(SavedFilter).where(SavedFilter.name == name.strip())).first()
    if saved is None or not _usable(op, saved):
        raise NotFound(f"no saved filter named {name!r} (see `ringtui filters list`)")
    return saved


def with_saved(op: Operation, options: FilterOptions) -> FilterOptions:
    """The saved filter's options under the ones given explicitly (which win)."""
    if options.saved is None:
        return options
    saved = find_filter(op, options.saved)
    explicit = {k: v for k, v in asdict(options).items() if v is not None and k != SAVED_FIELD}
    return replace(options_of(saved), **explicit)


def options_of(saved: SavedFilter) -> FilterOptions:
    """The stored options (keys this version does not know are ignored)."""
    known = set(FilterOptions.__dataclass_fields__) - {SAVED_FIELD}
    return FilterOptions(**{k: v for k, v in saved.options.items() if k in known})


def _owner_emails(op: Operation, filters: list[SavedFilter]) -> dict[int, str]:
    ids = {f.user_id for f in filters if f.user_id is not None}
    if not ids:
        return {}
    return dict(op.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all())


def filter_dict(saved: SavedFilter, owner: str | None) -> dict[str, Any]:
    return {"name": saved.name, "owner": owner, "options": dict(saved.options),
            "created_at": saved.created_at}


def save_filter(op: Operation, name: str, options: FilterOptions) -> dict[str, Any]:
    clean = check_name(name, "filter name", max_length=NAME_MAX)
    merged = with_saved(op, options)
    values = stored_options(merged)
    if not values:
        raise Invalid(f"filter {clean!r} would hold no options: give at least one FILTERS option "
                      "(--period, --hours, --scope, --ivr, --group, --user, --country, --tag, --direction, "
                      "--type, --exclude-type, --number, --redirection, --transfers)")
    call_conditions(op, merged)  # every value checked now, with the error naming it
    existing = op.session.exec(select(SavedFilter).where(SavedFilter.name == clean)).first()
    if existing is not None:
        raise Conflict(f"a saved filter named {clean!r} already exists: remove it first "
                       "(`ringtui filters remove`) or choose another name")
    saved = SavedFilter(name=clean, user_id=op.actor.id, options=values)
    op.session.add(saved)
    op.session.flush()
    audit(op, "filters.save", clean, after=values)
    return filter_dict(saved, op.actor.email)


def list_filters(op: Operation) -> list[dict[str, Any]]:
    query = select(SavedFilter).order_by(SavedFilter.name)
    if not is_admin(op.actor):
        query = query.where(SavedFilter.user_id == op.actor.id)
    filters = list(op.session.exec(query))
    owners = _owner_emails(op, filters)
    return [filter_dict(f, owners.get(f.user_id or 0)) for f in filters]


def remove_filter(op: Operation, name: str) -> dict[str, Any]:
    saved = find_filter(op, name)
    subscriptions = list(op.session.exec(
        select(ReportSubscription.id).where(ReportSubscription.filter_id == saved.id)))
    if subscriptions:
        ids = ", ".join(str(i) for i in subscriptions)
        raise Conflict(f"saved filter {saved.name!r} has report subscription(s) {ids}: "
                       "`ringtui reports unsubscribe ID` first")
    owner = _owner_emails(op, [saved]).get(saved.user_id or 0)
    result = filter_dict(saved, owner)
    op.session.delete(saved)
    audit(op, "filters.remove", saved.name, before=result["options"])
    return result
