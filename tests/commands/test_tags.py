"""`ringtui tags ...` through the CLI, happy and refused paths."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ringtui.db import engine_for
from tests.conftest import ADMIN, ok, refused


def tags(cli, **kwargs) -> list[dict]:
    return ok(cli("tags", "list", "--json", **kwargs)).json()


def test_add_then_list_shows_name_colour_and_conditions(account):
    ok(account("tags", "add", "Urgent", "--color", "ff0000", "--conditions", "Customer must be called back"))
    ok(account("tags", "add", "billing"))
    assert tags(account) == [
        {"name": "billing", "color": "#888888", "conditions": ""},
        {"name": "Urgent", "color": "#FF0000", "conditions": "Customer must be called back"},
    ]


def test_list_human_output_shows_the_maximum_as_a_caption(account):
    ok(account("tags", "add", "Urgent"))
    ok(account("tags", "max", "5"))
    out = ok(account("tags", "list")).stdout
    assert "at most 5 tags per call" in out and "Urgent" in out


def test_list_as_csv(account):
    ok(account("tags", "add", "Urgent", "--color", "#00FF00"))
    assert ok(account("tags", "list", "--csv")).stdout.splitlines() == ["name,color,conditions",
                                                                        "Urgent,#00FF00,"]


def test_duplicate_name_ignoring_case_is_a_conflict(account, unchanged):
    ok(account("tags", "add", "Urgent"))
    with unchanged():
        refused(account("tags", "add", "URGENT", "--color", "#123456"), "'Urgent'", "already exists")


@pytest.mark.parametrize(("args", "fragment"), [
    (["Sales", "--color", "#12"], "'#12'"),
    (["Sales", "--color", "blue"], "'blue'"),
    (["   "], "tag name"),
    (["x" * 61], "60 characters"),
])
def test_bad_names_and_colours_are_refused(account, unchanged, args, fragment):
    with unchanged():
        refused(account("tags", "add", *args), fragment)


def test_remove_ignores_case_and_missing_tag_is_refused(account, unchanged):
    ok(account("tags", "add", "Urgent"))
    ok(account("tags", "remove", "urgent"))
    assert tags(account) == []
    with unchanged():
        refused(account("tags", "remove", "Urgent"), "'Urgent'", "tags list")


def test_max_shows_and_sets_the_account_wide_maximum(account):
    assert ok(account("tags", "max", "--json")).json() == {"max_tags_per_call": 3}
    assert ok(account("tags", "max", "20", "--json")).json() == {"max_tags_per_call": 20}
    assert ok(account("tags", "max", "--json")).json() == {"max_tags_per_call": 20}


@pytest.mark.parametrize("value", ["0", "21"])
def test_max_out_of_range_is_refused(account, unchanged, value):
    with unchanged():
        refused(account("tags", "max", value), value, "1..20")


def test_max_that_is_not_a_number_is_a_usage_error(account, unchanged):
    with unchanged():
        assert account("tags", "max", "lots").exit_code == 2


def test_agents_who_tag_calls_see_tags_but_do_not_manage_them(account, unchanged):
    ok(account("tags", "add", "Urgent"))
    ok(account("users", "add", "ana@acme.test"))
    assert [t["name"] for t in tags(account, as_user="ana@acme.test")] == ["Urgent"]
    ok(account("users", "perms", "ana@acme.test", "tag_calls=false"))
    with unchanged():
        refused(account("tags", "add", "Sales", as_user="ana@acme.test"), "ana@acme.test", "configuration")
        refused(account("tags", "max", "4", as_user="ana@acme.test"), "configuration")
        refused(account("tags", "list", as_user="ana@acme.test"), "ana@acme.test", "tag_calls")


def test_tags_are_in_every_plan(cli):
    ok(cli("init", "--plan", "smart", "--admin", ADMIN))
    ok(cli("tags", "add", "Urgent"))
    assert [t["name"] for t in tags(cli)] == ["Urgent"]


def test_every_change_is_audited(account, db_url):
    ok(account("tags", "add", "Urgent"))
    ok(account("tags", "max", "4"))
    ok(account("tags", "max"))
    ok(account("tags", "remove", "Urgent"))
    with engine_for(db_url).connect() as connection:
        actions = connection.execute(text(
            "SELECT action FROM audit_entry WHERE action LIKE 'tag.%' ORDER BY id")).scalars().all()
    assert actions == ["tag.add", "tag.max", "tag.remove"]
