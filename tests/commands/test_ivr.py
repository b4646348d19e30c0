"""`ringtui ivr create/list/show/delete` (I1 records)."""

from __future__ import annotations

import pytest

from tests.conftest import ok, refused


def test_create_show_and_list(account):
    created = ok(account("ivr", "create", "Support", "--record", "--vip", "06 12 34 56 78",
                         "--anonymous", "reject", "--script", "Hello", "--json")).json()
    assert created["vip_numbers"] == ["+33612345678"]
    assert (created["anonymous"], created["record_inbound"], created["script"]) == ("reject", True, "Hello")
    assert ok(account("ivr", "show", "Support", "--json")).json() == created
    assert [i["name"] for i in ok(account("ivr", "list", "--json")).json()] == ["Support"]


def test_bad_ivr_input_is_refused(account, unchanged):
    ok(account("ivr", "create", "Support"))
    with unchanged():
        refused(account("ivr", "create", "Support"), "'Support'", "already exists")
        refused(account("ivr", "create", "Sales", "--vip", "12"), "'12'")
        refused(account("ivr", "create", "Sales", "--anonymous", "maybe"), "'maybe'", "allow or reject")
        refused(account("ivr", "show", "Nope"), "'Nope'")
        refused(account("ivr", "delete", "Nope"), "'Nope'")


def test_supervisor_sees_only_granted_ivrs(account):
    ok(account("ivr", "create", "Support"))
    ok(account("ivr", "create", "Sales"))
    ok(account("users", "add", "sup@acme.test"))
    ok(account("users", "role", "sup@acme.test", "supervisor", "--scope", "ivr:Sales"))
    seen = ok(account("ivr", "list", "--json", as_user="sup@acme.test")).json()
    assert [i["name"] for i in seen] == ["Sales"]
    refused(account("ivr", "show", "Support", as_user="sup@acme.test"), "'Support'")


def test_delete_removes_the_ivr(account):
    ok(account("ivr", "create", "Support"))
    ok(account("ivr", "delete", "Support"))
    assert ok(account("ivr", "list", "--json")).json() == []


# ---------------------------------------------------------------- scenario steps (I2, I3) and hours


def audit_actions(db_url: str) -> list[tuple[str, str]]:
    """(action, target) of every audit entry, oldest first."""
    from sqlmodel import select

    from ringtui.db import engine_for, session
    from ringtui.models import AuditEntry

    with session(engine_for(db_url)) as db:
        return [(e.action, e.target) for e in db.exec(select(AuditEntry).order_by(AuditEntry.id))]


@pytest.fixture
def staffed(account):
    """An IVR 'Support' and the people its steps may ring."""
    ok(account("users", "add", "ana@acme.test"))
    ok(account("users", "add", "bob@acme.test"))
    ok(account("groups", "create", "Sales"))
    ok(account("ivr", "create", "Support"))
    return account


def steps(cli, ivr="Support"):
    return ok(cli("ivr", "step", "list", ivr, "--json")).json()


def test_steps_are_added_in_order_with_generated_names_and_complete_settings(staffed, db_url):
    ok(staffed("ivr", "step", "add", "Support", "--type", "announce", "--text", "Welcome"))
    ring = ok(staffed("ivr", "step", "add", "Support", "--type", "ring", "--agent", "ANA@acme.test",
                      "--group", "Sales", "--strategy", "weighted-random", "--weight", "ana@acme.test=70",
                      "--ring-seconds", "25", "--skip-if", "snooze,offline", "--json")).json()
    assert ring == {"ivr": "Support", "position": 2, "name": "ring-1", "type": "ring",
                    "skip_if": ["offline", "snooze"],
                    "settings": {"agents": ["ana@acme.test"], "groups": ["Sales"],
                                 "strategy": "weighted-random", "ring_s": 25,
                                 "weights": {"ana@acme.test": 70}}}
    ok(staffed("ivr", "step", "add", "Support", "--type", "ring", "--agent", "bob@acme.test"))
    ok(staffed("ivr", "step", "add", "Support", "--type", "menu", "--name", "main", "--position", "1",
               "--text", "Press 1", "--choice", "1=ring-1", "--choice", "#=ring-2", "--timeout", "5",
               "--default", "announce-1"))
    listed = steps(staffed)
    assert [(s["position"], s["name"], s["type"]) for s in listed] == [
        (1, "main", "menu"), (2, "announce-1", "announce"), (3, "ring-1", "ring"), (4, "ring-2", "ring")]
    assert listed[0]["settings"] == {"text": "Press 1", "choices": {"1": "ring-1", "#": "ring-2"},
                                     "timeout_s": 5.0, "default": "announce-1"}
    assert listed[3]["settings"]["strategy"] == "ring-all" and listed[3]["settings"]["ring_s"] == 20
    shown = ok(staffed("ivr", "show", "Support", "--json")).json()
    assert [s["name"] for s in shown["steps"]] == ["main", "announce-1", "ring-1", "ring-2"]
    assert audit_actions(db_url)[-4:] == [("ivr.step.add", "Support/announce-1"),
                                          ("ivr.step.add", "Support/ring-1"),
                                          ("ivr.step.add", "Support/ring-2"),
                                          ("ivr.step.add", "Support/main")]


