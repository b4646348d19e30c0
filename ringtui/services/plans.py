"""Plan gates: which plan (and add-on) each feature needs, per the SPEC letters."""

from __future__ import annotations

from enum import Enum

from ringtui.errors import PlanRequired
from ringtui.models import Account
from ringtui.vocab import Addon, Plan

_ALL = frozenset(Plan)
_BA = frozenset({Plan.BUSINESS, Plan.ADVANCED})
_A = frozenset({Plan.ADVANCED})


class Feature(Enum):
    """A gated feature: (label, plans that include it, add-on it also needs)."""

    USERS = ("users", _ALL, None)
    GROUPS = ("groups", _ALL, None)
    DASHBOARD_ROLES = ("dashboard roles", _ALL, None)
    PERMISSIONS = ("per-user permissions (U4)", _BA, None)
    NUMBERS = ("numbers", _ALL, None)
    IVRS = ("IVRs", _ALL, None)
    TAGS = ("tags", _ALL, None)
    CONTACTS = ("contacts", _ALL, None)
    BLACKLIST = ("the blacklist", _BA, None)
    CALL_LOGS = ("call logs", _ALL, None)
    CALL_FILTERS = ("call filters", _ALL, None)
    IVR_FILTERS = ("per-IVR call filters", _BA, None)
    MISSED_CALLS = ("missed-call processing", _ALL, None)
    SMS_LOGS = ("SMS logs", _BA, None)
    MEET_LOGS = ("Meet logs", _BA, None)
    LIVE_ACTIVITY = ("live activity", _BA, None)
    STATISTICS = ("statistics", _BA, None)
    IMAGE_REPORTS = ("image reports", _A, None)
    SMS_CAMPAIGNS = ("SMS campaigns", _BA, None)
    CALL_CAMPAIGNS = ("call campaigns (power dialer)", _A, None)
    VOICE_CAMPAIGNS = ("voice-message campaigns", _A, None)
    OMNICHANNEL = ("omnichannel", _BA, Addon.OMNICHANNEL)
    BILLING = ("billing", _ALL, None)

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def plans(self) -> frozenset[Plan]:
        return self.value[1]

    @property
    def addon(self) -> Addon | None:
        return self.value[2]


def _plan_names(plans: frozenset[Plan]) -> str:
    ordered = [plan.value for plan in Plan if plan in plans]
    return ordered[0] if len(ordered) == 1 else " or ".join(ordered)


def is_included(account: Account, feature: Feature) -> bool:
    if account.plan not in feature.plans:
        return False
    return feature.addon is None or feature.addon.value in account.addons


def require_feature(account: Account, feature: Feature) -> None:
    if account.plan not in feature.plans:
        raise PlanRequired(
            f"{feature.label} needs the {_plan_names(feature.plans)} plan; this account is on the "
            f"{account.plan} plan (change it with `ringtui account plan PLAN`)"
        )
    if feature.addon is not None and feature.addon.value not in account.addons:
        raise PlanRequired(
            f"{feature.label} needs the {feature.addon.value} add-on "
            f"(`ringtui addons activate {feature.addon.value}`)"
        )
