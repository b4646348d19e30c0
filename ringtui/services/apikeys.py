"""API keys with chosen rights (M4); only a key's SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, select

from ringtui.errors import Conflict, Invalid, NotFound
from ringtui.models import ApiKey
from ringtui.models.types import utcnow
from ringtui.services.access import Area, require_area
from ringtui.services.base import Operation, audit
from ringtui.services.validation import check_name

RIGHTS = (
    "calls:read", "calls:write", "contacts:read", "contacts:write", "users:read", "users:write",
    "ivrs:read", "ivrs:write", "feed:read", "feed:control",
)
KEY_PREFIX = "rtk_"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_rights(raw: Sequence[str]) -> list[str]:
    rights = [r.strip() for item in raw for r in item.split(",") if r.strip()]
    unknown = [r for r in rights if r not in RIGHTS]
    if unknown or not rights:
        raise Invalid(f"unknown right(s) {', '.join(map(repr, unknown)) or '(none given)'}; "
                      f"rights: {', '.join(RIGHTS)}")
    return sorted(set(rights), key=RIGHTS.index)


def key_dict(key: ApiKey) -> dict[str, Any]:
    return {"name": key.name, "prefix": key.prefix, "rights": key.rights, "created_by": key.created_by,
            "created_at": key.created_at, "revoked_at": key.revoked_at}


def create_key(op: Operation, name: str, rights: Sequence[str]) -> dict[str, Any]:
    """A new key; the secret is in the result and nowhere else, ever."""
    require_area(op, Area.DEVELOPER)
    clean = check_name(name, "API key name")
    if op.session.exec(select(ApiKey.id).where(ApiKey.name == clean)).first() is not None:
        raise Conflict(f"API key {clean!r} already exists")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=clean, prefix=secret[:10], key_hash=digest(secret), rights=parse_rights(rights),
                 created_by=op.actor.email)
    op.session.add(key)
    op.session.flush()
    audit(op, "apikey.create", clean, after={"rights": key.rights, "prefix": key.prefix})
    return key_dict(key) | {"key": secret}


def list_keys(op: Operation) -> list[dict[str, Any]]:
    require_area(op, Area.DEVELOPER)
    return [key_dict(key) for key in op.session.exec(select(ApiKey).order_by(ApiKey.name))]


def revoke_key(op: Operation, name: str) -> dict[str, Any]:
    require_area(op, Area.DEVELOPER)
    key = op.session.exec(select(ApiKey).where(ApiKey.name == name.strip())).first()
    if key is None:
        raise NotFound(f"no API key {name!r} (see `ringtui apikeys list`)")
    if key.revoked_at is not None:
        raise Conflict(f"API key {key.name!r} was revoked already")
    key.revoked_at = utcnow()
    op.session.add(key)
    audit(op, "apikey.revoke", key.name)
    return key_dict(key)


def rights_of(db: Session, secret: str) -> frozenset[str] | None:
    """The rights of a live key, or None when the key is unknown or revoked."""
    key = db.exec(select(ApiKey).where(ApiKey.key_hash == digest(secret))).first()
    if key is None or key.revoked_at is not None:
        return None
    return frozenset(key.rights)
