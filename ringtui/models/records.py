"""Tags (T1), call records with their ring attempts (E3, L1-L4), survey answers (S11)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text, text
from sqlmodel import Field, SQLModel

from ringtui.models.directory import _fk
from ringtui.models.types import UTCDateTime, utcnow
from ringtui.vocab import CallKind, CallType, Direction, EndedBy, Outcome, ProcessChannel, TransferKind


class Tag(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(60), unique=True, index=True)
    color: str = Field(default="#888888", sa_type=String(7))
    conditions: str = Field(default="", sa_type=Text, description="conditions of use, shown to agents")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


MISSED_INBOUND = "direction = 'in' AND type IS NOT NULL AND type != 'answered'"
OUTBOUND = "direction = 'out'"


class CallRecord(SQLModel, table=True):
    """Exactly one per call, whatever happened to it.

    Open (`ended_at` None) while the call lasts; closed by the recorder when it
    ends, or at the next engine start when the engine died first.
    """

    __tablename__ = "call_record"
    __table_args__ = (
        Index("ix_call_record_started_direction", "started_at", "direction"),
        Index("ix_call_record_missed_worklist", "type", "processed_at"),
        # a number's calls in time order: callback delay (S2), per-IVR number refinement (S6)
        Index("ix_call_record_to_number_started", "to_number", "started_at"),
        # one IVR over a period: the S2 half of `stats calls --ivr` and raw per-IVR filters
        Index("ix_call_record_ivr_started", "ivr_id", "started_at"),
        # S2 of one IVR without reading its answered calls: every column the query needs, missed only
        Index("ix_call_record_missed_ivr", "ivr_id", "started_at", "ended_at", "from_number", "processed_at",
              "direction", "type", sqlite_where=text(MISSED_INBOUND), postgresql_where=text(MISSED_INBOUND)),
        # the callback that followed a missed call (S2): outbound calls to a number, in time order
        Index("ix_call_record_callback", "to_number", "started_at",
              sqlite_where=text(OUTBOUND), postgresql_where=text(OUTBOUND)),
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(sa_type=String(64), unique=True, description="the engine's (or SIP) call id")
    direction: Direction = Field(sa_type=String(4))
    kind: CallKind = Field(sa_type=String(8))
    from_number: str = Field(sa_type=String(32), description="E.164, or 'anonymous'")
    to_number: str = Field(sa_type=String(32))
    caller_country: str | None = Field(default=None, sa_type=String(2))
    caller_area: str | None = Field(default=None, sa_type=String(16),
                                    description="the customer's area code '+CC AREA' (S14), if geographic")
    # looked up through ix_call_record_ivr_started (ivr_id, started_at), as by its foreign key
    ivr_id: int | None = Field(default=None, sa_column=_fk("ivr.id", ondelete="SET NULL", index=False))
    ivr_step: str | None = Field(default=None, sa_type=String(60),
                                 description="the IVR step that handled the call last (S6 redirection)")
    user_id: int | None = Field(default=None, sa_column=_fk("app_user.id", ondelete="SET NULL"),
                                description="the agent who took the call (or the caller, outbound)")
    started_at: datetime = Field(sa_type=UTCDateTime, index=True)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    type: CallType | None = Field(default=None, sa_type=String(10))
    wait_s: float = Field(default=0.0)
    talk_s: float = Field(default=0.0)
    ended_by: EndedBy | None = Field(default=None, sa_type=String(16))
    recorded: bool = Field(default=False)
    vip: bool = Field(default=False)
    flagged: bool = Field(default=False)
    note: str | None = Field(default=None, sa_type=Text)
    # L4: the missed-call worklist
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    processed_channel: ProcessChannel | None = Field(default=None, sa_type=String(6))
    processed_by: int | None = Field(default=None, sa_column=_fk("app_user.id", ondelete="SET NULL"))


class RingAttempt(SQLModel, table=True):
    """One agent rung (or one outbound call) for a call, with its S5 outcome."""

    __tablename__ = "ring_attempt"
    __table_args__ = (Index("ix_ring_attempt_user_outcome", "user_id", "outcome"),)

    id: int | None = Field(default=None, primary_key=True)
    call_record_id: int = Field(sa_column=Column(
        Integer, ForeignKey("call_record.id", ondelete="CASCADE"), nullable=False, index=True))
    # looked up through ix_ring_attempt_user_outcome (user_id, outcome), as by its foreign key
    user_id: int | None = Field(default=None, sa_column=_fk("app_user.id", ondelete="SET NULL", index=False))
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: Outcome = Field(sa_type=String(16))


class CallTransfer(SQLModel, table=True):
    """An agent handing a call on to another agent or an external number (S6, S13).

    A call can be transferred more than once; the target agent's ring attempt is a
    RingAttempt of the same call like any other.
    """

    __tablename__ = "call_transfer"

    id: int | None = Field(default=None, primary_key=True)
    call_record_id: int = Field(sa_column=Column(
        Integer, ForeignKey("call_record.id", ondelete="CASCADE"), nullable=False, index=True))
    transferred_at: datetime = Field(sa_type=UTCDateTime)
    kind: TransferKind = Field(sa_type=String(8))
    by_user_id: int | None = Field(default=None, sa_column=_fk("app_user.id", ondelete="SET NULL"),
                                   description="the agent who transferred the call")
    to_user_id: int | None = Field(default=None, sa_column=_fk("app_user.id", ondelete="SET NULL"),
                                   description="the agent it went to, None for an external number")
    to_number: str | None = Field(default=None, sa_type=String(32), description="an external target, E.164")
    answered: bool = Field(default=False, description="whether the target took the call")


class CallTag(SQLModel, table=True):
    __tablename__ = "call_tag"

    call_record_id: int = Field(sa_column=Column(
        Integer, ForeignKey("call_record.id", ondelete="CASCADE"), primary_key=True))
    tag_id: int = Field(sa_column=Column(
        Integer, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True))


class SurveyAnswer(SQLModel, table=True):
    """A DTMF rating (1-5) given after a call (S11)."""

    __tablename__ = "survey_answer"

    id: int | None = Field(default=None, primary_key=True)
    call_record_id: int = Field(sa_column=Column(
        Integer, ForeignKey("call_record.id", ondelete="CASCADE"), nullable=False, index=True))
    ivr_id: int | None = Field(default=None, sa_column=_fk("ivr.id", ondelete="SET NULL"))
    user_id: int | None = Field(default=None, sa_column=_fk("app_user.id", ondelete="SET NULL"))
    category: str = Field(default="", sa_type=String(60))
    question: str = Field(default="", sa_type=String(200))
    rating: int
    answered_at: datetime = Field(sa_type=UTCDateTime, index=True)
