"""How values are written as text: JSON (ISO-8601 UTC times, enum values) and table
or CSV cells. Shared by the command output and the exports; imports nothing heavy."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_shown_zone: tzinfo = UTC  # where people read times: the account's zone once an operation has opened


def show_times_in(zone_name: str | None) -> None:
    """Times for people are shown in this IANA zone (the account's; the periods and --hours of the
    filters are read in it too); an unknown or empty name keeps UTC."""
    global _shown_zone
    try:
        _shown_zone = ZoneInfo(zone_name) if zone_name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        _shown_zone = UTC


def shown_zone_name() -> str:
    return getattr(_shown_zone, "key", "UTC")


def jsonable(value: Any) -> Any:
    """The `default` hook of json.dumps: times as ISO-8601 UTC with Z, dates, enum values."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def cell(value: Any, *, iso_times: bool = False) -> str:
    """A table or CSV cell: yes/no, lists joined with ', ', times to the minute in the shown zone for
    people, or ISO-8601 UTC for programs (`iso_times`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return str(jsonable(value)) if iso_times else value.astimezone(_shown_zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date | Enum):
        return str(jsonable(value))
    if isinstance(value, Mapping):
        if set(value) == {"kind", "name"}:
            return f"{value['kind']}: {value['name']}"
        return ", ".join(f"{k}={cell(v, iso_times=iso_times)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(cell(v, iso_times=iso_times) for v in value)
    return str(value)
