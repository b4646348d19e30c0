"""The account's numbers: search and add (N1, N2), assignment and release (N3), porting in (N4).

What a number is (country, format, region) comes from services.inventory, which derives it from
the number itself.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from ringtui.errors import Conflict, Invalid, PermissionDenied
from ringtui.models import Conference, Ivr, PhoneNumber, PortDocument, PortRequest, User
from ringtui.models.types import utcnow
from ringtui.services.access import Area, is_admin, require_area
from ringtui.services.base import Operation, audit
from ringtui.services.lookups import (
    conference_by_name,
    ivr_by_name,
    number_by_e164,
    user_by_email,
)
from ringtui.services.phones import check_country, to_e164
from ringtui.services.plans import Feature, require_feature
from ringtui.vocab import AssigneeKind, NumberFormat, NumberStatus, PortDocumentKind, PortStatus

# B7: every number the account holds is billed monthly; one price, here.
MONTHLY_PRICE_EUR = 5
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_ADDRESS_LENGTH = 300

if TYPE_CHECKING:
    from ringtui.services.inventory import InventoryNumber


def assignee(op: Operation, number: PhoneNumber) -> dict[str, str] | None:
    """`{"kind": ..., "name": ...}` of what the number is assigned to, or None."""
    if number.assigned_kind is None:
        return None
    model: type[User] | type[Ivr] | type[Conference]
    model, key = {
        AssigneeKind.USER: (User, number.user_id),
        AssigneeKind.IVR: (Ivr, number.ivr_id),
        AssigneeKind.CONFERENCE: (Conference, number.conference_id),
    }[AssigneeKind(number.assigned_kind)]
    target = op.session.get(model, key)
    name = target.email if isinstance(target, User) else target.name if target else None
    return {"kind": str(number.assigned_kind), "name": name}


def number_dict(op: Operation, number: PhoneNumber) -> dict[str, Any]:
    return _as_dict(number, assignee(op, number))


def _as_dict(number: PhoneNumber, assigned_to: dict[str, str] | None) -> dict[str, Any]:
    return {
        "number": number.e164,
        "country": number.country,
        "format": number.format,
        "region": number.region,
        "status": number.status,
        "assigned_to": assigned_to,
        "label": number.label,
        "address": number.address,
    }


def _require_numbers(op: Operation) -> None:
    require_feature(op.account, Feature.NUMBERS)
    require_area(op, Area.CONFIGURATION)


def clear_assignment(number: PhoneNumber) -> None:
    number.assigned_kind = None
    number.user_id = number.ivr_id = number.conference_id = None
    number.label = None
    number.status = NumberStatus.AVAILABLE


def require_available(op: Operation, number: PhoneNumber) -> None:
    if number.status == NumberStatus.PORTING:
        raise Conflict(f"{number.e164} is still being ported in; it can be assigned once ported")
    if number.status == NumberStatus.ASSIGNED:
        owner = assignee(op, number)
        raise Conflict(
            f"{number.e164} is already assigned to {owner['kind']} {owner['name']}; "
            f"release it first (`ringtui numbers release {number.e164}`)" if owner else
            f"{number.e164} is already assigned")


def attach_to_user(op: Operation, number: PhoneNumber, user: User, label: str | None = None) -> None:
    """Give an available number to a user; the caller has checked the rights."""
    require_available(op, number)
    number.assigned_kind = AssigneeKind.USER
    number.user_id = user.id
    number.label = label
    number.status = NumberStatus.ASSIGNED
    op.session.add(number)


def assign(
    op: Operation,
    raw_number: str,
    *,
    user: str | None = None,
    ivr: str | None = None,
    conference: str | None = None,
    label: str | None = None,
) -> dict[str, Any]:
    _require_numbers(op)
    if sum(x is not None for x in (user, ivr, conference)) != 1:
        raise Invalid("give exactly one of --user EMAIL, --ivr NAME or --conference NAME")
    number = number_by_e164(op, to_e164(raw_number, op.account.country))
    before = number_dict(op, number)
    if user is not None:
        attach_to_user(op, number, user_by_email(op, user), label)
    else:
        require_available(op, number)
        if ivr is not None:
            number.assigned_kind, number.ivr_id = AssigneeKind.IVR, ivr_by_name(op, ivr).id
        else:
            room = conference_by_name(op, conference or "")
            if room is None:
                room = Conference(name=conference.strip())
                op.session.add(room)
                op.session.flush()
            number.assigned_kind, number.conference_id = AssigneeKind.CONFERENCE, room.id
        number.label = label
        number.status = NumberStatus.ASSIGNED
        op.session.add(number)
    op.session.flush()
    after = number_dict(op, number)
    audit(op, "number.assign", number.e164, before=before, after=after)
    return after


def release(op: Operation, raw_number: str) -> dict[str, Any]:
    _require_numbers(op)
    number = number_by_e164(op, to_e164(raw_number, op.account.country))
    if number.status != NumberStatus.ASSIGNED:
        raise Conflict(f"{number.e164} is not assigned (status {number.status}); nothing to release")
    before = number_dict(op, number)
    clear_assignment(number)
    op.session.add(number)
    op.session.flush()
    after = number_dict(op, number)
    audit(op, "number.release", number.e164, before=before, after=after)
    return after


def release_all_of_user(op: Operation, user: User) -> list[str]:
    """Release every number of a leaving user; returns the released numbers."""
    numbers = op.session.exec(select(PhoneNumber).where(PhoneNumber.user_id == user.id)).all()
    for number in numbers:
        clear_assignment(number)
        op.session.add(number)
        audit(op, "number.release", number.e164, before={"assigned_to": user.email})
    return [n.e164 for n in numbers]


# ---------------------------------------------------------------- search and add (N1, N2)


def _held_numbers(op: Operation) -> frozenset[str]:
    return frozenset(op.session.exec(select(PhoneNumber.e164)).all())


def search(
    op: Operation, country: str, number_format: str, *, region: str | None = None, limit: int = 10
) -> list[dict[str, Any]]:
    """Numbers of the inventory the account may add; those it holds already are left out."""
    _require_numbers(op)
    from ringtui.services import inventory  # the geocoder data costs a third of a second to load

    found = inventory.search(country, number_format, region=region, limit=limit,
                             exclude=_held_numbers(op))
    return [number.as_dict() for number in found]


def _check_address(number: InventoryNumber, address: str | None) -> str | None:
    text = " ".join((address or "").split())
    if len(text) > MAX_ADDRESS_LENGTH:
        raise Invalid(f"address {text[:40]!r}... is longer than {MAX_ADDRESS_LENGTH} characters")
    if number.format != NumberFormat.LOCAL:
        return text or None
    if not text:
        raise Invalid(f"{number.e164} is a local number of {number.region}: give --address with an "
                      f"address in {number.region}")
    if not number.is_in(text):
        raise Invalid(f"address {text!r} is not in {number.region}, the city of {number.e164}: give an "
                      f"address in {number.region}")
    return text


def add_number(op: Operation, raw_number: str, *, address: str | None = None) -> dict[str, Any]:
    """Add a number to the account's available numbers; its monthly price joins the invoice."""
    _require_numbers(op)
    e164 = to_e164(raw_number, op.account.country)
    from ringtui.services import inventory

    facts = inventory.describe(e164)
    if e164 in _held_numbers(op):
        raise Conflict(f"{e164} is already one of the account's numbers (see `ringtui numbers list`)")
    number = PhoneNumber(e164=e164, country=facts.country, format=facts.format, region=facts.region,
                         address=_check_address(facts, address), status=NumberStatus.AVAILABLE)
    op.session.add(number)
    op.session.flush()
    after = number_dict(op, number)
    audit(op, "number.add", e164, after=after | {"monthly_price_eur": MONTHLY_PRICE_EUR})
    return after


