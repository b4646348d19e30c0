"""IVR scenarios (I2, I3): the rules a step obeys, the declarative scenario file, and the
immutable Scenario objects the routing engine reads.

Steps are stored with every setting of their type filled in (defaults included), so that
two descriptions of the same scenario compare equal whatever defaults they spelled out.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from ringtui.engine.core.scenario import Scenario, Step, WeekHours
from ringtui.errors import Invalid
from ringtui.models import Ivr, IvrStep, IvrVipNumber, PhoneNumber, User, UserGroup
from ringtui.services.phones import to_e164
from ringtui.services.users import parse_schedule
from ringtui.vocab import AnonymousPolicy, SkipCondition, StepType, Strategy

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MENU_KEYS = "0123456789*#"
MAX_TEXT = 1000
MAX_STEP_NAME = 60

_RING_KEYS = ("agents", "groups", "strategy", "ring_s", "weights")
KEYS_BY_TYPE: dict[StepType, tuple[str, ...]] = {
    StepType.ANNOUNCE: ("text", "sound"),
    StepType.MENU: ("text", "choices", "timeout_s", "default"),
    StepType.RING: _RING_KEYS,
    StepType.QUEUE: (*_RING_KEYS, "max_wait_s", "exit"),
    StepType.VOICEMAIL: ("text", "mailbox"),
    StepType.FORWARD: ("number",),
    StepType.SURVEY: ("text", "category"),
}
COMMON_KEYS = ("name", "type", "skip_if")
# I3 speaks of "the agents of the step": only steps that ring agents can be skipped.
SKIPPABLE = frozenset({StepType.RING, StepType.QUEUE})
REFERENCE_KEYS = ("default", "exit")

_STEP_DEFAULTS: dict[str, Any] = {
    f.name: f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    for f in dataclasses.fields(Step) if f.name not in ("name", "type")
}

Spelling = Callable[[str], str]


def _as_key(key: str) -> str:
    return key


class StepInvalid(Invalid):
    """A step refused; `key` is where in the step (e.g. ("choices", "1")), for file positions."""

    def __init__(self, step: str, key: tuple[str, ...], message: str) -> None:
        self.step = step
        self.key = key
        super().__init__(f"step {step!r}: {message}")


@dataclass(frozen=True)
class Directory:
    """What steps may name: the account's users and groups, and its default country."""

    emails: frozenset[str]
    groups: frozenset[str]
    country: str


@dataclass(frozen=True)
class CheckedStep:
    """A step ready to be stored: settings normalised and complete for its type."""

    name: str
    type: StepType
    settings: dict[str, Any]
    skip_if: list[str]

    def stored(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type.value, "settings": self.settings,
                "skip_if": self.skip_if}


def load_directory(session: Session, country: str) -> Directory:
    emails = session.exec(select(User.email)).all()
    groups = session.exec(select(UserGroup.name)).all()
    return Directory(frozenset(emails), frozenset(groups), country)


# ---------------------------------------------------------------- one rule per setting


def check_step_type(raw: Any, step: str = "(new)", spell: Spelling = _as_key) -> StepType:
    try:
        return StepType(str(raw).strip().lower())
    except ValueError:
        accepted = ", ".join(t.value for t in StepType)
        raise StepInvalid(step, ("type",), f"{spell('type')} {raw!r} is not a step type; "
                                           f"give one of {accepted}") from None


def check_step_name(raw: Any, spell: Spelling = _as_key) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise StepInvalid(str(raw), ("name",), f"{spell('name')} {raw!r} is not accepted: "
                                               "give a non-empty text such as 'welcome'")
    name = raw.strip()
    if len(name) > MAX_STEP_NAME:
        raise StepInvalid(name, ("name",), f"{spell('name')} is longer than {MAX_STEP_NAME} characters")
    return name


def check_text(step: str, key: str, raw: Any, spell: Spelling = _as_key) -> str:
    if not isinstance(raw, str) or len(raw) > MAX_TEXT:
        raise StepInvalid(step, (key,), f"{spell(key)} {_shown(raw)} is not accepted: "
                                        f"give a text of at most {MAX_TEXT} characters")
    return raw.strip()


