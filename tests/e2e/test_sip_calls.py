"""Inbound calls over SIP against real peers: SIPp callers dial an IVR number, SIPp agents' phones
(registered first) ring, answer, reject or are cancelled; 127.0.0.1 only, on both databases.

Each test starts a real engine with its SIP gateway, drives SIPp processes that stop by
themselves (-m 1, -timeout, -timeout_error), then reads the call records the engine wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from ringtui.config import load_settings
from ringtui.db import engine_for
from ringtui.engine.runtime import EngineOptions, EngineRuntime
from ringtui.engine.sip import calls as sip_calls
from ringtui.engine.sip.gateway import SipGateway
from ringtui.engine.sip.message import SipRequest, header_values, parse, parse_name_addr, reply
from tests.conftest import ok
from tests.e2e.test_sip_registrar import (
    RINGTUI,
    SCENARIOS,
    SIPP_TIMEOUT_S,
    agent,
    free_udp_port,
    run_sipp_in,
    with_engine,
)

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("sipp") is None,
                                 reason="sipp is not on PATH (Debian sip-tester; .ci/run installs it)")]

ANA = "ana@acme.test"
CALLER = "+34612345678"


def set_up(account, ring_seconds: int) -> dict[str, str]:
    """Ana in Sales with a SIP phone, an IVR ringing Sales on a number; her credentials and the number."""
    ok(account("groups", "create", "Sales"))
    ok(account("users", "add", ANA, "--group", "Sales"))
    credentials = ok(account("users", "sip-credentials", ANA, "--json")).json()
    ok(account("ivr", "create", "Standard"))
    ok(account("ivr", "step", "add", "Standard", "--type", "ring", "--group", "Sales",
               "--ring-seconds", str(ring_seconds)))
    number = ok(account("numbers", "search", "--country", "FR", "--format", "national", "--limit", "1",
                        "--json")).json()[0]["number"]
    ok(account("numbers", "add", number))
    ok(account("numbers", "assign", number, "--ivr", "Standard"))
    e164 = ok(account("numbers", "list", "--json")).json()[0]["number"]
    return {**credentials, "number": e164}


@pytest.fixture
def center(account, tmp_path, monkeypatch) -> dict[str, str]:
    """The IVR rings Ana for 20 s."""
    monkeypatch.setenv("RINGTUI_ENGINE_TOKEN_FILE", str(tmp_path / "engine.token"))
    return set_up(account, 20)


@pytest.fixture
def impatient_center(account, tmp_path, monkeypatch) -> dict[str, str]:
    """The IVR rings Ana for 5 s (the shortest ring)."""
    monkeypatch.setenv("RINGTUI_ENGINE_TOKEN_FILE", str(tmp_path / "engine.token"))
    return set_up(account, 5)


async def sipp(scenario: str, cwd: Path, *args: str, calls: int = 1) -> tuple[int, str]:
    """Run `calls` SIPp calls of `scenario` (in its own directory); (exit code, its errors)."""
    cwd.mkdir(parents=True, exist_ok=True)
    timeout_s = SIPP_TIMEOUT_S * (1 if calls == 1 else 2)
    return await run_sipp_in(
        cwd, timeout_s, *args, "-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1", "-m", str(calls),
        "-nostdin", "-timeout", f"{timeout_s}s", "-timeout_error", "-trace_err")


async def register(gateway: SipGateway, runtime: EngineRuntime, phone: dict[str, str], cwd: Path,
                   email: str = ANA) -> int:
    """The agent's (Ana's) phone registers from a port of its own; that port."""
    port = free_udp_port()
    code, errors = await sipp("register.xml", cwd / "register", f"127.0.0.1:{gateway.address[1]}",
                              "-p", str(port), "-au", phone["username"], "-ap", phone["password"],
                              "-set", "user", phone["username"], "-set", "expires", "3600")
    assert code == 0, errors
    assert agent(runtime, email) == ("free", "sip")
    return port


async def call(gateway: SipGateway, phone: dict[str, str], cwd: Path, caller_scenario: str,
               agent_scenario: str | None, phone_port: int | None, agent_args: tuple[str, ...]) -> None:
    """The agent's phone listens (if any), the caller calls; both SIPp runs must succeed."""
    answering = None
    if agent_scenario is not None:
        answering = asyncio.create_task(sipp(agent_scenario, cwd / "agent", "-p", str(phone_port),
                                             *agent_args))
        await asyncio.sleep(0.5)  # SIPp is listening
    code, errors = await sipp(caller_scenario, cwd / "caller", f"127.0.0.1:{gateway.address[1]}",
                              "-p", str(free_udp_port()), "-s", phone["number"], "-set", "caller", CALLER)
    assert code == 0, errors
    if answering is not None:
        code, errors = await answering
        assert code == 0, errors


async def no_calls_left(runtime: EngineRuntime) -> None:
    """Within 5 s the engine has ended every call (it ends one once both of its legs are done)."""
    async with asyncio.timeout(5):
        while runtime.center.calls:
            await asyncio.sleep(0.05)


