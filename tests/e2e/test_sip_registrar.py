"""The SIP registrar against real peers: SIPp phones and raw datagrams, on 127.0.0.1 only.

Each test starts a real engine (EngineRuntime with its SIP gateway on a free UDP
port) on the test database, drives it, and checks what the engine and the
database show: the agent connected with interface "sip", the stored binding.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from ringtui.config import load_settings
from ringtui.db import engine_for
from ringtui.engine.runtime import EngineOptions, EngineRuntime
from ringtui.engine.sip.digest import digest_response
from ringtui.engine.sip.gateway import SipGateway
from ringtui.engine.sip.registrar import RegistrarOptions
from tests.conftest import ok

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("sipp") is None,
                                 reason="sipp is not on PATH (Debian sip-tester; .ci/run installs it)")]

SCENARIOS = Path(__file__).parent / "sipp"
RINGTUI = Path(sys.executable).with_name("ringtui")
ANA, CARL = "ana@acme.test", "carl@acme.test"
SIPP_TIMEOUT_S = 15


@pytest.fixture
def phones(account, tmp_path, monkeypatch) -> dict[str, dict[str, str]]:
    """Ana may use a SIP phone; Carl has credentials but sip_account=false. Their credentials."""
    monkeypatch.setenv("RINGTUI_ENGINE_TOKEN_FILE", str(tmp_path / "engine.token"))
    credentials = {}
    for email in (ANA, CARL):
        ok(account("users", "add", email))
        credentials[email] = ok(account("users", "sip-credentials", email, "--json")).json()
    ok(account("users", "perms", CARL, "sip_account=false"))
    return credentials


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def run_sipp_in(cwd: Path, timeout_s: int, *args: str) -> tuple[int, str]:
    """Run `sipp *args` in `cwd`, killed if it outlives its own `timeout_s` by 5 s; (exit code, its
    stderr and the error logs it wrote)."""
    process = await asyncio.create_subprocess_exec(
        "sipp", *args, cwd=cwd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        async with asyncio.timeout(timeout_s + 5):
            _, stderr = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    errors = "".join(path.read_text(errors="replace") for path in cwd.glob("*_errors.log"))
    return process.returncode or 0, stderr.decode(errors="replace") + errors


async def sipp(scenario: str, port: int, cwd: Path, *, user: str, password: str, expires: int = 3600,
               local_port: int | None = None) -> tuple[int, str]:
    """Run one SIPp call of `scenario` against 127.0.0.1:port; (exit code, its error log)."""
    return await run_sipp_in(
        cwd, SIPP_TIMEOUT_S, f"127.0.0.1:{port}", "-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1",
        "-p", str(local_port or free_udp_port()), "-m", "1", "-nostdin", "-timeout", f"{SIPP_TIMEOUT_S}s",
        "-timeout_error", "-au", user, "-ap", password, "-set", "user", user, "-set", "expires", str(expires),
        "-trace_err")


Body = Callable[[EngineRuntime, SipGateway], Awaitable[Any]]


def with_engine(db_url: str, body: Body, options: RegistrarOptions = RegistrarOptions()) -> Any:
    """Start an engine with its SIP gateway on a free 127.0.0.1 port, run `body`, stop the engine."""

    async def scenario() -> Any:
        runtime = EngineRuntime(load_settings(database_url=db_url), EngineOptions(ws="127.0.0.1:0"))
        gateway = SipGateway(runtime, "127.0.0.1:0", options)
        stop = asyncio.Event()
        running = asyncio.create_task(runtime.run(stop, gateway.run))
        try:
            async with asyncio.timeout(10):
                while gateway.address is None or runtime.address is None:
                    if running.done():
                        running.result()
                    await asyncio.sleep(0.02)
            return await body(runtime, gateway)
        finally:
            stop.set()
            await asyncio.wait_for(running, 10)

    return asyncio.run(scenario())


def agent(runtime: EngineRuntime, email: str) -> tuple[str, str | None]:
    row = next(a for a in runtime.center.snapshot()["agents"] if a["email"] == email)
    return row["state"], row["interface"]


def bindings(db_url: str) -> list[tuple[str, str, str, str]]:
    with engine_for(db_url).connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "SELECT u.email, b.contact_uri, b.received, b.user_agent FROM sip_binding b "
            "JOIN app_user u ON u.id = b.user_id ORDER BY b.id"))]


# ---------------------------------------------------------------- SIPp phones


def test_sipp_registers_with_digest_and_the_agent_is_connected(phones, db_url, tmp_path):
    ana = phones[ANA]
    local = free_udp_port()

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        assert agent(runtime, ANA) == ("off", None)
        code, errors = await sipp("register.xml", gateway.address[1], tmp_path, user=ana["username"],
                                  password=ana["password"], local_port=local)
        assert code == 0, errors
        assert agent(runtime, ANA) == ("free", "sip")
        assert gateway.presence.user_agents[ANA] == "SIPp test phone"
        shown = next(a for a in runtime.center.snapshot()["agents"] if a["email"] == ANA)
        assert shown["device"] == "SIPp test phone"  # what `engine status` shows

    with_engine(db_url, body)
    assert bindings(db_url) == [(ANA, f"sip:{ana['username']}@127.0.0.1:{local}", f"127.0.0.1:{local}",
                                 "SIPp test phone")]


@pytest.mark.parametrize("who", ["wrong password", "unknown user", "sip_account=false"])
def test_refused_credentials_get_the_same_403_and_nothing_changes(phones, db_url, tmp_path, who):
    user, password = {
        "wrong password": (phones[ANA]["username"], phones[ANA]["password"] + "x"),
        "unknown user": ("nobody", phones[ANA]["password"]),
        "sip_account=false": (phones[CARL]["username"], phones[CARL]["password"]),
    }[who]

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        code, errors = await sipp("register_refused.xml", gateway.address[1], tmp_path, user=user,
                                  password=password)
        assert code == 0, errors
        assert agent(runtime, ANA) == agent(runtime, CARL) == ("off", None)

    with_engine(db_url, body)
    assert bindings(db_url) == []


def test_unregister_turns_the_agent_off_and_forgets_the_binding(phones, db_url, tmp_path):
    ana = phones[ANA]
    local = free_udp_port()

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        port = gateway.address[1]
        code, errors = await sipp("register.xml", port, tmp_path, user=ana["username"],
                                  password=ana["password"], local_port=local)
        assert code == 0 and agent(runtime, ANA) == ("free", "sip"), errors
        code, errors = await sipp("register.xml", port, tmp_path, user=ana["username"],
                                  password=ana["password"], expires=0, local_port=local)
        assert code == 0, errors
        assert agent(runtime, ANA) == ("off", None)

    with_engine(db_url, body)
    assert bindings(db_url) == []


def test_a_binding_survives_an_engine_restart(phones, db_url, tmp_path):
    ana = phones[ANA]

    async def register(runtime: EngineRuntime, gateway: SipGateway) -> None:
        code, errors = await sipp("register.xml", gateway.address[1], tmp_path, user=ana["username"],
                                  password=ana["password"])
        assert code == 0, errors

    async def restarted(runtime: EngineRuntime, gateway: SipGateway) -> tuple[str, str | None]:
        return agent(runtime, ANA)

    with_engine(db_url, register)
    assert len(bindings(db_url)) == 1
    assert with_engine(db_url, restarted) == ("free", "sip")


def test_an_expired_nonce_is_stale_and_the_phone_registers_with_the_new_one(phones, db_url, tmp_path):
    ana = phones[ANA]

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        code, errors = await sipp("register_stale.xml", gateway.address[1], tmp_path, user=ana["username"],
                                  password=ana["password"])
        assert code == 0, errors  # the scenario checks stale=true on the second 401
        assert agent(runtime, ANA) == ("free", "sip")

    with_engine(db_url, body, RegistrarOptions(nonce_ttl_s=1.0))


def test_a_nonce_is_reused_with_the_next_count(phones, db_url, tmp_path):
    ana = phones[ANA]

    async def body(runtime: EngineRuntime, gateway: SipGateway) -> None:
        code, errors = await sipp("register_nonce_reuse.xml", gateway.address[1], tmp_path,
                                  user=ana["username"], password=ana["password"])
        assert code == 0, errors

    with_engine(db_url, body)


def test_engine_run_sip_serves_the_registrar(phones, db_url, tmp_path):
    ana, port = phones[ANA], free_udp_port()
    env = {**os.environ, "RINGTUI_DATABASE_URL": db_url, "NO_COLOR": "1"}
    engine = subprocess.Popen([str(RINGTUI), "engine", "run", "--ws", "127.0.0.1:0", "--sip",
                               f"127.0.0.1:{port}", "--for", "20"],
                              env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert engine.stderr is not None
        announced = ""
        while "SIP registrar on" not in announced:
            line = engine.stderr.readline()
            assert line, f"engine ended before serving SIP: {announced}"
            announced += line
        assert f"udp:127.0.0.1:{port}" in announced
        code, errors = asyncio.run(sipp("register.xml", port, tmp_path, user=ana["username"],
                                        password=ana["password"]))
        assert code == 0, errors
    finally:
        engine.terminate()
        engine.wait(timeout=20)
    assert [row[0] for row in bindings(db_url)] == [ANA]


def test_engine_run_refuses_a_sip_address_without_port(account):
    result = account("engine", "run", "--sip", "127.0.0.1")
    assert result.exit_code == 2 and "HOST:PORT" in result.stderr


# ---------------------------------------------------------------- raw datagrams


class Phone:
    """A UDP socket on 127.0.0.1 that sends requests and reads the responses (parsed roughly)."""

    def __init__(self, port: int) -> None:
        self.server = ("127.0.0.1", port)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(3)
        self.port = self.socket.getsockname()[1]

    async def send(self, data: bytes) -> None:
        self.socket.sendto(data, self.server)

    async def receive(self) -> tuple[int, dict[str, list[str]], bytes]:
        data = await asyncio.to_thread(self.socket.recv, 65535)
        lines = data.decode().split("\r\n")
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers.setdefault(name.strip().lower(), []).append(value.strip())
        return int(lines[0].split()[1]), headers, data

    async def silent(self, seconds: float = 0.5) -> bool:
        self.socket.settimeout(seconds)
        try:
            self.socket.recv(65535)
        except TimeoutError:
            return True
        finally:
            self.socket.settimeout(3)
        return False

    def close(self) -> None:
        self.socket.close()


def register(user: str, *, port: int, cseq: int = 1, branch: str = "z9hG4bKr1", call_id: str = "raw-1",
             via_host: str = "127.0.0.1", expires: int = 3600, authorization: str = "",
             compact: bool = False) -> bytes:
    via = f"SIP/2.0/UDP {via_host}:{port};branch={branch};rport"
    lines = [
        "REGISTER sip:127.0.0.1 SIP/2.0",
        f"v:{via}" if compact else f"Via: {via}",
        f"f: <sip:{user}@127.0.0.1>;tag=raw" if compact else f"From: <sip:{user}@127.0.0.1>;tag=raw",
        f"t:<sip:{user}@127.0.0.1>" if compact else f"To: <sip:{user}@127.0.0.1>",
        f"i: {call_id}" if compact else f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        f"m: <sip:{user}@127.0.0.1:{port}>" if compact else f"Contact: <sip:{user}@127.0.0.1:{port}>",
        "User-Agent: raw test",
        "  phone" if compact else "",  # folded continuation line
        f"Expires: {expires}",
    ]
    if authorization:
        lines.append(f"Authorization: {authorization}")
    return ("\r\n".join(line for line in lines if line) + "\r\nContent-Length: 0\r\n\r\n").encode()


def answer(challenge: str, *, username: str, password: str, algorithm: str, nc: str = "00000001") -> str:
    nonce = challenge.split('nonce="')[1].split('"')[0]
    uri = "sip:127.0.0.1"
    response = digest_response(algorithm=algorithm, username=username, realm="ringtui.local",
                               password=password, method="REGISTER", uri=uri, nonce=nonce, qop="auth",
                               nc=nc, cnonce="c0ffee")
    return (f'Digest username="{username}", realm="ringtui.local", nonce="{nonce}", uri="{uri}", '
            f'response="{response}", algorithm={algorithm}, qop=auth, nc={nc}, cnonce="c0ffee"')


def raw_phone(db_url: str, body: Callable[[EngineRuntime, SipGateway, Phone], Awaitable[Any]],
              options: RegistrarOptions = RegistrarOptions()) -> Any:
    async def with_phone(runtime: EngineRuntime, gateway: SipGateway) -> Any:
        phone = Phone(gateway.address[1])
        try:
            return await body(runtime, gateway, phone)
        finally:
            phone.close()

    return with_engine(db_url, with_phone, options)


def sha256_challenge(headers: dict[str, list[str]]) -> str:
    return next(c for c in headers["www-authenticate"] if "algorithm=SHA-256" in c)


def test_sha256_digest_compact_headers_and_replies_to_the_source_port(phones, db_url):
    """A phone behind NAT: its Via names an address nobody can reach; the answers come back to the
    socket the request came from, with received and rport filled in (aiovoip gap 4)."""
    ana = phones[ANA]

    async def body(runtime: EngineRuntime, gateway: SipGateway, phone: Phone) -> None:
        await phone.send(register(ana["username"], port=9, via_host="192.0.2.1", compact=True))
        status, headers, _ = await phone.receive()
        assert status == 401
        assert [c.split("algorithm=")[1].split(",")[0] for c in headers["www-authenticate"]] == [
            "MD5", "SHA-256"]
        assert f"rport={phone.port}" in headers["via"][0] and "received=127.0.0.1" in headers["via"][0]
        credentials = answer(sha256_challenge(headers), username=ana["username"], password=ana["password"],
                             algorithm="SHA-256")
        await phone.send(register(ana["username"], port=9, via_host="192.0.2.1", cseq=2, branch="z9hG4bKr2",
                                  authorization=credentials, compact=True))
        status, headers, _ = await phone.receive()
        assert status == 200, headers
        assert headers["contact"] == ["<sip:ana@127.0.0.1:9>;expires=3600"]
        assert agent(runtime, ANA) == ("free", "sip")
        assert gateway.presence.user_agents[ANA] == "raw test phone"

    raw_phone(db_url, body)


def test_a_retransmitted_register_gets_the_same_answer_not_a_replay_refusal(phones, db_url):
    ana = phones[ANA]

    async def body(runtime: EngineRuntime, gateway: SipGateway, phone: Phone) -> None:
        await phone.send(register(ana["username"], port=phone.port))
        _, headers, _ = await phone.receive()
        request = register(ana["username"], port=phone.port, cseq=2, branch="z9hG4bKr2",
                           authorization=answer(headers["www-authenticate"][0], username=ana["username"],
                                                password=ana["password"], algorithm="MD5"))
        await phone.send(request)
        status, _, first = await phone.receive()
        await phone.send(request)  # the 200 was lost: the phone sends the same request again
        again = (await phone.receive())[2]
        assert (status, again) == (200, first)

    raw_phone(db_url, body)


def test_a_replayed_nonce_count_is_challenged_again(phones, db_url):
    ana = phones[ANA]

    async def body(runtime: EngineRuntime, gateway: SipGateway, phone: Phone) -> None:
        await phone.send(register(ana["username"], port=phone.port))
        _, headers, _ = await phone.receive()
        credentials = answer(headers["www-authenticate"][0], username=ana["username"],
                             password=ana["password"], algorithm="MD5")
        await phone.send(register(ana["username"], port=phone.port, cseq=2, branch="z9hG4bKr2",
                                  authorization=credentials))
        assert (await phone.receive())[0] == 200
        # the same credentials in a new request (a new branch, a new CSeq): a replay
        await phone.send(register(ana["username"], port=phone.port, cseq=3, branch="z9hG4bKr3",
                                  authorization=credentials))
        status, headers, _ = await phone.receive()
        assert status == 401 and not any("stale" in c for c in headers["www-authenticate"])
        newer = answer(headers["www-authenticate"][0], username=ana["username"],
                       password=ana["password"], algorithm="MD5")
        await phone.send(register(ana["username"], port=phone.port, cseq=4, branch="z9hG4bKr4",
                                  authorization=newer))
        assert (await phone.receive())[0] == 200

    raw_phone(db_url, body)


def test_malformed_requests_get_400_or_nothing_and_the_registrar_keeps_answering(phones, db_url):
    ana = phones[ANA]

    async def body(runtime: EngineRuntime, gateway: SipGateway, phone: Phone) -> None:
        no_cseq = register(ana["username"], port=phone.port).replace(b"CSeq: 1 REGISTER\r\n", b"")
        await phone.send(no_cseq)
        status, headers, _ = await phone.receive()
        assert status == 400 and "z9hG4bKr1" in headers["via"][0]
        no_via = b"REGISTER sip:x SIP/2.0\r\nFrom: x\r\n\r\n"
        for garbage in (b"\x00\xff" * 40, b"HELLO WORLD\r\n\r\n", no_via):
            await phone.send(garbage)
            assert await phone.silent(), garbage
        bad_auth = register(ana["username"], port=phone.port, branch="z9hG4bKr3",
                            authorization='Digest username="ana" realm')
        await phone.send(bad_auth)
        assert (await phone.receive())[0] == 400
        await phone.send(register(ana["username"], port=phone.port, branch="z9hG4bKr4"))
        assert (await phone.receive())[0] == 401
        assert gateway.endpoint.malformed == 4

    raw_phone(db_url, body)


def test_too_brief_expiry_is_refused_423_and_bindings_expire(phones, db_url):
    ana = phones[ANA]

    async def body(runtime: EngineRuntime, gateway: SipGateway, phone: Phone) -> None:
        async def registered(expires: int, cseq: int) -> tuple[int, dict[str, list[str]]]:
            await phone.send(register(ana["username"], port=phone.port, cseq=cseq, branch=f"z9hG4bKa{cseq}",
                                      expires=expires))
            _, headers, _ = await phone.receive()
            credentials = answer(headers["www-authenticate"][0], username=ana["username"],
                                 password=ana["password"], algorithm="MD5")
            await phone.send(register(ana["username"], port=phone.port, cseq=cseq + 1,
                                      branch=f"z9hG4bKb{cseq}", expires=expires, authorization=credentials))
            status, headers, _ = await phone.receive()
            return status, headers

        status, headers = await registered(1, 1)
        assert (status, headers["min-expires"]) == (423, ["2"])
        assert (await registered(2, 3))[0] == 200
        assert agent(runtime, ANA) == ("free", "sip")
        async with asyncio.timeout(6):
            while agent(runtime, ANA) != ("off", None):
                await asyncio.sleep(0.1)

    raw_phone(db_url, body, RegistrarOptions(min_expires_s=2))
    assert bindings(db_url) == []



def invite(user: str, *, port: int, number: str = "+34612345678", cseq: int = 1, branch: str = "z9hG4bKi1",
           authorization: str = "") -> bytes:
    lines = [f"INVITE sip:{number}@127.0.0.1 SIP/2.0",
             f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch};rport", "Max-Forwards: 70",
             f"From: <sip:{user}@127.0.0.1>;tag=probe", f"To: <sip:{number}@127.0.0.1>",
             f"Call-ID: probe-{user}", f"CSeq: {cseq} INVITE", f"Contact: <sip:{user}@127.0.0.1:{port}>",
             *([f"Proxy-Authorization: {authorization}"] if authorization else [])]
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()


def test_unknown_and_known_usernames_are_challenged_alike_and_refused_after_the_digest(phones, db_url):
    """A prober learns nothing from the answers: REGISTER and INVITE (an outbound call) of a user who
    does not exist get the same challenge as Ana's, and the same 403 once a digest is offered."""
    ana = phones[ANA]

    async def answers(phone: Phone, user: str, password: str) -> list[tuple[int, list[str]]]:
        seen = []
        await phone.send(register(user, port=phone.port, call_id=f"reg-{user}"))
        status, headers, _ = await phone.receive()
        seen.append((status, sorted(headers)))
        credentials = answer(headers["www-authenticate"][0], username=user, password=password,
                             algorithm="MD5")
        await phone.send(register(user, port=phone.port, cseq=2, branch="z9hG4bKr2", call_id=f"reg-{user}",
                                  authorization=credentials))
        status, headers, _ = await phone.receive()
        seen.append((status, sorted(headers)))
        await phone.send(invite(user, port=phone.port, branch=f"z9hG4bK{user}1"))
        status, headers, _ = await phone.receive()
        while status == 100:
            status, headers, _ = await phone.receive()
        seen.append((status, sorted(headers)))
        assert status == 407, headers
        credentials = answer(headers["proxy-authenticate"][0], username=user, password=password,
                             algorithm="MD5")
        await phone.send(invite(user, port=phone.port, cseq=2, branch=f"z9hG4bK{user}2",
                                authorization=credentials))
        status, headers, _ = await phone.receive()
        seen.append((status, sorted(headers)))
        return seen

    async def body(runtime: EngineRuntime, gateway: SipGateway, phone: Phone) -> None:
        known = await answers(phone, ana["username"], "not-" + ana["password"])
        unknown = await answers(phone, "nobody", "guess")
        assert [status for status, _ in known] == [401, 403, 407, 403]
        assert unknown == known

    raw_phone(db_url, body, RegistrarOptions(algorithms=("MD5",)))
