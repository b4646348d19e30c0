"""Contacts and their imports (T2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlmodel import Field, SQLModel

from ringtui.models.directory import _fk
from ringtui.models.types import UTCDateTime, utcnow


class ContactImport(SQLModel, table=True):
    __tablename__ = "contact_import"

    id: int | None = Field(default=None, primary_key=True)
    filename: str = Field(sa_type=String(255))
    imported_count: int
    skipped_count: int = Field(default=0)
    actor_email: str = Field(sa_type=String(254))
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Contact(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(200), index=True)
    company: str | None = Field(default=None, sa_type=String(200))
    custom: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    import_id: int | None = Field(
        default=None, sa_column=_fk("contact_import.id", ondelete="SET NULL"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ContactNumber(SQLModel, table=True):
    __tablename__ = "contact_number"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(sa_column=_fk("contact.id", nullable=False))
    e164: str = Field(sa_type=String(20), index=True)
    label: str | None = Field(default=None, sa_type=String(40))