async def peers_end(runtime: EngineRuntime, *peers: Awaitable[tuple[int, str]] | None) -> None:
    """Every SIPp peer's run (None: that peer is not in the test) succeeds, then no call is left."""
    for peer in peers:
        if peer is not None:
            code, errors = await peer
            assert code == 0, errors
    await no_calls_left(runtime)


def refusing(status: str, directory: Path) -> str:
    """agent_refuses.xml answering `status`, written in `directory`; its path."""
    path = directory / f"agent_refuses_{status}.xml"
    path.write_text((SCENARIOS / "agent_refuses.xml").read_text().replace("STATUS", status))
    return str(path)


def run_call(db_url: str, phone: dict[str, str], cwd: Path, caller_scenario: str,
             agent_scenario: str | None, *agent_args: str) -> None:
    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        port = await register(gateway, runtime, phone, cwd) if agent_scenario else None
        await call(gateway, phone, cwd, caller_scenario, agent_scenario, port, agent_args)
        await no_calls_left(runtime)

    with_engine(db_url, body)


def records(db_url: str) -> list[tuple[Any, ...]]:
    with engine_for(db_url).connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "SELECT type, ended_by, from_number, to_number, ended_at IS NOT NULL FROM call_record "
            "ORDER BY id"))]


def attempts(db_url: str) -> list[tuple[str, str]]:
    with engine_for(db_url).connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "SELECT u.email, a.outcome FROM ring_attempt a JOIN app_user u ON u.id = a.user_id "
            "ORDER BY a.id"))]


def test_an_agent_answers_and_the_caller_hangs_up(center, db_url, tmp_path):
    run_call(db_url, center, tmp_path, "caller_talks.xml", "agent_answer.xml")
    assert records(db_url) == [("answered", "customer", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, "ANSWERED")]


@pytest.mark.parametrize(("status", "outcome"), [
    ("486", "REJECTED"), ("603", "REJECTED"), ("480", "NOTCONNECTED"), ("404", "NOTCONNECTED"),
    ("488", "SIP_PHONE_ERROR"), ("500", "SIP_PHONE_ERROR")])
def test_an_agent_refuses_and_the_caller_nobody_answered_gets_480(center, db_url, tmp_path, status, outcome):
    run_call(db_url, center, tmp_path, "caller_refused_480.xml", refusing(status, tmp_path))
    assert records(db_url) == [("missed", "system", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, outcome)]


def test_an_agent_whose_phones_fail_differently_gets_the_strongest_outcome(center, db_url, tmp_path):
    """Her softphone is on do-not-disturb (480), her desk phone declines (486): she rejected the call."""

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        desk = await register(gateway, runtime, center, tmp_path / "desk")
        soft = await register(gateway, runtime, center, tmp_path / "soft")
        unavailable = asyncio.create_task(sipp(refusing("480", tmp_path), tmp_path / "soft" / "agent",
                                               "-p", str(soft)))
        declines = refusing("486", tmp_path)
        await call(gateway, center, tmp_path / "desk", "caller_refused_480.xml", declines, desk, ())
        code, errors = await unavailable
        assert code == 0, errors

    with_engine(db_url, body)
    assert attempts(db_url) == [(ANA, "REJECTED")]


def test_an_agent_the_engine_thinks_connected_without_a_registered_phone_is_not_connected(center, db_url,
                                                                                         tmp_path):
    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        runtime.apply(runtime.center.agent_connected(ANA, "sip", "a phone whose binding is gone"))
        await call(gateway, center, tmp_path, "caller_refused_480.xml", None, None, ())

    with_engine(db_url, body)
    assert records(db_url) == [("missed", "system", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, "NOTCONNECTED")]


def test_an_agent_who_does_not_answer_is_cancelled_when_the_ring_ends(impatient_center, db_url, tmp_path):
    run_call(db_url, impatient_center, tmp_path, "caller_refused_480.xml", "agent_cancelled.xml")
    assert records(db_url) == [("missed", "system", CALLER, impatient_center["number"], True)]
    assert attempts(db_url) == [(ANA, "NO_ANSWER")]


def test_the_caller_hangs_up_while_the_agent_rings(center, db_url, tmp_path):
    run_call(db_url, center, tmp_path, "caller_cancels.xml", "agent_cancelled.xml")
    assert records(db_url) == [("missed", "customer", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, "NO_ANSWER")]


def test_a_blacklisted_caller_gets_603_before_any_routing(center, account, db_url, tmp_path):
    ok(account("blacklist", "add", CALLER, "--direction", "in"))
    run_call(db_url, center, tmp_path, "caller_refused_603.xml", None)
    assert records(db_url) == [("missed", "system", CALLER, center["number"], True)]
    assert attempts(db_url) == []


def test_a_retransmitted_invite_is_one_call(center, db_url, tmp_path):
    run_call(db_url, center, tmp_path, "caller_retransmits.xml", "agent_cancelled.xml")
    assert records(db_url) == [("missed", "customer", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, "NO_ANSWER")]


