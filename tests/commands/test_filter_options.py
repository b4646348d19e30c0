"""The FILTERS options as a script passes them (CLI.md): --ivr, --group, --user, --country and --tag
take several values (repeated or a comma list: any of them; different options combine with AND);
an option that takes one value given twice, or any option given an empty value (an unset shell
variable), is refused instead of quietly answering for something else; on the history of
tests/commands/test_calls.py (Support: c1, c2; Sales: c3, c5; ana: c0 c1 c4; bob: c3 c6;
c1 tagged Sale, c3 Urgent; callers: c1 ES, c5 DE, the others FR)."""

from __future__ import annotations

import pytest

from tests.commands.test_calls import ANA, BOB, NOV_2, history, listed, names  # noqa: F401  (fixture)
from tests.conftest import ok, refused

REPEATS = [
    ("missed", "list", "--period", NOV_2, "--period", "today"),
    ("stats", "calls", "--direction", "in", "--direction", "out"),
    ("stats", "snooze", "--hours", "09:00-12:00", "--hours", "14:00-18:00"),
    ("export", "calls", "--scope", "ivrs", "--scope", "direct"),
    ("calls", "list", "--transfers", "all", "--transfers", "only"),
    ("filters", "save", "both", "--filter", "a", "--filter", "b"),
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


def stats(cli, *args: str) -> dict:
    return ok(cli("stats", "calls", *args, "--json")).json()


def calls(cli, ids: dict[str, int], *args: str) -> list[str]:
    return sorted(names(listed(cli, *args), ids))


def test_two_ivrs_are_the_calls_of_either(history):  # noqa: F811
    cli, ids = history
    assert calls(cli, ids, "--ivr", "Support", "--ivr", "Sales") == ["c1", "c2", "c3", "c5"]
    assert calls(cli, ids, "--ivr", "Sales,Support") == ["c1", "c2", "c3", "c5"]
    both = stats(cli, "--ivr", "Support", "--ivr", "Sales")
    assert {key: both[key] for key in ("total_calls", "inbound_calls", "answered_calls", "missed_calls",
                                       "service_level", "total_duration_s", "avg_wait_s", "max_wait_s",
                                       "avg_abandon_s", "avg_talk_in_s")} == {
        "total_calls": 4, "inbound_calls": 4,  # c1 c2 | c3 c5
        "answered_calls": 2, "missed_calls": 2,  # c1 c3 | c2 missed, c5 voicemail
        "service_level": 0.5, "total_duration_s": 300.0,  # 100 + 200
        "avg_wait_s": 15.0, "max_wait_s": 40.0,  # (20 + 10) / 2; c2 waited 40
        "avg_abandon_s": 35.0, "avg_talk_in_s": 150.0}  # (40 + 30) / 2; (100 + 200) / 2
    support, sales = stats(cli, "--ivr", "Support"), stats(cli, "--ivr", "Sales")
    for key in ("total_calls", "answered_calls", "missed_calls", "total_duration_s"):
        assert both[key] == support[key] + sales[key], key
    assert "max_abandon_s" not in both and "not_answered" not in both  # several IVRs: no single-IVR figures
    assert "max_abandon_s" in stats(cli, "--ivr", "Support", "--ivr", "Support")  # the same one twice


def test_two_tags_are_the_calls_with_either_each_counted_once(history):  # noqa: F811
    cli, ids = history
    ok(cli("calls", "tag", str(ids["c3"]), "Sale"))  # c3: Urgent and Sale
    assert calls(cli, ids, "--tag", "Sale") == ["c1", "c3"]
    assert calls(cli, ids, "--tag", "Urgent") == ["c3"]
    assert calls(cli, ids, "--tag", "Sale", "--tag", "Urgent") == ["c1", "c3"]  # the union, not 2 + 1
    assert calls(cli, ids, "--tag", "urgent,SALE") == ["c1", "c3"]
    assert stats(cli, "--tag", "Sale", "--tag", "Urgent")["total_calls"] == 2
    assert stats(cli, "--tag", "Sale", "--tag", "Callback")["total_calls"] == 2  # Callback tags none


def test_two_users_two_groups_two_countries(history):  # noqa: F811
    cli, ids = history
    assert calls(cli, ids, "--user", ANA, "--user", BOB) == ["c0", "c1", "c3", "c4", "c6"]
    ana, bob = stats(cli, "--user", ANA)["total_calls"], stats(cli, "--user", BOB)["total_calls"]
    assert (ana, bob, stats(cli, "--user", f"{ANA},{BOB}")["total_calls"]) == (3, 2, 5)
    ok(cli("groups", "create", "Front"))
    ok(cli("groups", "create", "Back"))
    ok(cli("groups", "add", "Front", ANA))
    ok(cli("groups", "add", "Back", BOB))
    assert calls(cli, ids, "--group", "Front", "--group", "Back") == ["c0", "c1", "c3", "c4", "c6"]
    assert calls(cli, ids, "--group", "Back") == ["c3", "c6"]
    assert calls(cli, ids, "--country", "ES", "--country", "de") == ["c1", "c5"]
    assert stats(cli, "--country", "ES,DE")["total_calls"] == 2


def test_different_options_still_combine_with_and(history):  # noqa: F811
    cli, ids = history
    assert calls(cli, ids, "--ivr", "Support", "--ivr", "Sales", "--user", BOB) == ["c3"]
    assert calls(cli, ids, "--ivr", "Support,Sales", "--tag", "Urgent", "--tag", "Sale") == ["c1", "c3"]
    assert calls(cli, ids, "--ivr", "Support", "--ivr", "Sales", "--country", "FR") == ["c2", "c3"]
    assert [row["ivr"] for row in listed(cli, "--ivr", "Sales", "--period", NOV_2)] == ["Sales", "Sales"]


def test_a_name_holding_a_comma_is_read_whole(history):  # noqa: F811
    cli, ids = history
    ok(cli("ivr", "create", "Sales, Paris"))
    assert calls(cli, ids, "--ivr", "Sales, Paris") == []
    assert calls(cli, ids, "--ivr", "Sales, Paris", "--ivr", "Support") == ["c1", "c2"]
    assert calls(cli, ids, "--ivr", "Support,Sales, Paris") == ["c1", "c2"]


@pytest.mark.parametrize(("args", "named"), [
    (("calls", "list", "--ivr", "Support", "--ivr", "Nope", "--ivr", "Gone"),
     ("no IVRs", "'Nope'", "'Gone'")),
    (("stats", "calls", "--tag", "Sale,Nope", "--tag", "Gone"), ("unknown tags", "'Nope'", "'Gone'")),
    (("stats", "leaderboard", "--user", ANA, "--user", "nope@acme.test,gone@acme.test"),
     ("'nope@acme.test'", "'gone@acme.test'")),
    (("missed", "list", "--group", "Nope", "--group", "Gone"), ("no groups", "'Nope'", "'Gone'")),
    (("export", "calls", "--country", "FR,XX", "--country", "YY"), ("'XX'", "'YY'")),
    (("stats", "sms", "--ivr", "Nope", "--ivr", "Sales"), ("no IVR 'Nope'",)),
    (("stats", "meet", "--tag", "Sale", "--tag", "Nope"), ("unknown tag 'Nope'",)),
    (("filters", "save", "bad", "--tag", "Sale", "--tag", "Nope", "--tag", "Gone"), ("'Nope'", "'Gone'")),
], ids=lambda value: " ".join(value[:2]) if isinstance(value, tuple) and len(value) > 2 else None)
def test_every_unknown_value_among_several_is_named(history, unchanged, args, named):  # noqa: F811
    cli, _ = history
    with unchanged():
        result = refused(cli(*args), *named)
    assert result.stdout == ""
    assert "'Sale'" not in result.stderr and "'Support'" not in result.stderr


@pytest.mark.parametrize(("flag", "accepted"), [
    ("--period", "today, yesterday"), ("--ivr", "ringtui ivr list"), ("--type", "answered, missed"),
    ("--filter", "ringtui filters list"), ("--hours", "HH:MM-HH:MM"), ("--tag", "ringtui tags list")])
def test_an_empty_value_is_refused_not_read_as_no_filter(history, flag, accepted):  # noqa: F811
    cli, _ = history
    for command in (("calls", "list", "--json"), ("stats", "calls", "--json")):
        result = refused(cli(*command, flag, ""), f"{flag} is empty", accepted)
        assert result.stdout == ""
    ok(cli("stats", "calls", "--json"))
    refused(cli("calls", "list", "--ivr", "Support", "--ivr", ""), "--ivr is empty")  # one empty of several
    refused(cli("stats", "calls", "--user", ","), "--user is empty", "e-mail")

