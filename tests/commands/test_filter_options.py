"""The FILTERS options as a script passes them (CLI.md): an option that takes one value given twice,
or given an empty value (an unset shell variable), is refused instead of quietly answering for
something else; on the history of tests/commands/test_calls.py (Support: c1, c2; Sales: c3, c5)."""

from __future__ import annotations

import pytest

from tests.commands.test_calls import NOV_2, history, listed  # noqa: F401  (fixture)
from tests.conftest import ok, refused

REPEATS = [
    ("calls", "list", "--ivr", "Support", "--ivr", "Sales"),
    ("missed", "list", "--period", NOV_2, "--period", "today"),
    ("stats", "calls", "--direction", "in", "--direction", "out"),
    ("stats", "snooze", "--user", "ana@acme.test", "--user", "bob@acme.test"),
    ("stats", "meet", "--tag", "Sale", "--tag", "Urgent"),
    ("export", "calls", "--country", "FR", "--country", "ES"),
    ("filters", "save", "both", "--ivr", "Support", "--ivr", "Sales"),
]


@pytest.mark.parametrize("args", REPEATS, ids=lambda args: " ".join(args[:2]))
def test_a_single_valued_option_given_twice_is_a_usage_error(history, unchanged, args):  # noqa: F811
    cli, _ = history
    flag, first, second = args[-3], args[-3 + 1], args[-1]
    with unchanged():
        result = cli(*args)
    assert result.exit_code == 2, result
    assert result.stdout == ""
    assert flag in result.stderr and repr(first) in result.stderr and repr(second) in result.stderr


def test_once_each_they_still_combine(history):  # noqa: F811
    cli, _ = history
    assert [row["ivr"] for row in listed(cli, "--ivr", "Sales", "--period", NOV_2)] == ["Sales", "Sales"]


@pytest.mark.parametrize(("flag", "accepted"), [
    ("--period", "today, yesterday"), ("--ivr", "ringtui ivr list"), ("--type", "answered, missed"),
    ("--filter", "ringtui filters list"), ("--hours", "HH:MM-HH:MM")])
def test_an_empty_value_is_refused_not_read_as_no_filter(history, flag, accepted):  # noqa: F811
    cli, _ = history
    for command in (("calls", "list", "--json"), ("stats", "calls", "--json")):
        result = refused(cli(*command, flag, ""), f"{flag} is empty", accepted)
        assert result.stdout == ""
    ok(cli("stats", "calls", "--json"))
