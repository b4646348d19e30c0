"""Tags applied to calls (T1). Call records join this module in the engine issue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from ringtui.models.types import UTCDateTime, utcnow


class Tag(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(60), unique=True, index=True)
    color: str = Field(default="#888888", sa_type=String(7))
    conditions: str = Field(default="", sa_type=Text, description="conditions of use, shown to agents")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
