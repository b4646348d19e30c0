"""The missed-call worklist (L4): inbound calls that ended unanswered, processed by call, SMS or email."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ringtui.errors import Conflict, Invalid
from ringtui.models import CallRecord
from ringtui.services.access import Area, require_area
from ringtui.services.base import Operation, audit
from ringtui.services.calls import DEFAULT_LIMIT, LIST_FIELDS, fetch_calls, show_call
from ringtui.services.filters import FilterOptions, call_conditions
from ringtui.services.plans import Feature, require_feature
from ringtui.services.stats import missed_inbound
from ringtui.vocab import ProcessChannel

MISSED_FIELDS = (*LIST_FIELDS, "processed_at", "processed_by")
CHANNELS = tuple(channel.value for channel in ProcessChannel)


def _require_missed_calls(op: Operation) -> None:
    require_feature(op.account, Feature.MISSED_CALLS)
    require_area(op, Area.LOGS)


def list_missed(op: Operation, options: FilterOptions | None = None, *, processed: bool | None = None,
                limit: int = DEFAULT_LIMIT, now: datetime | None = None) -> list[dict[str, Any]]:
    """Missed inbound calls, newest first; `processed` False = still to process, True = processed."""
    _require_missed_calls(op)
    conditions = [missed_inbound(), *call_conditions(op, options, now=now)]
    if processed is not None:
        done = CallRecord.processed_at.is_not(None)
        conditions.append(done if processed else CallRecord.processed_at.is_(None))
    return [{name: call[name] for name in MISSED_FIELDS} for call in fetch_calls(op, conditions, limit)]


def process_missed(op: Operation, call_id: int, channel: str, *,
                   now: datetime | None = None) -> dict[str, Any]:
    """Record how a missed inbound call was followed up."""
    _require_missed_calls(op)
    clean = channel.strip().lower()
    if clean not in CHANNELS:
        raise Invalid(f"unknown channel {channel!r}: give {', '.join(CHANNELS)}")
    call = show_call(op, call_id)
    if call["direction"] != "in" or call["type"] in (None, "answered"):
        kind = f"an {call['direction']}bound {call['type']} call"
        state = "still in progress" if call["type"] is None else kind
        raise Invalid(f"call {call_id} is {state}, not a missed inbound call; only those are processed")
    if call["processed_at"] is not None:
        raise Conflict(f"call {call_id} was already processed by {call['processed_channel']} "
                       f"({call['processed_by'] or 'a removed user'})")
    record = op.session.get(CallRecord, call_id)
    record.processed_at = now or datetime.now(UTC)
    record.processed_channel = ProcessChannel(clean)
    record.processed_by = op.actor.id
    op.session.add(record)
    op.session.flush()
    after = {"processed_channel": clean, "processed_at": record.processed_at, "processed_by": op.actor.email}
    audit(op, "missed.process", f"call {call_id}", before={"processed_channel": None}, after=after)
    return {"id": call_id, **after}
