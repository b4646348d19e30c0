"""The campaign runners: tasks of the engine that send the running SMS campaigns, and
call those of call and voice campaigns (dialer.py, voice.py) through whatever telephony
the engine has (its SIP gateway, or the demo's simulator).

It looks for running campaigns every half second, so a launch, pause or resume
made from the CLI takes effect within a second; a busy campaign is sent batch
after batch without waiting. Campaigns running side by side take turns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine

from ringtui.config import SmsSettings
from ringtui.engine.campaigns import call_store, store

if TYPE_CHECKING:
    from ringtui.engine.runtime import EngineRuntime

log = logging.getLogger("ringtui.engine.campaigns")

POLL_S = 0.5
PROGRESS_EVERY_S = 1.0  # an SMS campaign's figures go to the feed at most this often (and at its end)


class CarrierAdapter(Protocol):
    name: str
    acknowledged_only: bool

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def send(self, campaign: store.SmsCampaign) -> int: ...


def adapter_for(database: Engine, settings: SmsSettings) -> CarrierAdapter:
    if settings.adapter == "smpp":
        from ringtui.engine.campaigns.smpp import SmppAdapter

        return SmppAdapter(database, settings)
    from ringtui.engine.campaigns.outbox import OutboxAdapter

    return OutboxAdapter(database, settings)


class SmsCampaignRunner:
    def __init__(self, database: Engine, adapter: CarrierAdapter,
                 on_progress: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.database = database
        self.adapter = adapter
        self.on_progress = on_progress
        self.sent = 0
        self._shown: dict[int, float] = {}  # campaign id -> loop time of its last progress event

    async def step(self) -> int:
        """One turn over the running campaigns; how many SMS went out."""
        sent = 0
        for campaign in await asyncio.to_thread(store.running_sms_campaigns, self.database):
            count = await self.adapter.send(campaign)
            if count:
                await self._progress(campaign, count)
            sent += count
        self.sent += sent
        return sent

    async def _progress(self, campaign: store.SmsCampaign, count: int) -> None:
        now = asyncio.get_running_loop().time()
        if self.on_progress is None or now - self._shown.get(campaign.id, -1e9) < PROGRESS_EVERY_S:
            return
        self._shown[campaign.id] = now
        figures = await asyncio.to_thread(call_store.progress, self.database, campaign.id)
        self.on_progress({"type": "campaign_progress", "campaign": campaign.name, "kind": "sms", **figures,
                          "sent": count})

    async def run(self) -> None:
        await asyncio.to_thread(store.reconcile, self.database,
                                acknowledged_only=self.adapter.acknowledged_only)
        await self.adapter.start()
        try:
            while True:
                try:
                    busy = await self.step()
                except Exception:
                    log.exception("campaign runner step failed")
                    busy = 0
                await asyncio.sleep(0 if busy else POLL_S)
        finally:
            await self.adapter.close()


def campaign_task(database: Engine, settings: SmsSettings,
                  on_progress: Callable[[dict[str, Any]], None] | None = None
                  ) -> Callable[[], Awaitable[None]]:
    """The runner as an extra task of the engine runtime."""

    async def run() -> None:
        try:
            await SmsCampaignRunner(database, adapter_for(database, settings), on_progress).run()
        except Exception:  # the engine goes on with its calls; say why campaigns stopped
            log.exception("the SMS campaign runner stopped; campaigns are not sent until the engine restarts")
            raise

    return run


def call_campaigns_task(runtime: EngineRuntime) -> Callable[[], Awaitable[None]]:
    """The power dialer and the voice runner, once the engine has a telephony (`campaign_telephony`,
    set by the SIP gateway or the demo's simulator); numbers a killed engine left in progress are
    settled first (call_store.reconcile)."""

    async def run() -> None:
        from ringtui.engine.campaigns.dialer import PowerDialer
        from ringtui.engine.campaigns.voice import VoiceRunner

        await asyncio.to_thread(call_store.reconcile, runtime.database)
        while runtime.campaign_telephony is None:
            await asyncio.sleep(POLL_S)
        telephony = runtime.campaign_telephony
        await asyncio.gather(PowerDialer(runtime, telephony, runtime.feed.publish).run(),
                             VoiceRunner(runtime, telephony, runtime.feed.publish).run())

    return run
