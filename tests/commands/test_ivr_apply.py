"""`ringtui ivr apply FILE.toml`: declarative IVR scenarios, idempotent, all or nothing."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.commands.test_ivr import audit_actions
from tests.conftest import ok, refused

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ivr-standard.toml"

TWO_IVRS = """\
[[ivr]]
name = "Support"
record = true
anonymous = "reject"
vip = ["06 12 34 56 78"]
hours = "mon-fri 09:00-18:00"
closed_step = "closed"

[[ivr.step]]
name = "menu"
type = "menu"
text = "Press 1 for Ana, 2 for the team"
choices = { "1" = "ana", "2" = "team" }
default = "team"

[[ivr.step]]
name = "ana"
type = "ring"
agents = ["ana@acme.test"]
skip_if = ["offline"]

[[ivr.step]]
name = "team"
type = "queue"
groups = ["Sales"]
max_wait_s = 120
exit = "closed"

[[ivr.step]]
name = "closed"
type = "voicemail"
text = "Please leave a message"

[[ivr]]
name = "Hotline"

[[ivr.step]]
type = "forward"
number = "+33142685300"
"""


@pytest.fixture
def staffed(account):
    ok(account("users", "add", "ana@acme.test"))
    ok(account("groups", "create", "Sales"))
    ok(account("groups", "create", "Support"))
    return account


@pytest.fixture
def write(tmp_path):
    def write_file(text: str, name: str = "ivrs.toml") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return str(path)

    return write_file


def test_apply_creates_every_ivr_of_the_file(staffed, write, db_url):
    result = ok(staffed("ivr", "apply", write(TWO_IVRS), "--json")).json()
    assert result == [{"name": "Support", "steps": 4, "result": "created"},
                      {"name": "Hotline", "steps": 1, "result": "created"}]
    support = ok(staffed("ivr", "show", "Support", "--json")).json()
    assert (support["record_inbound"], support["record_outbound"]) == (True, True)
    assert support["anonymous"] == "reject"
    assert support["vip_numbers"] == ["+33612345678"]
    assert (support["hours"], support["closed_step"]) == ("mon-fri 09:00-18:00", "closed")
    assert [(s["position"], s["name"], s["type"]) for s in support["steps"]] == [
        (1, "menu", "menu"), (2, "ana", "ring"), (3, "team", "queue"), (4, "closed", "voicemail")]
    assert support["steps"][1]["skip_if"] == ["offline"]
    hotline = ok(staffed("ivr", "step", "list", "Hotline", "--json")).json()
    assert [(s["name"], s["settings"]) for s in hotline] == [("forward-1", {"number": "+33142685300"})]
    assert audit_actions(db_url)[-2:] == [("ivr.apply", "Support"), ("ivr.apply", "Hotline")]


def test_reapplying_the_same_file_changes_nothing_and_says_so(staffed, write, unchanged):
    path = write(TWO_IVRS)
    ok(staffed("ivr", "apply", path))
    with unchanged():
        again = ok(staffed("ivr", "apply", path, "--json"))
    assert [row["result"] for row in again.json()] == ["unchanged", "unchanged"]
    assert "Nothing to change" in again.stderr


def test_defaults_spelled_out_or_left_out_are_the_same_scenario(staffed, write, unchanged):
    ok(staffed("ivr", "apply", write(TWO_IVRS)))
    explicit = TWO_IVRS.replace('skip_if = ["offline"]', 'skip_if = ["offline"]\nstrategy = "ring-all"\n'
                                                          'ring_s = 20.0\nweights = {}')
    with unchanged():
        assert ok(staffed("ivr", "apply", write(explicit), "--json")).json()[0]["result"] == "unchanged"


def test_apply_updates_an_ivr_to_match_the_file_exactly_and_leaves_others_alone(staffed, write, db_url):
    ok(staffed("ivr", "create", "Other", "--record"))
    ok(staffed("ivr", "create", "Support", "--script", "Old script", "--vip", "0611111111"))
    ok(staffed("ivr", "step", "add", "Support", "--type", "announce", "--name", "old", "--text", "Old"))
    result = ok(staffed("ivr", "apply", write(TWO_IVRS), "--json")).json()
    assert [row["result"] for row in result] == ["updated", "created"]
    support = ok(staffed("ivr", "show", "Support", "--json")).json()
    assert [s["name"] for s in support["steps"]] == ["menu", "ana", "team", "closed"]
    assert (support["script"], support["vip_numbers"]) == ("", ["+33612345678"])
    other = ok(staffed("ivr", "show", "Other", "--json")).json()
    assert (other["record_inbound"], other["steps"]) == (True, [])
    # the file no longer has hours or a Hotline: Support is always open again, Hotline stays
    trimmed = TWO_IVRS.split("[[ivr]]\nname = \"Hotline\"")[0].replace('hours = "mon-fri 09:00-18:00"\n', "")
    trimmed = trimmed.replace('closed_step = "closed"\n', "")
    assert ok(staffed("ivr", "apply", write(trimmed), "--json")).json() == [
        {"name": "Support", "steps": 4, "result": "updated"}]
    support = ok(staffed("ivr", "show", "Support", "--json")).json()
    assert (support["opening_hours"], support["closed_step"]) == (None, None)
    assert [i["name"] for i in ok(staffed("ivr", "list", "--json")).json()] == ["Hotline", "Other", "Support"]
    assert audit_actions(db_url)[-1] == ("ivr.apply", "Support")


def test_the_shipped_example_applies(staffed):
    assert EXAMPLE.is_file()
    first = ok(staffed("ivr", "apply", str(EXAMPLE), "--json")).json()
    assert first == [{"name": "Standard", "steps": 7, "result": "created"}]
    assert ok(staffed("ivr", "apply", str(EXAMPLE), "--json")).json()[0]["result"] == "unchanged"


def test_a_toml_syntax_error_names_the_line_and_changes_nothing(staffed, write, unchanged):
    path = write('[[ivr]]\nname = "Support"\n\n[[ivr.step]]\nname = "menu\ntype = "menu"\n')
    with unchanged():
        refused(staffed("ivr", "apply", path), "not valid TOML", "line 5")


def test_unknown_keys_are_refused_with_their_path_and_line(staffed, write, unchanged):
    text = TWO_IVRS.replace('anonymous = "reject"', 'anonymus = "reject"').replace(
        'max_wait_s = 120', 'max_wait = 120')
    with unchanged():
        result = refused(staffed("ivr", "apply", write(text)), "2 problem(s)", "nothing was changed")
    assert "line 4: ivr[0].anonymus: unknown key 'anonymus'" in result.stderr
    assert "line 26: ivr[0].step[2].max_wait:" in result.stderr and "max_wait_s" in result.stderr
    with unchanged():
        refused(staffed("ivr", "apply", write('title = "x"\n[[ivr]]\nname = "A"\n')), "line 1: title")


def test_a_bad_value_names_its_key_path_line_and_what_is_accepted(staffed, write, unchanged):
    cases = [
        ('max_wait_s = 120', 'max_wait_s = 5', "line 26: ivr[0].step[2].max_wait_s", "10 to 7200"),
        ('groups = ["Sales"]', 'groups = ["Night"]', "line 25: ivr[0].step[2].groups", "'Night'"),
        ('skip_if = ["offline"]', 'skip_if = ["asleep"]', "line 20: ivr[0].step[1].skip_if", "'asleep'"),
        ('agents = ["ana@acme.test"]', 'agents = ["zoe@acme.test"]', "line 19: ivr[0].step[1].agents",
         "'zoe@acme.test'"),
        ('type = "queue"', 'type = "line"', "line 24: ivr[0].step[2].type", "announce, menu"),
        ('anonymous = "reject"', 'anonymous = "maybe"', "line 4: ivr[0].anonymous", '"allow" or "reject"'),
        ('vip = ["06 12 34 56 78"]', 'vip = ["12"]', "line 5: ivr[0].vip[0]", "'12'"),
        ('hours = "mon-fri 09:00-18:00"', 'hours = "weekdays"', "line 6: ivr[0].hours", "'weekdays'"),
        ('record = true', 'record = "yes"', "line 3: ivr[0].record", "true or false"),
        ('number = "+33142685300"', 'number = "12"', "line 39: ivr[1].step[0].number", "'12'"),
    ]
    for old, new, where, accepted in cases:
        assert old in TWO_IVRS
        with unchanged():
            refused(staffed("ivr", "apply", write(TWO_IVRS.replace(old, new))), where, accepted)


def test_references_to_missing_steps_are_refused(staffed, write, unchanged):
    cases = [
        ('"2" = "team"', '"2" = "teem"', "line 13: ivr[0].step[0].choices.2", "'teem' is not a step"),
        ('default = "team"', 'default = "nobody"', "line 14: ivr[0].step[0].default", "'nobody'"),
        ('exit = "closed"', 'exit = "gone"', "line 27: ivr[0].step[2].exit", "'gone'"),
        ('closed_step = "closed"', 'closed_step = "shut"', "line 7: ivr[0].closed_step", "'shut'"),
    ]
    for old, new, where, message in cases:
        with unchanged():
            refused(staffed("ivr", "apply", write(TWO_IVRS.replace(old, new))), where, message, "its steps")


def test_a_bad_file_changes_nothing_even_when_other_ivrs_are_good(staffed, write, unchanged):
    ok(staffed("ivr", "create", "Support"))
    bad = TWO_IVRS.replace('number = "+33142685300"', 'number = "nope"')
    with unchanged():
        refused(staffed("ivr", "apply", write(bad)), "ivr[1].step[0].number")


def test_duplicate_names_and_missing_files_are_refused(staffed, write, unchanged, tmp_path):
    twice = TWO_IVRS.replace('name = "Hotline"', 'name = "Support"')
    dup_step = TWO_IVRS.replace('name = "team"', 'name = "ana"')
    with unchanged():
        refused(staffed("ivr", "apply", write(twice)), "ivr[1].name", "'Support' is described twice")
        refused(staffed("ivr", "apply", write(dup_step)), "ivr[0].step[2].name", "'ana' is used twice")
        refused(staffed("ivr", "apply", write("")), "no [[ivr]] table")
        refused(staffed("ivr", "apply", str(tmp_path / "absent.toml")), "absent.toml", "no such file")


def test_apply_needs_the_configuration_area(staffed, write, unchanged):
    ok(staffed("users", "add", "sup@acme.test"))
    ok(staffed("users", "role", "sup@acme.test", "supervisor"))
    with unchanged():
        refused(staffed("ivr", "apply", write(TWO_IVRS), as_user="sup@acme.test"), "configuration")
