"""What the campaign screens read: every campaign with its results by status, one campaign's numbers
and agents, and the live estimate of an SMS text being typed (K1-K3).

The rows extend `lifecycle.list_campaigns` (same access rule, same fields) with `progress`
("done/total") and `results` (final results by status), the shape a feed `campaign_progress`
event brings too, so a screen updates a row from either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from ringtui.config import Settings
from ringtui.errors import Invalid
from ringtui.models import Campaign, CampaignRecipient, User
from ringtui.services.base import Operation
from ringtui.services.campaigns.access import require_campaign_reader
from ringtui.services.campaigns.lifecycle import (
    LIST_COLUMNS,
    _progress,
    campaign_by_name,
    list_campaigns,
    show_campaign,
)
from ringtui.services.campaigns.recipients import load_list
from ringtui.services.campaigns.sms import check_message, estimate_cost, money
from ringtui.services.phones import check_country
from ringtui.services.sms_text import analyse
from ringtui.vocab import UNSETTLED_RECIPIENTS, RecipientStatus

RESULT_ORDER = [s.value for s in RecipientStatus if s.value not in UNSETTLED_RECIPIENTS]
AGENT_RESULTS = ("answered", "no_answer", "busy", "invalid", "blacklisted", "failed")


def results_text(results: Mapping[str, int]) -> str:
    """Final results by status, in the vocabulary's order: "answered 3, busy 1" ("-" when none)."""
    parts = [f"{status} {results[status]:,}" for status in RESULT_ORDER if results.get(status)]
    return ", ".join(parts) or "-"


def with_progress(row: dict[str, Any], results: Mapping[str, int]) -> dict[str, Any]:
    """A campaign row with its `progress` and `results` columns (from the database or a feed event)."""
    row["results"] = results_text(results)
    row["progress"] = f"{row['done']:,}/{row['recipients']:,}"
    return row


def campaign_rows(op: Operation) -> list[dict[str, Any]]:
    """`campaign list` with the results of every campaign by status."""
    rows = list_campaigns(op)
    counts = _counts_by_name(op)
    return [with_progress(row, counts.get(row["name"], {})) for row in rows]


def _counts_by_name(op: Operation) -> dict[str, dict[str, int]]:
    ids = dict(op.session.exec(select(Campaign.id, Campaign.name)).all())
    return {ids[cid]: counts for cid, counts in _progress(op, list(ids)).items()}


def campaign_row(op: Operation, name: str) -> dict[str, Any]:
    """One campaign's row of `campaign_rows` (after a feed event that did not carry the counts)."""
    shown = show_campaign(op, name)
    row = {key: shown[key] for key in LIST_COLUMNS}
    return with_progress(row, shown["by_status"])


def recipient_rows(op: Operation, name: str) -> list[dict[str, Any]]:
    """Every number of a campaign in list order: status, attempts, the agent who called, the contact's
    named columns."""
    require_campaign_reader(op)
    campaign = campaign_by_name(op, name)
    r = CampaignRecipient
    query = (select(r.position, r.number, r.status, r.attempts, r.last_attempt_at, User.email, r.columns,
                    r.detail)
             .join(User, User.id == r.user_id, isouter=True)
             .where(r.campaign_id == campaign.id).order_by(r.position))
    return [{"position": position, "number": number, "status": status, "attempts": attempts,
             "last_attempt_at": last, "agent": email,
             "contact": ", ".join(f"{k}: {v}" for k, v in (columns or {}).items() if v not in (None, "")),
             "detail": detail}
            for position, number, status, attempts, last, email, columns, detail in op.session.exec(query)]


def agent_results(op: Operation, name: str) -> list[dict[str, Any]]:
    """Per agent of a call campaign: the numbers they called and their results (counted in SQL)."""
    require_campaign_reader(op)
    campaign = campaign_by_name(op, name)
    rows = op.session.exec(select(User.email, CampaignRecipient.status, func.count(CampaignRecipient.id))
                           .join(User, User.id == CampaignRecipient.user_id)
                           .where(CampaignRecipient.campaign_id == campaign.id)
                           .group_by(User.email, CampaignRecipient.status)).all()
    agents: dict[str, dict[str, Any]] = {}
    for email, status, count in rows:
        agent = agents.setdefault(email, {"agent": email, "numbers": 0, **dict.fromkeys(AGENT_RESULTS, 0)})
        agent["numbers"] += count
        if str(status) in agent:
            agent[str(status)] += count
    return sorted(agents.values(), key=lambda row: row["agent"])


@dataclass(frozen=True)
class ListForEstimate:
    """The numbers of a list being typed into a form (invalid ones left out), or why there are none."""

    numbers: tuple[str, ...] = ()
    problem: str = ""


def list_for_estimate(op: Operation, *, country: str, to: str | None = None,
                      recipients: Path | None = None) -> ListForEstimate:
    """Read a recipient list as creation will (blacklist and duplicates out), keeping going past invalid
    numbers: creation refuses them as the CLI does."""
    if not to and recipients is None:
        return ListForEstimate()
    try:
        checked = load_list(op, file=recipients, typed=to, country=check_country(country), skip_invalid=True)
    except Invalid as error:
        return ListForEstimate(problem=str(error))
    return ListForEstimate(tuple(r.number for r in checked.recipients))


def sms_estimate(settings: Settings, message: str, listed: ListForEstimate) -> dict[str, Any]:
    """The encoding, fragments and estimated cost of an SMS text as typed, for a list read once."""
    shape = analyse(message)
    problem = listed.problem
    if message:
        try:
            check_message(message, None)
        except Invalid as error:
            problem = str(error)
    cost = estimate_cost(settings.sms, listed.numbers, shape.fragments) if listed.numbers else 0
    return {"encoding": shape.encoding, "fragments_per_message": shape.fragments, "characters": len(message),
            "recipients": len(listed.numbers), "estimated_cost": money(Decimal(cost)), "problem": problem}


def account_country(op: Operation) -> str:
    """The country a creation form starts with (numbers typed in national form)."""
    return op.account.country
