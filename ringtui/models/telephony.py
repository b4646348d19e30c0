"""IVRs, conferences, phone numbers and their porting, blacklist (I1, N1-N4, T3)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ringtui.models.directory import _fk
from ringtui.models.types import UTCDateTime, utcnow
from ringtui.vocab import (
    AnonymousPolicy,
    AssigneeKind,
    Direction,
    NumberFormat,
    NumberStatus,
    PortDocumentKind,
    PortStatus,
    StepType,
)


class Ivr(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(100), unique=True, index=True)
    record_inbound: bool = Field(default=False)
    record_outbound: bool = Field(default=False)
    anonymous: AnonymousPolicy = Field(default=AnonymousPolicy.ALLOW, sa_type=String(8))
    announce_recording: bool = Field(default=False, description="the caller may press * to refuse")
    script: str = Field(default="", sa_type=Text)
    # {"mon": [["09:00", "18:00"]], ...} in the account's time zone; None = always open
    opening_hours: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    closed_step: str | None = Field(default=None, sa_type=String(60),
                                    description="step run outside opening hours; None = hang up")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IvrStep(SQLModel, table=True):
    """One step of an IVR's scenario (I2); `settings` holds what its type needs (I3)."""

    __tablename__ = "ivr_step"
    __table_args__ = (UniqueConstraint("ivr_id", "position"), UniqueConstraint("ivr_id", "name"))

    id: int | None = Field(default=None, primary_key=True)
    ivr_id: int = Field(sa_column=_fk("ivr.id", nullable=False))
    position: int
    name: str = Field(sa_type=String(60), description="how menus and exits refer to the step")
    type: StepType = Field(sa_type=String(12))
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    skip_if: list[str] = Field(default_factory=list, sa_type=JSON)


class IvrVipNumber(SQLModel, table=True):
    """Numbers served first in the IVR's waiting list."""

    __tablename__ = "ivr_vip_number"
    __table_args__ = (UniqueConstraint("ivr_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    ivr_id: int = Field(sa_column=_fk("ivr.id", nullable=False))
    number: str = Field(sa_type=String(20))


class Conference(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(100), unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PhoneNumber(SQLModel, table=True):
    """A number of the account's inventory and what it is assigned to."""

    __tablename__ = "phone_number"

    id: int | None = Field(default=None, primary_key=True)
    e164: str = Field(sa_type=String(20), unique=True, index=True)
    country: str = Field(sa_type=String(2))
    format: NumberFormat = Field(sa_type=String(10))
    region: str = Field(default="", sa_type=String(100))
    address: str | None = Field(default=None, sa_type=String(300))
    status: NumberStatus = Field(default=NumberStatus.AVAILABLE, sa_type=String(10), index=True)
    assigned_kind: AssigneeKind | None = Field(default=None, sa_type=String(12))
    user_id: int | None = Field(default=None, sa_column=_fk("app_user.id", ondelete="SET NULL"))
    ivr_id: int | None = Field(default=None, sa_column=_fk("ivr.id", ondelete="SET NULL"))
    conference_id: int | None = Field(
        default=None, sa_column=_fk("conference.id", ondelete="SET NULL"))
    label: str | None = Field(default=None, sa_type=String(100))
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PortRequest(SQLModel, table=True):
    """Porting an existing number in (N4)."""

    __tablename__ = "port_request"

    id: int | None = Field(default=None, primary_key=True)
    # The number keeps its own copy here: a rejected request outlives the number it was for.
    number_id: int | None = Field(default=None, sa_column=_fk("phone_number.id", ondelete="SET NULL"))
    e164: str = Field(sa_type=String(20), index=True)
    country: str = Field(sa_type=String(2))
    format: NumberFormat = Field(sa_type=String(10))
    region: str = Field(default="", sa_type=String(100))
    status: PortStatus = Field(default=PortStatus.REQUESTED, sa_type=String(12))
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expected_by: date
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PortDocument(SQLModel, table=True):
    __tablename__ = "port_document"
    __table_args__ = (UniqueConstraint("port_request_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    port_request_id: int = Field(sa_column=Column(
        Integer, ForeignKey("port_request.id", ondelete="CASCADE"), nullable=False, index=True))
    kind: PortDocumentKind = Field(sa_type=String(10))
    filename: str = Field(sa_type=String(255))
    sha256: str = Field(sa_type=String(64))
    size: int
    content: bytes = Field(sa_type=LargeBinary)


class BlacklistEntry(SQLModel, table=True):
    """A number or prefix refused inbound and/or outbound, company-wide or per user (T3)."""

    __tablename__ = "blacklist_entry"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(sa_type=String(21), index=True,
                        description="E.164, or an E.164 prefix ending in '*'")
    is_prefix: bool = Field(default=False)
    direction: Direction = Field(sa_type=String(4))
    user_id: int | None = Field(default=None, sa_column=_fk("app_user.id"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