def test_the_agent_hangs_up_and_the_engine_ends_the_callers_leg(center, db_url, tmp_path):
    run_call(db_url, center, tmp_path, "caller_hung_up_on.xml", "agent_hangs_up.xml")
    assert records(db_url) == [("answered", "agent", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, "ANSWERED")]


# ---------------------------------------------------------------- a raw phone: the INVITE client transaction


ANSWER = "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 7000 RTP/AVP 0\r\n"


class RawPhone:
    """An agent's phone as a bare UDP socket on the port its binding was registered from."""

    def __init__(self, port: int) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", port))
        self.socket.setblocking(False)
        self.port = port

    async def receive(self, timeout: float = 5.0) -> tuple[SipRequest, tuple[str, int]]:
        async with asyncio.timeout(timeout):
            data, source = await asyncio.get_running_loop().sock_recvfrom(self.socket, 65535)
        message = parse(data, source)
        assert isinstance(message, SipRequest), data
        return message, source

    def answer(self, request: SipRequest, status: int, *, to_tag: str = "", body: str = "",
               record_route: tuple[str, ...] = ()) -> None:
        extra = [("Contact", f"<sip:agent@127.0.0.1:{self.port};ob>")] if status < 300 and to_tag else []
        extra += [("Record-Route", route) for route in record_route]
        if body:
            extra.append(("Content-Type", "application/sdp"))
        self.socket.sendto(reply(request, status, to_tag=to_tag, extra=extra, body=body), request.source)


def test_invite_retransmitted_until_a_1xx_without_tag_and_the_2xx_acked_to_its_contact(center, db_url,
                                                                                      tmp_path):
    """aiovoip gaps 1, 3 and 5: retransmitted INVITEs (Timer A) stop at a 100 without To-tag, which
    breaks nothing; the 200's ACK is a new transaction to the 200's Contact with its Record-Route as
    Route set; BYE ends the agent's leg the same way."""
    seen: dict[str, Any] = {}

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        port = await register(gateway, runtime, center, tmp_path)
        phone = RawPhone(port)
        try:
            caller = asyncio.create_task(sipp(
                "caller_talks.xml", tmp_path / "caller", f"127.0.0.1:{gateway.address[1]}",
                "-p", str(free_udp_port()), "-s", center["number"], "-set", "caller", CALLER))
            invite, _ = await phone.receive()
            again, _ = await phone.receive(timeout=2)  # T1 = 0.5 s
            seen["branches"] = {invite.via[0].params["branch"], again.via[0].params["branch"]}
            seen["offer"] = invite._raw_payload.decode()
            phone.answer(invite, 100)  # no To-tag, as a proxy's
            await asyncio.sleep(0.2)
            phone.answer(invite, 180, to_tag="phone1")
            with pytest.raises(TimeoutError):  # retransmissions stopped
                await phone.receive(timeout=1.5)
            proxies = (f"<sip:127.0.0.1:{port};lr;hop=2>", f"<sip:127.0.0.1:{port};lr;hop=1>")
            phone.answer(invite, 200, to_tag="phone1", body=ANSWER, record_route=proxies)
            ack, _ = await phone.receive()
            new_branch = ack.via[0].params["branch"] != invite.via[0].params["branch"]
            seen["ack"] = (ack.method, ack.uri, new_branch, "tag=phone1" in ack.headers["To"],
                           ack.headers["Call-ID"] == invite.headers["Call-ID"])
            seen["contact"] = f"sip:agent@127.0.0.1:{port};ob"
            seen["ack routes"] = header_values(ack.headers, "Route")
            bye, _ = await phone.receive(timeout=SIPP_TIMEOUT_S)
            seen["bye"] = (bye.method, bye.uri)
            seen["bye routes"] = header_values(bye.headers, "Route")
            phone.answer(bye, 200, to_tag="phone1")
            code, errors = await caller
            assert code == 0, errors
        finally:
            phone.socket.close()

    with_engine(db_url, body)
    assert len(seen["branches"]) == 1  # the same transaction, retransmitted
    assert "m=audio" in seen["offer"]  # the caller's offer goes to the agent
    assert seen["ack"] == ("ACK", seen["contact"], True, True, True)  # new branch, to the Contact, To-tag
    assert seen["bye"] == ("BYE", seen["contact"])
    route_set = [f"<sip:127.0.0.1:{seen['contact'].split(':')[2].split(';')[0]};lr;hop={n}>" for n in (1, 2)]
    assert seen["ack routes"] == seen["bye routes"] == route_set  # Record-Route reversed (RFC 3261 12.1.2)
    assert records(db_url) == [("answered", "customer", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, "ANSWERED")]


