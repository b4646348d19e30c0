"""SMS, meetings and omnichannel messages of the demo's past (engine/message_history): consistent with
the demo account, priced and fragmented by the SMS rules, the same for the same seed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, select, update

from ringtui.config import Settings
from ringtui.db import engine_for
from ringtui.engine.message_history import MEETING_TAGS, SMS_PRICES, seed_message_history
from ringtui.models import Account, Meeting, MeetingTag, OmniMessage, PhoneNumber, SmsMessage, Tag, User
from ringtui.services.demo import seed_demo
from ringtui.services.sms_text import analyse
from ringtui.vocab import MeetTool, UserStatus

FIRST, LAST = date(2026, 3, 2), date(2026, 3, 8)  # Monday to Sunday
END = datetime(2026, 3, 9, tzinfo=UTC)


@pytest.fixture
def demo(db_url):
    seed_demo(Settings(database_url=db_url))
    return engine_for(db_url)


def seed(engine, seed: int = 7):
    return seed_message_history(engine, first_day=FIRST, last_day=LAST, seed=seed, end=END)


def rows(engine, model) -> list[tuple]:
    columns = [c for c in model.__table__.columns if c.name != "id"]
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(*columns).order_by(*columns))]


def test_sms_are_fragmented_priced_and_on_the_accounts_numbers(demo):
    report = seed(demo)
    assert report.sms > 200 and report.meetings >= 20 and report.omni_messages == 0
    with demo.connect() as connection:
        sms = connection.execute(select(SmsMessage)).all()
        active = set(connection.execute(select(User.id).where(User.status == UserStatus.ACTIVE)).scalars())
        lines = {(n.user_id, n.ivr_id): n.e164 for n in connection.execute(select(PhoneNumber)).all()}
    assert len(sms) == report.sms
    for message in sms:
        shape = analyse(message.text)
        assert (message.unicode, message.fragments) == (shape.unicode, shape.fragments)
        assert message.sent_at.date() >= FIRST and message.sent_at < END
        if message.direction == "in":
            assert message.price == 0
        elif message.customer_number.startswith("+33"):
            assert message.price == SMS_PRICES["FR"] * message.fragments
        if message.campaign_id is None:
            assert message.user_id in active
            assert message.account_number == lines[(None if message.ivr_id else message.user_id,
                                                    message.ivr_id)]
        else:
            assert message.user_id is None and message.direction == "out"
    assert {m.unicode for m in sms} == {True, False} and max(m.fragments for m in sms) >= 2
    assert len({m.campaign_id for m in sms if m.campaign_id}) == 1  # one Tuesday in the week
    assert any(m.ivr_id for m in sms) and sum(m.price for m in sms) > Decimal(1)


def test_meetings_and_omnichannel_messages(demo):
    seed(demo)
    meetings = rows(demo, Meeting)
    assert {m[0] for m in meetings} <= {tool.value for tool in MeetTool}
    with demo.connect() as connection:
        assert all(m.ended_at > m.started_at for m in connection.execute(select(Meeting)).all())
    with demo.begin() as connection:
        connection.execute(update(Account).values(addons=["omnichannel"]))
        for model in (SmsMessage, Meeting):
            connection.execute(delete(model))
    report = seed(demo)
    assert report.omni_messages > 50
    with demo.connect() as connection:
        messages = connection.execute(select(OmniMessage)).all()
    assert {m.direction for m in messages} == {"in", "out"}
    assert all(m.user_id is not None and m.group_id is not None for m in messages)


def test_same_seed_same_messages(demo):
    seed(demo, 11)
    first = rows(demo, SmsMessage), rows(demo, Meeting)
    with demo.begin() as connection:
        for model in (SmsMessage, Meeting):
            connection.execute(delete(model))
    seed(demo, 11)
    assert (rows(demo, SmsMessage), rows(demo, Meeting)) == first


def test_meetings_are_tagged_by_their_title(demo):
    """S8 filters meetings by tag: the demo's sales meetings carry Sale, escalations Complaint and
    Technical issue, ..., others none."""
    seed(demo)
    with demo.connect() as connection:
        titles = dict(connection.execute(select(Meeting.id, Meeting.title)).all())
        tagged = connection.execute(select(MeetingTag.meeting_id, Tag.name).join(
            Tag, Tag.id == MeetingTag.tag_id)).all()
    expected = {(meeting, tag) for meeting, title in titles.items() for tag in MEETING_TAGS.get(title, ())}
    assert set(tagged) == expected and len(tagged) == len(expected)
    assert {tag for _, tag in tagged} >= {"Sale", "Technical issue"}  # a week holds such meetings
