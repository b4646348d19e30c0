"""What the core tells the world: typed events, JSON-ready.

The recorder writes call records from CallStarted / CallEnded, the feed pushes
every event to TUIs and scripts, webhooks forward the call events. Each event
has a `type` (its name on the wire) and `to_dict()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import Enum
from typing import Any, ClassVar

from ringtui.vocab import AgentState, CallKind, CallType, Direction, EndedBy, Outcome

PROTOCOL_VERSION = 1


_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(f.name for f in fields(kind))
    return names


def _plain(value: Any) -> Any:
    """JSON-ready: times in UTC ISO form, enums as their values, dataclasses as dicts. (Not
    dataclasses.asdict, whose deep copy of every value cost the SIP engine a fifth of its CPU.)"""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    if hasattr(type(value), "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [_plain(v) for v in value]
    return value


json_ready = _plain


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = "event"
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **_plain(self)}


@dataclass(frozen=True)
class AttemptSummary:
    agent: str  # e-mail
    started_at: datetime
    ended_at: datetime
    outcome: Outcome


@dataclass(frozen=True)
class CallSummary:
    """Everything the call record needs, known when the call ends."""

    call_id: str
    direction: Direction
    kind: CallKind
    from_number: str
    to_number: str
    started_at: datetime
    ended_at: datetime
    type: CallType
    ended_by: EndedBy
    ivr: str | None = None
    ivr_step: str | None = None  # the IVR step that handled the call last (S6 redirection)
    agent: str | None = None
    answered_at: datetime | None = None
    forwarded_to: str | None = None  # answered by an external number (forward step)
    wait_s: float = 0.0
    talk_s: float = 0.0
    recorded: bool = False
    vip: bool = False
    attempts: tuple[AttemptSummary, ...] = ()
    survey_rating: int | None = None
    survey_category: str = ""
    survey_question: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgentStateChanged(Event):
    type: ClassVar[str] = "agent_state"
    email: str
    state: AgentState
    reason: str | None = None
    interface: str | None = None
    since: datetime | None = None


@dataclass(frozen=True)
class CallStarted(Event):
    """A call entered the engine (inbound arrival or outbound dial): its record opens."""

    type: ClassVar[str] = "call_started"
    call_id: str
    direction: Direction
    kind: CallKind
    from_number: str
    to_number: str
    ivr: str | None = None
    agent: str | None = None
    vip: bool = False


@dataclass(frozen=True)
class CallWaiting(Event):
    type: ClassVar[str] = "call_waiting"
    call_id: str
    from_number: str
    ivr: str | None
    vip: bool
    position: int


@dataclass(frozen=True)
class CallRinging(Event):
    type: ClassVar[str] = "call_ringing"
    call_id: str
    agents: tuple[str, ...]


@dataclass(frozen=True)
class CallAnswered(Event):
    type: ClassVar[str] = "call_answered"
    call_id: str
    agent: str
    wait_s: float


@dataclass(frozen=True)
class CallEnded(Event):
    type: ClassVar[str] = "call_ended"
    call: CallSummary


@dataclass(frozen=True)
class WaitingListChanged(Event):
    type: ClassVar[str] = "waiting_list"
    waiting: tuple[dict[str, Any], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class AttemptOutcomeChanged(Event):
    """A ring attempt already reported changes outcome: an agent answered after the call ended (TOOLATE).

    The recorder updates the attempt (call_id, agent, started_at) of the closed call record.
    """

    type: ClassVar[str] = "attempt_outcome"
    call_id: str
    agent: str
    started_at: datetime
    outcome: Outcome


@dataclass(frozen=True)
class SupervisorWhispered(Event):
    type: ClassVar[str] = "whisper"
    call_id: str
    supervisor: str
    agent: str | None


def plain(value: Any) -> Any:
    """JSON-ready form of event fields, snapshots and the like (UTC times, enum values)."""
    return _plain(value)
