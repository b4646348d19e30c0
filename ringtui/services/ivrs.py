"""IVRs and their scenarios (I1-I3): records, steps, opening hours and the declarative file.

The rules a step obeys live in services.scenarios; this module reads and writes the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlmodel import select

from ringtui.errors import Conflict, Invalid, NotFound, PermissionDenied
from ringtui.models import Ivr, IvrStep, IvrVipNumber, PhoneNumber
from ringtui.services import scenarios
from ringtui.services.access import Area, require_area, scope_ids
from ringtui.services.base import Operation, audit
from ringtui.services.lookups import ivr_by_name
from ringtui.services.numbers import clear_assignment
from ringtui.services.phones import to_e164
from ringtui.services.plans import Feature, require_feature
from ringtui.services.validation import check_name, read_text_file
from ringtui.vocab import AnonymousPolicy, ScopeKind, StepType


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
        "announce_recording": ivr.announce_recording,
        "hours": scenarios.format_hours(ivr.opening_hours) or "always open",
        "opening_hours": ivr.opening_hours,
        "closed_step": ivr.closed_step,
        "steps": [step_dict(row) for row in _steps(op, ivr)],
        "created_at": ivr.created_at,
    }


def step_dict(row: IvrStep) -> dict[str, Any]:
    return {"position": row.position, "name": row.name, "type": row.type, "skip_if": list(row.skip_if),
            "settings": dict(row.settings)}


def _steps(op: Operation, ivr: Ivr) -> list[IvrStep]:
    return list(op.session.exec(select(IvrStep).where(IvrStep.ivr_id == ivr.id).order_by(IvrStep.position)))


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
    return ivr_dict(op, _visible_ivr(op, name))


def _visible_ivr(op: Operation, name: str) -> Ivr:
    ivr = ivr_by_name(op, name)
    visible = scope_ids(op, ScopeKind.IVR)
    if visible is None:
        require_area(op, Area.CONFIGURATION)
    elif ivr.id not in visible:
        raise PermissionDenied(f"IVR {name!r} is outside what {op.actor.email} supervises")
    return ivr


def delete_ivr(op: Operation, name: str) -> dict[str, Any]:
    """Delete an IVR; its numbers go back to the available ones."""
    require_area(op, Area.CONFIGURATION)
    ivr = ivr_by_name(op, name)
    before = ivr_dict(op, ivr)
    for number in op.session.exec(select(PhoneNumber).where(PhoneNumber.ivr_id == ivr.id)):
        clear_assignment(number)
        op.session.add(number)
    op.session.exec(delete(IvrVipNumber).where(IvrVipNumber.ivr_id == ivr.id))
    op.session.exec(delete(IvrStep).where(IvrStep.ivr_id == ivr.id))
    op.session.delete(ivr)
    audit(op, "ivr.delete", ivr.name, before=before)
    return before


# ---------------------------------------------------------------- scenario steps (I2, I3)

# How `ivr step add` spells each key of a step, so that its errors name the option typed.
STEP_OPTIONS = {
    "name": "--name", "type": "--type", "text": "--text", "sound": "--sound", "choices": "--choice",
    "timeout_s": "--timeout", "default": "--default", "agents": "--agent", "groups": "--group",
    "strategy": "--strategy", "ring_s": "--ring-seconds", "weights": "--weight", "max_wait_s": "--max-wait",
    "exit": "--exit", "mailbox": "--mailbox", "number": "--number", "category": "--category",
    "skip_if": "--skip-if",
}


def _option(key: str) -> str:
    return STEP_OPTIONS.get(key, key)


def add_step(
    op: Operation,
    ivr_name: str,
    step_type: str,
    *,
    name: str | None = None,
    position: int | None = None,
    text: str | None = None,
    sound: str | None = None,
    choices: Sequence[str] = (),
    timeout: float | None = None,
    default: str | None = None,
    agents: Sequence[str] = (),
    groups: Sequence[str] = (),
    strategy: str | None = None,
    ring_seconds: int | None = None,
    weights: Sequence[str] = (),
    max_wait: float | None = None,
    exit: str | None = None,
    mailbox: str | None = None,
    number: str | None = None,
    category: str | None = None,
    skip_if: str | None = None,
) -> dict[str, Any]:
    """Add a step to an IVR's scenario, at `position` (1 = first) or at the end."""
    require_feature(op.account, Feature.IVRS)
    require_area(op, Area.CONFIGURATION)
    ivr = ivr_by_name(op, ivr_name)
    rows = _steps(op, ivr)
    fields: dict[str, Any] = {
        "type": step_type, "text": text, "sound": sound, "timeout_s": timeout, "default": default,
        "strategy": strategy, "ring_s": ring_seconds, "max_wait_s": max_wait, "exit": exit,
        "mailbox": mailbox, "number": number, "category": category, "skip_if": skip_if,
        "choices": _pairs("--choice", "DIGIT=STEP", choices, str) if choices else None,
        "weights": _pairs("--weight", "EMAIL=WEIGHT", weights, int) if weights else None,
        "agents": list(agents) or None, "groups": list(groups) or None,
    }
    fields = {key: value for key, value in fields.items() if value is not None}
    checked = scenarios.check_step(fields, scenarios.load_directory(op.session, op.account.country),
                                   name=_new_step_name(ivr, rows, name, step_type), spell=_option)
    _check_step_references(ivr, [*(row.name for row in rows), checked.name], checked)
    index = _insert_index(ivr, rows, position)
    row = IvrStep(ivr_id=ivr.id, position=-(len(rows) + 1), name=checked.name, type=checked.type,
                  settings=checked.settings, skip_if=checked.skip_if)
    _place(op, [*rows[:index], row, *rows[index:]])
    result = {"ivr": ivr.name, **step_dict(row)}
    audit(op, "ivr.step.add", f"{ivr.name}/{row.name}", after=result)
    return result