def check_choices(step: str, raw: Any, spell: Spelling = _as_key) -> dict[str, str]:
    if not isinstance(raw, Mapping) or not raw:
        raise StepInvalid(step, ("choices",), f"a menu needs {spell('choices')}: give at least one "
                                              "DIGIT=STEP (digits 0-9, * or #)")
    choices: dict[str, str] = {}
    for digit, target in raw.items():
        key = str(digit).strip()
        if len(key) != 1 or key not in MENU_KEYS:
            raise StepInvalid(step, ("choices", str(digit)),
                              f"{spell('choices')} key {digit!r} is not a key of a phone: give one of "
                              "0-9, * or #")
        choices[key] = check_reference(step, ("choices", key), target, spell)
    return dict(sorted(choices.items(), key=lambda item: MENU_KEYS.index(item[0])))


def check_reference(step: str, key: tuple[str, ...], raw: Any, spell: Spelling = _as_key) -> str:
    """A step name a menu, default or exit points to (whether it exists is checked with the others)."""
    if not isinstance(raw, str) or not raw.strip():
        raise StepInvalid(step, key, f"{_label(key, spell)} {_shown(raw)} is not a step name: give the "
                                     "name of a step of this IVR")
    return raw.strip()


def _label(key: tuple[str, ...], spell: Spelling) -> str:
    """How an error names a key: 'ring_s', or 'choices 1' for a menu key."""
    return f"{spell(key[0])} {key[1]}" if len(key) > 1 else spell(key[0])


def check_seconds(step: str, key: str, raw: Any, low: int, high: int, spell: Spelling = _as_key) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not low <= raw <= high:
        raise StepInvalid(step, (key,), f"{spell(key)} {_shown(raw)} is not accepted: "
                                        f"give seconds from {low} to {high}")
    return raw


def check_timeout(step: str, raw: Any, spell: Spelling = _as_key) -> float:
    return check_seconds(step, "timeout_s", raw, 1, 60, spell)


def check_ring_seconds(step: str, raw: Any, spell: Spelling = _as_key) -> float:
    return check_seconds(step, "ring_s", raw, 5, 300, spell)


def check_max_wait(step: str, raw: Any, spell: Spelling = _as_key) -> float:
    return check_seconds(step, "max_wait_s", raw, 10, 7200, spell)


def check_user_email(step: str, key: tuple[str, ...], raw: Any, directory: Directory,
                     spell: Spelling = _as_key) -> str:
    email = raw.strip().lower() if isinstance(raw, str) else raw
    if email not in directory.emails:
        raise StepInvalid(step, key, f"{spell(key[0])} {_shown(raw)} is not a user of this account "
                                     "(see `ringtui users list`)")
    return email


def check_agents(step: str, raw: Any, directory: Directory, spell: Spelling = _as_key) -> list[str]:
    items = _as_list(step, "agents", raw, spell)
    return _unique(check_user_email(step, ("agents",), item, directory, spell) for item in items)


def check_groups(step: str, raw: Any, directory: Directory, spell: Spelling = _as_key) -> list[str]:
    names = []
    for item in _as_list(step, "groups", raw, spell):
        name = item.strip() if isinstance(item, str) else item
        if name not in directory.groups:
            raise StepInvalid(step, ("groups",), f"{spell('groups')} {_shown(item)} is not a group "
                                                 "(see `ringtui groups list`)")
        names.append(name)
    return _unique(names)


def check_strategy(step: str, raw: Any, spell: Spelling = _as_key) -> str:
    try:
        return Strategy(str(raw).strip().lower()).value
    except ValueError:
        accepted = ", ".join(s.value for s in Strategy)
        raise StepInvalid(step, ("strategy",), f"{spell('strategy')} {_shown(raw)} is not a strategy; "
                                               f"give one of {accepted}") from None


