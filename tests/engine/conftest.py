"""Helpers shared by the engine tests: a real engine running in the test's event loop, and the
fake datagram transport a SIP endpoint is given without a socket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from ringtui.config import Settings
from ringtui.engine.core.clock import Clock
from ringtui.engine.runtime import EngineOptions, EngineRuntime


@contextlib.asynccontextmanager
async def running_engine(settings: Settings,
                         clock: Clock | None = None) -> AsyncIterator[tuple[EngineRuntime, str]]:
    """A real engine (feed, recorder, reload) on 127.0.0.1:0 and its feed's URL; stopped on leaving.
    A start-up failure is raised, not waited on."""
    runtime = EngineRuntime(settings, EngineOptions(ws="127.0.0.1:0"), clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    while runtime.address is None:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield runtime, f"ws://127.0.0.1:{runtime.address[1]}"
    finally:
        stop.set()
        await task


class Wire:
    """Where an endpoint's datagrams go, kept for the test."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendto(self, data: bytes, address: tuple[str, int]) -> None:
        self.sent.append(data)

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass
