"""Where agents' SIP phones are registered (E1): one row per registered contact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from ringtui.models.directory import _fk
from ringtui.models.types import UTCDateTime, utcnow


class SipBinding(SQLModel, table=True):
    """A contact a user's phone registered (RFC 3261 10.3); kept so that bindings outlive a restart."""

    __tablename__ = "sip_binding"
    __table_args__ = (UniqueConstraint("user_id", "contact_uri"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_fk("app_user.id", nullable=False))
    contact_uri: str = Field(sa_type=String(500), description="the URI calls to this phone are sent to")
    received: str = Field(sa_type=String(64), description="source ip:port the REGISTER came from (NAT)")
    user_agent: str = Field(default="", sa_type=String(200))
    call_id: str = Field(sa_type=String(200))
    cseq: int
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    registered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