def check_weights(step: str, raw: Any, strategy: str, directory: Directory,
                  spell: Spelling = _as_key) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        raise StepInvalid(step, ("weights",), f"{spell('weights')} {_shown(raw)} is not accepted: "
                                              "give EMAIL=WEIGHT pairs")
    if raw and strategy != Strategy.WEIGHTED_RANDOM:
        raise StepInvalid(step, ("weights",), f"{spell('weights')} apply to the "
                                              f"{Strategy.WEIGHTED_RANDOM.value} strategy only; this step "
                                              f"rings with {strategy}")
    weights: dict[str, int] = {}
    for email, weight in raw.items():
        clean = check_user_email(step, ("weights", str(email)), email, directory, spell)
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 100:
            raise StepInvalid(step, ("weights", str(email)),
                              f"{spell('weights')} {email}={_shown(weight)} is not accepted: give a "
                              "whole weight from 1 to 100")
        weights[clean] = weight
    return dict(sorted(weights.items()))


def check_forward_number(step: str, raw: Any, country: str, spell: Spelling = _as_key) -> str:
    if not isinstance(raw, str):
        raise StepInvalid(step, ("number",), f"{spell('number')} {_shown(raw)} is not a phone number: "
                                             "give it as +CC... or in national form")
    try:
        return to_e164(raw, country)
    except Invalid as error:
        raise StepInvalid(step, ("number",), f"{spell('number')}: {error}") from None


def check_skip_if(step: str, step_type: StepType, raw: Any, spell: Spelling = _as_key) -> list[str]:
    items = raw.split(",") if isinstance(raw, str) else _as_list(step, "skip_if", raw, spell)
    conditions = set()
    for item in items:
        try:
            conditions.add(SkipCondition(str(item).strip().lower()))
        except ValueError:
            accepted = ", ".join(c.value for c in SkipCondition)
            raise StepInvalid(step, ("skip_if",), f"{spell('skip_if')} {_shown(item)} is not a "
                                                  f"condition; give some of {accepted}") from None
    if conditions and step_type not in SKIPPABLE:
        raise StepInvalid(step, ("skip_if",), f"{spell('skip_if')} applies to ring and queue steps "
                                              f"(the steps with agents), not to a {step_type.value} step")
    return [c.value for c in SkipCondition if c in conditions]


# ---------------------------------------------------------------- a whole step


def check_step(raw: Mapping[str, Any], directory: Directory, *, name: str,
               spell: Spelling = _as_key) -> CheckedStep:
    """Validate one step's fields (as a scenario file spells them); `name` is already checked."""
    step_type = check_step_type(raw.get("type"), name, spell)
    allowed = KEYS_BY_TYPE[step_type]
    for key in raw:
        if key not in allowed and key not in COMMON_KEYS:
            raise StepInvalid(name, (key,), f"{spell(key)} does not apply to a {step_type.value} step; "
                                            f"it takes {', '.join(spell(k) for k in allowed)}")
    settings = {key: _STEP_DEFAULTS[key] for key in allowed}
    settings.update(_checked_settings(name, step_type, raw, directory, spell))
    _check_required(name, step_type, settings, spell)
    skip_if = check_skip_if(name, step_type, raw.get("skip_if", []), spell)
    return CheckedStep(name, step_type, _plain_settings(settings), skip_if)


def _checked_settings(name: str, step_type: StepType, raw: Mapping[str, Any], directory: Directory,
                      spell: Spelling) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for key in ("text", "sound", "category"):
        if key in raw:
            checked[key] = check_text(name, key, raw[key], spell) or _STEP_DEFAULTS[key]
    if "choices" in raw or step_type == StepType.MENU:
        checked["choices"] = check_choices(name, raw.get("choices"), spell)
    if "timeout_s" in raw:
        checked["timeout_s"] = check_timeout(name, raw["timeout_s"], spell)
    for key in REFERENCE_KEYS:
        if raw.get(key) is not None:
            checked[key] = check_reference(name, (key,), raw[key], spell)
    if "agents" in raw:
        checked["agents"] = check_agents(name, raw["agents"], directory, spell)
    if "groups" in raw:
        checked["groups"] = check_groups(name, raw["groups"], directory, spell)
    if "strategy" in raw:
        checked["strategy"] = check_strategy(name, raw["strategy"], spell)
    if "ring_s" in raw:
        checked["ring_s"] = check_ring_seconds(name, raw["ring_s"], spell)
    if "weights" in raw:
        strategy = checked.get("strategy", _STEP_DEFAULTS["strategy"])
        checked["weights"] = check_weights(name, raw["weights"], strategy, directory, spell)
    if "max_wait_s" in raw:
        checked["max_wait_s"] = check_max_wait(name, raw["max_wait_s"], spell)
    if raw.get("mailbox") is not None:
        checked["mailbox"] = check_user_email(name, ("mailbox",), raw["mailbox"], directory, spell)
    if "number" in raw:
        checked["number"] = check_forward_number(name, raw["number"], directory.country, spell)
    return checked


