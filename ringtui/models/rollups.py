"""Hourly roll-ups of the call records (S1, S3, S4, S5 at scale).

Each row holds counts, sums and maxima (never averages, so rows add up) of the ended calls that
started in one UTC hour, for one combination of the dimensions the statistics filter on most.
They are derived data: ringtui.services.rollups keeps them equal to call_record. Each table is
unique on its grouping key, so the recorder adds a batch's calls with INSERT ... ON CONFLICT.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from ringtui.models.types import UTCDateTime


class CallMeasures(SQLModel):
    """The dimensions and measures shared by the two call roll-ups."""

    hour: datetime = Field(sa_type=UTCDateTime, description="UTC start of the hour the calls started in")
    direction: str = Field(sa_type=String(4))
    kind: str = Field(sa_type=String(8))
    type: str | None = Field(default=None, sa_type=String(10))
    calls: int = 0
    wait_sum: float = 0.0
    wait_max: float = 0.0
    talk_sum: float = 0.0
    talk_max: float = 0.0


class CallHour(CallMeasures, table=True):
    """Ended calls per UTC hour x direction x kind x type."""

    __tablename__ = "call_hour"
    # the grouping key, for the recorder's upserts (ON CONFLICT); it also serves reads by hour
    __table_args__ = (UniqueConstraint("hour", "direction", "kind", "type", name="uq_call_hour_key"),)

    id: int | None = Field(default=None, primary_key=True)


class IvrHour(CallMeasures, table=True):
    """Ended calls through an IVR per IVR x UTC hour x direction x kind x type (the --ivr filter)."""

    __tablename__ = "ivr_hour"
    __table_args__ = (UniqueConstraint("ivr_id", "hour", "direction", "kind", "type", name="uq_ivr_hour_key"),
                      Index("ix_ivr_hour_hour", "hour"))

    id: int | None = Field(default=None, primary_key=True)
    # NULL only once its IVR is deleted: such rows are never upserted into nor read by IVR
    ivr_id: int | None = Field(default=None, sa_column=Column(  # indexed with the hour above
        Integer, ForeignKey("ivr.id", ondelete="SET NULL"), nullable=True))


class AgentMeasures(SQLModel):
    """Ring attempts per agent: the eleven S5 outcome counts and the talk time of the calls the
    agent answered or placed."""

    # no index of its own: SQLite would walk it to group by agent, reading every row of the table
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE")
    out: int = 0
    answered: int = 0
    toolate: int = 0
    call_answered: int = 0
    no_answer: int = 0
    rejected: int = 0
    incall: int = 0
    snooze: int = 0
    planning: int = 0
    notconnected: int = 0
    sip_phone_error: int = 0
    talk_s: float = 0.0


class AgentHour(AgentMeasures, table=True):
    """Ring attempts per agent and UTC hour of their call's start."""

    __tablename__ = "agent_hour"
    __table_args__ = (UniqueConstraint("hour", "user_id", name="uq_agent_hour_key"),)

    id: int | None = Field(default=None, primary_key=True)
    hour: datetime = Field(sa_type=UTCDateTime)


class AgentDay(AgentMeasures, table=True):
    """agent_hour summed per UTC day: a 30-day leaderboard reads 24 times fewer rows, and the
    hours at either end of a period that are not whole UTC days come from agent_hour."""

    __tablename__ = "agent_day"
    __table_args__ = (UniqueConstraint("day", "user_id", name="uq_agent_day_key"),)

    id: int | None = Field(default=None, primary_key=True)
    day: datetime = Field(sa_type=UTCDateTime)