def _new_step_name(ivr: Ivr, rows: Sequence[IvrStep], name: str | None, step_type: str) -> str:
    taken = [row.name for row in rows]
    if name is None:
        return scenarios.generated_name(scenarios.check_step_type(step_type, spell=_option), taken)
    clean = scenarios.check_step_name(name, spell=_option)
    if clean in taken:
        raise Conflict(f"IVR {ivr.name!r} already has a step {clean!r}; give another --name")
    return clean


def _check_step_references(ivr: Ivr, names: Sequence[str], step: scenarios.CheckedStep) -> None:
    for key, target in scenarios.references(step.settings):
        if target not in names:
            option = _option(key[0]) + (f" {key[1]}" if len(key) > 1 else "")
            raise Invalid(
                f"step {step.name!r}: {option} {target!r} is not a step of IVR {ivr.name!r} (its steps: "
                f"{', '.join(names[:-1]) or 'none yet'}); `ivr step add` refers only to existing steps: "
                f"add {target!r} first, or describe the whole scenario in a file for `ringtui ivr apply`")


def _insert_index(ivr: Ivr, rows: Sequence[IvrStep], position: int | None) -> int:
    if position is None:
        return len(rows)
    if not 1 <= position <= len(rows) + 1:
        raise Invalid(f"--position {position} is outside IVR {ivr.name!r}'s scenario: give 1 to "
                      f"{len(rows) + 1} (it has {len(rows)} step(s))")
    return position - 1


def _place(op: Operation, ordered: Sequence[IvrStep]) -> None:
    """Number the steps 1..n in this order; through negatives, as (ivr, position) is unique."""
    for index, row in enumerate(ordered):
        row.position = -(index + 1)
        op.session.add(row)
    op.session.flush()
    for index, row in enumerate(ordered):
        row.position = index + 1
    op.session.flush()


def _pairs(option: str, form: str, items: Sequence[str], convert: type) -> dict[str, Any]:
    pairs: dict[str, Any] = {}
    for item in items:
        key, sign, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sign or not key or not value:
            raise Invalid(f"{option} {item!r} is not accepted: give {form}")
        if key in pairs:
            raise Invalid(f"{option} {key!r} is given twice: give each key once")
        try:
            pairs[key] = convert(value)
        except ValueError:
            raise Invalid(f"{option} {item!r} is not accepted: give {form} with a whole number") from None
    return pairs


def remove_step(op: Operation, ivr_name: str, step_name: str) -> dict[str, Any]:
    """Remove a step that no other step (nor the closed-hours setting) points to."""
    require_feature(op.account, Feature.IVRS)
    require_area(op, Area.CONFIGURATION)
    ivr = ivr_by_name(op, ivr_name)
    rows = _steps(op, ivr)
    row = next((r for r in rows if r.name == step_name.strip()), None)
    if row is None:
        raise NotFound(f"IVR {ivr.name!r} has no step {step_name!r}; its steps: "
                       f"{', '.join(r.name for r in rows) or 'none'}")
    referrers = [f"{other.name} ({'.'.join(key)})" for other in rows if other is not row
                 for key, target in scenarios.references(other.settings) if target == row.name]
    if ivr.closed_step == row.name:
        referrers.append("the IVR's closed step (`ringtui ivr hours`)")
    if referrers:
        raise Conflict(f"step {row.name!r} of IVR {ivr.name!r} is still referred to by "
                       f"{', '.join(referrers)}; change those first")
    before = {"ivr": ivr.name, **step_dict(row)}
    op.session.delete(row)
    op.session.flush()
    _place(op, [r for r in rows if r is not row])
    audit(op, "ivr.step.remove", f"{ivr.name}/{row.name}", before=before)
    return before


