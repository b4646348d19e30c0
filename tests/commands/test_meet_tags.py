"""Meetings filtered by tag, group and user (S8) in `stats meet`, `export meet` and the Meet log, on the
fixed meetings of test_stats_messages (times UTC, Nov 2 2026):

  m1 09:00-09:30 zoom  ana 4 people   tags Sale
  m2 10:00-11:00 teams bob 2 people   tags Sale, Urgent
  m3 14:00-14:15 zoom  ana 3 people   no tag
  m4 15:00-      ringover bob 5, still open (counted by no statistic)   tags Urgent
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import insert, select

from ringtui.config import Settings
from ringtui.db import engine_for
from ringtui.models import Meeting, MeetingTag, Tag
from ringtui.services.base import operation
from ringtui.services.filters import FilterOptions
from ringtui.services.meetings import list_meetings
from tests.commands.test_calls import ANA, BOB
from tests.commands.test_stats_messages import messages, stats  # noqa: F401  (fixture)
from tests.conftest import ok, refused

TAGS = {"m1": ("Sale",), "m2": ("Sale", "Urgent"), "m4": ("Urgent",)}
NO_MEETINGS = {"ringover": 0, "teams": 0, "zoom": 0, "google-meet": 0}


@pytest.fixture
def tagged(messages, db_url):  # noqa: F811
    """The fixed meetings tagged as above; their ids by name (m1..m4, in start order)."""
    with engine_for(db_url).begin() as connection:
        started = connection.execute(select(Meeting.id).order_by(Meeting.started_at)).scalars()
        ids = dict(zip(("m1", "m2", "m3", "m4"), started, strict=True))
        tags = dict(connection.execute(select(Tag.name, Tag.id)).all())
        connection.execute(insert(MeetingTag), [{"meeting_id": ids[name], "tag_id": tags[tag]}
                                                for name, names in TAGS.items() for tag in names])
    return messages, ids


def by_agent(figures: dict) -> dict[str, tuple[int, float]]:
    return {row["agent"]: (row["meetings"], row["duration_s"]) for row in figures["leaderboard"]}


def test_stats_meet_by_tag(tagged):
    cli, _ = tagged
    sale = stats(cli, "meet", "--tag", "Sale")
    assert {k: v for k, v in sale.items() if k != "leaderboard"} == {
        "total_meetings": 2, "by_tool": NO_MEETINGS | {"teams": 1, "zoom": 1},
        "total_duration_s": 5400.0, "avg_duration_s": 2700.0, "avg_participants": 3.0}
    assert by_agent(sale) == {ANA: (1, 1800.0), BOB: (1, 3600.0)}
    urgent = stats(cli, "meet", "--tag", "urgent")  # any case, as for calls; m4 is still open
    assert (urgent["total_meetings"], urgent["by_tool"], urgent["total_duration_s"], by_agent(urgent)) == (
        1, NO_MEETINGS | {"teams": 1}, 3600.0, {BOB: (1, 3600.0)})
    callback = stats(cli, "meet", "--tag", "Callback")  # a tag no meeting has
    assert (callback["total_meetings"], callback["leaderboard"]) == (0, [])


def test_stats_meet_with_two_tags_counts_a_meeting_with_both_once(tagged):
    cli, _ = tagged
    both = stats(cli, "meet", "--tag", "Sale", "--tag", "Urgent")  # m1 | m2 (both tags) | m4 open
    assert (both["total_meetings"], both["total_duration_s"], by_agent(both)) == (
        2, 5400.0, {ANA: (1, 1800.0), BOB: (1, 3600.0)})
    assert stats(cli, "meet", "--tag", "urgent,Callback")["total_meetings"] == 1  # m2
    refused(cli("stats", "meet", "--tag", "Sale", "--tag", "Nope", "--tag", "Gone"), "'Nope'", "'Gone'")


def test_stats_meet_tag_with_group_and_user(tagged):
    cli, _ = tagged
    ok(cli("groups", "create", "Closers"))
    ok(cli("groups", "add", "Closers", ANA))
    closers = stats(cli, "meet", "--group", "Closers")
    assert (closers["total_meetings"], closers["total_duration_s"], by_agent(closers)) == (
        2, 2700.0, {ANA: (2, 2700.0)})
    assert by_agent(stats(cli, "meet", "--group", "Closers", "--tag", "Sale")) == {ANA: (1, 1800.0)}
    assert by_agent(stats(cli, "meet", "--user", BOB, "--tag", "Sale")) == {BOB: (1, 3600.0)}
    assert stats(cli, "meet", "--user", ANA, "--tag", "Urgent")["total_meetings"] == 0


def test_a_saved_filter_keeps_its_tag_for_meetings(tagged):
    cli, _ = tagged
    ok(cli("filters", "save", "urgent", "--tag", "Urgent"))
    assert stats(cli, "meet", "--filter", "urgent")["total_meetings"] == 1


def test_an_unknown_tag_is_refused_naming_it(tagged, unchanged):
    cli, _ = tagged
    with unchanged():
        refused(cli("stats", "meet", "--tag", "Nope"), "unknown tag 'Nope'")
        refused(cli("export", "meet", "--tag", "Nope"), "unknown tag 'Nope'")


def test_export_meet_by_tag(tagged, tmp_path):
    cli, ids = tagged
    target = tmp_path / "urgent.json"
    ok(cli("export", "meet", "--tag", "Urgent", "--format", "json", "--out", str(target)))
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert [row["id"] for row in exported] == [ids["m4"], ids["m2"]]  # newest first, the open one too


def test_the_meet_log_filters_by_tag(tagged, db_url):
    _, ids = tagged
    with operation(Settings(database_url=db_url)) as op:
        rows = list_meetings(op, FilterOptions(tag="Sale"))
    assert [row["id"] for row in rows] == [ids["m2"], ids["m1"]]
