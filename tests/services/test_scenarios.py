"""services.scenarios: the step rules, the scenario file's key positions, and load_scenarios."""

from __future__ import annotations

import textwrap

import pytest
from sqlalchemy import event

from ringtui.db import engine_for, session
from ringtui.engine.core.scenario import Scenario, Step
from ringtui.errors import Invalid
from ringtui.services import scenarios
from ringtui.services.scenarios import Directory, KeyLines, StepInvalid
from ringtui.vocab import AnonymousPolicy, SkipCondition, StepType, Strategy
from tests.conftest import ok

DIRECTORY = Directory(frozenset({"ana@acme.test", "bob@acme.test"}), frozenset({"Sales"}), "FR")

SCENARIO_FILE = """\
[[ivr]]
name = "Support"
record = true
announce_recording = true
anonymous = "reject"
vip = ["0612345678", "+33698765432"]
hours = "mon-fri 09:00-12:00,14:00-18:00; sat 10:00-12:00"
closed_step = "closed"

[[ivr.step]]
name = "menu"
type = "menu"
text = "1 sales, 2 Ana"
choices = { "2" = "ana", "1" = "sales" }
timeout_s = 5
default = "sales"

[[ivr.step]]
name = "sales"
type = "queue"
groups = ["Sales"]
agents = ["bob@acme.test"]
strategy = "weighted-random"
weights = { "bob@acme.test" = 3 }
ring_s = 15
max_wait_s = 90
exit = "closed"
skip_if = ["in-call", "offline"]

[[ivr.step]]
name = "ana"
type = "forward"
number = "01 42 68 53 00"

[[ivr.step]]
name = "closed"
type = "voicemail"
text = "Leave a message"
mailbox = "ana@acme.test"

[[ivr]]
name = "Empty"
"""


# ---------------------------------------------------------------- load_scenarios


@pytest.fixture
def configured(account, tmp_path):
    ok(account("users", "add", "ana@acme.test"))
    ok(account("users", "add", "bob@acme.test"))
    ok(account("groups", "create", "Sales"))
    path = tmp_path / "ivrs.toml"
    path.write_text(SCENARIO_FILE, encoding="utf-8")
    ok(account("ivr", "apply", str(path)))
    ok(account("numbers", "add", "+33427219514", "--address", "20 rue de la République, Lyon"))
    ok(account("numbers", "assign", "+33427219514", "--ivr", "Support"))
    return account


def test_load_scenarios_builds_the_engines_immutable_scenarios(configured, db_url):
    with session(engine_for(db_url)) as db:
        loaded = scenarios.load_scenarios(db)
    assert loaded == [
        Scenario(name="Empty", steps=()),
        Scenario(
            name="Support",
            steps=(
                Step(name="menu", type=StepType.MENU, text="1 sales, 2 Ana",
                     choices={"1": "sales", "2": "ana"}, timeout_s=5.0, default="sales"),
                Step(name="sales", type=StepType.QUEUE,
                     skip_if=frozenset({SkipCondition.IN_CALL, SkipCondition.OFFLINE}),
                     agents=("bob@acme.test",), groups=("Sales",), strategy=Strategy.WEIGHTED_RANDOM,
                     ring_s=15.0, weights={"bob@acme.test": 3}, max_wait_s=90.0, exit="closed"),
                Step(name="ana", type=StepType.FORWARD, number="+33142685300"),
                Step(name="closed", type=StepType.VOICEMAIL, text="Leave a message", mailbox="ana@acme.test"),
            ),
            numbers=("+33427219514",),
            vip_numbers=frozenset({"+33612345678", "+33698765432"}),
            anonymous=AnonymousPolicy.REJECT,
            record=True,
            announce_recording=True,
            opening_hours={day: (("09:00", "12:00"), ("14:00", "18:00"))
                           for day in ("mon", "tue", "wed", "thu", "fri")} | {"sat": (("10:00", "12:00"),)},
            closed_step="closed",
        ),
    ]
    support = loaded[1]
    assert support.after("menu") == support.step("sales")
    assert isinstance(support.steps[1].strategy, Strategy) and isinstance(support.steps[0].timeout_s, float)


def test_load_scenarios_runs_a_fixed_number_of_queries(configured, db_url, tmp_path):
    many = "\n".join(f'[[ivr]]\nname = "IVR {n}"\n[[ivr.step]]\ntype = "ring"\ngroups = ["Sales"]\n'
                     for n in range(20))
    path = tmp_path / "many.toml"
    path.write_text(many, encoding="utf-8")
    ok(configured("ivr", "apply", str(path)))
    engine = engine_for(db_url)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        with session(engine) as db:
            loaded = scenarios.load_scenarios(db)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(loaded) == 22
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 4


# ---------------------------------------------------------------- the step rules


def test_a_checked_step_is_complete_for_its_type():
    step = scenarios.check_step({"type": "ring", "agents": ["ANA@acme.test", "ana@acme.test"]}, DIRECTORY,
                                name="r")
    assert step.stored() == {"name": "r", "type": "ring", "skip_if": [],
                             "settings": {"agents": ["ana@acme.test"], "groups": [], "strategy": "ring-all",
                                          "ring_s": 20.0, "weights": {}}}


