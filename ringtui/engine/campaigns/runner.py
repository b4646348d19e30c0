"""The campaign runner: a task of the engine that sends the running SMS campaigns.

It looks for running campaigns every half second, so a launch, pause or resume
made from the CLI takes effect within a second; a busy campaign is sent batch
after batch without waiting. Campaigns running side by side take turns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from sqlalchemy import Engine

from ringtui.config import SmsSettings
from ringtui.engine.campaigns import store

log = logging.getLogger("ringtui.engine.campaigns")

POLL_S = 0.5


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

    async def step(self) -> int:
        """One turn over the running campaigns; how many SMS went out."""
        sent = 0
        for campaign in await asyncio.to_thread(store.running_sms_campaigns, self.database):
            count = await self.adapter.send(campaign)
            if count and self.on_progress is not None:
                self.on_progress({"type": "campaign_progress", "campaign": campaign.name, "sent": count})
            sent += count
        self.sent += sent
        return sent

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
