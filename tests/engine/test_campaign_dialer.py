"""The power dialer and the campaign call store without SIP: the demo's simulated telephony drives a
real engine runtime and database (both databases); G.711 and RTP framing; results of SIP statuses;
the at-most-once settlement after a kill; the [campaigns] settings."""

from __future__ import annotations

import asyncio
import random
import struct
import warnings
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlmodel import Session

from ringtui.config import load_settings
from ringtui.db import engine_for
from ringtui.engine.campaigns import call_store, store
from ringtui.engine.campaigns.dialer import PowerDialer
from ringtui.engine.campaigns.telephony import SimulatedTelephony
from ringtui.engine.campaigns.voice import VoiceRunner
from ringtui.engine.config import load_config
from ringtui.engine.runtime import EngineOptions, EngineRuntime
from ringtui.engine.sip.originate import result_of
from ringtui.engine.sip.rtp import media_of, packets, pcmu
from ringtui.errors import Invalid
from ringtui.models import PhoneNumber
from ringtui.models.types import utcnow
from ringtui.vocab import CampaignKind, RecipientStatus
from tests.conftest import ok
from tests.e2e.test_campaign_calls import tone

ANA = "ana@acme.test"
NUMBERS = [f"06{i:08d}" for i in range(10_000_000, 10_000_012)]


@pytest.fixture
def campaign(advanced_account, tmp_path, monkeypatch):
    cli = advanced_account
    monkeypatch.setenv("RINGTUI_ENGINE_TOKEN_FILE", str(tmp_path / "engine.token"))
    ok(cli("account", "power-dialer", "on"))
    ok(cli("users", "add", ANA))
    ok(cli("tags", "add", "Hot"))
    ok(cli("campaign", "calls", "create", "Demo", "--to", ",".join(NUMBERS), "--agent", ANA,
           "--attempts", "2", "--tag", "Hot", "--script", "Hi!"))
    ok(cli("campaign", "launch", "Demo"))
    return cli


def no_retry_delay(db_url: str) -> None:
    with engine_for(db_url).begin() as connection:
        connection.execute(update(store.C).values(retry_delay_s=0))


async def dialing(db_url: str, seed: int, until: Any) -> tuple[EngineRuntime, PowerDialer, list[dict]]:
    """A runtime with Ana connected and a dialer on simulated people, stepped until `until(runtime)`."""
    runtime = EngineRuntime(load_settings(database_url=db_url), EngineOptions())
    runtime.configure(load_config(runtime.database))
    runtime.apply(runtime.center.agent_connected(ANA, "demo"))
    events: list[dict] = []
    dialer = PowerDialer(runtime, SimulatedTelephony(random.Random(seed), pace=0.0005), events.append)
    async with asyncio.timeout(60):
        while not await asyncio.to_thread(until, runtime):
            await dialer.step()
            await asyncio.gather(*dialer.calls.values())
            runtime.apply(runtime.center.advance())
    await runtime.flush()
    await asyncio.to_thread(call_store.link_records, runtime.database)
    return runtime, dialer, events


def rows(db_url: str, query: str) -> list[tuple]:
    with engine_for(db_url).connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


def finished(db_url: str) -> bool:
    return rows(db_url, "SELECT status FROM campaign") == [("finished",)]


