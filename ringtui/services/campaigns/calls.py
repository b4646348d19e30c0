"""Call campaigns (K2, power dialer): the list with its named columns, who calls, attempts, script, tags.

Created here; once launched, the engine's power dialer (engine/campaigns/dialer.py)
gives each free agent of the campaign the next number, calls the agent and the
customer over SIP and bridges them (simulated in `ringtui demo`); `campaign show`
and the live feed tell its progress.
A call list holds at most CALL_CAMPAIGN_BASE_CONTACTS numbers, plus 1,000 per
user covered by the call-campaign extension add-on (M2).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlmodel import select

from ringtui.errors import Conflict, Invalid, NotFound
from ringtui.models import Campaign, CampaignAssignee, Tag
from ringtui.services.base import Operation, audit
from ringtui.services.campaigns.access import require_campaign_access
from ringtui.services.campaigns.recipients import (
    call_contact_limit,
    load_list,
    parse_column_labels,
    require_within_limit,
    store_recipients,
)
from ringtui.services.lookups import group_by_name, user_by_email
from ringtui.services.phones import check_country
from ringtui.services.validation import check_name
from ringtui.vocab import CampaignKind, CampaignStatus, DialOrder

MAX_ATTEMPTS = 10
MAX_RETRY_MINUTES = 7 * 24 * 60
SCRIPT_MAX = 5000


def _check_range(value: int, low: int, high: int, option: str) -> int:
    if not low <= value <= high:
        raise Invalid(f"{option} {value}: give a number from {low} to {high}")
    return value


def _dial_order(raw: str) -> DialOrder:
    try:
        return DialOrder(raw.strip().lower())
    except ValueError:
        raise Invalid(f"--dial-order {raw!r}: give {' or '.join(DialOrder)}") from None


def _tags(op: Operation, names: Sequence[str]) -> list[str]:
    known = {name.lower(): name for name in op.session.exec(select(Tag.name))}
    found = []
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        if name.lower() not in known:
            listed = ", ".join(sorted(known.values())) or "none yet (`ringtui tags add NAME`)"
            raise NotFound(f"no tag {name!r}; tags: {listed}")
        found.append(known[name.lower()])
    return found


def create_call_campaign(
    op: Operation, name: str, *, file: Path | None = None, to: str | None = None,
    phone_column: str | None = None, columns: Sequence[str] = (), country: str | None = None,
    attempts: int = 1, retry_minutes: int = 60, agents: Sequence[str] = (), groups: Sequence[str] = (),
    script: str = "", tags: Sequence[str] = (), dial_order: str = DialOrder.AGENT_FIRST.value,
    skip_invalid: bool = False,
) -> dict[str, Any]:
    require_campaign_access(op, CampaignKind.CALLS)
    name = check_name(name, "campaign name")
    region = check_country(country or op.account.country)
    _check_range(attempts, 1, MAX_ATTEMPTS, "--attempts")
    _check_range(retry_minutes, 1, MAX_RETRY_MINUTES, "--retry-minutes")
    order = _dial_order(dial_order)
    if len(script) > SCRIPT_MAX:
        raise Invalid(f"the script has {len(script)} characters; at most {SCRIPT_MAX}")
    if not agents and not groups:
        raise Invalid("a call campaign needs people to call: give --agent EMAIL and/or --group NAME")
    users = {user.id: user for user in (user_by_email(op, email) for email in agents)}
    teams = {group.id: group for group in (group_by_name(op, name) for name in groups)}
    tag_names = _tags(op, tags)
    if op.session.exec(select(Campaign.id).where(Campaign.name == name)).first() is not None:
        raise Conflict(f"a campaign named {name!r} already exists (see `ringtui campaign list`)")
    checked = load_list(op, file=file, typed=to, country=region, skip_invalid=skip_invalid,
                        phone_column=phone_column, column_specs=columns)
    require_within_limit(op, checked)
    campaign = Campaign(name=name, kind=CampaignKind.CALLS, country=region, created_by=op.actor.id,
                        script=script, tags=tag_names, attempts=attempts, retry_delay_s=retry_minutes * 60,
                        dial_order=order, column_labels=parse_column_labels(columns))
    op.session.add(campaign)
    op.session.flush()
    assignees = ([{"campaign_id": campaign.id, "user_id": uid, "group_id": None} for uid in users]
                 + [{"campaign_id": campaign.id, "user_id": None, "group_id": gid} for gid in teams])
    if assignees:
        op.session.execute(insert(CampaignAssignee.__table__), assignees)
    store_recipients(op, campaign.id, checked)
    result = {"name": campaign.name, "kind": CampaignKind.CALLS, "status": CampaignStatus.DRAFT,
              "country": region, **checked.summary(), "contact_limit": call_contact_limit(op),
              "attempts": attempts, "retry_delay_s": campaign.retry_delay_s, "dial_order": order,
              "agents": sorted(user.email for user in users.values()),
              "groups": sorted(group.name for group in teams.values()), "tags": tag_names,
              "script": script, "source": checked.source}
    audit(op, "campaign.create", name, after={k: v for k, v in result.items() if k != "invalid_lines"})
    return result
