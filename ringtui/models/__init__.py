"""Every table, imported so SQLModel.metadata is complete for Alembic and the services."""

from ringtui.models.access import ApiKey, AuditEntry, Webhook
from ringtui.models.campaigns import Campaign, CampaignAssignee, CampaignRecipient, SmsAccessRequest
from ringtui.models.contacts import Contact, ContactImport, ContactNumber
from ringtui.models.directory import (
    Account,
    GroupMember,
    SnoozePeriod,
    User,
    UserGroup,
    UserScope,
)
from ringtui.models.messaging import Meeting, MeetingTag, OmniMessage, SmsMessage
from ringtui.models.records import CallRecord, CallTag, CallTransfer, RingAttempt, SurveyAnswer, Tag
from ringtui.models.reports import ReportDelivery, ReportSubscription, SavedFilter
from ringtui.models.rollups import AgentDay, AgentHour, CallHour, IvrHour
from ringtui.models.sip import SipBinding
from ringtui.models.telephony import (
    BlacklistEntry,
    Conference,
    Ivr,
    IvrStep,
    IvrVipNumber,
    PhoneNumber,
    PortDocument,
    PortRequest,
)

__all__ = [
    "Account",
    "AgentDay",
    "AgentHour",
    "ApiKey",
    "AuditEntry",
    "BlacklistEntry",
    "CallHour",
    "CallRecord",
    "CallTag",
    "CallTransfer",
    "Campaign",
    "CampaignAssignee",
    "CampaignRecipient",
    "Conference",
    "Contact",
    "ContactImport",
    "ContactNumber",
    "GroupMember",
    "Ivr",
    "IvrHour",
    "IvrStep",
    "IvrVipNumber",
    "Meeting",
    "MeetingTag",
    "OmniMessage",
    "PhoneNumber",
    "PortDocument",
    "PortRequest",
    "ReportDelivery",
    "ReportSubscription",
    "RingAttempt",
    "SavedFilter",
    "SipBinding",
    "SmsAccessRequest",
    "SmsMessage",
    "SnoozePeriod",
    "SurveyAnswer",
    "Tag",
    "User",
    "UserGroup",
    "UserScope",
    "Webhook",
]