def test_the_demo_dialer_works_through_the_list_with_retries_records_and_feed_events(campaign, db_url):
    no_retry_delay(db_url)
    _, _, events = asyncio.run(dialing(db_url, 7, lambda runtime: finished(db_url)))
    recipients = rows(db_url, "SELECT r.number, r.status, r.attempts, u.email, "
                              "(SELECT count(*) FROM call_record c WHERE c.to_number = r.number), "
                              "c.to_number FROM campaign_recipient r JOIN app_user u ON u.id = r.user_id "
                              "LEFT JOIN call_record c ON c.id = r.call_record_id")
    assert len(recipients) == len(NUMBERS)
    for number, status, attempts, agent, calls, linked in recipients:
        assert status in {"answered", "no_answer", "busy", "invalid"} and agent == ANA
        assert calls == attempts and linked == number  # one record per call, the last one linked
        assert attempts in (1, 2) and not (attempts == 1 and status in {"no_answer", "busy"})  # retried
    assert any(r[2] == 2 for r in recipients), "no number was retried: choose another seed"
    tagged = rows(db_url, "SELECT count(DISTINCT ct.call_record_id) FROM call_tag ct JOIN tag t ON "
                          "t.id = ct.tag_id WHERE t.name = 'Hot'")[0][0]
    assert tagged == sum(r[2] for r in recipients)  # every call carries the campaign's tag
    answered = [e for e in events if e["type"] == "campaign_call" and e["result"] == "answered"]
    assert answered and all(e["script"] == "Hi!" and e["agent"] == ANA for e in answered)
    calls = [e for e in events if e["type"] == "campaign_call"]
    states = [e["state"] for e in calls if e["number"] == answered[0]["number"]]
    assert states[-4:] == ["dialing_agent", "dialing_customer", "connected", "ended"]
    last = [e for e in events if e["type"] == "campaign_progress"][-1]
    assert (last["kind"], last["status"], last["total"], last["done"]) == ("calls", "finished", 12, 12)
    assert sum(last["results"].values()) == 12


def test_after_an_answered_call_the_agents_after_call_work_holds_the_next_number(campaign, db_url):
    ok(campaign("users", "perms", ANA, "after_call_work_s=600"))

    def answered(runtime: EngineRuntime) -> bool:
        return ("answered",) in rows(db_url, "SELECT status FROM campaign_recipient")

    async def scenario() -> tuple[str, int]:
        runtime, dialer, _ = await dialing(db_url, 3, answered)
        return runtime.center.agent_state(ANA).value, await dialer.step()

    state, started = asyncio.run(scenario())
    assert (state, started) == ("after_call_work", 0)


def test_numbers_a_killed_engine_left_in_progress_are_never_called_again(campaign, db_url):
    database = engine_for(db_url)
    [demo] = call_store.running_campaigns(database, CampaignKind.CALLS)
    first, second = call_store.claim(database, demo), call_store.claim(database, demo)
    with database.begin() as connection:
        connection.execute(call_store.CR.insert().values(
            call_id=first.call_id, direction="out", kind="direct", from_number="", to_number=first.number,
            started_at=utcnow(), answered_at=utcnow(), ended_at=utcnow(), wait_s=0, talk_s=1, recorded=False,
            vip=False, flagged=False))
    assert store.reconcile(database, acknowledged_only=False) == {"sent": 0, "pending": 0, "unknown": 0}
    assert call_store.reconcile(database) == {"answered": 1, "interrupted": 1}
    settled = rows(db_url, f"SELECT number, status, attempts, call_record_id IS NOT NULL, detail LIKE "
                           f"'interrupted%' FROM campaign_recipient WHERE id IN ({first.id}, {second.id}) "
                           "ORDER BY position")
    assert settled == [(first.number, "answered", 1, True, True), (second.number, "failed", 1, False, True)]
    assert call_store.claim(database, demo).number not in {first.number, second.number}


def test_no_answer_and_busy_come_back_after_the_retry_delay_until_the_attempts_are_used(campaign, db_url):
    database = engine_for(db_url)
    [demo] = call_store.running_campaigns(database, CampaignKind.CALLS)  # 2 attempts, 1 h apart
    first = call_store.claim(database, demo)
    assert call_store.settle(database, demo, first, RecipientStatus.BUSY) == RecipientStatus.PENDING
    assert call_store.claim(database, demo).number != first.number  # not due for an hour
    with database.begin() as connection:
        connection.execute(update(store.R).where(store.R.c.id == first.id).values(next_attempt_at=utcnow()))
    again = call_store.claim(database, demo)
    assert (again.number, again.attempt) == (first.number, 2)
    assert call_store.settle(database, demo, again, RecipientStatus.NO_ANSWER) == RecipientStatus.NO_ANSWER
    assert call_store.progress(database, demo.id)["results"] == {"no_answer": 1}


