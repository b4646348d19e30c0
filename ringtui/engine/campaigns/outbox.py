"""The embedded carrier: an SMS is sent when it is written to the SMS logs (and, optionally, a file).

Claiming a recipient and recording its SMS as SENT is one transaction, so the
outbox sends every recipient exactly once across crashes. The optional file is
appended after the commit: a crash between the two can leave a line out, never
write one twice.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import Engine

from ringtui.config import SmsSettings
from ringtui.engine.campaigns import store
from ringtui.vocab import SmsStatus

BATCH = 1000


class OutboxAdapter:
    name = "outbox"
    acknowledged_only = False  # the record is the sending

    def __init__(self, database: Engine, settings: SmsSettings) -> None:
        self.database = database
        self.settings = settings
        self.file = Path(settings.outbox_file).expanduser() if settings.outbox_file else None

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(self, campaign: store.SmsCampaign) -> int:
        sent = await asyncio.to_thread(store.claim, self.database, campaign, self.settings, BATCH,
                                       SmsStatus.SENT)
        if sent and self.file is not None:
            await asyncio.to_thread(self._append, campaign, sent)
        return len(sent)

    def _append(self, campaign: store.SmsCampaign, sent: list[store.Outgoing]) -> None:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        with self.file.open("a", encoding="utf-8") as handle:
            for sms in sent:
                handle.write(json.dumps({"sms_id": sms.sms_id, "campaign": campaign.name, "to": sms.number,
                                         "from": campaign.sender, "text": campaign.message},
                                        ensure_ascii=False) + "\n")
