"""A real softphone: baresip registers to `ringtui engine run --sip` and rings for a SIPp caller.

The issue's "done when": baresip (Debian baresip-core), run headless from a config
directory generated in tmp_path (no audio device: a silent WAV file as source, a
WAV file as player), registers with the credentials of `ringtui users
sip-credentials`; a SIPp caller dials the IVR's number; baresip answers
(answermode=auto), rejects (the `hangup` command on its ctrl_tcp socket: 486), or
lets it ring. Each test reads the call record the engine wrote, on both databases.
Everything binds 127.0.0.1 on free ports; every process is stopped by its PID.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import sys
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from ringtui.db import engine_for
from tests.e2e.test_sip_calls import ANA, CALLER, attempts, records, set_up, sipp
from tests.e2e.test_sip_registrar import free_udp_port

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("baresip") is None,
                                 reason="baresip is not on PATH (Debian baresip-core; .ci/run installs it)"),
              pytest.mark.skipif(shutil.which("sipp") is None,
                                 reason="sipp is not on PATH (Debian sip-tester; .ci/run installs it)")]

RINGTUI = Path(sys.executable).with_name("ringtui")
START_TIMEOUT_S = 20
EVENT_TIMEOUT_S = 15


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def stop(process: asyncio.subprocess.Process, grace_s: float = 10) -> None:
    """SIGTERM, then SIGKILL if it is still there after `grace_s`."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


@dataclass
class Engine:
    """`ringtui engine run` as a process: its SIP port and its feed."""

    process: asyncio.subprocess.Process
    sip_port: int
    ws: str

    async def status(self) -> dict[str, Any]:
        """`ringtui engine status --json`, as a script would read it."""
        process = await asyncio.create_subprocess_exec(
            str(RINGTUI), "engine", "status", "--engine", self.ws, "--json",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, stderr.decode()
        return json.loads(stdout)

    async def agent(self, email: str) -> dict[str, Any]:
        return next(a for a in (await self.status())["agents"] if a["email"] == email)


@contextlib.asynccontextmanager
async def engine_run(db_url: str, log: Path) -> AsyncIterator[Engine]:
    """`ringtui engine run --sip 127.0.0.1:PORT --ws 127.0.0.1:PORT`, ready when it answers OPTIONS."""
    sip_port, ws_port = free_udp_port(), free_tcp_port()
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            str(RINGTUI), "--db", db_url, "engine", "run", "--sip", f"127.0.0.1:{sip_port}",
            "--ws", f"127.0.0.1:{ws_port}", "--for", "120", stdout=output, stderr=output)
    try:
        await asyncio.wait_for(_answers_options(sip_port, process), START_TIMEOUT_S)
        yield Engine(process, sip_port, f"ws://127.0.0.1:{ws_port}")
    except BaseException:
        print(log.read_text(errors="replace"))
        raise
    finally:
        await stop(process)


async def _answers_options(port: int, process: asyncio.subprocess.Process) -> None:
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        probe.setblocking(False)
        local = probe.getsockname()[1]
        for attempt in range(1000):
            assert process.returncode is None, "the engine stopped"
            options = (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
                       f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bKprobe{attempt};rport\r\n"
                       "From: <sip:probe@127.0.0.1>;tag=probe\r\nTo: <sip:probe@127.0.0.1>\r\n"
                       f"Call-ID: probe-{attempt}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
            probe.sendto(options.encode(), ("127.0.0.1", port))
            with contextlib.suppress(TimeoutError):
                data = await asyncio.wait_for(loop.sock_recv(probe, 65535), 0.3)
                if data.startswith(b"SIP/2.0 200"):
                    return


class Baresip:
    """A baresip softphone from a generated config directory, driven over its ctrl_tcp socket
    (netstring-framed JSON: commands in, events such as CALL_INCOMING out)."""

    def __init__(self, directory: Path, registrar_port: int, phone: dict[str, str], answermode: str) -> None:
        self.directory = directory
        self.control_port = free_tcp_port()
        directory.mkdir(parents=True, exist_ok=True)
        silence = directory / "silence.wav"
        with wave.open(str(silence), "wb") as source:  # aufile needs a real WAV file: 5 s of silence
            source.setnchannels(1)
            source.setsampwidth(2)
            source.setframerate(8000)
            source.writeframes(b"\0" * 16000 * 5)
        (directory / "config").write_text("\n".join([
            f"sip_listen 127.0.0.1:{free_udp_port()}",
            "module_path /usr/lib/baresip/modules",
            "module g711.so", "module aufile.so",
            f"audio_source aufile,{silence}", f"audio_player aufile,{directory / 'heard.wav'}",
            "module_app account.so", "module_app menu.so", "module_app ctrl_tcp.so",
            f"ctrl_tcp_listen 127.0.0.1:{self.control_port}", ""]))
        (directory / "accounts").write_text(
            f"<sip:{phone['username']}@127.0.0.1:{registrar_port};transport=udp>"
            f";auth_pass={phone['password']};regint=60;answermode={answermode}\n")
        self.process: asyncio.subprocess.Process | None = None
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.seen: list[dict[str, Any]] = []  # every message from ctrl_tcp, for failure reports

    async def start(self) -> None:
        with (self.directory / "baresip.log").open("wb") as output:
            self.process = await asyncio.create_subprocess_exec(
                "baresip", "-f", str(self.directory), "-t", "120", stdin=asyncio.subprocess.DEVNULL,
                stdout=output, stderr=output)
        async with asyncio.timeout(START_TIMEOUT_S):
            while True:
                assert self.process.returncode is None, self.log()
                try:
                    self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.control_port)
                    return
                except OSError:
                    await asyncio.sleep(0.1)

    async def event(self, kind: str) -> dict[str, Any]:
        """The next event of this type (CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED ...)."""
        assert self.reader is not None
        async with asyncio.timeout(EVENT_TIMEOUT_S):
            while True:
                length = int((await self.reader.readuntil(b":"))[:-1])
                message = json.loads((await self.reader.readexactly(length + 1))[:-1])
                self.seen.append(message)
                if message.get("event") and message.get("type") == kind:
                    return message

    async def command(self, name: str, params: str = "") -> None:
        assert self.writer is not None
        body = json.dumps({"command": name, "params": params, "token": name}).encode()
        self.writer.write(str(len(body)).encode() + b":" + body + b",")
        await self.writer.drain()

    async def close(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(OSError, RuntimeError):
                await self.command("quit")  # un-REGISTERs on the way out
            self.writer.close()
        if self.process is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 5)
            await stop(self.process)

    def log(self) -> str:
        path = self.directory / "baresip.log"
        return (path.read_text(errors="replace") if path.exists() else "") + "\n".join(map(str, self.seen))


