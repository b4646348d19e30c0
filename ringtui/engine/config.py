"""What the routing core needs from the database, read in a few queries.

The engine reloads it when `config_version` moves: every change made through
the services leaves an audit entry, so the newest audit id is the version of
the configuration.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from ringtui.engine.core.agents import AgentConfig
from ringtui.engine.core.scenario import Scenario
from ringtui.models import Account, AuditEntry, GroupMember, PhoneNumber, Tag, User, UserGroup
from ringtui.services.blacklist import BlacklistSnapshot, load_snapshot
from ringtui.services.permissions import permission_value
from ringtui.services.scenarios import load_scenarios, week_hours
from ringtui.vocab import AssigneeKind


@dataclass(frozen=True)
class CenterConfig:
    version: int
    timezone: str
    agents: tuple[AgentConfig, ...]
    scenarios: tuple[Scenario, ...]
    direct_lines: dict[str, str]  # E.164 -> agent e-mail
    blacklist: BlacklistSnapshot
    tags: tuple[str, ...] = ()
    country: str = ""  # the account's (ISO 3166): numbers dialled in national form are read in it


def config_version(engine: Engine) -> int:
    with Session(engine) as db:
        return db.exec(select(func.coalesce(func.max(AuditEntry.id), 0))).one()


def _snooze_reason(user: User) -> str | None:
    if user.snoozed_since is None:
        return None
    return user.snooze_reason or "snooze"


def _agents(db: Session) -> tuple[AgentConfig, ...]:
    groups: dict[int, list[str]] = defaultdict(list)
    for user_id, name in db.exec(select(GroupMember.user_id, UserGroup.name)
                                 .join(UserGroup, UserGroup.id == GroupMember.group_id)
                                 .order_by(UserGroup.name)):
        groups[user_id].append(name)
    return tuple(
        AgentConfig(
            email=user.email, name=user.name, groups=tuple(groups.get(user.id, ())),
            max_channels=int(permission_value(user, "max_channels")),
            after_call_work_s=float(permission_value(user, "after_call_work_s")),
            call_waiting=user.call_waiting, schedule=week_hours(user.schedule),
            ring_s=float(user.ring_seconds), snooze_reason=_snooze_reason(user),
            record_conversations=bool(permission_value(user, "record_conversations")),
            recorded_percent=int(permission_value(user, "recorded_percent")),
            record_by_default=user.record_by_default,
        )
        for user in db.exec(select(User).order_by(User.id))
    )


def load_config(engine: Engine) -> CenterConfig:
    with Session(engine) as db:
        account = db.exec(select(Account)).one()
        version = db.exec(select(func.coalesce(func.max(AuditEntry.id), 0))).one()
        lines = dict(db.exec(select(PhoneNumber.e164, User.email)
                             .join(User, User.id == PhoneNumber.user_id)
                             .where(PhoneNumber.assigned_kind == AssigneeKind.USER)
                             .order_by(PhoneNumber.e164)).all())
        return CenterConfig(version=version, timezone=account.timezone, agents=_agents(db),
                            scenarios=tuple(load_scenarios(db)), direct_lines=lines,
                            blacklist=load_snapshot(db),
                            tags=tuple(db.exec(select(Tag.name).order_by(Tag.name))),
                            country=account.country)
