"""Benchmark: a voice-message campaign placed by the engine over SIP, with the message played as RTP.

N numbers (default 200), all answering (SIPp as the customers behind the trunk, `-m N`,
tests/e2e/sipp/campaign_customers.xml), a message of S seconds (default 2), at most C
calls at once ([campaigns] voice_channels, default 20). Every RTP packet the engine
sends goes to one UDP socket of the benchmark, which notes its arrival time. Reported:
wall time and calls per second, packets received against those sent (N x S / 20 ms),
and the pacing: how late each packet arrives against its stream's schedule (first
packet + n x 20 ms), p50 / p99 / max in ms. At C channels the engine keeps C streams of
50 packets/s going from its one event loop: the lateness says whether it keeps up.

    .venv/bin/python bench/campaign_voice.py [--numbers N] [--channels C] [--seconds S] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from ringtui.config import CampaignSettings, load_settings  # noqa: E402
from ringtui.db import engine_for  # noqa: E402
from ringtui.engine.runtime import EngineOptions, EngineRuntime  # noqa: E402
from ringtui.engine.sip.gateway import SipGateway  # noqa: E402
from ringtui.models import CampaignRecipient, PhoneNumber  # noqa: E402

OURS = "+33140506070"
SCENARIO = ROOT / "tests" / "e2e" / "sipp" / "campaign_customers.xml"


def cli(*args: str, db: str) -> None:
    ringtui = Path(sys.executable).with_name("ringtui")
    subprocess.run([str(ringtui), "--db", db, *args], check=True, capture_output=True, text=True)


def free_udp_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def message(path: Path, seconds: float) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 8000 * 2 * math.pi * 440)))
                                 for i in range(int(seconds * 8000))))


def numbers(count: int) -> list[str]:
    """French mobiles that answer in the scenario (not ending in 2 or 3)."""
    found, i = [], 10_000_000
    while len(found) < count:
        if str(i)[-1] not in "23":
            found.append(f"06{i:08d}")
        i += 1
    return found


def prepare(folder: Path, db: str, count: int, seconds: float) -> None:
    cli("init", "--company", "Bench", "--plan", "advanced", "--admin", "boss@bench.test", "--country", "FR",
        db=db)
    cli("account", "power-dialer", "on", db=db)
    with Session(engine_for(db)) as session:
        session.add(PhoneNumber(e164=OURS, country="FR", format="national", status="available"))
        session.commit()
    (folder / "list.txt").write_text("\n".join(numbers(count)) + "\n")
    message(folder / "msg.wav", seconds)
    cli("campaign", "voice", "create", "Bench", "--from", OURS, "--message-file", str(folder / "msg.wav"),
        "--recipients", str(folder / "list.txt"), db=db)
    cli("campaign", "launch", "Bench", db=db)


class Sink(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.arrivals: dict[int, list[tuple[float, int]]] = {}  # SSRC -> (arrival, sequence)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        _, _, sequence, _, ssrc = struct.unpack("!BBHII", data[:12])
        self.arrivals.setdefault(ssrc, []).append((time.monotonic(), sequence))


def lateness_ms(sink: Sink) -> list[float]:
    late = []
    for packets in sink.arrivals.values():
        start, first = packets[0]
        for at, sequence in packets:
            late.append(max(0.0, (at - start - ((sequence - first) & 0xFFFF) * 0.02) * 1000))
    return sorted(late)


def done(db: str) -> int:
    with engine_for(db).connect() as connection:
        return connection.execute(select(func.count(CampaignRecipient.id)).where(
            CampaignRecipient.status.not_in(["pending", "in_progress"]))).scalar_one()


async def run(db: str, folder: Path, count: int, channels: int) -> tuple[float, Sink]:
    trunk = free_udp_port()
    os.environ["RINGTUI_SIP_TRUNK"] = f"127.0.0.1:{trunk}"
    settings = replace(load_settings(database_url=db), campaigns=CampaignSettings(voice_channels=channels))
    runtime = EngineRuntime(settings, EngineOptions(ws="127.0.0.1:0"))
    gateway = SipGateway(runtime, "127.0.0.1:0")
    loop = asyncio.get_running_loop()
    transport, sink = await loop.create_datagram_endpoint(Sink, local_addr=("127.0.0.1", 0))
    carrier = subprocess.Popen(
        ["sipp", "-sf", str(SCENARIO), "-i", "127.0.0.1", "-p", str(trunk), "-m", str(count), "-nostdin",
         "-set", "rtpport", str(transport.get_extra_info("sockname")[1]), "-timeout", "900s"],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    await asyncio.sleep(0.5)
    stop = asyncio.Event()
    running = asyncio.create_task(runtime.run(stop, gateway.run))
    started = time.monotonic()
    try:
        while await asyncio.to_thread(done, db) < count:
            await asyncio.sleep(0.2)
        took = time.monotonic() - started
    finally:
        stop.set()
        await running
        transport.close()
        carrier.terminate()
        carrier.wait()
    return took, sink


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=200)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--db", help="a PostgreSQL URL to use instead of a temporary SQLite file")
    options = parser.parse_args()
    if shutil.which("sipp") is None:
        sys.exit("sipp is not on PATH")
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        db = options.db or f"sqlite:///{folder / 'bench.db'}"
        os.environ["XDG_DATA_HOME"] = str(folder / "data")
        prepare(folder, db, options.numbers, options.seconds)
        took, sink = asyncio.run(run(db, folder, options.numbers, options.channels))
    late = lateness_ms(sink)
    received = sum(len(p) for p in sink.arrivals.values())
    expected = options.numbers * math.ceil(options.seconds / 0.02)
    print(f"{options.numbers} calls, {options.channels} channels, {options.seconds:g} s message: "
          f"{took:.1f} s, {options.numbers / took:.1f} calls/s")
    print(f"RTP: {received} of {expected} packets in {len(sink.arrivals)} streams; lateness ms p50 "
          f"{late[len(late) // 2]:.1f}, p99 {late[int(len(late) * 0.99)]:.1f}, max {late[-1]:.1f}")


if __name__ == "__main__":
    main()
