"""Saved filters (S16) and image-report subscriptions with their deliveries (S15)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Date, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from ringtui.models.directory import _fk
from ringtui.models.types import UTCDateTime, utcnow
from ringtui.vocab import ReportFrequency


class SavedFilter(SQLModel, table=True):
    """A named set of FILTERS options, reusable with `--filter NAME` and by report subscriptions."""

    __tablename__ = "saved_filter"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(80), unique=True, index=True)
    user_id: int | None = Field(default=None, sa_column=_fk("app_user.id", ondelete="SET NULL"),
                                description="who saved it")
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                                    description="the filter options as given (period relative or absolute)")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReportSubscription(SQLModel, table=True):
    __tablename__ = "report_subscription"

    id: int | None = Field(default=None, primary_key=True)
    filter_id: int = Field(sa_column=_fk("saved_filter.id", nullable=False))
    user_id: int = Field(sa_column=_fk("app_user.id", nullable=False), description="the subscriber")
    to_email: str = Field(sa_type=String(254))
    every: ReportFrequency = Field(sa_type=String(8))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReportDelivery(SQLModel, table=True):
    """One report sent for one period: what makes `reports run-due` idempotent."""

    __tablename__ = "report_delivery"
    __table_args__ = (UniqueConstraint("subscription_id", "period_start"),)

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(sa_column=_fk("report_subscription.id", nullable=False))
    period_start: date = Field(sa_type=Date)
    period_end: date = Field(sa_type=Date)
    delivered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    channel: str = Field(sa_type=String(8), description="smtp or file")
    location: str = Field(default="", sa_type=String(500), description="recipient address or file path")
