"""Call and voice campaigns run by the engine over real SIP (K2, K3): SIPp as the customers behind the
trunk (a number ending in 2 is busy, in 3 never answers, any other answers) and SIPp as the agent's
registered phone; 127.0.0.1 only, free ports, on both databases. The power dialer bridges the agent
and the customer by re-INVITE; the voice-message test receives the RTP the engine plays."""

from __future__ import annotations

import asyncio
import math
import shutil
import signal
import struct
import subprocess
import sys
import wave
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from ringtui.db import engine_for
from ringtui.engine.campaigns.voice import message_of
from ringtui.engine.feed import Feed
from ringtui.engine.runtime import EngineRuntime
from ringtui.engine.sip.gateway import SipGateway
from ringtui.models import PhoneNumber
from tests.conftest import ok
from tests.e2e.test_sip_calls import register
from tests.e2e.test_sip_calls import sipp as run_sipp
from tests.e2e.test_sip_outbound import settled
from tests.e2e.test_sip_registrar import SCENARIOS, free_udp_port, with_engine

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("sipp") is None,
                                 reason="sipp is not on PATH (Debian sip-tester; .ci/run installs it)")]

ANA = "ana@acme.test"
ANSWERS, BUSY, SILENT = "+33612345671", "+33612345672", "+33612345673"
OURS = "+33140506070"
RINGTUI = Path(sys.executable).with_name("ringtui")


@pytest.fixture
def events(monkeypatch) -> list[dict[str, Any]]:
    """Every campaign event the engine publishes on its live feed."""
    seen: list[dict[str, Any]] = []
    original = Feed.publish

    def publish(feed: Feed, event: Any) -> None:
        if isinstance(event, dict) and str(event.get("type", "")).startswith("campaign_"):
            seen.append(dict(event))
        original(feed, event)

    monkeypatch.setattr(Feed, "publish", publish)
    return seen


@pytest.fixture
def center(advanced_account, tmp_path, monkeypatch) -> dict[str, Any]:
    """An advanced account with the power dialer, Ana (SIP phone, outgoing number), a tag, a trunk on a
    free port and customers who ring 2 s at most ([campaigns] ring_s)."""
    cli = advanced_account
    monkeypatch.setenv("RINGTUI_ENGINE_TOKEN_FILE", str(tmp_path / "engine.token"))
    config = tmp_path / "config.toml"
    config.write_text("[campaigns]\nring_s = 2\nvoice_channels = 2\n")
    monkeypatch.setenv("RINGTUI_CONFIG", str(config))
    trunk = free_udp_port()
    monkeypatch.setenv("RINGTUI_SIP_TRUNK", f"127.0.0.1:{trunk}")
    ok(cli("account", "power-dialer", "on"))
    ok(cli("users", "add", ANA))
    ok(cli("tags", "add", "Hot"))
    phone = ok(cli("users", "sip-credentials", ANA, "--json")).json()
    number = ok(cli("numbers", "search", "--country", "FR", "--format", "national", "--limit", "1",
                    "--json")).json()[0]["number"]
    ok(cli("numbers", "add", number))
    outgoing = ok(cli("numbers", "list", "--json")).json()[0]["number"]
    ok(cli("users", "set", ANA, f"outgoing_number={outgoing}"))
    return {"cli": cli, "phone": phone, "outgoing": outgoing, "trunk": trunk, "config": config}


async def sipp(scenario: str, cwd: Path, *args: str, calls: int = 3, check: bool = True) -> None:
    """Run `calls` SIPp calls of `scenario` in `cwd`; with `check`, they must all succeed."""
    code, errors = await run_sipp(scenario, cwd, *args, "-trace_msg", calls=calls)
    assert not check or code == 0, errors


def customers(tmp_path: Path, *, hang_up: bool = False) -> str:
    """campaign_customers.xml; `hang_up`: the customers who answer hang up after a second."""
    path = tmp_path / ("customers_hang_up.xml" if hang_up else "customers.xml")
    jump = '<nop hide="true" next="hang_up"/>' if hang_up else '<nop hide="true"/>'
    path.write_text((SCENARIOS / "campaign_customers.xml").read_text()
                    .replace('<nop hide="true"/><!-- __WAITS__ -->', jump))
    return str(path)


