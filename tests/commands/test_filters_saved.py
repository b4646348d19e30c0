"""Saved filters (S16): `filters save/list/remove` and `--filter NAME` on the FILTERS commands,
on the history of tests/commands/test_calls.py (Support: c1, c2; Sales: c3, c5; Nov 2 local)."""

from __future__ import annotations

import pytest

from tests.commands.test_calls import ANA, NOV_2, SUP, history, listed  # noqa: F401  (fixture)
from tests.conftest import ADMIN, ok, refused


def ids(calls: list[dict]) -> list[int]:
    return [c["id"] for c in calls]


def test_a_saved_filter_gives_what_its_options_give(history):  # noqa: F811
    cli, _ = history
    saved = ok(cli("filters", "save", "support-day", "--ivr", "Support", "--period", NOV_2, "--json")).json()
    assert saved["options"] == {"ivr": "Support", "period": NOV_2}
    assert saved["owner"] == ADMIN
    explicit = ("--ivr", "Support", "--period", NOV_2)
    assert ids(listed(cli, "--filter", "support-day")) == ids(listed(cli, *explicit)) != []
    json = ("--json",)
    for command in (("stats", "calls", *json), ("stats", "leaderboard", *json), ("stats", "heatmap", *json),
                    ("missed", "list", *json), ("stats", "history", "--interval", "day", *json),
                    ("stats", "callers", *json), ("export", "calls", "--format", "json")):
        by_name = ok(cli(*command, "--filter", "support-day")).json()
        assert by_name == ok(cli(*command, *explicit)).json(), command


def test_a_filter_keeps_several_tags_and_ivrs(history):  # noqa: F811
    cli, ids_of = history
    ok(cli("calls", "tag", str(ids_of["c3"]), "Sale"))  # c3: Urgent and Sale; c1: Sale
    saved = ok(cli("filters", "save", "both", "--tag", "Sale", "--tag", "Urgent", "--ivr", "Support",
                   "--ivr", "Sales", "--json")).json()
    assert saved["options"] == {"tag": "Sale,Urgent", "ivr": "Support,Sales"}
    assert ok(cli("filters", "list", "--json")).json()[0]["options"] == saved["options"]
    explicit = ("--tag", "Sale", "--tag", "Urgent", "--ivr", "Support", "--ivr", "Sales")
    assert sorted(ids(listed(cli, "--filter", "both"))) == sorted(ids(listed(cli, *explicit))) == sorted(
        [ids_of["c1"], ids_of["c3"]])
    assert ok(cli("stats", "calls", "--filter", "both", "--json")).json()["total_calls"] == 2
    assert ids(listed(cli, "--filter", "both", "--tag", "Urgent")) == [ids_of["c3"]]  # given replaces saved


def test_options_given_with_the_filter_override_its_values(history):  # noqa: F811
    cli, _ = history
    ok(cli("filters", "save", "support-day", "--ivr", "Support", "--period", NOV_2))
    assert ids(listed(cli, "--filter", "support-day", "--ivr", "Sales")) == ids(
        listed(cli, "--ivr", "Sales", "--period", NOV_2))
    assert ids(listed(cli, "--filter", "support-day", "--type", "missed")) == ids(
        listed(cli, "--ivr", "Support", "--period", NOV_2, "--type", "missed"))


def test_a_relative_period_is_stored_relative(history):  # noqa: F811
    cli, _ = history
    ok(cli("filters", "save", "weekly-in", "--period", "last-week", "--direction", "in"))
    ok(cli("filters", "save", "from-weekly", "--filter", "weekly-in", "--hours", "09:00-18:00"))
    stored = {f["name"]: f["options"] for f in ok(cli("filters", "list", "--json")).json()}
    assert stored == {"weekly-in": {"period": "last-week", "direction": "in"},
                      "from-weekly": {"period": "last-week", "direction": "in", "hours": "09:00-18:00"}}
    table = ok(cli("filters", "list")).stdout
    assert "weekly-in" in table and "--period=last-week" in table


def test_a_filter_stores_options_only_the_user_still_sees_their_own_scope(history):  # noqa: F811
    cli, _ = history
    ok(cli("filters", "save", "nov-2", "--period", NOV_2, as_user=SUP))
    sales_only = listed(cli, "--filter", "nov-2", as_user=SUP)
    assert {c["ivr"] for c in sales_only} == {"Sales"}
    assert len(listed(cli, "--filter", "nov-2", as_user=ADMIN)) > len(sales_only)  # an admin may use it


def test_each_user_sees_their_own_filters_and_an_admin_sees_all(history):  # noqa: F811
    cli, _ = history
    ok(cli("filters", "save", "boss-view", "--ivr", "Support"))
    ok(cli("filters", "save", "sup-view", "--period", NOV_2, as_user=SUP))
    assert [f["name"] for f in ok(cli("filters", "list", "--json", as_user=SUP)).json()] == ["sup-view"]
    everyone = ok(cli("filters", "list", "--json")).json()
    assert [(f["name"], f["owner"]) for f in everyone] == [("boss-view", ADMIN), ("sup-view", SUP)]
    refused(cli("calls", "list", "--filter", "boss-view", as_user=SUP), "no saved filter named 'boss-view'")
    refused(cli("filters", "remove", "boss-view", as_user=SUP), "no saved filter named 'boss-view'")
    ok(cli("filters", "remove", "sup-view"))  # an admin removes anyone's
    ok(cli("filters", "remove", "boss-view"))
    assert ok(cli("filters", "list", "--json")).json() == []


@pytest.mark.parametrize(("args", "fragments"), [
    (["save", "empty"], ["filter 'empty' would hold no options"]),
    (["save", "bad", "--ivr", "Nope"], ["Nope"]),
    (["save", "bad", "--period", "fortnight"], ["unknown period 'fortnight'"]),
    (["save", "bad", "--filter", "missing"], ["no saved filter named 'missing'"]),
    (["save", " ", "--period", "today"], ["filter name must not be empty"]),
    (["save", "x" * 81, "--period", "today"], ["longer than 80 characters"]),
    (["remove", "missing"], ["no saved filter named 'missing'"]),
])
def test_bad_requests_are_refused_naming_the_value_and_change_nothing(history, unchanged, args,  # noqa: F811
                                                                     fragments):
    cli, _ = history
    with unchanged():
        refused(cli("filters", *args), *fragments)


def test_a_name_is_saved_once(history, unchanged):  # noqa: F811
    cli, _ = history
    ok(cli("filters", "save", "mine", "--period", "today"))
    with unchanged():
        refused(cli("filters", "save", "mine", "--period", "yesterday", as_user=SUP),
                "a saved filter named 'mine' already exists")


def test_an_unknown_filter_on_a_filters_command_is_refused(history):  # noqa: F811
    cli, _ = history
    refused(cli("stats", "calls", "--filter", "nope"), "no saved filter named 'nope'", "filters list")
