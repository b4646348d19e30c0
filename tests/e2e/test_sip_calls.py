"""Inbound calls over SIP against real peers: SIPp callers dial an IVR number, SIPp agents' phones
(registered first) ring, answer, reject or are cancelled; 127.0.0.1 only, on both databases.

Each test starts a real engine with its SIP gateway, drives SIPp processes that stop by
themselves (-m 1, -timeout, -timeout_error), then reads the call records the engine wrote.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from ringtui.db import engine_for
from ringtui.engine.runtime import EngineRuntime
from ringtui.engine.sip.gateway import SipGateway
from tests.conftest import ok
from tests.e2e.test_sip_registrar import SCENARIOS, SIPP_TIMEOUT_S, agent, free_udp_port, with_engine

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


async def sipp(scenario: str, cwd: Path, *args: str) -> tuple[int, str]:
    """Run one SIPp call of `scenario` (in its own directory); (exit code, its errors)."""
    cwd.mkdir(parents=True, exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        "sipp", *args, "-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1", "-m", "1", "-nostdin",
        "-timeout", f"{SIPP_TIMEOUT_S}s", "-timeout_error", "-trace_err", cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        async with asyncio.timeout(SIPP_TIMEOUT_S + 5):
            _, stderr = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    errors = "".join(path.read_text(errors="replace") for path in cwd.glob("*_errors.log"))
    return process.returncode or 0, stderr.decode(errors="replace") + errors


async def register(gateway: SipGateway, runtime: EngineRuntime, phone: dict[str, str], cwd: Path) -> int:
    """Ana's phone registers from a port of its own; that port."""
    port = free_udp_port()
    code, errors = await sipp("register.xml", cwd / "register", f"127.0.0.1:{gateway.address[1]}",
                              "-p", str(port), "-au", phone["username"], "-ap", phone["password"],
                              "-set", "user", phone["username"], "-set", "expires", "3600")
    assert code == 0, errors
    assert agent(runtime, ANA) == ("free", "sip")
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


def run_call(db_url: str, phone: dict[str, str], cwd: Path, caller_scenario: str,
             agent_scenario: str | None, *agent_args: str) -> None:
    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        port = await register(gateway, runtime, phone, cwd) if agent_scenario else None
        await call(gateway, phone, cwd, caller_scenario, agent_scenario, port, agent_args)
        async with asyncio.timeout(5):  # the engine ends the call once both legs are done
            while runtime.center.calls:
                await asyncio.sleep(0.05)

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
    ("486", "REJECTED"), ("603", "REJECTED"), ("480", "SIP_PHONE_ERROR")])
def test_an_agent_refuses_and_the_caller_nobody_answered_gets_480(center, db_url, tmp_path, status, outcome):
    run_call(db_url, center, tmp_path, "caller_refused_480.xml", f"agent_refuses_{status}.xml")
    assert records(db_url) == [("missed", "system", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, outcome)]


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
