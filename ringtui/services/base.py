"""The unit of work every service runs in, and the audit trail it leaves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlmodel import Session, select

from ringtui.config import Settings
from ringtui.db import engine_for, session
from ringtui.errors import NotFound, NotInitialised
from ringtui.models import Account, AuditEntry, User
from ringtui.vocab import Role


@dataclass
class Operation:
    """One request: a transaction, the account, and who is acting."""

    session: Session
    account: Account
    actor: User
    settings: Settings


def open_session(settings: Settings) -> Session:
    return session(engine_for(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms))


def load_account(db: Session) -> Account:
    account = db.exec(select(Account)).first()
    if account is None:
        raise NotInitialised("this database holds no account yet: run `ringtui init` first")
    return account


def resolve_actor(db: Session, acting_email: str | None) -> User:
    if acting_email:
        actor = db.exec(select(User).where(User.email == acting_email.strip().lower())).first()
        if actor is None:
            raise NotFound(
                f"acting user {acting_email!r} (--as / RINGTUI_USER) is not a user of this account")
        return actor
    actor = db.exec(select(User).where(User.role == Role.SUPER_ADMIN).order_by(User.id)).first()
    if actor is None:
        raise NotInitialised("the account has no super admin; run `ringtui init`")
    return actor


@contextmanager
def operation(settings: Settings, acting_email: str | None = None) -> Iterator[Operation]:
    """Run a request in one transaction: committed if it returns, rolled back if it raises."""
    with open_session(settings) as db:
        try:
            account = load_account(db)
            actor = resolve_actor(db, acting_email or settings.acting_user)
            yield Operation(session=db, account=account, actor=actor, settings=settings)
            db.commit()
        except BaseException:
            db.rollback()
            raise


def _plain(value: Any) -> Any:
    """Audit snapshots are JSON: times become ISO-8601 strings, enums their values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def audit(
    op: Operation,
    action: str,
    target: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    op.session.add(
        AuditEntry(actor=op.actor.email, action=action, target=target,
                   before=_plain(before), after=_plain(after))
    )