def _check_required(name: str, step_type: StepType, settings: dict[str, Any], spell: Spelling) -> None:
    if step_type == StepType.ANNOUNCE and not (settings["text"] or settings["sound"]):
        raise StepInvalid(name, ("text",), f"an announce step needs {spell('text')} or {spell('sound')}")
    if step_type in SKIPPABLE and not (settings["agents"] or settings["groups"]):
        raise StepInvalid(name, ("agents",), f"a {step_type.value} step needs someone to ring: give "
                                             f"{spell('agents')} (user e-mails) or {spell('groups')}")
    if step_type == StepType.FORWARD and not settings["number"]:
        raise StepInvalid(name, ("number",), f"a forward step needs {spell('number')} (the number "
                                             "to forward to)")
    if step_type == StepType.SURVEY and not settings["text"]:
        raise StepInvalid(name, ("text",), f"a survey step needs {spell('text')} (the question)")


def _plain_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready: tuples become lists, enums their values."""
    return {key: list(value) if isinstance(value, tuple) else
            value.value if isinstance(value, Strategy) else value for key, value in settings.items()}


def references(settings: Mapping[str, Any]) -> Iterable[tuple[tuple[str, ...], str]]:
    """(key, step name) for every other step a step's settings point to."""
    for digit, target in settings.get("choices", {}).items():
        yield ("choices", digit), target
    for key in REFERENCE_KEYS:
        if settings.get(key):
            yield (key,), settings[key]


def reference_problems(steps: Sequence[CheckedStep], ivr: str, names: Sequence[str] | None = None,
                       spell: Spelling = _as_key) -> list[StepInvalid]:
    """Menu targets, defaults and exits that name no step of the same IVR (`names`: all its steps)."""
    names = [step.name for step in steps] if names is None else names
    problems = []
    for step in steps:
        for key, target in references(step.settings):
            if target not in names:
                message = f"{_label(key, spell)} {target!r} is not a step of IVR {ivr!r}; its steps: "
                problems.append(StepInvalid(step.name, key, message + _names(names)))
    return problems


def check_closed_step(raw: Any, step_names: Sequence[str], ivr: str, *, has_hours: bool) -> str | None:
    """The step run outside opening hours: a step of the same IVR, and only when it has hours."""
    if raw is None:
        return None
    if not isinstance(raw, str) or raw.strip() not in step_names:
        raise Invalid(f"closed step {_shown(raw)} is not a step of IVR {ivr!r}; its steps: "
                      f"{_names(step_names)}")
    if not has_hours:
        raise Invalid(f"closed step {raw.strip()!r}: IVR {ivr!r} is always open; give opening hours "
                      "too (the closed step runs outside them)")
    return raw.strip()


def generated_name(step_type: StepType, taken: Iterable[str]) -> str:
    """'ring-1', 'ring-2', ...: the first free one."""
    used = set(taken)
    number = 1
    while f"{step_type.value}-{number}" in used:
        number += 1
    return f"{step_type.value}-{number}"


# ---------------------------------------------------------------- opening hours


def parse_hours(text: str) -> dict[str, list[list[str]]]:
    """'mon-fri 09:00-18:00; sat 10:00-12:00' as {day: [[start, end], ...]}, days in week order."""
    schedule = parse_schedule(text)
    return {day: sorted({tuple(r): r for r in schedule[day]}.values()) for day in DAYS if day in schedule}