def test_an_engine_stopping_ends_the_calls_it_was_setting_up(center, db_url, tmp_path):
    """The caller gets 503 and the ringing phone a CANCEL; the record is closed by the stop."""

    async def scenario() -> None:
        runtime = EngineRuntime(load_settings(database_url=db_url), EngineOptions(ws="127.0.0.1:0"))
        gateway = SipGateway(runtime, "127.0.0.1:0")
        stop = asyncio.Event()
        running = asyncio.create_task(runtime.run(stop, gateway.run))
        async with asyncio.timeout(10):
            while gateway.address is None or runtime.address is None:
                await asyncio.sleep(0.02)
        port = await register(gateway, runtime, center, tmp_path)
        phone = asyncio.create_task(sipp("agent_cancelled_at_stop.xml", tmp_path / "agent", "-p", str(port)))
        await asyncio.sleep(0.5)
        caller = asyncio.create_task(sipp(
            "caller_refused_503.xml", tmp_path / "caller", f"127.0.0.1:{gateway.address[1]}",
            "-p", str(free_udp_port()), "-s", center["number"], "-set", "caller", CALLER))
        async with asyncio.timeout(5):
            while not any(a["state"] == "ringing" for a in runtime.center.snapshot()["agents"]):
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # the phone's 180 is in
        stop.set()
        await asyncio.wait_for(running, 10)
        for process in (caller, phone):
            code, errors = await process
            assert code == 0, errors

    asyncio.run(scenario())
    assert [row[4] for row in records(db_url)] == [True]  # closed, not left open


def test_a_caller_behind_a_proxy_gets_its_record_route_back_and_the_bye_through_it(center, db_url, tmp_path):
    """The 200 copies the INVITE's Record-Route and the engine's BYE carries it as Route (gap 5)."""
    run_call(db_url, center, tmp_path, "caller_via_proxy.xml", "agent_hangs_up.xml")
    assert records(db_url) == [("answered", "agent", CALLER, center["number"], True)]


def test_a_call_to_a_users_direct_line_rings_her_sip_phone(center, account, db_url, tmp_path):
    line = ok(account("numbers", "search", "--country", "FR", "--format", "national", "--limit", "2",
                      "--json")).json()[-1]["number"]
    ok(account("numbers", "add", line))
    ok(account("numbers", "assign", line, "--user", ANA))
    direct = next(n["number"] for n in ok(account("numbers", "list", "--json")).json()
                  if n["number"] != center["number"])
    run_call(db_url, {**center, "number": direct}, tmp_path, "caller_talks.xml", "agent_answer.xml")
    assert records(db_url) == [("answered", "customer", CALLER, direct, True)]
    assert attempts(db_url) == [(ANA, "ANSWERED")]


def test_an_agent_with_two_phones_has_both_rung_and_the_other_cancelled_when_one_answers(center, db_url,
                                                                                         tmp_path):
    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        desk = await register(gateway, runtime, center, tmp_path / "desk")
        soft = await register(gateway, runtime, center, tmp_path / "soft")
        assert len(gateway.registrar.bindings[ANA]) == 2
        ringing = asyncio.create_task(sipp("agent_cancelled.xml", tmp_path / "soft" / "agent",
                                           "-p", str(soft)))
        await call(gateway, center, tmp_path / "desk", "caller_talks.xml", "agent_answer.xml", desk, ())
        code, errors = await ringing
        assert code == 0, errors  # the softphone got its CANCEL, answered 487 and had it ACKed

    with_engine(db_url, body)
    assert records(db_url) == [("answered", "customer", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, "ANSWERED")]


def test_a_phone_that_never_answers_the_invite_is_not_connected_after_timer_b(center, db_url, tmp_path,
                                                                              monkeypatch):
    monkeypatch.setattr(sip_calls, "TIMER_B_S", 2.0)  # 32 s in production; the ring lasts 20 s
    invites: list[str] = []

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        port = await register(gateway, runtime, center, tmp_path)
        phone = RawPhone(port)  # registered, then silent
        try:
            caller = asyncio.create_task(sipp(
                "caller_refused_480.xml", tmp_path / "caller", f"127.0.0.1:{gateway.address[1]}",
                "-p", str(free_udp_port()), "-s", center["number"], "-set", "caller", CALLER))
            with contextlib.suppress(TimeoutError):
                while True:
                    invite, _ = await phone.receive(timeout=3)
                    invites.append(invite.via[0].params["branch"])
            code, errors = await caller
            assert code == 0, errors
        finally:
            phone.socket.close()

    with_engine(db_url, body)
    assert len(invites) >= 3 and len(set(invites)) == 1  # T1, 2*T1 ... within Timer B, one transaction
    assert records(db_url) == [("missed", "system", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, "NOTCONNECTED")]


# ---------------------------------------------------------------- numbers, re-INVITEs, voicemail, last steps


def test_a_number_dialled_in_national_form_is_read_in_the_accounts_country(center, db_url, tmp_path):
    national = "0" + center["number"].removeprefix("+33")  # the account is in FR
    run_call(db_url, {**center, "number": national}, tmp_path, "caller_talks.xml", "agent_answer.xml")
    assert records(db_url) == [("answered", "customer", CALLER, center["number"], True)]


def test_a_caller_who_puts_the_call_on_hold_gets_200_with_the_session_held(center, db_url, tmp_path):
    """The re-INVITE (a=sendonly) is answered 200 a=recvonly (the scenario checks it), then the BYE."""
    run_call(db_url, center, tmp_path, "caller_holds.xml", "agent_answer.xml")
    assert records(db_url) == [("answered", "customer", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, "ANSWERED")]