def test_every_step_type_is_accepted(staffed):
    ok(staffed("ivr", "step", "add", "Support", "--type", "voicemail", "--name", "vm",
               "--mailbox", "bob@acme.test", "--text", "Leave a message"))
    ok(staffed("ivr", "step", "add", "Support", "--type", "queue", "--group", "Sales", "--max-wait", "600",
               "--exit", "vm", "--skip-if", "in-call,out-of-hours"))
    ok(staffed("ivr", "step", "add", "Support", "--type", "forward", "--number", "01 42 68 53 00"))
    ok(staffed("ivr", "step", "add", "Support", "--type", "survey", "--text", "Happy?", "--category", "csat"))
    by_name = {s["name"]: s for s in steps(staffed)}
    assert by_name["vm"]["settings"] == {"text": "Leave a message", "mailbox": "bob@acme.test"}
    queue = by_name["queue-1"]["settings"]
    assert (queue["max_wait_s"], queue["exit"], queue["groups"]) == (600, "vm", ["Sales"])
    assert by_name["queue-1"]["skip_if"] == ["out-of-hours", "in-call"]
    assert by_name["forward-1"]["settings"] == {"number": "+33142685300"}
    assert by_name["survey-1"]["settings"] == {"text": "Happy?", "category": "csat"}


def test_bad_steps_are_refused_and_change_nothing(staffed, unchanged):
    ok(staffed("ivr", "step", "add", "Support", "--type", "announce", "--name", "hello", "--text", "Hi"))
    add = ("ivr", "step", "add", "Support")
    with unchanged():
        refused(staffed(*add, "--type", "dance"), "'dance'", "announce, menu, ring")
        refused(staffed(*add, "--type", "ring", "--agent", "zoe@acme.test"), "'zoe@acme.test'", "users list")
        refused(staffed(*add, "--type", "ring", "--group", "Night"), "'Night'", "groups list")
        refused(staffed(*add, "--type", "ring", "--group", "Sales", "--strategy", "loudest"),
                "'loudest'", "longest-idle")
        refused(staffed(*add, "--type", "ring", "--group", "Sales", "--ring-seconds", "3"),
                "--ring-seconds 3", "5 to 300")
        refused(staffed(*add, "--type", "ring", "--group", "Sales", "--ring-seconds", "301"),
                "301", "5 to 300")
        refused(staffed(*add, "--type", "ring"), "--agent", "--group")
        refused(staffed(*add, "--type", "ring", "--group", "Sales", "--weight", "ana@acme.test=5"),
                "--weight", "weighted-random")
        refused(staffed(*add, "--type", "ring", "--group", "Sales", "--strategy", "weighted-random",
                        "--weight", "ana@acme.test=500"), "ana@acme.test=500", "1 to 100")
        refused(staffed(*add, "--type", "ring", "--group", "Sales", "--weight", "ana"),
                "'ana'", "EMAIL=WEIGHT")
        refused(staffed(*add, "--type", "menu", "--choice", "1=nowhere"),
                "'nowhere'", "refers only to existing steps", "ivr apply")
        refused(staffed(*add, "--type", "menu", "--choice", "1=hello", "--default", "later"), "'later'")
        refused(staffed(*add, "--type", "menu", "--choice", "A=hello"), "'A'", "0-9, * or #")
        refused(staffed(*add, "--type", "menu"), "--choice", "DIGIT=STEP")
        refused(staffed(*add, "--type", "menu", "--choice", "1=hello", "--timeout", "0"),
                "--timeout 0", "1 to 60")
        refused(staffed(*add, "--type", "queue", "--group", "Sales", "--exit", "gone"), "'gone'")
        refused(staffed(*add, "--type", "queue", "--group", "Sales", "--max-wait", "5"),
                "--max-wait 5", "10 to 7200")
        refused(staffed(*add, "--type", "ring", "--group", "Sales", "--skip-if", "asleep"),
                "'asleep'", "offline, snooze, out-of-hours, in-call")
        refused(staffed(*add, "--type", "announce", "--text", "x", "--skip-if", "offline"),
                "--skip-if", "ring and queue")
        refused(staffed(*add, "--type", "announce", "--agent", "ana@acme.test", "--text", "x"),
                "--agent", "announce")
        refused(staffed(*add, "--type", "announce"), "--text")
        refused(staffed(*add, "--type", "forward", "--number", "12"), "'12'")
        refused(staffed(*add, "--type", "voicemail", "--mailbox", "zoe@acme.test"), "'zoe@acme.test'")
        refused(staffed(*add, "--type", "announce", "--text", "x", "--name", "hello"), "'hello'", "already")
        refused(staffed(*add, "--type", "announce", "--text", "x", "--position", "5"),
                "--position 5", "1 to 2")
        refused(staffed("ivr", "step", "add", "Nope", "--type", "announce", "--text", "x"), "'Nope'")


