"""The domain's closed vocabularies, shared by models, services and commands.

Kept free of heavy imports so the CLI can use them for option choices without
loading the database layer.
"""

from enum import StrEnum


class Plan(StrEnum):
    SMART = "smart"
    BUSINESS = "business"
    ADVANCED = "advanced"


class Addon(StrEnum):
    EXTRA_OUTBOUND_CHANNEL = "extra-outbound-channel"
    CALL_CAMPAIGN_EXTENSION = "call-campaign-extension"
    OMNICHANNEL = "omnichannel"


class Role(StrEnum):
    """Dashboard roles (U7), from least to most access."""

    NONE = "none"
    ACCOUNTANT = "accountant"
    TECHNICAL = "technical"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    SUPER_ADMIN = "super_admin"


class UserStatus(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"


class License(StrEnum):
    SMART = "smart"
    BUSINESS = "business"
    ADVANCED = "advanced"


class ScopeKind(StrEnum):
    GROUP = "group"
    IVR = "ivr"


class NumberFormat(StrEnum):
    NATIONAL = "national"
    MOBILE = "mobile"
    LOCAL = "local"


class NumberStatus(StrEnum):
    AVAILABLE = "available"
    ASSIGNED = "assigned"
    PORTING = "porting"


class AssigneeKind(StrEnum):
    USER = "user"
    IVR = "ivr"
    CONFERENCE = "conference"


class PortStatus(StrEnum):
    REQUESTED = "requested"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"


class PortDocumentKind(StrEnum):
    REQUEST = "request"
    BILL = "bill"
    IDENTITY = "identity"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"
    BOTH = "both"


class AnonymousPolicy(StrEnum):
    ALLOW = "allow"
    REJECT = "reject"