@pytest.mark.parametrize(("fields", "key", "fragments"), [
    ({"type": "menu", "choices": {"12": "x"}}, ("choices", "12"), ["'12'", "0-9, * or #"]),
    ({"type": "menu", "choices": {"1": ""}}, ("choices", "1"), ["choices 1", "step name"]),
    ({"type": "menu", "choices": {"1": "x"}, "timeout_s": True}, ("timeout_s",), ["True", "1 to 60"]),
    ({"type": "ring", "agents": "zoe@acme.test"}, ("agents",), ["'zoe@acme.test'"]),
    ({"type": "ring", "groups": ["Sales"], "ring_s": "20"}, ("ring_s",), ["'20'", "5 to 300"]),
    ({"type": "queue", "groups": ["Sales"], "strategy": "weighted-random", "weights": {"bob@acme.test": 0}},
     ("weights", "bob@acme.test"), ["bob@acme.test=0", "1 to 100"]),
    ({"type": "queue", "groups": ["Sales"], "max_wait_s": 7201}, ("max_wait_s",), ["7201", "10 to 7200"]),
    ({"type": "forward"}, ("number",), ["number"]),
    ({"type": "survey"}, ("text",), ["question"]),
    ({"type": "survey", "text": "Q", "colour": "red"}, ("colour",), ["colour", "text, category"]),
    ({"type": "ring", "groups": ["Sales"], "skip_if": ["offline", 3]}, ("skip_if",), ["3", "in-call"]),
])
def test_each_rule_names_the_step_the_key_and_the_value(fields, key, fragments):
    with pytest.raises(StepInvalid) as raised:
        scenarios.check_step(fields, DIRECTORY, name="s1")
    assert raised.value.key == key and raised.value.step == "s1"
    assert str(raised.value).startswith("step 's1': ")
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_references_must_name_steps_of_the_same_ivr():
    menu = scenarios.check_step({"type": "menu", "choices": {"1": "a", "2": "b"}, "default": "c"}, DIRECTORY,
                                name="m")
    problems = scenarios.reference_problems([menu], "Main", ["m", "a"])
    assert [(p.step, p.key) for p in problems] == [("m", ("choices", "2")), ("m", ("default",))]
    assert "'b' is not a step of IVR 'Main'; its steps: m, a" in str(problems[0])


def test_closed_step_needs_a_step_and_opening_hours():
    assert scenarios.check_closed_step("a", ["a"], "Main", has_hours=True) == "a"
    assert scenarios.check_closed_step(None, [], "Main", has_hours=False) is None
    with pytest.raises(Invalid, match="'b' is not a step of IVR 'Main'"):
        scenarios.check_closed_step("b", ["a"], "Main", has_hours=True)
    with pytest.raises(Invalid, match="always open"):
        scenarios.check_closed_step("a", ["a"], "Main", has_hours=False)


def test_generated_names_take_the_first_free_number():
    assert scenarios.generated_name(StepType.RING, []) == "ring-1"
    assert scenarios.generated_name(StepType.RING, ["ring-1", "menu-2"]) == "ring-2"


def test_hours_round_trip_in_week_order():
    hours = scenarios.parse_hours(
        "sun 10:00-11:00; mon-wed 14:00-18:00,09:00-12:00; fri 09:00-12:00,14:00-18:00")
    assert list(hours) == ["mon", "tue", "wed", "fri", "sun"]
    assert hours["mon"] == [["09:00", "12:00"], ["14:00", "18:00"]]
    assert scenarios.format_hours(hours) == ("mon-wed 09:00-12:00,14:00-18:00; fri 09:00-12:00,14:00-18:00; "
                                             "sun 10:00-11:00")
    assert scenarios.format_hours(None) is None


# ---------------------------------------------------------------- key positions in the file


def test_key_lines_follow_arrays_of_tables_and_dotted_keys():
    text = textwrap.dedent("""\
        # comment
        [[ivr]]
        name = "A"
        script = \"\"\"
        fake = "not a key"
        \"\"\"

        [[ivr.step]]
        type = "menu"
        choices = { "1" = "x" }

        [[ivr.step]]
        ring_s = 3

        [[ivr]]
        name = "B"
        [[ivr.step]]
        'quoted'.inner = 1
        """)
    lines = KeyLines(text)
    assert lines.line_of(("ivr", 0, "name")) == 3
    assert lines.line_of(("ivr", 0, "step", 0, "choices", "1")) == 10
    assert lines.line_of(("ivr", 0, "step", 1, "ring_s")) == 13
    assert lines.line_of(("ivr", 0, "step", 1, "agents")) == 12  # absent key: its table's header
    assert lines.line_of(("ivr", 1, "name")) == 16
    assert lines.line_of(("ivr", 1, "step", 0, "quoted", "inner")) == 18
    assert lines.line_of(("ivr", 0, "fake")) == 2  # inside a multi-line string: not a key
    assert scenarios.dotted(("ivr", 1, "step", 0, "weights", "a@b.c")) == 'ivr[1].step[0].weights."a@b.c"'


def test_a_file_with_problems_lists_every_one_with_its_line():
    text = SCENARIO_FILE.replace("ring_s = 15", "ring_s = 1").replace('"1" = "sales"', '"1" = "sails"')
    with pytest.raises(Invalid) as raised:
        scenarios.read_scenario_file("f.toml", text, DIRECTORY)
    message = str(raised.value)
    assert message.startswith("f.toml: 2 problem(s), nothing was changed:")
    assert "line 14: ivr[0].step[0].choices.1: step 'menu': choices 1 'sails' is not a step" in message
    assert "line 25: ivr[0].step[1].ring_s: step 'sales': ring_s 1 is not accepted" in message
