"""Webhooks (M5): URLs that receive signed JSON events of the account's calls.

Admins and technical users manage them (the developer area); every plan has
them. The secret is generated here and shown once, on `add`; it is never
listed nor written to the audit log.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlmodel import select

from ringtui.errors import Conflict, Invalid, NotFound, RingtuiError
from ringtui.models import Webhook
from ringtui.models.types import utcnow
from ringtui.services.access import Area, require_area
from ringtui.services.base import Operation, audit

if TYPE_CHECKING:
    from ringtui.engine.webhooks import WebhookTarget

# The public vocabulary, in the order people read it (the dispatcher maps the core's events onto it).
EVENT_NAMES = ("incoming_call", "call_answered", "missed_call", "voicemail", "call_ended")
ALL_EVENTS = "all"
MAX_URL_LENGTH = 2000
STATUS_LENGTH = 200


# ---------------------------------------------------------------- parsing


def check_url(raw: str) -> str:
    url = raw.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port out of range or not a number
    except ValueError as error:
        raise Invalid(f"webhook URL {raw!r} is not a valid URL ({error}); give http(s)://host/path") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise Invalid(f"webhook URL {raw!r} must be http:// or https:// with a host, "
                      "such as https://crm.example.com/ringtui")
    if any(c.isspace() for c in url) or len(url) > MAX_URL_LENGTH:
        raise Invalid(f"webhook URL {raw!r} must have no spaces and at most {MAX_URL_LENGTH} characters")
    return url


def parse_events(raw: str | Sequence[str]) -> list[str]:
    """`E,E,...` or `all` into the stored list: known names, once each, in vocabulary order."""
    names = [name.strip().lower() for part in ([raw] if isinstance(raw, str) else raw)
             for name in part.split(",") if name.strip()]
    accepted = f"{', '.join(EVENT_NAMES)} or {ALL_EVENTS}"
    if not names:
        raise Invalid(f"give at least one event: {accepted}")
    unknown = [name for name in names if name not in (*EVENT_NAMES, ALL_EVENTS)]
    if unknown:
        raise Invalid(f"unknown webhook event {', '.join(map(repr, unknown))}; events: {accepted}")
    if ALL_EVENTS in names:
        return [ALL_EVENTS]
    return [name for name in EVENT_NAMES if name in names]


def subscribes_to(events: Sequence[str], name: str) -> bool:
    return ALL_EVENTS in events or name in events


# ---------------------------------------------------------------- views


def webhook_dict(hook: Webhook) -> dict[str, Any]:
    """What anyone may see of a webhook: everything but its secret."""
    return {
        "id": hook.id,
        "url": hook.url,
        "events": list(hook.events),
        "active": hook.active,
        "last_status": hook.last_status,
        "last_delivery_at": hook.last_delivery_at,
        "created_by": hook.created_by,
        "created_at": hook.created_at,
    }


def _audit_view(hook: Webhook) -> dict[str, Any]:
    return {"url": hook.url, "events": list(hook.events), "active": hook.active}


def _webhook(op: Operation, webhook_id: int) -> Webhook:
    hook = op.session.get(Webhook, webhook_id)
    if hook is None:
        known = op.session.exec(select(Webhook.id).order_by(Webhook.id)).all()
        listed = ", ".join(map(str, known)) if known else "none yet"
        raise NotFound(f"no webhook with id {webhook_id}; webhook ids: {listed} "
                       "(see `ringtui webhooks list`)")
    return hook


# ---------------------------------------------------------------- managing


def add_webhook(op: Operation, url: str, events: str | Sequence[str]) -> dict[str, Any]:
    """Register a URL; the result holds the secret, the only time it is shown."""
    require_area(op, Area.DEVELOPER)
    clean = check_url(url)
    names = parse_events(events)
    existing = op.session.exec(select(Webhook).where(Webhook.url == clean)).first()
    if existing is not None:
        raise Conflict(f"a webhook for {clean} already exists (id {existing.id}); "
                       f"remove it first with `ringtui webhooks remove {existing.id}`")
    hook = Webhook(url=clean, events=names, secret=secrets.token_hex(32), created_by=op.actor.email)
    op.session.add(hook)
    op.session.flush()
    audit(op, "webhook.add", f"webhook {hook.id}", after=_audit_view(hook))
    return {**webhook_dict(hook), "secret": hook.secret}


def list_webhooks(op: Operation) -> list[dict[str, Any]]:
    require_area(op, Area.DEVELOPER)
    hooks = op.session.exec(select(Webhook).order_by(Webhook.id)).all()
    return [webhook_dict(hook) for hook in hooks]


def remove_webhook(op: Operation, webhook_id: int) -> dict[str, Any]:
    require_area(op, Area.DEVELOPER)
    hook = _webhook(op, webhook_id)
    result = webhook_dict(hook)
    audit(op, "webhook.remove", f"webhook {hook.id}", before=_audit_view(hook))
    op.session.delete(hook)
    return result


# ---------------------------------------------------------------- delivering


def active_webhooks(op: Operation) -> list[WebhookTarget]:
    """What the dispatcher delivers to, read afresh so that changes are picked up.

    The engine calls this, not a person: no role check.
    """
    hooks = op.session.exec(select(Webhook).where(Webhook.active).order_by(Webhook.id)).all()
    return [_target(hook) for hook in hooks]


def record_delivery(op: Operation, webhook_id: int, status: str) -> None:
    """The outcome of the last delivery; a webhook removed meanwhile is skipped.

    Not audited: it is what happened to a delivery, not a change anyone made.
    """
    hook = op.session.get(Webhook, webhook_id)
    if hook is None:
        return
    hook.last_status = status[:STATUS_LENGTH]
    hook.last_delivery_at = utcnow()
    op.session.add(hook)


def send_test(op: Operation, webhook_id: int, *, timeout_s: float = 5.0) -> dict[str, Any]:
    """Send a synthetic `test` event now, signed like every delivery; refused unless it gets a 2xx."""
    from ringtui.engine.webhooks import DeliveryFailed, send_test_event

    require_area(op, Area.DEVELOPER)
    hook = _webhook(op, webhook_id)
    try:
        delivery = send_test_event(_target(hook), timeout_s=timeout_s)
    except DeliveryFailed as failure:
        raise RingtuiError(f"webhook {hook.id} test to {hook.url} failed: {failure.reason}") from None
    record_delivery(op, hook.id, delivery.status)
    return {"id": hook.id, "url": hook.url, "status": delivery.http_status, "delivery": delivery.delivery_id,
            "elapsed_ms": round(delivery.elapsed_s * 1000)}


def _target(hook: Webhook) -> WebhookTarget:
    from ringtui.engine.webhooks import WebhookTarget

    return WebhookTarget(id=hook.id, url=hook.url, events=tuple(hook.events), secret=hook.secret)