@contextlib.asynccontextmanager
async def softphone(engine: Engine, directory: Path, phone: dict[str, str],
                    answermode: str) -> AsyncIterator[Baresip]:
    """baresip started and registered: the engine shows Ana connected on a SIP phone."""
    baresip = Baresip(directory, engine.sip_port, phone, answermode)
    try:
        await baresip.start()
        async with asyncio.timeout(START_TIMEOUT_S):
            while (await engine.agent(ANA))["interface"] != "sip":
                await asyncio.sleep(0.2)
        yield baresip
    except BaseException:
        print(baresip.log())
        raise
    finally:
        await baresip.close()


async def caller(engine: Engine, phone: dict[str, str], scenario: str, cwd: Path) -> asyncio.Task[Any]:
    return asyncio.create_task(sipp(scenario, cwd, f"127.0.0.1:{engine.sip_port}", "-p", str(free_udp_port()),
                                    "-s", phone["number"], "-set", "caller", CALLER))


async def ended(engine: Engine) -> None:
    """The engine has ended the call (its record is written at the latest when the engine stops)."""
    async with asyncio.timeout(EVENT_TIMEOUT_S):
        while (await engine.status())["calls"]:
            await asyncio.sleep(0.2)


def answered_by(db_url: str) -> list[str | None]:
    """The agent of each call record."""
    with engine_for(db_url).connect() as connection:
        return [row[0] for row in connection.execute(text(
            "SELECT u.email FROM call_record c LEFT JOIN app_user u ON u.id = c.user_id ORDER BY c.id"))]


def run(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(body(), 90))


@pytest.fixture
def center(account, tmp_path, monkeypatch) -> dict[str, str]:
    monkeypatch.setenv("RINGTUI_ENGINE_TOKEN_FILE", str(tmp_path / "engine.token"))
    return set_up(account, 5)


def test_baresip_registers_rings_for_a_sipp_caller_and_answers(center, db_url, tmp_path):
    seen: dict[str, Any] = {}

    async def body() -> None:
        async with engine_run(db_url, tmp_path / "engine.log") as engine, \
                softphone(engine, tmp_path / "baresip", center, "auto") as baresip:
            shown = await engine.agent(ANA)
            seen["agent"] = (shown["state"], shown["interface"], shown["device"].split(" (")[0])
            call = await caller(engine, center, "caller_talks.xml", tmp_path / "caller")
            established = await baresip.event("CALL_ESTABLISHED")  # auto-answered (no CALL_INCOMING)
            seen["from"] = established["peeruri"]
            code, errors = await call
            assert code == 0, errors
            await baresip.event("CALL_CLOSED")  # the caller's BYE reached the phone
            await ended(engine)

    run(body)
    assert seen["agent"] == ("free", "sip", "baresip v1.0.0")
    assert seen["from"].startswith(f"sip:{CALLER}@")
    assert records(db_url) == [("answered", "customer", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, "ANSWERED")]
    assert answered_by(db_url) == [ANA]


def test_baresip_rejects_the_call_and_the_ring_is_rejected(center, db_url, tmp_path):
    async def body() -> None:
        async with engine_run(db_url, tmp_path / "engine.log") as engine, \
                softphone(engine, tmp_path / "baresip", center, "manual") as baresip:
            call = await caller(engine, center, "caller_refused_480.xml", tmp_path / "caller")
            await baresip.event("CALL_INCOMING")
            await baresip.command("hangup")  # baresip declines a ringing call with 486
            await baresip.event("CALL_CLOSED")
            code, errors = await call
            assert code == 0, errors  # nobody else to ring: the caller gets 480
            await ended(engine)

    run(body)
    assert records(db_url) == [("missed", "system", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, "REJECTED")]


def test_baresip_rings_unanswered_and_is_cancelled_when_the_ring_ends(center, db_url, tmp_path):
    async def body() -> None:
        async with engine_run(db_url, tmp_path / "engine.log") as engine, \
                softphone(engine, tmp_path / "baresip", center, "manual") as baresip:
            call = await caller(engine, center, "caller_refused_480.xml", tmp_path / "caller")
            await baresip.event("CALL_INCOMING")
            assert (await engine.agent(ANA))["state"] == "ringing"
            await baresip.event("CALL_CLOSED")  # the engine's CANCEL after 5 s of ringing
            code, errors = await call
            assert code == 0, errors
            await ended(engine)

    run(body)
    assert records(db_url) == [("missed", "system", CALLER, center["number"], True)]
    assert attempts(db_url) == [(ANA, "NO_ANSWER")]