def format_hours(hours: Mapping[str, Sequence[Sequence[str]]] | None) -> str | None:
    """The inverse of parse_hours, consecutive days with the same hours joined: 'mon-fri 09:00-18:00'."""
    if not hours:
        return None
    runs: list[tuple[list[str], str]] = []  # (consecutive days, their ranges)
    previous: str | None = None
    for day in DAYS:
        ranges = ",".join(f"{start}-{end}" for start, end in hours.get(day, ()))
        if ranges and ranges == previous:
            runs[-1][0].append(day)
        elif ranges:
            runs.append(([day], ranges))
        previous = ranges
    return "; ".join(f"{days[0]}-{days[-1]} {ranges}" if len(days) > 1 else f"{days[0]} {ranges}"
                     for days, ranges in runs)


def week_hours(hours: Mapping[str, Sequence[Sequence[str]]] | None) -> WeekHours | None:
    if hours is None:
        return None
    return {day: tuple((start, end) for start, end in hours[day]) for day in DAYS if day in hours}


# ---------------------------------------------------------------- what the engine reads


def to_step(row: IvrStep) -> Step:
    step_type = StepType(row.type)
    fields: dict[str, Any] = {}
    for key in KEYS_BY_TYPE[step_type]:
        if key not in row.settings:
            continue
        value = row.settings[key]
        if key in ("agents", "groups"):
            value = tuple(value)
        elif key == "strategy":
            value = Strategy(value)
        elif key in ("timeout_s", "ring_s", "max_wait_s"):
            value = float(value)
        elif key in ("choices", "weights"):
            value = dict(value)
        fields[key] = value
    return Step(name=row.name, type=step_type, skip_if=frozenset(SkipCondition(s) for s in row.skip_if),
                **fields)


def load_scenarios(session: Session) -> list[Scenario]:
    """Every IVR as the engine's immutable Scenario, in name order (four queries)."""
    ivrs = session.exec(select(Ivr).order_by(Ivr.name)).all()
    steps: dict[int, list[Step]] = {}
    for row in session.exec(select(IvrStep).order_by(IvrStep.ivr_id, IvrStep.position)):
        steps.setdefault(row.ivr_id, []).append(to_step(row))
    vips: dict[int, set[str]] = {}
    for ivr_id, number in session.exec(select(IvrVipNumber.ivr_id, IvrVipNumber.number)):
        vips.setdefault(ivr_id, set()).add(number)
    numbers: dict[int, list[str]] = {}
    for ivr_id, e164 in session.exec(select(PhoneNumber.ivr_id, PhoneNumber.e164)
                                     .where(PhoneNumber.ivr_id.is_not(None)).order_by(PhoneNumber.e164)):
        numbers.setdefault(ivr_id, []).append(e164)
    return [
        Scenario(
            name=ivr.name,
            steps=tuple(steps.get(ivr.id, ())),
            numbers=tuple(numbers.get(ivr.id, ())),
            vip_numbers=frozenset(vips.get(ivr.id, ())),
            anonymous=AnonymousPolicy(ivr.anonymous),
            record=ivr.record_inbound,
            announce_recording=ivr.announce_recording,
            opening_hours=week_hours(ivr.opening_hours),
            closed_step=ivr.closed_step,
        )
        for ivr in ivrs
    ]


# ---------------------------------------------------------------- the declarative file


IVR_KEYS = ("name", "record", "anonymous", "vip", "script", "announce_recording", "hours", "closed_step",
            "step")

Path_ = tuple[str | int, ...]


@dataclass
class IvrPlan:
    """An IVR as a scenario file describes it: the whole state `ivr apply` makes true."""

    name: str
    state: dict[str, Any]