# ---------------------------------------------------------------- listing


def list_numbers(
    op: Operation, *, status: NumberStatus | None = None, country: str | None = None
) -> list[dict[str, Any]]:
    """The account's numbers with their assignees, in one query however many there are."""
    _require_numbers(op)
    query = (select(PhoneNumber, User.email, Ivr.name, Conference.name)
             .outerjoin(User, User.id == PhoneNumber.user_id)
             .outerjoin(Ivr, Ivr.id == PhoneNumber.ivr_id)
             .outerjoin(Conference, Conference.id == PhoneNumber.conference_id)
             .order_by(PhoneNumber.e164))
    if status is not None:
        query = query.where(PhoneNumber.status == status)
    if country is not None:
        query = query.where(PhoneNumber.country == check_country(country))
    rows = []
    for number, email, ivr_name, room in op.session.exec(query):
        name = {AssigneeKind.USER: email, AssigneeKind.IVR: ivr_name,
                AssigneeKind.CONFERENCE: room}.get(number.assigned_kind)
        owner = {"kind": str(number.assigned_kind), "name": name} if number.assigned_kind else None
        rows.append(_as_dict(number, owner))
    return rows


# ---------------------------------------------------------------- porting in (N4)


def _parse_documents(pairs: Sequence[str]) -> dict[PortDocumentKind, Path]:
    kinds = ", ".join(PortDocumentKind)
    documents: dict[PortDocumentKind, Path] = {}
    for pair in pairs:
        kind_text, sep, path_text = pair.partition("=")
        if not sep or not path_text.strip():
            raise Invalid(f"--document {pair!r}: give KIND=PATH with KIND one of {kinds}")
        try:
            kind = PortDocumentKind(kind_text.strip().lower())
        except ValueError:
            raise Invalid(f"unknown document kind {kind_text!r} in {pair!r}; kinds: {kinds}") from None
        if kind in documents:
            raise Invalid(f"the {kind} document is given twice ({documents[kind]} and {path_text.strip()})")
        documents[kind] = Path(path_text.strip()).expanduser()
    missing = [kind.value for kind in PortDocumentKind if kind not in documents]
    if missing:
        raise Invalid(f"a port request needs the {kinds} documents; missing: {', '.join(missing)} "
                      "(give --document KIND=PATH)")
    return documents


