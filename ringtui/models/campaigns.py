"""Campaigns (K1-K3): SMS, power-dialer calls and voice messages, with their recipients.

A campaign's progress lives in its recipients' rows: the engine claims a
recipient (IN_PROGRESS, attempts + 1) in the same transaction that records the
send or the dial, so a restart resumes where it stopped and never repeats one.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Index, Numeric, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ringtui.models.directory import _fk
from ringtui.models.types import UTCDateTime, utcnow
from ringtui.vocab import AccessRequestStatus, CampaignKind, CampaignStatus, DialOrder, RecipientStatus


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(100), unique=True, index=True)
    kind: CampaignKind = Field(sa_type=String(8))
    status: CampaignStatus = Field(default=CampaignStatus.DRAFT, sa_type=String(10))
    country: str = Field(sa_type=String(2), description="country of numbers given without a code")
    created_by: int | None = Field(default=None, sa_column=_fk("app_user.id", ondelete="SET NULL"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    launched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # SMS (K1)
    sender: str | None = Field(default=None, sa_type=String(20))
    message: str | None = Field(default=None, sa_type=Text)
    encoding: str | None = Field(default=None, sa_type=String(4), description="gsm7 or ucs2")
    fragments_per_message: int = Field(default=0)
    estimated_cost: Decimal = Field(default=Decimal(0), sa_type=Numeric(12, 4))
    # calls (K2)
    script: str = Field(default="", sa_type=Text)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    attempts: int = Field(default=1, description="calls per number when unanswered")
    retry_delay_s: int = Field(default=3600)
    dial_order: DialOrder = Field(default=DialOrder.AGENT_FIRST, sa_type=String(16))
    column_labels: dict[str, str] = Field(default_factory=dict, sa_type=JSON,
                                          description="list column -> name|company|address|custom:LABEL")
    # voice messages (K3)
    from_number: str | None = Field(default=None, sa_type=String(32))
    audio_path: str | None = Field(default=None, sa_type=String(500), description="converted once, 8 kHz")


class CampaignAssignee(SQLModel, table=True):
    """K2: the users and groups who call for a call campaign."""

    __tablename__ = "campaign_assignee"
    __table_args__ = (UniqueConstraint("campaign_id", "user_id", "group_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(sa_column=_fk("campaign.id", nullable=False))
    user_id: int | None = Field(default=None, sa_column=_fk("app_user.id"))
    group_id: int | None = Field(default=None, sa_column=_fk("user_group.id"))


class CampaignRecipient(SQLModel, table=True):
    __tablename__ = "campaign_recipient"
    __table_args__ = (
        UniqueConstraint("campaign_id", "number"),
        Index("ix_campaign_recipient_due", "campaign_id", "status", "next_attempt_at"),
        # the sender takes the next pending numbers in list order
        Index("ix_campaign_recipient_order", "campaign_id", "status", "position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(sa_column=_fk("campaign.id", nullable=False))
    position: int = Field(description="line order of the list; sending follows it")
    number: str = Field(sa_type=String(32), description="E.164")
    columns: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: RecipientStatus = Field(default=RecipientStatus.PENDING, sa_type=String(12))
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    user_id: int | None = Field(default=None, sa_column=_fk("app_user.id", ondelete="SET NULL"),
                                description="the agent who called (K2)")
    sms_message_id: int | None = Field(default=None, sa_column=_fk("sms_message.id", ondelete="SET NULL"))
    call_record_id: int | None = Field(default=None, sa_column=_fk("call_record.id", ondelete="SET NULL"))
    detail: str = Field(default="", sa_type=String(200), description="carrier error, SIP status, ...")


class SmsAccessRequest(SQLModel, table=True):
    """K1: a supervisor's request to send SMS campaigns, approved or refused by the account owner."""

    __tablename__ = "sms_access_request"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_fk("app_user.id", nullable=False))
    status: AccessRequestStatus = Field(default=AccessRequestStatus.PENDING, sa_type=String(10))
    reason: str = Field(default="", sa_type=Text)
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, sa_column=_fk("app_user.id", ondelete="SET NULL"))
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
