"""Who may create and launch campaigns (K1-K3, U7), and the SMS access requests the owner decides.

A campaign needs an admin, or a supervisor with the Campaigns right. An SMS
campaign also needs the business or advanced plan and an access request of the
acting user approved by the account owner (the super admin). Call and voice
campaigns need the advanced plan and the power dialer enabled.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from ringtui.errors import Conflict, Invalid, NotFound, PermissionDenied, PlanRequired
from ringtui.models import SmsAccessRequest, User
from ringtui.models.types import utcnow
from ringtui.services.access import Area, is_admin
from ringtui.services.base import Operation, audit
from ringtui.services.lookups import user_by_email
from ringtui.services.plans import Feature, require_feature
from ringtui.vocab import AccessRequestStatus, CampaignKind, Role

REASON_MAX = 500
_FEATURES = {CampaignKind.SMS: Feature.SMS_CAMPAIGNS, CampaignKind.CALLS: Feature.CALL_CAMPAIGNS,
             CampaignKind.VOICE: Feature.VOICE_CAMPAIGNS}


def require_campaigns_role(op: Operation) -> None:
    """An admin, or a supervisor with the Campaigns right (U7)."""
    if is_admin(op.actor):
        return
    if op.actor.role == Role.SUPERVISOR and op.actor.campaigns_right:
        return
    if op.actor.role == Role.SUPERVISOR:
        raise PermissionDenied(
            f"{op.actor.email} is a supervisor without the Campaigns right; an admin grants it with "
            f"`ringtui users role {op.actor.email} supervisor --campaigns`")
    raise PermissionDenied(
        f"{op.actor.email} has the {op.actor.role} role, which does not give access to "
        f"{Area.CAMPAIGNS.value}; "
        "campaigns need an admin, or a supervisor with the Campaigns right")


def latest_request(op: Operation, user: User) -> SmsAccessRequest | None:
    return op.session.exec(select(SmsAccessRequest).where(SmsAccessRequest.user_id == user.id)
                           .order_by(SmsAccessRequest.id.desc())).first()


def require_sms_approval(op: Operation) -> None:
    request = latest_request(op, op.actor)
    if request is not None and request.status == AccessRequestStatus.APPROVED:
        return
    if request is None:
        state = "has not asked for access"
        hint = "ask with `ringtui campaign sms request-access`"
    elif request.status == AccessRequestStatus.PENDING:
        state = "has asked for access, not yet approved"
        hint = f"the account owner approves it with `ringtui campaign sms approve {op.actor.email}`"
    else:
        state = "was refused access"
        hint = "ask again with `ringtui campaign sms request-access --reason TEXT`"
    raise PermissionDenied(f"SMS campaigns need an approved access request: {op.actor.email} {state}; {hint}")


def require_power_dialer(op: Operation) -> None:
    if not op.account.power_dialer:
        raise PlanRequired("call and voice campaigns need the power dialer enabled: "
                           "`ringtui account power-dialer on` (admin)")


def require_campaign_access(op: Operation, kind: CampaignKind) -> None:
    """Everything creating or launching a campaign of `kind` needs; the first thing missing is named."""
    require_feature(op.account, _FEATURES[kind])
    require_campaigns_role(op)
    if kind == CampaignKind.SMS:
        require_sms_approval(op)
    else:
        require_power_dialer(op)


def require_campaign_reader(op: Operation) -> None:
    """Listing and showing campaigns: the same people who may run them."""
    require_campaigns_role(op)


# ---------------------------------------------------------------- SMS access requests


def _request_dict(request: SmsAccessRequest, email: str, decided_by: str | None = None) -> dict[str, Any]:
    return {"user": email, "status": AccessRequestStatus(request.status), "reason": request.reason,
            "requested_at": request.requested_at, "decided_by": decided_by, "decided_at": request.decided_at}


def request_sms_access(op: Operation, reason: str = "") -> dict[str, Any]:
    require_feature(op.account, Feature.SMS_CAMPAIGNS)
    require_campaigns_role(op)
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise Invalid(f"the reason is {len(reason)} characters long; at most {REASON_MAX}")
    current = latest_request(op, op.actor)
    if current is not None and current.status == AccessRequestStatus.APPROVED:
        raise Conflict(f"{op.actor.email} already has access to SMS campaigns")
    if current is not None and current.status == AccessRequestStatus.PENDING:
        raise Conflict(f"{op.actor.email} already asked for access on "
                       f"{current.requested_at:%Y-%m-%d %H:%M} UTC; "
                       "the account owner has not decided yet")
    request = SmsAccessRequest(user_id=op.actor.id, reason=reason)
    op.session.add(request)
    op.session.flush()
    audit(op, "campaign.sms.request_access", op.actor.email, after={"reason": reason})
    return _request_dict(request, op.actor.email)


def decide_sms_access(op: Operation, email: str, *, approve: bool) -> dict[str, Any]:
    """The account owner approves or refuses a pending request."""
    if op.actor.role != Role.SUPER_ADMIN:
        raise PermissionDenied(f"{op.actor.email} has the {op.actor.role} role: only the account owner "
                               "(super admin) approves or refuses SMS campaign access")
    user = user_by_email(op, email)
    request = latest_request(op, user)
    if request is None or request.status != AccessRequestStatus.PENDING:
        state = "has not asked" if request is None else f"has no pending request (last one {request.status})"
        raise NotFound(f"{user.email} {state}; a request is made with `ringtui campaign sms request-access`")
    request.status = AccessRequestStatus.APPROVED if approve else AccessRequestStatus.REFUSED
    request.decided_by = op.actor.id
    request.decided_at = utcnow()
    op.session.add(request)
    audit(op, "campaign.sms." + ("approve" if approve else "refuse"), user.email,
          before={"status": "pending"}, after={"status": request.status})
    return _request_dict(request, user.email, op.actor.email)


def list_sms_requests(op: Operation) -> list[dict[str, Any]]:
    require_campaigns_role(op)
    query = select(SmsAccessRequest, User.email).join(User, User.id == SmsAccessRequest.user_id)
    if not is_admin(op.actor):
        query = query.where(SmsAccessRequest.user_id == op.actor.id)
    deciders = dict(op.session.exec(select(User.id, User.email)).all())
    return [_request_dict(request, email, deciders.get(request.decided_by))
            for request, email in op.session.exec(query.order_by(SmsAccessRequest.id))]


# ---------------------------------------------------------------- power dialer (K2)


def set_power_dialer(op: Operation, enabled: bool) -> dict[str, Any]:
    if not is_admin(op.actor):
        raise PermissionDenied(f"{op.actor.email} has the {op.actor.role} role: only an admin or the "
                               "super admin turns the power dialer on or off")
    if enabled:
        require_feature(op.account, Feature.CALL_CAMPAIGNS)
    before = op.account.power_dialer
    op.account.power_dialer = enabled
    op.session.add(op.account)
    if before != enabled:
        audit(op, "account.power_dialer", op.account.company, before={"power_dialer": before},
              after={"power_dialer": enabled})
    return {"power_dialer": enabled, "changed": before != enabled}