def _read_document(kind: PortDocumentKind, path: Path) -> bytes:
    if not path.is_file():
        raise Invalid(f"the {kind} document {str(path)!r} does not exist or is not a file")
    size = path.stat().st_size
    if size == 0:
        raise Invalid(f"the {kind} document {str(path)!r} is empty")
    if size > MAX_DOCUMENT_BYTES:
        raise Invalid(f"the {kind} document {str(path)!r} is {size} bytes; the limit is "
                      f"{MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")
    return path.read_bytes()


def _document_views(op: Operation, request_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Kind, name, size and digest of the documents of some requests; the content stays put."""
    query = (select(PortDocument.port_request_id, PortDocument.kind, PortDocument.filename,
                    PortDocument.size, PortDocument.sha256)
             .where(PortDocument.port_request_id.in_(list(request_ids)))
             .order_by(PortDocument.kind))
    views: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for request_id, kind, filename, size, digest in op.session.exec(query):
        views[request_id].append({"kind": kind, "filename": filename, "size": size, "sha256": digest})
    return views


def _port_dict(request: PortRequest, documents: list[Any]) -> dict[str, Any]:
    return {
        "number": request.e164,
        "country": request.country,
        "format": request.format,
        "region": request.region,
        "status": request.status,
        "requested_at": request.requested_at,
        "expected_by": request.expected_by,
        "completed_at": request.completed_at,
        "documents": documents,
    }


def porting_days(op: Operation, country: str) -> int:
    return op.settings.porting_days.get(country, op.settings.porting_days_default)


def port_number(op: Operation, raw_number: str, documents: Sequence[str]) -> dict[str, Any]:
    """Request to port a number in; it joins the account as `porting` until the carrier answers."""
    _require_numbers(op)
    e164 = to_e164(raw_number, op.account.country)
    from ringtui.services import inventory

    facts = inventory.describe(e164, ported=True)
    existing = op.session.exec(select(PhoneNumber).where(PhoneNumber.e164 == e164)).first()
    if existing is not None:
        being = "is being ported in already" if existing.status == NumberStatus.PORTING else \
            "is already one of the account's numbers"
        raise Conflict(f"{e164} {being} (see `ringtui numbers ports`)")
    contents = {kind: (path, _read_document(kind, path))
                for kind, path in _parse_documents(documents).items()}
    number = PhoneNumber(e164=e164, country=facts.country, format=facts.format, region=facts.region,
                         status=NumberStatus.PORTING)
    op.session.add(number)
    op.session.flush()
    request = PortRequest(number_id=number.id, e164=e164, country=facts.country, format=facts.format,
                          region=facts.region, status=PortStatus.REQUESTED,
                          expected_by=utcnow().date() + timedelta(days=porting_days(op, facts.country)))
    op.session.add(request)
    op.session.flush()
    for kind, (path, content) in contents.items():
        op.session.add(PortDocument(port_request_id=request.id, kind=kind, filename=path.name,
                                    sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                                    content=content))
    op.session.flush()
    result = _port_dict(request, _document_views(op, [request.id])[request.id])
    audit(op, "number.port", e164, after=result)
    return result


def list_ports(op: Operation) -> list[dict[str, Any]]:
    _require_numbers(op)
    requests = op.session.exec(select(PortRequest).order_by(PortRequest.requested_at, PortRequest.id)).all()
    documents = _document_views(op, [request.id for request in requests])
    return [_port_dict(request, [d["kind"] for d in documents.get(request.id, [])]) for request in requests]


_OPEN_PORTS = (PortStatus.REQUESTED, PortStatus.IN_PROGRESS)
_PORT_MOVES = (PortStatus.IN_PROGRESS, PortStatus.COMPLETED, PortStatus.REJECTED)


def _parse_port_status(raw: str) -> PortStatus:
    try:
        status = PortStatus(raw.strip().lower().replace("-", "_"))
    except ValueError:
        status = None
    if status not in _PORT_MOVES:
        raise Invalid(f"unknown port status {raw!r}; give one of {', '.join(_PORT_MOVES)}")
    return status


def set_port_status(op: Operation, raw_number: str, raw_status: str) -> dict[str, Any]:
    """Record the carrier's answer: in progress, completed (number available) or rejected (removed)."""
    require_feature(op.account, Feature.NUMBERS)
    if not is_admin(op.actor):
        raise PermissionDenied(f"{op.actor.email} has the {op.actor.role} role: only an admin or the "
                               "super admin records how a port request went")
    status = _parse_port_status(raw_status)
    number = number_by_e164(op, to_e164(raw_number, op.account.country))
    request = op.session.exec(select(PortRequest).where(
        PortRequest.number_id == number.id, PortRequest.status.in_(_OPEN_PORTS))
        .order_by(PortRequest.id.desc())).first()
    if request is None:
        raise Conflict(f"{number.e164} has no port request under way (number status {number.status})")
    if request.status == status:
        raise Conflict(f"the port request of {number.e164} is already {status}")
    documents = _document_views(op, [request.id])[request.id]
    before = _port_dict(request, documents)
    request.status = status
    if status == PortStatus.COMPLETED:
        request.completed_at = utcnow()
        number.status = NumberStatus.AVAILABLE
    result = _port_dict(request, documents)
    op.session.add(request)
    if status == PortStatus.REJECTED:
        # A rejected number never joined the account: it leaves the inventory; the request and
        # its documents stay, for the record.
        request.number_id = None
        op.session.flush()
        op.session.delete(number)
    else:
        op.session.add(number)
    op.session.flush()
    audit(op, "number.port_status", number.e164, before={"status": before["status"]},
          after={"status": status, "number_status": number.status if status != PortStatus.REJECTED
                 else "removed"})
    return result
