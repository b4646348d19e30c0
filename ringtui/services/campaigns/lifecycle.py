"""A campaign's life: draft -> running <-> paused -> finished (the engine finishes it).

Launching and resuming re-check access and, for SMS, the credits for what is
left to send; the engine picks a running campaign up within a second.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import select

from ringtui.errors import Conflict, NotFound
from ringtui.models import Campaign, CampaignAssignee, CampaignRecipient, SmsMessage, User, UserGroup
from ringtui.models.types import utcnow
from ringtui.services.base import Operation, audit
from ringtui.services.campaigns.access import require_campaign_access, require_campaign_reader
from ringtui.services.campaigns.sms import money, remaining_cost, require_credits
from ringtui.vocab import CampaignKind, CampaignStatus, RecipientStatus

LIST_COLUMNS = ["name", "kind", "status", "recipients", "done", "pending", "created_by", "created_at",
                "launched_at", "finished_at"]
_DONE = [s.value for s in RecipientStatus if s not in (RecipientStatus.PENDING, RecipientStatus.IN_PROGRESS)]


def campaign_by_name(op: Operation, name: str) -> Campaign:
    campaign = op.session.exec(select(Campaign).where(Campaign.name == name.strip())).first()
    if campaign is None:
        raise NotFound(f"no campaign {name!r} (see `ringtui campaign list`)")
    return campaign


def _progress(op: Operation, campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    rows = op.session.exec(select(CampaignRecipient.campaign_id, CampaignRecipient.status,
                                  func.count(CampaignRecipient.id))
                           .where(CampaignRecipient.campaign_id.in_(campaign_ids))
                           .group_by(CampaignRecipient.campaign_id, CampaignRecipient.status)).all()
    progress: dict[int, dict[str, int]] = {cid: {} for cid in campaign_ids}
    for campaign_id, status, count in rows:
        progress[campaign_id][str(status)] = count
    return progress


def _row(campaign: Campaign, counts: dict[str, int], creator: str | None) -> dict[str, Any]:
    return {"name": campaign.name, "kind": CampaignKind(campaign.kind),
            "status": CampaignStatus(campaign.status),
            "recipients": sum(counts.values()), "done": sum(counts.get(s, 0) for s in _DONE),
            "pending": counts.get(RecipientStatus.PENDING.value, 0)
            + counts.get(RecipientStatus.IN_PROGRESS.value, 0),
            "created_by": creator, "created_at": campaign.created_at, "launched_at": campaign.launched_at,
            "finished_at": campaign.finished_at}


def list_campaigns(op: Operation) -> list[dict[str, Any]]:
    require_campaign_reader(op)
    campaigns = op.session.exec(select(Campaign).order_by(Campaign.created_at, Campaign.id)).all()
    progress = _progress(op, [c.id for c in campaigns])
    emails = dict(op.session.exec(select(User.id, User.email)).all())
    return [_row(c, progress[c.id], emails.get(c.created_by)) for c in campaigns]


def show_campaign(op: Operation, name: str) -> dict[str, Any]:
    require_campaign_reader(op)
    campaign = campaign_by_name(op, name)
    counts = _progress(op, [campaign.id])[campaign.id]
    creator = op.session.get(User, campaign.created_by) if campaign.created_by else None
    result = _row(campaign, counts, creator.email if creator else None)
    result["by_status"] = {status.value: counts.get(status.value, 0) for status in RecipientStatus
                           if counts.get(status.value)}
    result["country"] = campaign.country
    if campaign.kind == CampaignKind.SMS:
        spent = op.session.exec(select(func.coalesce(func.sum(SmsMessage.price), 0),
                                       func.count(SmsMessage.id))
                                .where(SmsMessage.campaign_id == campaign.id)).one()
        result |= {"sender": campaign.sender, "message": campaign.message, "encoding": campaign.encoding,
                   "fragments_per_message": campaign.fragments_per_message,
                   "estimated_cost": money(campaign.estimated_cost), "sms_sent": spent[1],
                   "cost_so_far": round(float(spent[0]), 4)}
    elif campaign.kind == CampaignKind.CALLS:
        result |= _call_details(op, campaign)
    else:
        result |= {"from_number": campaign.from_number, "audio": campaign.audio_path}
    return result


def _call_details(op: Operation, campaign: Campaign) -> dict[str, Any]:
    rows = op.session.exec(select(User.email, UserGroup.name).select_from(CampaignAssignee)
                           .join(User, User.id == CampaignAssignee.user_id, isouter=True)
                           .join(UserGroup, UserGroup.id == CampaignAssignee.group_id, isouter=True)
                           .where(CampaignAssignee.campaign_id == campaign.id)).all()
    return {"script": campaign.script, "attempts": campaign.attempts, "retry_delay_s": campaign.retry_delay_s,
            "dial_order": campaign.dial_order, "tags": campaign.tags, "columns": campaign.column_labels,
            "agents": sorted(email for email, _ in rows if email),
            "groups": sorted(group for _, group in rows if group)}


def _change(op: Operation, name: str, allowed: tuple[CampaignStatus, ...], new: CampaignStatus,
            verb: str) -> dict[str, Any]:
    campaign = campaign_by_name(op, name)
    require_campaign_access(op, CampaignKind(campaign.kind))
    status = CampaignStatus(campaign.status)
    if status not in allowed:
        hints = {CampaignStatus.DRAFT: "launch it first", CampaignStatus.RUNNING: "it is running",
                 CampaignStatus.PAUSED: "it is paused: resume it", CampaignStatus.FINISHED: "it is finished"}
        raise Conflict(f"cannot {verb} campaign {campaign.name!r}: it is {status.value} ({hints[status]})")
    if new == CampaignStatus.RUNNING and campaign.kind == CampaignKind.SMS:
        require_credits(op.account, remaining_cost(op, campaign), f"the rest of campaign {campaign.name!r}")
    campaign.status = new
    if status == CampaignStatus.DRAFT:
        campaign.launched_at = utcnow()
    op.session.add(campaign)
    audit(op, f"campaign.{verb}", campaign.name, before={"status": status}, after={"status": new})
    op.session.flush()
    return show_campaign(op, campaign.name)


def launch(op: Operation, name: str) -> dict[str, Any]:
    return _change(op, name, (CampaignStatus.DRAFT,), CampaignStatus.RUNNING, "launch")


def pause(op: Operation, name: str) -> dict[str, Any]:
    return _change(op, name, (CampaignStatus.RUNNING,), CampaignStatus.PAUSED, "pause")


def resume(op: Operation, name: str) -> dict[str, Any]:
    return _change(op, name, (CampaignStatus.PAUSED,), CampaignStatus.RUNNING, "resume")
