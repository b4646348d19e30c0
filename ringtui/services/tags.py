"""Call tags (T1): name, colour, conditions of use, and the account's maximum of tags per call."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import select

from ringtui.errors import Conflict, Invalid, NotFound, PermissionDenied
from ringtui.models import Tag
from ringtui.services.access import Area, areas_of, require_area
from ringtui.services.base import Operation, audit
from ringtui.services.permissions import permission_value
from ringtui.services.plans import Feature, require_feature
from ringtui.services.validation import check_colour, check_name

DEFAULT_COLOUR = "#888888"
MAX_TAGS_RANGE = range(1, 21)
NAME_LENGTH = 60


def tag_dict(tag: Tag) -> dict[str, Any]:
    return {"name": tag.name, "color": tag.color, "conditions": tag.conditions}


def _tag_named(op: Operation, name: str) -> Tag | None:
    return op.session.exec(select(Tag).where(func.lower(Tag.name) == name.strip().lower())).first()


def _require_may_configure_tags(op: Operation) -> None:
    require_feature(op.account, Feature.TAGS)
    require_area(op, Area.CONFIGURATION)


def _require_may_read_tags(op: Operation) -> None:
    """Configurers manage tags; agents allowed to tag calls need to see them and their conditions."""
    require_feature(op.account, Feature.TAGS)
    if Area.CONFIGURATION in areas_of(op.actor) or permission_value(op.actor, "tag_calls"):
        return
    raise PermissionDenied(
        f"{op.actor.email} may not see tags: it needs the configuration area or the tag_calls permission")


def add_tag(op: Operation, name: str, *, color: str | None = None, conditions: str = "") -> dict[str, Any]:
    _require_may_configure_tags(op)
    clean = check_name(name, "tag name", max_length=NAME_LENGTH)
    colour = check_colour(color) if color is not None else DEFAULT_COLOUR
    existing = _tag_named(op, clean)
    if existing is not None:
        raise Conflict(f"tag {existing.name!r} already exists (tag names ignore case)")
    tag = Tag(name=clean, color=colour, conditions=conditions.strip())
    op.session.add(tag)
    op.session.flush()
    result = tag_dict(tag)
    audit(op, "tag.add", clean, after=result)
    return result


def remove_tag(op: Operation, name: str) -> dict[str, Any]:
    _require_may_configure_tags(op)
    tag = _tag_named(op, name)
    if tag is None:
        raise NotFound(f"no tag {name!r} (see `ringtui tags list`)")
    before = tag_dict(tag)
    op.session.delete(tag)
    op.session.flush()
    audit(op, "tag.remove", tag.name, before=before)
    return before


def list_tags(op: Operation) -> dict[str, Any]:
    """The tags by name, with the account's maximum of tags per call."""
    _require_may_read_tags(op)
    tags = op.session.exec(select(Tag).order_by(func.lower(Tag.name))).all()
    return {"max_tags_per_call": op.account.max_tags_per_call, "tags": [tag_dict(t) for t in tags]}


def max_tags_per_call(op: Operation, value: int | None = None) -> dict[str, int]:
    """Read the maximum of tags per call, or set it (1..20) when a value is given."""
    if value is None:
        _require_may_read_tags(op)
        return {"max_tags_per_call": op.account.max_tags_per_call}
    _require_may_configure_tags(op)
    if value not in MAX_TAGS_RANGE:
        raise Invalid(f"maximum tags per call {value} is out of range: give 1..20")
    before = op.account.max_tags_per_call
    op.account.max_tags_per_call = value
    op.session.add(op.account)
    audit(op, "tag.max", "max_tags_per_call", before={"max_tags_per_call": before},
          after={"max_tags_per_call": value})
    return {"max_tags_per_call": value}
