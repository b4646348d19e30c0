"""The engine process: the pure core wired to its adapters on one asyncio loop.

Every reaction of the core goes to the recorder (call records), the live feed,
the webhooks and the KPI tally; its actions go to whatever drives the calls
(the SIP gateway, or the simulator). Timers fire every tick; the recorder
writes in batches from a worker thread; configuration changes made with the
CLI are picked up within a second (the audit log's newest id is the version).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from ringtui.config import Settings
from ringtui.db import engine_for
from ringtui.engine.campaigns.runner import call_campaigns_task, campaign_task
from ringtui.engine.config import CenterConfig, config_version, load_config
from ringtui.engine.core.actions import Action
from ringtui.engine.core.center import CallCenter, Reaction
from ringtui.engine.core.clock import Clock, SystemClock
from ringtui.engine.core.errors import CoreError, TransferRefused
from ringtui.engine.core.events import CallEnded
from ringtui.engine.feed import CONTROL, READ, ControlRefused, Feed
from ringtui.engine.kpis import LiveKpis
from ringtui.engine.recorder import Recorder, close_orphans
from ringtui.engine.token import issue_token
from ringtui.services.apikeys import rights_of

log = logging.getLogger("ringtui.engine")

TICK_S = 0.1
FLUSH_S = 0.5
RELOAD_S = 1.0
KPI_S = 1.0
OWNER_RIGHTS = frozenset({READ, CONTROL})


@dataclass(frozen=True)
class EngineOptions:
    ws: str = "127.0.0.1:8765"
    auto_snooze_after: int = 0
    seed: int | None = None


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"address {address!r}: expected HOST:PORT, e.g. 127.0.0.1:8765")
    return host, int(port)


class EngineRuntime:
    def __init__(self, settings: Settings, options: EngineOptions, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.options = options
        self.clock = clock or SystemClock()
        self.database = engine_for(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        self.recorder = Recorder(self.database)
        self.center = CallCenter(self.clock, rng=random.Random(options.seed),
                                 auto_snooze_after=options.auto_snooze_after)
        self.kpis = LiveKpis(ZoneInfo("UTC"))
        self.snapshot_hooks: list[Callable[[dict[str, Any]], None]] = []  # adapters add their live facts
        self.snapshot_hooks.append(self._snapshot_kpis)
        self.feed = Feed(self.snapshot, self._authorize, self._control)
        self.action_sinks: list[Callable[[Action], None]] = []
        # adapters that carry calls say why they cannot carry a transfer of one (None: they can)
        self.transfer_checks: list[Callable[[str, str], str | None]] = []
        self.version = -1
        self.config: CenterConfig | None = None
        self.closed_at_stop: list[str] = []
        self.address: tuple[str, int] | None = None
        self._token = ""
        self._webhooks: Any = None
        self._writing: asyncio.Future[int] | None = None  # the recorder's batch being written
        self.campaign_telephony: Any = None  # how campaigns call: set by the SIP gateway or the demo

    # ------------------------------------------------------------ reactions

    def apply(self, reaction: Reaction) -> None:
        """Send what the core produced to everyone who needs it."""
        for event in reaction.events:
            self.recorder.handle(event)
            self.feed.publish(event)
            if self._webhooks is not None:
                self._webhooks.submit(event)
            if isinstance(event, CallEnded):
                self.kpis.add(event.call)
        for action in reaction.actions:
            for sink in self.action_sinks:
                sink(action)

    def transfer(self, call_id: str, agent: str, target: str) -> None:
        """A blind transfer asked from outside the call's own signalling (the feed, the TUI's x).

        The adapters carrying calls are asked first, before the core releases anyone: a transfer
        the telephony cannot carry (the SIP engine's to an external number, or of an outbound
        call) is refused with TransferRefused and the call stays with its agent."""
        for check in self.transfer_checks:
            reason = check(call_id, target)
            if reason is not None:
                raise TransferRefused(call_id, target, reason)
        self.apply(self.center.transfer(call_id, agent, target))

    def snapshot(self) -> dict[str, Any]:
        """The core's snapshot (agents, waiting, calls) with what adapters add (SIP phones and legs)."""
        document = self.center.snapshot()
        for hook in self.snapshot_hooks:
            hook(document)
        return document

    # ------------------------------------------------------------ configuration

    def configure(self, config: CenterConfig) -> None:
        self.config = config
        self.center.set_time_zone(config.timezone)
        self.kpis.zone = ZoneInfo(config.timezone)
        self.apply(self.center.load_agents(config.agents))
        self.apply(self.center.load_scenarios(config.scenarios))
        self.center.load_direct_lines(config.direct_lines)
        self.center.set_blacklist(config.blacklist.blocks)
        self.version = config.version

    async def reload_if_changed(self) -> bool:
        version = await asyncio.to_thread(config_version, self.database)
        if version == self.version:
            return False
        self.configure(await asyncio.to_thread(load_config, self.database))
        log.info("configuration reloaded (version %s)", self.version)
        return True

    # ------------------------------------------------------------ feed access

    def _authorize(self, token: str) -> frozenset[str] | None:
        if self._token and token == self._token:
            return OWNER_RIGHTS
        with Session(self.database) as db:
            return rights_of(db, token)

    def _control(self, message: dict[str, Any], rights: frozenset[str]) -> dict[str, Any]:
        action = message["action"]
        try:
            if action == "snooze":
                self.apply(self.center.snooze(_field(message, "agent"), str(message.get("reason") or "")))
            elif action == "unsnooze":
                self.apply(self.center.unsnooze(_field(message, "agent")))
            elif action == "take":
                call_id, agent = _field(message, "call_id"), _field(message, "agent")
                self.apply(self.center.take_waiting_call(call_id, agent))
            elif action == "whisper":
                self.apply(self.center.whisper(_field(message, "call_id"), _field(message, "supervisor")))
            elif action == "transfer":
                call_id, agent = _field(message, "call_id"), _field(message, "agent")
                self.transfer(call_id, agent, _field(message, "target"))
            else:
                raise ControlRefused(
                    f"unknown action {action!r}; actions: snooze, unsnooze, take, whisper, transfer, ping")
        except CoreError as error:
            raise ControlRefused(str(error)) from None
        return {key: message[key] for key in ("agent", "call_id", "target") if key in message}

    # ------------------------------------------------------------ running

    async def start(self) -> None:
        """Open the feed, recover, configure; the loops start with run().

        The feed's address is taken first: an engine started twice on the same address
        fails there, before it could close the records of the one already running.
        """
        host, port = split_address(self.options.ws)
        self._server = await self.feed.serve(host, port)
        closed = await asyncio.to_thread(close_orphans, self.database, self.clock.now())
        if closed:
            log.warning("closed %d call record(s) left open by a previous engine", len(closed))
        self.configure(await asyncio.to_thread(load_config, self.database))
        self._token = issue_token(self.settings.token_file)
        self.address = self._server.sockets[0].getsockname()[:2]
        from ringtui.engine.webhooks import dispatcher_for

        self._webhooks = dispatcher_for(self.settings)
        self._webhooks.start()

    async def run(self, stop: asyncio.Event, *extra: Callable[[], Any]) -> None:
        """Run until `stop` is set; `extra` are coroutine functions run beside the loops."""
        await self.start()
        extra = (*extra, campaign_task(self.database, self.settings.sms, self.feed.publish),
                 call_campaigns_task(self))
        loops = [self._every(TICK_S, self._tick), self._every(FLUSH_S, self.flush),
                 self._every(RELOAD_S, self.reload_if_changed), self._every(KPI_S, self._publish_kpis)]
        tasks = [asyncio.create_task(coroutine) for coroutine in (*loops, *(f() for f in extra))]
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.close()

    async def close(self) -> None:
        if self._writing is not None:
            try:  # a batch the stop interrupted lands before the open records are closed
                await self._writing
            except Exception:
                log.exception("writing call records failed")
        await self.flush()
        # Calls still in progress end with the engine: closed now, as the restart would.
        self.closed_at_stop = await asyncio.to_thread(close_orphans, self.database, self.clock.now())
        self._server.close()
        await self._server.wait_closed()
        if self._webhooks is not None:
            await self._webhooks.aclose()
        with contextlib.suppress(FileNotFoundError):
            self.settings.token_file.unlink()

    async def flush(self) -> None:
        batch = self.recorder.take()
        if batch:
            # shielded: a stop cancelling the flush loop leaves this write running; close() waits for it
            self._writing = asyncio.ensure_future(asyncio.to_thread(self.recorder.write, batch))
            await asyncio.shield(self._writing)

    def _tick(self) -> None:
        self.apply(self.center.advance())

    def _publish_kpis(self) -> None:
        self.feed.publish(self.kpis.figures(self.clock.now()))

    def _snapshot_kpis(self, document: dict[str, Any]) -> None:
        """Today's KPIs ride with the snapshot: a new client shows them at once, not a second later."""
        document["kpis"] = self.kpis.figures(self.clock.now())

    async def _every(self, seconds: float, work: Callable[[], Any]) -> None:
        """Run `work` every `seconds`, never overlapping itself; a failure is logged, not fatal."""
        while True:
            try:
                result = work()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("engine loop %s failed", getattr(work, "__name__", work))
            await asyncio.sleep(seconds)


def _field(message: dict[str, Any], key: str) -> str:
    value = message.get(key)
    if not isinstance(value, str) or not value:
        raise ControlRefused(f"{message['action']} needs {key!r}")
    return value