def list_steps(op: Operation, ivr_name: str) -> list[dict[str, Any]]:
    require_feature(op.account, Feature.IVRS)
    return [step_dict(row) for row in _steps(op, _visible_ivr(op, ivr_name))]


def set_hours(
    op: Operation,
    ivr_name: str,
    schedule: str | None,
    *,
    always_open: bool = False,
    closed_step: str | None = None,
) -> dict[str, Any]:
    """Opening hours ('mon-fri 09:00-18:00; sat 10:00-12:00') and the step run outside them."""
    require_feature(op.account, Feature.IVRS)
    require_area(op, Area.CONFIGURATION)
    ivr = ivr_by_name(op, ivr_name)
    if always_open and schedule:
        raise Invalid(f"give hours ({schedule!r}) or --always-open, not both")
    if not (always_open or schedule or closed_step):
        raise Invalid("give opening hours such as 'mon-fri 09:00-18:00; sat 10:00-12:00', "
                      "--always-open, or --closed-step STEP")
    before = ivr_dict(op, ivr)
    hours = None if always_open else scenarios.parse_hours(schedule) if schedule else ivr.opening_hours
    names = [row.name for row in _steps(op, ivr)]
    # Always open: no step can run "outside opening hours" any more.
    closed = ivr.closed_step if closed_step is None and not always_open else closed_step
    ivr.opening_hours = hours
    ivr.closed_step = scenarios.check_closed_step(closed, names, ivr.name, has_hours=hours is not None)
    op.session.add(ivr)
    op.session.flush()
    after = ivr_dict(op, ivr)
    audit(op, "ivr.hours", ivr.name, before=before, after=after)
    return after


# ---------------------------------------------------------------- the declarative file


def apply_file(op: Operation, file: Path) -> list[dict[str, Any]]:
    """Make each IVR of a scenario file match it exactly; IVRs not in the file are left alone.

    One transaction: a file with any problem changes nothing. Re-applying a file reports
    every IVR unchanged and leaves no audit entry.
    """
    require_feature(op.account, Feature.IVRS)
    require_area(op, Area.CONFIGURATION)
    directory = scenarios.load_directory(op.session, op.account.country)
    plans = scenarios.read_scenario_file(str(file), read_text_file(file), directory)
    names = [plan.name for plan in plans]
    existing = {ivr.name: ivr for ivr in op.session.exec(select(Ivr).where(Ivr.name.in_(names)))}
    return [_apply_plan(op, plan, existing.get(plan.name)) for plan in plans]


def _apply_plan(op: Operation, plan: scenarios.IvrPlan, ivr: Ivr | None) -> dict[str, Any]:
    summary = {"name": plan.name, "steps": len(plan.state["steps"])}
    if ivr is None:
        ivr = Ivr(name=plan.name)
        before = None
    else:
        before = _state(op, ivr)
        if before == plan.state:
            return {**summary, "result": "unchanged"}
        op.session.exec(delete(IvrVipNumber).where(IvrVipNumber.ivr_id == ivr.id))
        op.session.exec(delete(IvrStep).where(IvrStep.ivr_id == ivr.id))
    _write_state(op, ivr, plan.state)
    audit(op, "ivr.apply", plan.name, before=before, after=plan.state)
    return {**summary, "result": "created" if before is None else "updated"}


def _state(op: Operation, ivr: Ivr) -> dict[str, Any]:
    """An IVR in the shape scenarios.read_scenario_file gives, to compare with a file."""
    vips = op.session.exec(select(IvrVipNumber.number).where(IvrVipNumber.ivr_id == ivr.id))
    return {
        "record": ivr.record_inbound if ivr.record_inbound == ivr.record_outbound else None,
        "announce_recording": ivr.announce_recording,
        "anonymous": ivr.anonymous,
        "script": ivr.script,
        "vip": sorted(vips),
        "opening_hours": ivr.opening_hours,
        "closed_step": ivr.closed_step,
        "steps": [{"name": row.name, "type": row.type, "settings": row.settings, "skip_if": row.skip_if}
                  for row in _steps(op, ivr)],
    }


def _write_state(op: Operation, ivr: Ivr, state: Mapping[str, Any]) -> None:
    ivr.record_inbound = ivr.record_outbound = state["record"]
    ivr.announce_recording = state["announce_recording"]
    ivr.anonymous = AnonymousPolicy(state["anonymous"])
    ivr.script = state["script"]
    ivr.opening_hours = state["opening_hours"]
    ivr.closed_step = state["closed_step"]
    op.session.add(ivr)
    op.session.flush()
    op.session.add_all(IvrVipNumber(ivr_id=ivr.id, number=number) for number in state["vip"])
    op.session.add_all(
        IvrStep(ivr_id=ivr.id, position=index, name=step["name"], type=StepType(step["type"]),
                settings=step["settings"], skip_if=step["skip_if"])
        for index, step in enumerate(state["steps"], start=1))
    op.session.flush()
