"""The account, its users, groups, scopes and snooze history (U1-U7)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from ringtui.models.types import UTCDateTime, utcnow
from ringtui.vocab import License, Plan, Role, ScopeKind, UserStatus


def _fk(target: str, *, nullable: bool = True, ondelete: str = "CASCADE", index: bool = True) -> Any:
    """A foreign-key column, indexed unless a composite index starts with it (`index=False`)."""
    return Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)


class Account(SQLModel, table=True):
    """The one hosted-PBX account a ringtui database holds."""

    id: int | None = Field(default=None, primary_key=True)
    company: str = Field(sa_type=String(200))
    plan: Plan = Field(sa_type=String(16))
    country: str = Field(sa_type=String(2), description="default ISO country for national numbers")
    timezone: str = Field(default="UTC", sa_type=String(64))
    addons: list[str] = Field(default_factory=list, sa_type=JSON)
    max_tags_per_call: int = Field(default=3)
    off_plan_blocked: bool = Field(default=False)
    retention_days: int | None = Field(default=None, description="B9: data kept this long; None = forever")
    credits: Decimal = Field(default=Decimal(0), sa_type=Numeric(12, 4),
                             description="B1: prepaid credit for off-plan calls and SMS")
    power_dialer: bool = Field(default=False, description="K2: the power dialer is enabled")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_type=String(254), unique=True, index=True)
    first_name: str = Field(default="", sa_type=String(100))
    last_name: str = Field(default="", sa_type=String(100))
    license: License = Field(default=License.BUSINESS, sa_type=String(16))
    status: UserStatus = Field(default=UserStatus.INVITED, sa_type=String(16))
    role: Role = Field(default=Role.NONE, sa_type=String(16))
    campaigns_right: bool = Field(default=False)
    # U4: only the values that differ from the catalogue defaults are stored.
    permissions: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # U5 phone settings
    outgoing_number: str | None = Field(default=None, sa_type=String(20))
    forward_to: str | None = Field(default=None, sa_type=String(20))
    ring_seconds: int = Field(default=20)
    call_waiting: bool = Field(default=True)
    record_by_default: bool = Field(default=False)
    schedule: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    # U6 sounds of the direct line (names of stored sounds; None = platform default)
    sounds: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    # SIP account (E1); the password is kept because digest authentication needs it
    sip_username: str = Field(sa_type=String(64), unique=True)
    sip_password: str = Field(sa_type=String(64))
    snooze_reason: str | None = Field(default=None, sa_type=String(200))
    snoozed_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    invited_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email


class UserGroup(SQLModel, table=True):
    __tablename__ = "user_group"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(100), unique=True, index=True)
    open: bool = Field(default=False, description="users may join by themselves (U2)")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class GroupMember(SQLModel, table=True):
    __tablename__ = "group_member"

    group_id: int = Field(sa_column=Column(
        Integer, ForeignKey("user_group.id", ondelete="CASCADE"), primary_key=True))
    user_id: int = Field(sa_column=Column(
        Integer, ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True, index=True))


class UserScope(SQLModel, table=True):
    """A group or IVR a supervisor is allowed to see (U7)."""

    __tablename__ = "user_scope"
    __table_args__ = (UniqueConstraint("user_id", "kind", "group_id", "ivr_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_fk("app_user.id", nullable=False))
    kind: ScopeKind = Field(sa_type=String(8))
    group_id: int | None = Field(default=None, sa_column=_fk("user_group.id"))
    ivr_id: int | None = Field(default=None, sa_column=_fk("ivr.id"))


class SnoozePeriod(SQLModel, table=True):
    """Snooze history, kept across restarts (S12)."""

    __tablename__ = "snooze_period"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_fk("app_user.id", nullable=False))
    reason: str = Field(default="", sa_type=String(200))
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