@pytest.mark.parametrize("caller_scenario", ["caller_talks.xml", "caller_late_offer.xml"])
def test_a_direct_line_nobody_answers_reaches_voicemail_which_answers(center, account, db_url, tmp_path,
                                                                      caller_scenario):
    """Ana has no phone registered: her line's voicemail answers (200, the caller hears nothing: no
    media; a caller who made no offer gets an inactive one) and the caller who hangs up has left a
    voicemail."""
    line = ok(account("numbers", "search", "--country", "FR", "--format", "national", "--limit", "2",
                      "--json")).json()[-1]["number"]
    ok(account("numbers", "add", line))
    ok(account("numbers", "assign", line, "--user", ANA))
    direct = next(n["number"] for n in ok(account("numbers", "list", "--json")).json()
                  if n["number"] != center["number"])
    run_call(db_url, {**center, "number": direct}, tmp_path, caller_scenario, None)
    assert records(db_url) == [("voicemail", "customer", CALLER, direct, True)]
    assert attempts(db_url) == [(ANA, "NOTCONNECTED")]


def test_an_ivr_that_announces_and_ends_answers_then_hangs_up(center, account, db_url, tmp_path):
    """An announcement as the last step: answered to be heard (nothing: no media), then the engine's BYE."""
    ok(account("ivr", "create", "Closed"))
    ok(account("ivr", "step", "add", "Closed", "--type", "announce", "--text", "We are closed, goodbye"))
    number = ok(account("numbers", "search", "--country", "FR", "--format", "national", "--limit", "2",
                        "--json")).json()[-1]["number"]
    ok(account("numbers", "add", number))
    ok(account("numbers", "assign", number, "--ivr", "Closed"))
    closed = next(n["number"] for n in ok(account("numbers", "list", "--json")).json()
                  if n["number"] != center["number"])
    run_call(db_url, {**center, "number": closed}, tmp_path, "caller_hung_up_on.xml", None)
    assert records(db_url) == [("missed", "system", CALLER, closed, True)]
    assert attempts(db_url) == []


def test_an_invite_in_a_dialog_nobody_knows_is_481(center, db_url, tmp_path):
    async def body(runtime: EngineRuntime, gateway: SipGateway) -> bytes:
        phone = RawPhone(free_udp_port())
        try:
            invite = (f"INVITE sip:{center['number']}@127.0.0.1:{gateway.address[1]} SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP 127.0.0.1:{phone.port};branch=z9hG4bKlost;rport\r\n"
                      f"From: <sip:{CALLER}@127.0.0.1>;tag=caller\r\n"
                      f"To: <sip:{center['number']}@127.0.0.1>;tag=gone\r\n"
                      "Call-ID: a-dialog-that-ended\r\nCSeq: 5 INVITE\r\nContent-Length: 0\r\n\r\n")
            phone.socket.sendto(invite.encode(), ("127.0.0.1", gateway.address[1]))
            async with asyncio.timeout(5):
                data = await asyncio.get_running_loop().sock_recv(phone.socket, 65535)
            return data
        finally:
            phone.socket.close()

    assert with_engine(db_url, body).startswith(b"SIP/2.0 481 ")
    assert records(db_url) == []


def test_an_agents_phone_that_puts_the_call_on_hold_gets_200_with_the_session_held(center, db_url, tmp_path):
    """The phone's re-INVITE (its Contact user is its SIP username, as many phones do) stays in the
    inbound dialog: 200 a=recvonly on the session the phone was offered, acknowledged; no 407."""
    seen: dict[str, Any] = {}

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        port = await register(gateway, runtime, center, tmp_path)
        phone = RawPhone(port)
        try:
            caller = asyncio.create_task(sipp(
                "caller_talks.xml", tmp_path / "caller", f"127.0.0.1:{gateway.address[1]}",
                "-p", str(free_udp_port()), "-s", center["number"], "-set", "caller", CALLER))
            invite, _ = await phone.receive()
            phone.answer(invite, 200, to_tag="phone1", body=ANSWER)
            await phone.receive()  # the ACK
            ours = parse_name_addr(header_values(invite.headers, "Contact")[0]).uri
            hold = (f"INVITE {ours} SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKhold;rport\r\n"
                    f"From: {invite.headers['To']};tag=phone1\r\nTo: {invite.headers['From']}\r\n"
                    f"Call-ID: {invite.headers['Call-ID']}\r\nCSeq: 1 INVITE\r\n"
                    f"Contact: <sip:{center['username']}@127.0.0.1:{port}>\r\n"
                    "Content-Type: application/sdp\r\n")
            offer = ANSWER + "a=sendonly\r\n"
            phone.socket.sendto(f"{hold}Content-Length: {len(offer)}\r\n\r\n{offer}".encode(),
                                ("127.0.0.1", gateway.address[1]))
            async with asyncio.timeout(5):
                data = await asyncio.get_running_loop().sock_recv(phone.socket, 65535)
            seen["answer"] = data.decode()
            ack = hold.replace("INVITE", "ACK").replace("z9hG4bKhold", "z9hG4bKholdack").split(
                "Content-Type")[0]
            phone.socket.sendto(f"{ack}Content-Length: 0\r\n\r\n".encode(), ("127.0.0.1", gateway.address[1]))
            bye, _ = await phone.receive(timeout=SIPP_TIMEOUT_S)  # the caller hung up
            seen["bye"] = bye.method
            phone.answer(bye, 200, to_tag="phone1")
            code, errors = await caller
            assert code == 0, errors
        finally:
            phone.socket.close()

    with_engine(db_url, body)
    assert seen["answer"].startswith("SIP/2.0 200 ") and "a=recvonly" in seen["answer"], seen["answer"]
    assert seen["bye"] == "BYE"
    assert records(db_url) == [("answered", "customer", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, "ANSWERED")]


