"""What the acting user may see and do on the live screens (A1-A5, U7).

The engine's feed carries the whole center; the TUI narrows it to the agents
and IVRs the acting user may see, and asks here before it sends a control
message, so that the screen refuses what the CLI would refuse, in the same words.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import select

from ringtui.errors import PermissionDenied, RingtuiError
from ringtui.models import Contact, ContactNumber, GroupMember, User, UserGroup
from ringtui.services.access import Area, areas_of, is_admin, require_area
from ringtui.services.base import Operation
from ringtui.services.filters import FilterOptions
from ringtui.services.permissions import permission_value
from ringtui.services.stats import call_stats
from ringtui.services.users import visible_user_ids

LOOKUP_BATCH = 500


def ivr_agents(op: Operation, names: list[str] | None = None) -> dict[str, list[str]]:
    """IVR name -> e-mails of the agents its ring and queue steps reach (for the wallboard's
    "agents free"), for every IVR or only `names`."""
    from ringtui.services.scenarios import load_scenarios

    members: dict[str, set[str]] = {}
    for group, email in op.session.exec(select(UserGroup.name, User.email)
                                        .join(GroupMember, GroupMember.group_id == UserGroup.id)
                                        .join(User, User.id == GroupMember.user_id)):
        members.setdefault(group, set()).add(email)
    reach: dict[str, list[str]] = {}
    for scenario in load_scenarios(op.session):
        if names is not None and scenario.name not in names:
            continue
        emails: set[str] = set()
        for step in scenario.steps:
            emails.update(step.agents)
            for group in step.groups:
                emails |= members.get(group, set())
        reach[scenario.name] = sorted(emails)
    return reach


def require_live_action(op: Operation, action: str, agent_email: str | None = None) -> None:
    """Refuse a control action the acting user may not take (the feed token has every right).

    `agent_email` is the agent acted on: snoozed, unsnoozed, or whose call is whispered to or transferred.
    """
    actor = op.actor
    if action in ("snooze", "unsnooze") and agent_email == actor.email:
        if not permission_value(actor, "snooze") and not is_admin(actor):
            raise PermissionDenied(f"{actor.email} may not snooze (permission snooze=false)")
        return
    if action == "transfer":
        if not permission_value(actor, "transfer_calls"):
            raise PermissionDenied(f"{actor.email} may not transfer calls (permission transfer_calls=false)")
        if agent_email == actor.email:  # an agent hands on their own call: no supervision needed
            return
    require_area(op, Area.ACTIVITY)
    if action == "take" and not permission_value(actor, "take_waiting_calls"):
        raise PermissionDenied(f"{actor.email} may not take waiting calls "
                               "(permission take_waiting_calls=false)")
    if not agent_email or action not in ("snooze", "unsnooze", "whisper", "transfer"):
        return
    agent = op.session.exec(select(User).where(User.email == agent_email)).first()
    visible = visible_user_ids(op)
    if visible is not None and (agent is None or agent.id not in visible):
        raise PermissionDenied(f"{agent_email} is outside the groups {actor.email} supervises")
    if action == "whisper" and agent is not None and not permission_value(agent, "may_be_listened"):
        raise PermissionDenied(f"{agent_email}'s calls may not be listened to "
                               "(permission may_be_listened=false)")


def contact_names(op: Operation, numbers: Iterable[str]) -> dict[str, str]:
    """Contact name of each E.164 number that has one (A4: the customer's name on a live call)."""
    if Area.CONTACTS not in areas_of(op.actor) and Area.ACTIVITY not in areas_of(op.actor):
        return {}
    wanted = sorted({n for n in numbers if n})
    names: dict[str, str] = {}
    for start in range(0, len(wanted), LOOKUP_BATCH):
        chunk = wanted[start:start + LOOKUP_BATCH]
        rows = op.session.exec(select(ContactNumber.e164, Contact.name)
                               .join(Contact, Contact.id == ContactNumber.contact_id)
                               .where(ContactNumber.e164.in_(chunk))
                               .order_by(ContactNumber.e164, Contact.id))
        for e164, name in rows:
            names.setdefault(e164, name)
    return names



def wallboard_today(op: Operation, names: list[str] | None = None,
                    now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """IVR name -> the agents it reaches and today's inbound and answered calls from the call
    records (the figures of `ringtui stats calls --period today --ivr NAME`; zero when the plan
    has no statistics), for every IVR or only `names`."""
    today: dict[str, dict[str, Any]] = {}
    for name, agents in ivr_agents(op, names).items():
        try:
            figures = call_stats(op, FilterOptions(period="today", ivr=name), now=now)
        except RingtuiError:
            figures = {}
        today[name] = {"agents": agents, "inbound": figures.get("inbound_calls") or 0,
                       "answered": figures.get("answered_calls") or 0}
    return today
