"""The customer's area code on call records (S14): filled where it is missing, and named for display.

The recorder writes call_record.caller_area as each call starts; records written before migration
0012 (or by other means) get theirs from `ringtui stats rebuild`. phonenumbers is Python, so the
area is worked out once per distinct customer number, and SQL does the rest: the (number, area)
pairs go into a temporary table in batches and one UPDATE joins them to the records (no index on
the caller's number is needed, the table is read once).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from itertools import islice
from typing import Any

from sqlalchemy import Column, ColumnElement, MetaData, String, Table, case, insert, select, update

from ringtui.models import CallRecord
from ringtui.services.base import Operation
from ringtui.services.phones import area_of
from ringtui.vocab import Direction

BATCH = 5000  # (number, area) pairs per INSERT into the temporary table
_NUMBERS = Table("caller_area_fill", MetaData(), Column("number", String(32), primary_key=True),
                 Column("area", String(16), nullable=False), prefixes=["TEMPORARY"])
cached_area_of = lru_cache(maxsize=65536)(area_of)


def customer_number() -> ColumnElement[str]:
    """The customer's number: the caller inbound, the called number outbound."""
    return case((CallRecord.direction == Direction.IN, CallRecord.from_number), else_=CallRecord.to_number)


def _batches(pairs: Iterator[dict[str, str]]) -> Iterator[list[dict[str, str]]]:
    while batch := list(islice(pairs, BATCH)):
        yield batch


def fill_caller_areas(op: Operation, first: datetime | None = None, last: datetime | None = None) -> int:
    """Set caller_area on the records started from `first` to `last` (None: unbounded) that have
    none and whose customer number is E.164 with a geographic area; returns how many records got
    one. Running it again changes nothing (mobile and non-geographic numbers keep None)."""
    span: list[ColumnElement[bool]] = []
    if first is not None:
        span.append(CallRecord.started_at >= first)
    if last is not None:
        span.append(CallRecord.started_at <= last)
    missing = [CallRecord.caller_area.is_(None), customer_number().like("+%"), *span]
    numbers = op.session.execute(select(customer_number()).where(*missing).distinct()).scalars().all()
    pairs = ({"number": number, "area": area} for number in numbers
             if (area := cached_area_of(number)) is not None)
    connection = op.session.connection()
    _NUMBERS.create(connection)
    try:
        filled = 0
        for batch in _batches(pairs):
            connection.execute(insert(_NUMBERS), batch)
            filled += len(batch)
        if not filled:
            return 0
        area = select(_NUMBERS.c.area).where(_NUMBERS.c.number == customer_number()).scalar_subquery()
        result: Any = connection.execute(update(CallRecord.__table__).values(caller_area=area).where(
            *missing, customer_number().in_(select(_NUMBERS.c.number))))
        return int(result.rowcount)
    finally:
        _NUMBERS.drop(connection)