def raw_invite(method: str, number: str, port: int, engine: int, *, cseq: int, to_tag: str = "",
               branch: str = "z9hG4bKfirst", body: str = "") -> bytes:
    """A caller's request in the dialog of Call-ID raw-call (To-tag given once the engine set it)."""
    lines = [f"{method} sip:{number}@127.0.0.1:{engine} SIP/2.0",
             f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch};rport",
             f"From: <sip:{CALLER}@127.0.0.1>;tag=c",
             f"To: <sip:{number}@127.0.0.1>" + (f";tag={to_tag}" if to_tag else ""), "Call-ID: raw-call",
             f"CSeq: {cseq} {method}", f"Contact: <sip:caller@127.0.0.1:{port}>"]
    if body:
        lines.append("Content-Type: application/sdp")
    return ("\r\n".join([*lines, f"Content-Length: {len(body)}"]) + "\r\n\r\n" + body).encode()


def test_a_reinvite_before_the_call_is_answered_is_500_with_retry_after(center, db_url, tmp_path):
    """RFC 3261 14.2: the first INVITE has no final response yet (Ana's phone rings); the first INVITE
    arriving again on another branch is a merged request (8.2.2.2)."""
    seen: dict[str, Any] = {}

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        phone = RawPhone(await register(gateway, runtime, center, tmp_path))
        caller = RawPhone(free_udp_port())
        engine, number = gateway.address[1], center["number"]

        async def response(status: bytes) -> Any:
            async with asyncio.timeout(5):
                while True:
                    data = await asyncio.get_running_loop().sock_recv(caller.socket, 65535)
                    if data.startswith(b"SIP/2.0 " + status):
                        return parse(data, ("127.0.0.1", engine))

        try:
            caller.socket.sendto(raw_invite("INVITE", number, caller.port, engine, cseq=1, body=ANSWER),
                                 ("127.0.0.1", engine))
            invite, _ = await phone.receive()
            phone.answer(invite, 180, to_tag="phone1")
            ringing = await response(b"180")
            ours = parse_name_addr(ringing.headers["To"]).params["tag"]
            caller.socket.sendto(raw_invite("INVITE", number, caller.port, engine, cseq=2, to_tag=ours,
                                            branch="z9hG4bKagain", body=ANSWER), ("127.0.0.1", engine))
            refused = await response(b"500")
            seen["retry after"] = int(refused.headers["Retry-After"])
            caller.socket.sendto(raw_invite("INVITE", number, caller.port, engine, cseq=1,
                                            branch="z9hG4bKotherpath", body=ANSWER), ("127.0.0.1", engine))
            await response(b"482")  # the same INVITE by another path is a merged request
            caller.socket.sendto(raw_invite("CANCEL", number, caller.port, engine, cseq=1),
                                 ("127.0.0.1", engine))
            await response(b"487")
            cancel, _ = await phone.receive()  # Ana's phone stops ringing
            seen["phone"] = cancel.method
        finally:
            phone.socket.close()
            caller.socket.close()

    with_engine(db_url, body)
    assert 0 <= seen["retry after"] <= 10 and seen["phone"] == "CANCEL"
    assert records(db_url) == [("missed", "customer", CALLER, center["number"], True)]


def test_a_caller_who_never_acks_the_200_is_hung_up_on_both_sides_after_timer_b(center, db_url, tmp_path,
                                                                                monkeypatch):
    """RFC 3261 13.3.1.4: a 2xx never acknowledged ends the session with a BYE; the agent is freed,
    not held by a caller who went away (found under load: every agent ended up held)."""
    monkeypatch.setattr(sip_calls, "TIMER_B_S", 2.0)  # 32 s in production
    seen: dict[str, Any] = {}

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        phone = RawPhone(await register(gateway, runtime, center, tmp_path))
        caller = RawPhone(free_udp_port())
        engine = gateway.address[1]
        try:
            caller.socket.sendto(raw_invite("INVITE", center["number"], caller.port, engine, cseq=1,
                                            body=ANSWER), ("127.0.0.1", engine))
            invite, _ = await phone.receive()
            phone.answer(invite, 200, to_tag="phone1", body=ANSWER)
            async with asyncio.timeout(8):  # the 200 again and again, never ACKed, then the BYE
                while True:
                    data = await asyncio.get_running_loop().sock_recv(caller.socket, 65535)
                    if data.startswith(b"BYE "):
                        seen["caller"] = "BYE"
                        break
            async with asyncio.timeout(5):
                while True:
                    request, _ = await phone.receive()
                    if request.method == "BYE":
                        seen["phone"] = "BYE"
                        break
            await no_calls_left(runtime)
            seen["ana"] = agent(runtime, ANA)
        finally:
            phone.socket.close()
            caller.socket.close()

    with_engine(db_url, body)
    assert (seen["caller"], seen["phone"]) == ("BYE", "BYE")
    assert seen["ana"][0] in {"free", "after_call_work"}
    assert records(db_url) == [("answered", "customer", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, "ANSWERED")]


