"""Voice-message campaigns (K3): each number is called from the campaign's number and hears the message.

Up to [campaigns] voice_channels calls at once, all campaigns together. Each
number is claimed with its call record opened in the same committed transaction,
before the INVITE; the record is closed and the result written when the call is
over (answered, no_answer, busy, invalid, failed; no answer and busy are tried
again while the campaign's attempts last). The message is encoded to PCMU once
per campaign.
"""

from __future__ import annotations

import asyncio
import logging
import wave
from typing import TYPE_CHECKING

from ringtui.engine.campaigns import call_store
from ringtui.engine.campaigns.call_store import CallCampaign, Claimed
from ringtui.engine.campaigns.dialer import Progress, Publish, poll
from ringtui.engine.campaigns.telephony import Outcome, Telephony
from ringtui.engine.sip.rtp import SAMPLE_RATE, pcmu
from ringtui.models.types import utcnow
from ringtui.vocab import CampaignKind, Direction, EndedBy, RecipientStatus

if TYPE_CHECKING:
    from ringtui.engine.runtime import EngineRuntime

log = logging.getLogger("ringtui.engine.campaigns")

ENDED_BY = {"customer": EndedBy.CUSTOMER, "agent": EndedBy.AGENT, "system": EndedBy.SYSTEM}


def message_of(path: str) -> bytes:
    """The campaign's converted WAV (8 kHz mono 16-bit) as PCMU."""
    with wave.open(path, "rb") as audio:
        if (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) != (SAMPLE_RATE, 1, 2):
            raise ValueError(f"{path} is not 8 kHz mono 16-bit (re-create the campaign)")
        return pcmu(audio.readframes(audio.getnframes()))


class VoiceRunner:
    def __init__(self, runtime: EngineRuntime, telephony: Telephony, publish: Publish) -> None:
        self.runtime = runtime
        self.database = runtime.database
        self.telephony = telephony
        self.progress = Progress(self.database, publish, CampaignKind.VOICE.value)
        self.channels = runtime.settings.campaigns.voice_channels
        self.calls: set[asyncio.Task[None]] = set()
        self.messages: dict[int, bytes] = {}
        self.unplayable: set[int] = set()

    async def run(self) -> None:
        await poll(self.step, "voice campaign", lambda: self.calls)

    async def step(self) -> int:
        """Start calls while channels are free; how many started."""
        started = 0
        running = await asyncio.to_thread(call_store.running_campaigns, self.database, CampaignKind.VOICE)
        for campaign in running:
            message = await self._message(campaign)
            while message is not None and len(self.calls) < self.channels:
                claimed = await asyncio.to_thread(call_store.claim, self.database, campaign,
                                                  record_from=campaign.from_number)
                if claimed is None:
                    break
                task = asyncio.create_task(self._call(campaign, claimed, message))
                self.calls.add(task)
                task.add_done_callback(self.calls.discard)
                started += 1
        return started

    async def _message(self, campaign: CallCampaign) -> bytes | None:
        if campaign.id not in self.messages and campaign.id not in self.unplayable:
            try:
                self.messages[campaign.id] = await asyncio.to_thread(message_of, campaign.audio_path)
            except (OSError, EOFError, ValueError, wave.Error) as error:
                self.unplayable.add(campaign.id)
                log.error("voice campaign %s cannot run: its message %r cannot be read (%s)", campaign.name,
                          campaign.audio_path, error)
        return self.messages.get(campaign.id)

    async def _call(self, campaign: CallCampaign, claimed: Claimed, message: bytes) -> None:
        started = utcnow()
        try:
            outcome = await self._place(campaign, claimed, message)
        except asyncio.CancelledError:
            raise  # the engine stops: settled at the next start
        except Exception as error:
            log.exception("voice campaign %s: the call to %s failed", campaign.name, claimed.number)
            outcome = Outcome(RecipientStatus.FAILED, f"engine error: {error}", ended_by="system")
        await asyncio.to_thread(call_store.close_record, self.database, claimed, started=started,
                                answered=outcome.answered_at, ended=utcnow(),
                                ended_by=ENDED_BY.get(outcome.ended_by, EndedBy.SYSTEM))
        await asyncio.to_thread(call_store.settle, self.database, campaign, claimed,
                                outcome.result or RecipientStatus.FAILED, outcome.detail)
        await self.progress.tell(campaign)

    async def _place(self, campaign: CallCampaign, claimed: Claimed, message: bytes) -> Outcome:
        # the list was checked at import; a number blacklisted OUT since then is not called
        if self.runtime.center.is_blocked(claimed.number, Direction.OUT):
            return Outcome(RecipientStatus.BLACKLISTED, f"{claimed.number} is blacklisted", ended_by="system")
        return await self.telephony.voice_call(claimed.number, campaign.from_number, message,
                                               self.runtime.settings.campaigns.ring_s)