class FileProblems:
    """Every problem of a scenario file, each with its key path and line."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines = KeyLines(text)
        self.found: list[tuple[int, str, str]] = []

    def add(self, path: Path_, message: str) -> None:
        self.found.append((self.lines.line_of(path), dotted(path), message))

    def raise_if_any(self) -> None:
        if not self.found:
            return
        listed = "\n".join(f"  line {line}: {path}: {message}" for line, path, message in sorted(self.found))
        raise Invalid(f"{self.source}: {len(self.found)} problem(s), nothing was changed:\n{listed}")


def read_scenario_file(source: str, text: str, directory: Directory) -> list[IvrPlan]:
    """The IVRs a scenario file describes, each checked whole; Invalid lists every problem."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise Invalid(f"{source}: not valid TOML: {error}") from None
    problems = FileProblems(source, text)
    for key in document:
        if key != "ivr":
            problems.add((key,), f"unknown key {key!r}: a scenario file holds [[ivr]] tables")
    tables = document.get("ivr")
    if not isinstance(tables, list) or not tables:
        problems.add(("ivr",), "no [[ivr]] table: describe each IVR in an [[ivr]] table with a name")
        problems.raise_if_any()
    plans = [plan for index, table in enumerate(tables)
             if (plan := _read_ivr(("ivr", index), table, directory, problems)) is not None]
    seen: set[str] = set()
    for index, plan in enumerate(plans):
        if plan.name in seen:
            problems.add(("ivr", index, "name"), f"IVR {plan.name!r} is described twice")
        seen.add(plan.name)
    problems.raise_if_any()
    return plans


def _read_ivr(path: Path_, table: Any, directory: Directory, problems: FileProblems) -> IvrPlan | None:
    if not isinstance(table, dict):
        problems.add(path, "each ivr must be a table ([[ivr]])")
        return None
    before = len(problems.found)
    for key in table:
        if key not in IVR_KEYS:
            problems.add((*path, key), f"unknown key {key!r}; an [[ivr]] takes {', '.join(IVR_KEYS)}")
    name = table.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        problems.add((*path, "name"), f"name {_shown(name)} is not accepted: every [[ivr]] needs a name "
                                      "of 1 to 100 characters")
        name = f"#{path[1]}"
    name = name.strip()
    state = _read_ivr_fields(path, table, name, directory, problems)
    steps = _read_steps((*path, "step"), table.get("step", []), name, directory, problems)
    step_names = [step.name for step in steps]
    try:
        state["closed_step"] = check_closed_step(table.get("closed_step"), step_names, name,
                                                 has_hours=state["opening_hours"] is not None)
    except Invalid as error:
        problems.add((*path, "closed_step"), str(error))
    state["steps"] = [step.stored() for step in steps]
    return IvrPlan(name, state) if len(problems.found) == before else None


def _read_ivr_fields(path: Path_, table: dict[str, Any], name: str, directory: Directory,
                     problems: FileProblems) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for key in ("record", "announce_recording"):
        value = table.get(key, False)
        if not isinstance(value, bool):
            problems.add((*path, key), f"{key} {_shown(value)} is not accepted: give true or false")
        state[key] = value is True
    anonymous = table.get("anonymous", AnonymousPolicy.ALLOW.value)
    if anonymous not in {p.value for p in AnonymousPolicy}:
        problems.add((*path, "anonymous"), f"anonymous {_shown(anonymous)} is not accepted: give "
                                           "\"allow\" or \"reject\"")
    state["anonymous"] = anonymous
    script = table.get("script", "")
    if not isinstance(script, str):
        problems.add((*path, "script"), f"script {_shown(script)} is not accepted: give a text")
    state["script"] = script if isinstance(script, str) else ""
    state["vip"] = _read_vips((*path, "vip"), table.get("vip", []), directory.country, problems)
    hours = table.get("hours")
    state["opening_hours"] = None
    if hours is not None:
        try:
            if not isinstance(hours, str):
                raise Invalid(f"hours {_shown(hours)} is not accepted: give a text such as "
                              "\"mon-fri 09:00-18:00; sat 10:00-12:00\" (leave it out: always open)")
            state["opening_hours"] = parse_hours(hours)
        except Invalid as error:
            problems.add((*path, "hours"), str(error))
    return state


def _read_vips(path: Path_, raw: Any, country: str, problems: FileProblems) -> list[str]:
    if not isinstance(raw, list):
        problems.add(path, f"vip {_shown(raw)} is not accepted: give a list of phone numbers")
        return []
    vips = set()
    for index, number in enumerate(raw):
        try:
            if not isinstance(number, str):
                raise Invalid(f"{_shown(number)} is not a phone number: write it as a text, \"+33...\"")
            vips.add(to_e164(number, country))
        except Invalid as error:
            problems.add((*path, index), f"vip: {error}")
    return sorted(vips)


