"""Every table, imported so SQLModel.metadata is complete for Alembic and the services."""

from ringtui.models.access import ApiKey, AuditEntry
from ringtui.models.contacts import Contact, ContactImport, ContactNumber
from ringtui.models.directory import (
    Account,
    GroupMember,
    SnoozePeriod,
    User,
    UserGroup,
    UserScope,
)
from ringtui.models.records import Tag
from ringtui.models.telephony import (
    BlacklistEntry,
    Conference,
    Ivr,
    IvrVipNumber,
    PhoneNumber,
    PortDocument,
    PortRequest,
)

__all__ = [
    "Account",
    "ApiKey",
    "AuditEntry",
    "BlacklistEntry",
    "Conference",
    "Contact",
    "ContactImport",
    "ContactNumber",
    "GroupMember",
    "Ivr",
    "IvrVipNumber",
    "PhoneNumber",
    "PortDocument",
    "PortRequest",
    "SnoozePeriod",
    "Tag",
    "User",
    "UserGroup",
    "UserScope",
]