def test_remove_renumbers_and_refuses_a_step_still_referred_to(staffed, unchanged, db_url):
    ok(staffed("ivr", "step", "add", "Support", "--type", "announce", "--name", "hello", "--text", "Hi"))
    ok(staffed("ivr", "step", "add", "Support", "--type", "ring", "--name", "sales", "--group", "Sales"))
    ok(staffed("ivr", "step", "add", "Support", "--type", "menu", "--name", "main", "--choice", "1=sales"))
    with unchanged():
        refused(staffed("ivr", "step", "remove", "Support", "sales"), "'sales'", "main (choices.1)")
        refused(staffed("ivr", "step", "remove", "Support", "ghost"), "'ghost'", "hello, sales, main")
        refused(staffed("ivr", "step", "remove", "Nope", "hello"), "'Nope'")
    removed = ok(staffed("ivr", "step", "remove", "Support", "hello", "--json")).json()
    assert (removed["name"], removed["position"]) == ("hello", 1)
    assert [(s["position"], s["name"]) for s in steps(staffed)] == [(1, "sales"), (2, "main")]
    assert audit_actions(db_url)[-1] == ("ivr.step.remove", "Support/hello")


def test_hours_and_closed_step(staffed, unchanged, db_url):
    ok(staffed("ivr", "step", "add", "Support", "--type", "announce", "--name", "closed", "--text", "Closed"))
    shown = ok(staffed("ivr", "hours", "Support", "sat 10:00-12:00; mon-fri 09:00-18:00",
                       "--closed-step", "closed", "--json")).json()
    assert shown["hours"] == "mon-fri 09:00-18:00; sat 10:00-12:00"
    assert shown["opening_hours"]["mon"] == [["09:00", "18:00"]] and "sun" not in shown["opening_hours"]
    assert shown["closed_step"] == "closed"
    assert ok(staffed("ivr", "show", "Support", "--json")).json()["closed_step"] == "closed"
    assert audit_actions(db_url)[-1] == ("ivr.hours", "Support")
    with unchanged():
        refused(staffed("ivr", "hours", "Support", "mon-fri 9-18"), "'9-18'", "HH:MM-HH:MM")
        refused(staffed("ivr", "hours", "Support", "--closed-step", "ghost"), "'ghost'", "closed")
        refused(staffed("ivr", "hours", "Support", "mon 09:00-10:00", "--always-open"), "--always-open")
        refused(staffed("ivr", "hours", "Support"), "--always-open")
        refused(staffed("ivr", "hours", "Nope", "mon 09:00-10:00"), "'Nope'")
        refused(staffed("ivr", "step", "remove", "Support", "closed"), "'closed'", "closed step")
    opened = ok(staffed("ivr", "hours", "Support", "--always-open", "--json")).json()
    assert (opened["hours"], opened["opening_hours"], opened["closed_step"]) == ("always open", None, None)
    with unchanged():
        refused(staffed("ivr", "hours", "Support", "--closed-step", "closed"), "always open")


def test_step_commands_need_the_configuration_area(staffed, unchanged):
    ok(staffed("users", "add", "sup@acme.test"))
    ok(staffed("users", "role", "sup@acme.test", "supervisor", "--scope", "ivr:Support"))
    with unchanged():
        refused(staffed("ivr", "step", "add", "Support", "--type", "announce", "--text", "x",
                        as_user="sup@acme.test"), "sup@acme.test", "configuration")
        refused(staffed("ivr", "hours", "Support", "--always-open", as_user="sup@acme.test"), "configuration")
    assert steps(staffed) == []
    assert ok(staffed("ivr", "step", "list", "Support", "--json", as_user="sup@acme.test")).json() == []


def test_deleting_an_ivr_deletes_its_steps(staffed):
    ok(staffed("ivr", "step", "add", "Support", "--type", "announce", "--text", "Hi"))
    ok(staffed("ivr", "delete", "Support"))
    ok(staffed("ivr", "create", "Support"))
    assert steps(staffed) == []