# ---------------------------------------------------------------- engine status


async def engine_status(runtime: EngineRuntime, *args: str) -> str:
    """`ringtui engine status` run as a process against the engine's feed; its stdout."""
    process = await asyncio.create_subprocess_exec(
        str(RINGTUI), "engine", "status", "--engine", "ws://{}:{}".format(*runtime.address), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "COLUMNS": "250"})
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    return stdout.decode()


def test_engine_status_shows_the_sip_phone_and_the_sip_call_ringing_it(impatient_center, db_url, tmp_path):
    shown: dict[str, Any] = {}

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        port = await register(gateway, runtime, impatient_center, tmp_path)
        ringing = asyncio.create_task(sipp("agent_cancelled.xml", tmp_path / "agent", "-p", str(port)))
        await asyncio.sleep(0.5)
        caller = asyncio.create_task(sipp(
            "caller_refused_480.xml", tmp_path / "caller", f"127.0.0.1:{gateway.address[1]}",
            "-p", str(free_udp_port()), "-s", impatient_center["number"], "-set", "caller", CALLER))
        async with asyncio.timeout(5):
            while not any(a["state"] == "ringing" for a in runtime.center.snapshot()["agents"]):
                await asyncio.sleep(0.05)
        shown["json"] = json.loads(await engine_status(runtime, "--json"))
        shown["tables"] = await engine_status(runtime)
        shown["port"] = port
        for process in (caller, ringing):
            code, errors = await process
            assert code == 0, errors

    with_engine(db_url, body)
    document, phone = shown["json"], f"127.0.0.1:{shown['port']}"
    ana = next(a for a in document["agents"] if a["email"] == ANA)
    assert (ana["state"], ana["interface"], ana["device"]) == ("ringing", "sip", "SIPp test phone")
    assert [(p["address"], p["user_agent"]) for p in ana["sip_phones"]] == [(phone, "SIPp test phone")]
    [call] = document["calls"]
    assert (call["from_number"], call["to_number"], call["state"], call["channel"]) == (
        CALLER, impatient_center["number"], "ringing", "sip")
    assert call["sip_peer"].startswith("127.0.0.1:") and call["sip_call_id"]
    legs = [(leg["agent"], leg["address"], leg["state"]) for leg in call["sip_legs"]]
    assert legs == [(ANA, phone, "ringing")]
    tables = shown["tables"]
    assert "SIPp test phone" in tables and phone in tables and f"{ANA} ringing" in tables, tables
    assert attempts(db_url) == [(ANA, "NO_ANSWER")]


def test_a_caller_waiting_in_a_queue_hears_ringback_and_hangs_up_while_waiting(account, db_url, tmp_path,
                                                                                monkeypatch):
    """Nobody is connected: the call waits (180, its phone plays ringback) and the caller gives up."""
    monkeypatch.setenv("RINGTUI_ENGINE_TOKEN_FILE", str(tmp_path / "engine.token"))
    phone = set_up(account, 20)
    ok(account("ivr", "step", "add", "Standard", "--type", "queue", "--group", "Sales", "--max-wait", "60",
               "--position", "1"))
    waiting: list[Any] = []

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        caller = asyncio.create_task(sipp(
            "caller_cancels.xml", tmp_path / "caller", f"127.0.0.1:{gateway.address[1]}",
            "-p", str(free_udp_port()), "-s", phone["number"], "-set", "caller", CALLER))
        async with asyncio.timeout(5):
            while not runtime.center.snapshot()["waiting"]:
                await asyncio.sleep(0.02)
        waiting.extend(row["from_number"] for row in runtime.center.snapshot()["waiting"])
        await peers_end(runtime, caller)

    with_engine(db_url, body)
    assert waiting == [CALLER]
    assert records(db_url) == [("missed", "customer", CALLER, phone["number"], True)]
    assert attempts(db_url) == [(ANA, "NOTCONNECTED")]  # offline when the queue offered her the call


def test_an_ivr_that_forwards_redirects_the_caller_to_the_number(center, account, db_url, tmp_path):
    """302 to the forward number at the caller's last hop (its carrier routes it; no media here)."""
    ok(account("ivr", "step", "add", "Standard", "--type", "forward", "--number", "+33612345678",
               "--position", "1"))
    run_call(db_url, center, tmp_path, "caller_redirected.xml", None)
    assert records(db_url) == [("answered", "customer", CALLER, center["number"], True)]
    assert attempts(db_url) == []