def recipients(db_url: str) -> dict[str, tuple[Any, ...]]:
    """number -> (status, attempts, agent, linked record's to_number, its type)."""
    with engine_for(db_url).connect() as connection:
        rows = connection.execute(text(
            "SELECT r.number, r.status, r.attempts, u.email, c.to_number, c.type FROM campaign_recipient r "
            "LEFT JOIN app_user u ON u.id = r.user_id LEFT JOIN call_record c ON c.id = r.call_record_id"))
        return {row[0]: tuple(row[1:]) for row in rows}


async def until(condition, what: str, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not await asyncio.to_thread(condition):
            await asyncio.sleep(0.1)


def finished_and_linked(db_url: str) -> bool:
    rows = recipients(db_url).values()
    return bool(rows) and all(row[0] not in ("pending", "in_progress") and row[3] is not None for row in rows)


def told_done(events: list[dict[str, Any]], total: int) -> bool:
    """The feed got the campaign's last figures (published just after the last result is written)."""
    return any(e["type"] == "campaign_progress" and e["done"] == total for e in events)


def logs(directory: Path) -> str:
    return "".join(log.read_text(errors="replace") for log in directory.glob("*_messages.log"))


# ---------------------------------------------------------------- power dialer


def test_the_power_dialer_calls_the_agent_then_each_customer_and_bridges_those_who_answer(
        center, db_url, tmp_path, events):
    cli = center["cli"]
    ok(cli("campaign", "calls", "create", "Renewals", "--to", "0612345671,0612345672,0612345673",
           "--agent", ANA, "--script", "Hello, this is Acme", "--tag", "Hot"))
    ok(cli("campaign", "launch", "Renewals"))

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        carrier = asyncio.create_task(sipp(customers(tmp_path, hang_up=True), tmp_path / "carrier",
                                           "-p", str(center["trunk"]), "-set", "rtpport", "7000"))
        await asyncio.sleep(0.5)
        port = await register(gateway, runtime, center["phone"], tmp_path, ANA)
        await sipp("campaign_agent.xml", tmp_path / "agent", "-p", str(port))
        await carrier
        await until(lambda: finished_and_linked(db_url) and told_done(events, 3),
                    "every number's result and record")
        await settled(runtime)
        assert runtime.center.agent_state(ANA).value == "free"

    with_engine(db_url, body)
    assert recipients(db_url) == {ANSWERS: ("answered", 1, ANA, ANSWERS, "answered"),
                                  BUSY: ("busy", 1, ANA, BUSY, "missed"),
                                  SILENT: ("no_answer", 1, ANA, SILENT, "missed")}
    with engine_for(db_url).connect() as connection:
        rows = connection.execute(text(
            "SELECT c.direction, c.from_number, c.ended_by, t.name FROM call_record c "
            "LEFT JOIN call_tag ct ON ct.call_record_id = c.id LEFT JOIN tag t ON t.id = ct.tag_id "
            "WHERE c.to_number = :n"), {"n": ANSWERS}).one()
        status = connection.execute(text("SELECT status FROM campaign")).scalar_one()
    assert tuple(rows) == ("out", center["outgoing"], "customer", "Hot")
    assert status == "finished"
    carrier, agent = logs(tmp_path / "carrier"), logs(tmp_path / "agent")
    answered = next(block for block in carrier.split("INVITE sip:")[1:] if block.startswith(ANSWERS))
    assert "m=audio 6000" in answered and "o=agent" in answered  # the customer was offered the agent's media
    assert "o=customer" in agent  # ... and the agent got the customer's answer by re-INVITE
    assert f"From: <sip:{center['outgoing']}@" in answered  # the agent's caller ID
    calls = [e for e in events if e["type"] == "campaign_call" and e["number"] == ANSWERS]
    assert [e["state"] for e in calls] == ["dialing_agent", "dialing_customer", "connected", "ended"]
    assert (calls[-1]["result"], calls[-1]["agent"], calls[-1]["script"]) == ("answered", ANA,
                                                                            "Hello, this is Acme")
    last = [e for e in events if e["type"] == "campaign_progress"][-1]
    assert (last["kind"], last["total"], last["done"], last["results"]) == (
        "calls", 3, 3, {"answered": 1, "busy": 1, "no_answer": 1})


def test_customer_first_calls_the_customer_then_offers_the_customer_s_media_to_the_agent(
        center, db_url, tmp_path, events):
    cli = center["cli"]
    ok(cli("campaign", "calls", "create", "Callbacks", "--to", "0612345671", "--agent", ANA,
           "--dial-order", "customer-first"))
    ok(cli("campaign", "launch", "Callbacks"))

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        port = await register(gateway, runtime, center["phone"], tmp_path, ANA)
        agent = asyncio.create_task(sipp("agent_answer.xml", tmp_path / "agent", "-p", str(port), calls=1))
        await sipp("campaign_customer_first.xml", tmp_path / "carrier", "-p", str(center["trunk"]), calls=1)
        await agent
        await until(lambda: finished_and_linked(db_url), "the number's result")
        await settled(runtime)

    with_engine(db_url, body)
    assert recipients(db_url) == {ANSWERS: ("answered", 1, ANA, ANSWERS, "answered")}
    carrier, agent = logs(tmp_path / "carrier"), logs(tmp_path / "agent")
    invites = carrier.split("INVITE sip:")[1:]
    assert "a=inactive" in invites[0] and "o=agent" in invites[1]  # the engine's offer, then the agent's
    assert "o=customer" in agent.split("INVITE sip:")[1]  # the agent was offered the customer's media
    states = [e["state"] for e in events if e["type"] == "campaign_call"]
    assert states == ["dialing_customer", "dialing_agent", "connected", "ended"]


# ---------------------------------------------------------------- voice messages


class RtpSink(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.packets: list[bytes] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets.append(data)


def tone(path: Path, seconds: float) -> str:
    rate = 16000
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / rate * 2 * math.pi * 440)))
                                 for i in range(int(seconds * rate))))
    return str(path)


