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

from ringtui.vocab import AgentState, CallKind, CallType, Direction, EndedBy, Outcome, TransferKind

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
class TransferSummary:
    """One hand-on of the call (a call_transfer row)."""

    at: datetime
    by: str  # e-mail of the agent who transferred the call
    kind: TransferKind
    to_agent: str | None = None  # e-mail, or None for an external number
    to_number: str | None = None
    answered: bool = False


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
    agent: str | None = None  # the agent who answered first (a transfer does not change it)
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
    transfers: tuple[TransferSummary, ...] = ()
    last_agent: str | None = None  # the agent the call was with at its end, when it was transferred


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
    """An agent (or a forward) took the call; `transferred`: a transfer's target took it, the call
    had been answered before (the record keeps its first answer; webhooks send call_answered once)."""

    type: ClassVar[str] = "call_answered"
    call_id: str
    agent: str
    wait_s: float
    transferred: bool = False


@dataclass(frozen=True)
class CallTransferred(Event):
    """The agent connected to the call handed it on (S6): to an agent, who now rings, or to an
    external number. The caller hears hold music until the target answers (a call_answered with
    transferred=true) or the transfer falls back (see CallCenter.transfer)."""

    type: ClassVar[str] = "call_transferred"
    call_id: str
    by: str
    kind: TransferKind
    to_agent: str | None = None
    to_number: str | None = None


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