def test_a_voice_message_is_not_played_to_a_number_blacklisted_after_the_list_was_imported(
        advanced_account, db_url, tmp_path):
    cli, ours = advanced_account, "+33180000001"
    ok(cli("account", "power-dialer", "on"))
    with Session(engine_for(db_url)) as db:
        db.add(PhoneNumber(e164=ours, country="FR", format="national", status="available"))
        db.commit()
    ok(cli("campaign", "voice", "create", "Reminder", "--from", ours, "--message-file",
           tone(tmp_path / "msg.wav", 0.6), "--to", "0612345671,0612345672"))
    ok(cli("blacklist", "add", "0612345672", "--direction", "out"))
    ok(cli("campaign", "launch", "Reminder"))

    async def run() -> None:
        runtime = EngineRuntime(load_settings(database_url=db_url), EngineOptions())
        runtime.configure(load_config(runtime.database))
        voice = VoiceRunner(runtime, SimulatedTelephony(random.Random(1), pace=0.0005), lambda event: None)
        async with asyncio.timeout(60):
            while not await asyncio.to_thread(finished, db_url):
                await voice.step()
                await asyncio.gather(*voice.calls)

    asyncio.run(run())
    results = dict(rows(db_url, "SELECT number, status FROM campaign_recipient"))
    assert results["+33612345672"] == "blacklisted"
    assert results["+33612345671"] in {"answered", "no_answer", "busy", "invalid"}
    refused = rows(db_url, "SELECT type, talk_s FROM call_record WHERE to_number = '+33612345672'")
    assert refused == [("missed", 0.0)]  # recorded, never rung
    assert rows(db_url, "SELECT sum(calls) FROM call_hour") == [(2,)]  # both in the hourly roll-ups


# ---------------------------------------------------------------- SIP results, G.711, RTP


@pytest.mark.parametrize(("status", "timed_out", "result"), [
    (200, False, "answered"), (486, False, "busy"), (603, False, "busy"), (480, False, "no_answer"),
    (408, False, "no_answer"), (487, True, "no_answer"), (404, False, "invalid"), (484, False, "invalid"),
    (503, False, "failed"), (403, False, "failed")])
def test_sip_statuses_are_campaign_results(status, timed_out, result):
    assert result_of(status, timed_out=timed_out).value == result


def test_pcmu_matches_g711_and_packets_are_20_ms_with_rtp_headers():
    samples = [0, -1, 1, 32767, -32768, 1000, -1000, 12345]
    pcm = struct.pack(f"<{len(samples)}h", *samples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop

        assert pcmu(pcm) == audioop.lin2ulaw(pcm, 2)
    assert pcmu(struct.pack("<h", 0)) == b"\xff" and pcmu(struct.pack("<h", 32767)) == b"\x80"
    sent = packets(bytes(330), ssrc=0xDEADBEEF, sequence=65535, timestamp=100)
    headers = [struct.unpack("!BBHII", p[:12]) for p in sent]
    assert headers == [(0x80, 0x80, 65535, 100, 0xDEADBEEF), (0x80, 0, 0, 260, 0xDEADBEEF),
                       (0x80, 0, 1, 420, 0xDEADBEEF)]
    assert [len(p) for p in sent] == [172, 172, 172] and sent[2][12 + 10:] == b"\xff" * 150


def test_the_media_address_of_an_answer():
    session = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n"
    own = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.0.0.2\r\n"
    assert (media_of(session).host, media_of(session).port) == ("10.0.0.1", 4000)
    assert media_of(own).host == "10.0.0.2"
    assert media_of("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 0 RTP/AVP 0\r\n") is None
    assert media_of("v=0\r\nm=video 4000 RTP/AVP 96\r\n") is None


@pytest.mark.parametrize(("body", "named"), [("voice_channels = 0", "voice_channels = 0"),
                                             ('ring_s = "soon"', "ring_s = 'soon'"),
                                             ("ring_s = 900", "ring_s = 900")])
def test_bad_campaign_settings_are_refused_by_name(tmp_path, body, named):
    config = tmp_path / "config.toml"
    config.write_text(f"[campaigns]\n{body}\n")
    with pytest.raises(Invalid, match=named.replace("(", r"\(")):
        load_settings(config_path=str(config), database_url="sqlite://")
