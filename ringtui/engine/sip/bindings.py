"""The registrar's database side: users' SIP accounts and their stored bindings.

Bindings are engine state like call records: written by the engine, without an
audit entry (an audit entry is a configuration change and would make every
engine reload its configuration on each REGISTER).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete
from sqlmodel import Session, select

from ringtui.models import SipBinding, User
from ringtui.services.permissions import permission_value


@dataclass(frozen=True)
class SipAccount:
    user_id: int
    email: str
    username: str
    password: str
    allowed: bool  # U4 "sip_account"


@dataclass(frozen=True)
class Binding:
    user_id: int
    email: str
    contact_uri: str
    received: str
    user_agent: str
    call_id: str
    cseq: int
    expires_at: datetime


DUMMY_PASSWORD = secrets.token_hex(16)  # a digest checked against it for an unknown user


def sip_account(database: Engine, username: str) -> SipAccount | None:
    with Session(database) as db:
        user = db.exec(select(User).where(User.sip_username == username)).first()
        if user is None or user.id is None:
            return None
        return SipAccount(user.id, user.email, user.sip_username, user.sip_password,
                          bool(permission_value(user, "sip_account")))


def load_bindings(database: Engine, now: datetime) -> list[Binding]:
    """The bindings still valid at `now`; the expired ones are deleted."""
    with Session(database) as db:
        db.exec(delete(SipBinding).where(SipBinding.expires_at <= now))
        rows = db.exec(select(SipBinding, User.email).join(User, User.id == SipBinding.user_id)
                       .order_by(SipBinding.id)).all()
        db.commit()
        return [_binding(row, email) for row, email in rows]


def replace_bindings(database: Engine, user_id: int, bindings: list[Binding]) -> None:
    """Store exactly `bindings` as the user's registered contacts, in one transaction."""
    with Session(database) as db:
        db.exec(delete(SipBinding).where(SipBinding.user_id == user_id))
        db.add_all(SipBinding(user_id=b.user_id, contact_uri=b.contact_uri, received=b.received,
                              user_agent=b.user_agent, call_id=b.call_id, cseq=b.cseq,
                              expires_at=b.expires_at) for b in bindings)
        db.commit()


def _binding(row: SipBinding, email: str) -> Binding:
    return Binding(row.user_id, email, row.contact_uri, row.received, row.user_agent, row.call_id,
                   row.cseq, row.expires_at)
