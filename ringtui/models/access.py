"""API keys and the audit log (M4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlmodel import Field, SQLModel

from ringtui.models.types import UTCDateTime, utcnow


class ApiKey(SQLModel, table=True):
    """An API key; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(100), unique=True)
    prefix: str = Field(sa_type=String(12), description="first characters, to recognise a key")
    key_hash: str = Field(sa_type=String(64), unique=True)
    rights: list[str] = Field(default_factory=list, sa_type=JSON)
    created_by: str = Field(sa_type=String(254))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(sa_type=String(254), index=True)
    action: str = Field(sa_type=String(60), index=True)
    target: str = Field(sa_type=String(300))
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class Webhook(SQLModel, table=True):
    """A URL that receives signed JSON events (M5)."""

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_type=String(2000))
    events: list[str] = Field(default_factory=list, sa_type=JSON)
    secret: str = Field(sa_type=String(64), description="HMAC-SHA256 key of the signature header")
    active: bool = Field(default=True)
    created_by: str = Field(sa_type=String(254))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_status: str | None = Field(default=None, sa_type=String(200))
    last_delivery_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
