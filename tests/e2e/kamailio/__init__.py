"""Kamailio for the SIP tests: a cfg template of this folder, rendered with its ports, run in the foreground.

`kamailio(...)` starts `kamailio -DD -E -f CFG` on 127.0.0.1 (no database module, one worker: two
reorder 180/200 at high rates), waits until it answers a probe, and stops it by its PID at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
BINARY = "/usr/sbin/kamailio"
START_S = 10.0


MISSING = "kamailio is not installed (Debian package kamailio; .ci/run installs it)"


def installed() -> str | None:
    """The kamailio binary (it lives in /usr/sbin, often not on a user's PATH), None when missing."""
    return shutil.which("kamailio") or (BINARY if Path(BINARY).exists() else None)


def kamailio_binary() -> str:
    """The kamailio binary, or the test is skipped."""
    found = installed()
    if found is None:
        pytest.skip(MISSING)
    return found


def render(template: str, values: dict[str, object]) -> str:
    """The cfg template with each {name} replaced (the cfg's own braces are left alone)."""
    text = (HERE / template).read_text()
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


@contextlib.asynccontextmanager
async def kamailio(template: str, cwd: Path, **values: object) -> AsyncIterator[Path]:
    """Run Kamailio with `template` rendered (values must include its `port`); yields its log file."""
    binary = kamailio_binary()
    cwd.mkdir(parents=True, exist_ok=True)
    cfg, log = cwd / "kamailio.cfg", cwd / "kamailio.log"
    cfg.write_text(render(template, values))
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            binary, "-DD", "-E", "-f", str(cfg), "-m", "64", "-M", "8", "-Y", str(cwd),
            cwd=cwd, stdin=asyncio.subprocess.DEVNULL, stdout=output, stderr=output)
    try:
        await _answering(int(values["port"]), process, log)
        yield log
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _answering(port: int, process: asyncio.subprocess.Process, log: Path) -> None:
    """Wait until Kamailio answers an OPTIONS with Max-Forwards 0 (its 483), or fail with its log."""
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        probe.setblocking(False)
        local = probe.getsockname()[1]
        deadline = loop.time() + START_S
        while loop.time() < deadline:
            if process.returncode is not None:
                break
            probe.sendto(_options(port, local), ("127.0.0.1", port))
            try:
                async with asyncio.timeout(0.2):
                    await loop.sock_recv(probe, 65535)
                return
            except (TimeoutError, ConnectionRefusedError):
                await asyncio.sleep(0.1)
    raise RuntimeError(f"kamailio did not start on udp:127.0.0.1:{port}:\n{log.read_text(errors='replace')}")


def _options(port: int, local: int) -> bytes:
    tag = secrets.token_hex(4)
    return (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{secrets.token_hex(6)};rport\r\n"
            f"From: <sip:probe@127.0.0.1>;tag={tag}\r\nTo: <sip:127.0.0.1:{port}>\r\n"
            f"Call-ID: probe-{tag}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 0\r\n"
            "Content-Length: 0\r\n\r\n").encode()