def _read_steps(path: Path_, raw: Any, ivr: str, directory: Directory,
                problems: FileProblems) -> list[CheckedStep]:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        problems.add(path, "steps must be [[ivr.step]] tables")
        return []
    explicit = [item.get("name") for item in raw if isinstance(item.get("name"), str)]
    taken = {name.strip() for name in explicit}
    checked: list[CheckedStep] = []
    index_of: dict[str, int] = {}
    for index, item in enumerate(raw):
        try:
            name = _step_name(item, taken)
        except StepInvalid as error:
            problems.add((*path, index, *error.key), str(error))
            continue
        if name in index_of:
            problems.add((*path, index, "name"), f"step name {name!r} is used twice in IVR {ivr!r}")
            continue
        index_of[name] = index
        try:
            checked.append(check_step(item, directory, name=name))
        except StepInvalid as error:
            problems.add((*path, index, *error.key), str(error))
    for problem in reference_problems(checked, ivr, list(index_of)):
        problems.add((*path, index_of[problem.step], *problem.key), str(problem))
    return checked


def _step_name(item: dict[str, Any], taken: set[str]) -> str:
    if "name" in item:
        return check_step_name(item["name"])
    name = generated_name(check_step_type(item.get("type")), taken)
    taken.add(name)
    return name


def dotted(path: Path_) -> str:
    """("ivr", 0, "step", 2, "ring_s") as 'ivr[0].step[2].ring_s'."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            shown = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else f'"{part}"'
            text += f".{shown}" if text else shown
    return text


class KeyLines:
    """Where each key of a TOML document is written, found by a small scan of its lines.

    tomllib keeps no positions; a scan of table headers and `key =` lines is enough for
    the documents `ivr apply` reads (arrays of tables, plain keys, inline tables).
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _PART = r"(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
    _KEY = re.compile(rf"^\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")

    def __init__(self, text: str) -> None:
        self.entries: list[tuple[int, Path_]] = []
        self._scan(text.splitlines())

    def _scan(self, lines: list[str]) -> None:
        counters: dict[Path_, int] = {}
        context: Path_ = ()
        in_multiline = False
        for number, line in enumerate(lines, start=1):
            if line.count('"""') % 2 or line.count("'''") % 2:
                in_multiline = not in_multiline
                if not in_multiline:
                    continue
            elif in_multiline:
                continue
            if header := self._HEADER.match(line):
                context = self._resolve(self._parts(header.group(2)), header.group(1) == "[[", counters)
                self.entries.append((number, context))
            elif key := self._KEY.match(line):
                self.entries.append((number, (*context, *self._parts(key.group(1)))))

    @staticmethod
    def _resolve(parts: list[str], is_array: bool, counters: dict[Path_, int]) -> Path_:
        resolved: Path_ = ()
        for index, part in enumerate(parts):
            resolved = (*resolved, part)
            last = index == len(parts) - 1
            if last and is_array:
                counters[resolved] = counters.get(resolved, -1) + 1
            if resolved in counters:
                resolved = (*resolved, counters[resolved])
        return resolved

    def _parts(self, dotted_key: str) -> list[str]:
        return [part.strip().strip("\"'") for part in re.findall(self._PART, dotted_key)]

    def line_of(self, path: Path_) -> int:
        """The line of `path`, or of its nearest written ancestor (1 when none is)."""
        best_line, best_length = 1, -1
        for line, written in self.entries:
            length = len(written)
            if written == path[:length] and length > best_length:
                best_line, best_length = line, length
        return best_line


# ---------------------------------------------------------------- small helpers


def _as_list(step: str, key: str, raw: Any, spell: Spelling) -> list[Any]:
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, list | tuple):
        raise StepInvalid(step, (key,), f"{spell(key)} {_shown(raw)} is not accepted: give a list")
    return list(raw)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _names(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "(none yet)"


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)
