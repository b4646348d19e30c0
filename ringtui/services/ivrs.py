"""IVR records (I1). Scenarios and their steps join this module with the routing engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete
from sqlmodel import select

from ringtui.errors import Conflict, Invalid, PermissionDenied
from ringtui.models import Ivr, IvrVipNumber, PhoneNumber
from ringtui.services.access import Area, require_area, scope_ids
from ringtui.services.base import Operation, audit
from ringtui.services.lookups import ivr_by_name
from ringtui.services.numbers import clear_assignment
from ringtui.services.phones import to_e164
from ringtui.services.plans import Feature, require_feature
from ringtui.services.validation import check_name
from ringtui.vocab import AnonymousPolicy, ScopeKind


def parse_anonymous(raw: str) -> AnonymousPolicy:
    try:
        return AnonymousPolicy(raw.strip().lower())
    except ValueError:
        raise Invalid(f"--anonymous {raw!r}: expected allow or reject") from None


def ivr_dict(op: Operation, ivr: Ivr) -> dict[str, Any]:
    vips = op.session.exec(select(IvrVipNumber.number).where(IvrVipNumber.ivr_id == ivr.id)
                           .order_by(IvrVipNumber.number)).all()
    numbers = op.session.exec(select(PhoneNumber.e164).where(PhoneNumber.ivr_id == ivr.id)
                              .order_by(PhoneNumber.e164)).all()
    return {
        "name": ivr.name,
        "record_inbound": ivr.record_inbound,
        "record_outbound": ivr.record_outbound,
        "anonymous": ivr.anonymous,
        "vip_numbers": list(vips),
        "numbers": list(numbers),
        "script": ivr.script,
        "created_at": ivr.created_at,
    }


def create_ivr(
    op: Operation,
    name: str,
    *,
    record: bool = False,
    vip_numbers: Sequence[str] = (),
    anonymous: str = AnonymousPolicy.ALLOW.value,
    script: str = "",
) -> dict[str, Any]:
    require_feature(op.account, Feature.IVRS)
    require_area(op, Area.CONFIGURATION)
    clean = check_name(name, "IVR name")
    if op.session.exec(select(Ivr.id).where(Ivr.name == clean)).first() is not None:
        raise Conflict(f"IVR {clean!r} already exists")
    vips = sorted({to_e164(raw, op.account.country) for raw in vip_numbers})
    ivr = Ivr(name=clean, record_inbound=record, record_outbound=record,
              anonymous=parse_anonymous(anonymous), script=script)
    op.session.add(ivr)
    op.session.flush()
    op.session.add_all(IvrVipNumber(ivr_id=ivr.id, number=number) for number in vips)
    op.session.flush()
    result = ivr_dict(op, ivr)
    audit(op, "ivr.create", clean, after=result)
    return result


def list_ivrs(op: Operation) -> list[dict[str, Any]]:
    require_feature(op.account, Feature.IVRS)
    query = select(Ivr).order_by(Ivr.name)
    visible = scope_ids(op, ScopeKind.IVR)
    if visible is not None:
        query = query.where(Ivr.id.in_(visible))
    else:
        require_area(op, Area.CONFIGURATION)
    return [ivr_dict(op, ivr) for ivr in op.session.exec(query)]


def show_ivr(op: Operation, name: str) -> dict[str, Any]:
    ivr = ivr_by_name(op, name)
    visible = scope_ids(op, ScopeKind.IVR)
    if visible is None:
        require_area(op, Area.CONFIGURATION)
    elif ivr.id not in visible:
        raise PermissionDenied(f"IVR {name!r} is outside what {op.actor.email} supervises")
    return ivr_dict(op, ivr)


def delete_ivr(op: Operation, name: str) -> dict[str, Any]:
    """Delete an IVR; its numbers go back to the available ones."""
    require_area(op, Area.CONFIGURATION)
    ivr = ivr_by_name(op, name)
    before = ivr_dict(op, ivr)
    for number in op.session.exec(select(PhoneNumber).where(PhoneNumber.ivr_id == ivr.id)):
        clear_assignment(number)
        op.session.add(number)
    op.session.exec(delete(IvrVipNumber).where(IvrVipNumber.ivr_id == ivr.id))
    op.session.delete(ivr)
    audit(op, "ivr.delete", ivr.name, before=before)
    return before