def test_a_voice_campaign_plays_the_message_in_pcmu_to_those_who_answer(center, db_url, tmp_path, events):
    cli = center["cli"]
    with Session(engine_for(db_url)) as db:
        db.add(PhoneNumber(e164=OURS, country="FR", format="national", status="available"))
        db.commit()
    created = ok(cli("campaign", "voice", "create", "Reminder", "--from", OURS, "--message-file",
                     tone(tmp_path / "msg.wav", 1.0), "--to", "0612345671,0612345672,0612345673",
                     "--json")).json()
    ok(cli("campaign", "launch", "Reminder"))

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> list[bytes]:
        loop = asyncio.get_running_loop()
        transport, sink = await loop.create_datagram_endpoint(RtpSink, local_addr=("127.0.0.1", 0))
        rtp_port = transport.get_extra_info("sockname")[1]
        try:
            await sipp(customers(tmp_path), tmp_path / "carrier", "-p", str(center["trunk"]),
                       "-set", "rtpport", str(rtp_port))
            await until(lambda: finished_and_linked(db_url) and told_done(events, 3), "every number's result")
        finally:
            transport.close()
        return sink.packets

    received = with_engine(db_url, body)
    assert recipients(db_url) == {ANSWERS: ("answered", 1, None, ANSWERS, "answered"),
                                  BUSY: ("busy", 1, None, BUSY, "missed"),
                                  SILENT: ("no_answer", 1, None, SILENT, "missed")}
    headers = [struct.unpack("!BBHII", packet[:12]) for packet in received]
    assert {h[0] for h in headers} == {0x80} and {h[1] & 0x7F for h in headers} == {0}  # RTP v2, PCMU
    assert [h[1] >> 7 for h in headers] == [1] + [0] * (len(headers) - 1)  # marker on the first only
    assert [(h[2] - headers[0][2]) & 0xFFFF for h in headers] == list(range(len(headers)))
    assert [h[3] - headers[0][3] for h in headers] == [160 * i for i in range(len(headers))]
    assert len({h[4] for h in headers}) == 1
    assert abs(len(headers) * 0.02 - created["audio_seconds"]) <= 0.02  # the message's length, one packet
    assert b"".join(packet[12:] for packet in received)[:8000] == message_of(created["audio"])[:8000]
    with engine_for(db_url).connect() as connection:
        rows = connection.execute(text("SELECT direction, from_number, ended_by, talk_s > 0.9 "
                                       "FROM call_record WHERE to_number = :n"), {"n": ANSWERS}).all()
    assert [tuple(row) for row in rows] == [("out", OURS, "system", True)]
    last = [e for e in events if e["type"] == "campaign_progress"][-1]
    assert (last["kind"], last["status"], last["done"]) == ("voice", "finished", 3)


