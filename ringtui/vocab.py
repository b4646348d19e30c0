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


# ---------------------------------------------------------------- IVR scenarios (I2, I3)


class StepType(StrEnum):
    ANNOUNCE = "announce"
    MENU = "menu"
    RING = "ring"
    QUEUE = "queue"
    VOICEMAIL = "voicemail"
    FORWARD = "forward"
    SURVEY = "survey"


class Strategy(StrEnum):
    """How a ring or queue step picks agents (Asterisk app_queue / mod_callcenter vocabulary)."""

    RING_ALL = "ring-all"
    LONGEST_IDLE = "longest-idle"
    ROUND_ROBIN = "round-robin"
    FEWEST_CALLS = "fewest-calls"
    LEAST_TALK_TIME = "least-talk-time"
    LINEAR = "linear"
    RANDOM = "random"
    WEIGHTED_RANDOM = "weighted-random"


class SkipCondition(StrEnum):
    """I3: go to the next step when ALL the step's agents are in this state."""

    OFFLINE = "offline"
    SNOOZE = "snooze"
    OUT_OF_HOURS = "out-of-hours"
    IN_CALL = "in-call"


# ---------------------------------------------------------------- calls (E3, L1-L4, S5)


class AgentState(StrEnum):
    FREE = "free"
    RINGING = "ringing"
    IN_CALL = "in_call"
    AFTER_CALL_WORK = "after_call_work"
    SNOOZE = "snooze"
    OFF = "off"
    OUT_OF_SCHEDULE = "out_of_schedule"


class Outcome(StrEnum):
    """What a ring attempt on an agent came to (S5)."""

    OUT = "OUT"
    ANSWERED = "ANSWERED"
    TOOLATE = "TOOLATE"
    CALL_ANSWERED = "CALL_ANSWERED"
    NO_ANSWER = "NO_ANSWER"
    REJECTED = "REJECTED"
    INCALL = "INCALL"
    SNOOZE = "SNOOZE"
    PLANNING = "PLANNING"
    NOTCONNECTED = "NOTCONNECTED"
    SIP_PHONE_ERROR = "SIP_PHONE_ERROR"


class CallType(StrEnum):
    """L1/L3: what a call came to."""

    ANSWERED = "answered"
    MISSED = "missed"
    VOICEMAIL = "voicemail"
    NO_KEY = "no-key"


class CallKind(StrEnum):
    IVR = "ivr"
    DIRECT = "direct"


class EndedBy(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"
    ENGINE_RESTART = "engine_restart"


class TransferKind(StrEnum):
    """How an agent handed a call on: at once (blind), or after speaking to the target (attended)."""

    BLIND = "blind"
    ATTENDED = "attended"


class TransfersCounted(StrEnum):
    """S6 "how transfers are counted": every call, the transferred ones left out, or only them."""

    ALL = "all"
    EXCLUDE = "exclude"
    ONLY = "only"


class ProcessChannel(StrEnum):
    """L4: how a missed call was followed up."""

    CALL = "call"
    SMS = "sms"
    EMAIL = "email"


# ---------------------------------------------------------------- messages and meetings (L5, L6, S7-S9)


class SmsStatus(StrEnum):
    """Where an SMS stands: received (IN), or queued -> sent -> delivered / failed (OUT)."""

    RECEIVED = "received"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


class MeetTool(StrEnum):
    """S8: the meeting platforms."""

    RINGOVER = "ringover"
    TEAMS = "teams"
    ZOOM = "zoom"
    GOOGLE_MEET = "google-meet"


class OmniPlatform(StrEnum):
    """C2: the omnichannel add-on's channels."""

    WHATSAPP = "whatsapp"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    GOOGLE_REVIEWS = "google-reviews"
    OUTLOOK = "outlook"


# ---------------------------------------------------------------- saved filters and reports (S15, S16)


class ReportFrequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


# ---------------------------------------------------------------- campaigns (K1-K3)


class CampaignKind(StrEnum):
    SMS = "sms"
    CALLS = "calls"
    VOICE = "voice"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


class RecipientStatus(StrEnum):
    """Where one number of a campaign stands; the last five are final results per number."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"  # claimed by the engine: sent or dialled, result not yet known
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    INVALID = "invalid"
    BLACKLISTED = "blacklisted"


# a campaign runs while any of its numbers stands here; none left: finished
UNSETTLED_RECIPIENTS = (RecipientStatus.PENDING.value, RecipientStatus.IN_PROGRESS.value)


class DialOrder(StrEnum):
    """K2: whom the power dialer calls first."""

    AGENT_FIRST = "agent-first"
    CUSTOMER_FIRST = "customer-first"


class AccessRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
