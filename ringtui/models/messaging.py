"""SMS (L5, S7), omnichannel messages (C2, S9) and meetings (L6, S8)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Index, Integer, Numeric, String, Text
from sqlmodel import Field, SQLModel

from ringtui.models.directory import _fk
from ringtui.models.types import UTCDateTime
from ringtui.vocab import Direction, MeetTool, OmniPlatform, SmsStatus


class SmsMessage(SQLModel, table=True):
    """One SMS, inbound or outbound, direct (an agent's or IVR's number) or sent by a campaign."""

    __tablename__ = "sms_message"
    __table_args__ = (
        Index("ix_sms_message_sent_direction", "sent_at", "direction"),
        Index("ix_sms_message_customer", "customer_number", "sent_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    direction: Direction = Field(sa_type=String(4))
    customer_number: str = Field(sa_type=String(32), description="E.164")
    account_number: str = Field(sa_type=String(32), description="our number: sender (OUT) or recipient (IN)")
    user_id: int | None = Field(default=None, sa_column=_fk("app_user.id", ondelete="SET NULL"),
                                description="the agent who sent or owns the conversation")
    ivr_id: int | None = Field(default=None, sa_column=_fk("ivr.id", ondelete="SET NULL"),
                               description="set when our number belongs to an IVR (S7 scope)")
    campaign_id: int | None = Field(default=None, index=True, description="the campaign that sent it, if any")
    sent_at: datetime = Field(sa_type=UTCDateTime, index=True)
    text: str = Field(sa_type=Text)
    unicode: bool = Field(default=False, description="UCS-2 encoded (otherwise GSM-7)")
    fragments: int = Field(default=1)
    price: Decimal = Field(default=Decimal(0), sa_type=Numeric(10, 4),
                           description="in the account's currency")
    status: SmsStatus = Field(sa_type=String(10))
    status_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    carrier_id: str | None = Field(default=None, sa_type=String(64), description="the carrier's message id")


class OmniMessage(SQLModel, table=True):
    """One message of an omnichannel conversation (WhatsApp, Messenger, Instagram, reviews, Outlook)."""

    __tablename__ = "omni_message"
    __table_args__ = (Index("ix_omni_message_sent_platform", "sent_at", "platform"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: OmniPlatform = Field(sa_type=String(16))
    direction: Direction = Field(sa_type=String(4))
    conversation: str = Field(sa_type=String(128), index=True, description="the platform's conversation id")
    customer: str = Field(sa_type=String(200), description="the customer's handle on the platform")
    user_id: int | None = Field(default=None, sa_column=_fk("app_user.id", ondelete="SET NULL"))
    group_id: int | None = Field(default=None, sa_column=_fk("user_group.id", ondelete="SET NULL"))
    sent_at: datetime = Field(sa_type=UTCDateTime, index=True)
    text: str = Field(default="", sa_type=Text)


class Meeting(SQLModel, table=True):
    """A meeting an agent held (L6, S8); open (`ended_at` None) while it lasts (A5)."""

    id: int | None = Field(default=None, primary_key=True)
    tool: MeetTool = Field(sa_type=String(16))
    user_id: int | None = Field(default=None, sa_column=_fk("app_user.id", ondelete="SET NULL"),
                                description="the agent who hosted it")
    title: str = Field(default="", sa_type=String(200))
    started_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    participants: int = Field(default=2)


class MeetingTag(SQLModel, table=True):
    """Tags on a meeting (S8 filters by tag)."""

    __tablename__ = "meeting_tag"

    meeting_id: int = Field(sa_column=Column(
        Integer, ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True))
    tag_id: int = Field(sa_column=Column(
        Integer, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True))