def test_a_phone_answering_as_its_ring_is_cancelled_is_too_late_and_hung_up(impatient_center, db_url,
                                                                           tmp_path):
    """Its 200 crosses the engine's CANCEL: ACK then BYE to the phone, the attempt becomes TOOLATE."""
    run_call(db_url, impatient_center, tmp_path, "caller_refused_480.xml", "agent_answers_too_late.xml")
    assert records(db_url) == [("missed", "system", CALLER, impatient_center["number"], True)]
    assert attempts(db_url) == [(ANA, "TOOLATE")]


def test_two_agents_rung_together_one_answers_the_others_phone_is_cancelled(center, account, db_url,
                                                                            tmp_path):
    """Ring-all over Sales: Ana answers, Bob's phone gets CANCEL; his attempt is CALL_ANSWERED."""
    bob = "bob@acme.test"
    ok(account("users", "add", bob, "--group", "Sales"))
    bobs = ok(account("users", "sip-credentials", bob, "--json")).json()

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        anas = await register(gateway, runtime, center, tmp_path / "ana")
        his = await register(gateway, runtime, bobs, tmp_path / "bob", email=bob)
        ringing = asyncio.create_task(sipp("agent_cancelled.xml", tmp_path / "bob" / "agent", "-p", str(his)))
        await call(gateway, center, tmp_path / "ana", "caller_talks.xml", "agent_answer.xml", anas, ())
        code, errors = await ringing
        assert code == 0, errors

    with_engine(db_url, body)
    assert records(db_url) == [("answered", "customer", CALLER, center["number"], True)]
    assert sorted(attempts(db_url)) == [(ANA, "ANSWERED"), (bob, "CALL_ANSWERED")]


def test_a_call_for_an_agent_busy_on_another_sip_call_is_incall(center, account, db_url, tmp_path):
    """Ana (no call waiting) talks on a first call her phone answered; a second caller finds her INCALL
    and gets 480; then she hangs up the first (her BYE, the engine's BYE to that caller)."""
    ok(account("users", "set", ANA, "call_waiting=false"))

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        phone = RawPhone(await register(gateway, runtime, center, tmp_path))
        engine = f"127.0.0.1:{gateway.address[1]}"
        try:
            first = asyncio.create_task(sipp("caller_hung_up_on.xml", tmp_path / "first", engine,
                                             "-p", str(free_udp_port()), "-s", center["number"],
                                             "-set", "caller", CALLER))
            invite, _ = await phone.receive()
            phone.answer(invite, 200, to_tag="phone1", body=ANSWER)
            await phone.receive()  # the ACK: Ana talks
            code, errors = await sipp("caller_refused_480.xml", tmp_path / "second", engine,
                                      "-p", str(free_udp_port()), "-s", center["number"],
                                      "-set", "caller", "+34699999999")
            assert code == 0, errors
            ours = parse_name_addr(header_values(invite.headers, "Contact")[0]).uri
            bye = (f"BYE {ours} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{phone.port};branch=z9hG4bKbye;rport\r\n"
                   f"From: {invite.headers['To']};tag=phone1\r\nTo: {invite.headers['From']}\r\n"
                   f"Call-ID: {invite.headers['Call-ID']}\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n")
            phone.socket.sendto(bye.encode(), ("127.0.0.1", gateway.address[1]))
            code, errors = await first
            assert code == 0, errors
        finally:
            phone.socket.close()

    with_engine(db_url, body)
    assert records(db_url) == [("missed", "system", "+34699999999", center["number"], True),  # ended first
                               ("answered", "agent", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, "INCALL"), (ANA, "ANSWERED")]


def test_a_late_offer_gets_the_phones_offer_and_the_phone_the_callers_answer_in_the_ack(center, db_url,
                                                                                        tmp_path):
    """The caller's INVITE has no SDP: the phone gets none either, its 200 carries the offer that the
    caller gets in its 200, and the caller's answer (in its ACK) reaches the phone in our ACK."""
    seen: dict[str, Any] = {}

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        phone = RawPhone(await register(gateway, runtime, center, tmp_path))
        try:
            caller = asyncio.create_task(sipp(
                "caller_late_offer.xml", tmp_path / "caller", f"127.0.0.1:{gateway.address[1]}",
                "-p", str(free_udp_port()), "-s", center["number"], "-set", "caller", CALLER))
            invite, _ = await phone.receive()
            seen["invite body"] = invite._raw_payload
            phone.answer(invite, 200, to_tag="phone1", body=ANSWER)
            ack, _ = await phone.receive()
            seen["ack"] = (ack.method, ack._raw_payload.decode())
            bye, _ = await phone.receive(timeout=SIPP_TIMEOUT_S)
            phone.answer(bye, 200, to_tag="phone1")
            code, errors = await caller
            assert code == 0, errors  # its 200 had an offer (the scenario checks it)
        finally:
            phone.socket.close()

    with_engine(db_url, body)
    assert seen["invite body"] == b""
    assert seen["ack"][0] == "ACK" and "o=caller 1 1" in seen["ack"][1] and "m=audio" in seen["ack"][1]
    assert records(db_url) == [("answered", "customer", CALLER, center["number"], True)]