# ---------------------------------------------------------------- kill and restart


def engine_process(db_url: str, sip_port: int) -> subprocess.Popen:
    return subprocess.Popen([str(RINGTUI), "--db", db_url, "engine", "run", "--ws", "127.0.0.1:0", "--sip",
                             f"127.0.0.1:{sip_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def statuses(db_url: str) -> list[str]:
    return [row[0] for row in recipients(db_url).values()]


def test_a_call_campaign_killed_mid_call_and_restarted_calls_nobody_twice_and_skips_nobody(
        center, db_url, tmp_path):
    cli, numbers = center["cli"], ["0612345671", "0612345681", "0612345691", "0612345601"]
    ok(cli("campaign", "calls", "create", "Resume", "--to", ",".join(numbers), "--agent", ANA))
    ok(cli("campaign", "launch", "Resume"))
    sip_port, phone = free_udp_port(), center["phone"]

    async def scenario() -> None:
        carrier = asyncio.create_task(sipp(customers(tmp_path, hang_up=True), tmp_path / "carrier",
                                           "-p", str(center["trunk"]), "-set", "rtpport", "7000",
                                           calls=4, check=False))
        first = engine_process(db_url, sip_port)
        try:
            await asyncio.sleep(2)  # the engine listens
            port = free_udp_port()
            await sipp("register.xml", tmp_path / "register", f"127.0.0.1:{sip_port}", "-p", str(port),
                       "-au", phone["username"], "-ap", phone["password"], "-set", "user", phone["username"],
                       "-set", "expires", "3600", calls=1)
            agent = asyncio.create_task(sipp("campaign_agent.xml", tmp_path / "agent", "-p", str(port),
                                             calls=4, check=False))
            await until(lambda: "answered" in statuses(db_url) and "in_progress" in statuses(db_url),
                        "one number answered and the next one being called")
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        second = engine_process(db_url, sip_port)
        try:
            await until(lambda: all(s not in ("pending", "in_progress") for s in statuses(db_url)),
                        "the campaign's end after the restart", timeout=40)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=15)
        await asyncio.gather(carrier, agent)

    asyncio.run(scenario())
    called = [line.split()[1] for line in logs(tmp_path / "carrier").splitlines()
              if line.startswith("INVITE sip:")]
    assert Counter(uri.split("@")[0][4:] for uri in called) == Counter(
        "+33" + number[1:] for number in numbers)  # each number called once: none twice, none skipped
    rows = recipients(db_url)
    assert {row[1] for row in rows.values()} == {1}
    with engine_for(db_url).connect() as connection:
        interrupted = connection.execute(text(
            "SELECT count(*) FROM campaign_recipient WHERE detail LIKE 'interrupted%'")).scalar_one()
        status = connection.execute(text("SELECT status FROM campaign")).scalar_one()
    assert interrupted == 1 and status == "finished"
    assert sum(row[0] == "answered" for row in rows.values()) >= 3
