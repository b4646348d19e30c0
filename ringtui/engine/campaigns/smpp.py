"""A real carrier over SMPP 3.4 with aiosmpplib: submit_sm at the carrier's rate, receipts back.

Each SMS is recorded (QUEUED, recipient IN_PROGRESS) before it is submitted; the
submit_sm_resp makes it SENT with the carrier's message id, and the delivery
receipt (deliver_sm) DELIVERED or FAILED. Claims are half a second of traffic at
the carrier rate, and a claim waits until at most one earlier claim is still
unanswered: at most one second of traffic is in doubt if the engine dies, and
those SMS are never resent (store.reconcile).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiosmpplib import ESME, AbstractHook, DeliverSm, PhoneNumber, SmppCommandStatus, SubmitSm, SubmitSmResp
from aiosmpplib.broker import SimpleBroker
from aiosmpplib.log import StructuredLogger
from aiosmpplib.ratelimiter import SimpleRateLimiter
from aiosmpplib.state import NPI, TON, SmppSessionState
from sqlalchemy import Engine

from ringtui.config import SmsSettings
from ringtui.engine.campaigns import store
from ringtui.vocab import SmsStatus

log = logging.getLogger("ringtui.engine.campaigns.smpp")

ANSWER_TIMEOUT_S = 30.0
FLUSH_S = 0.2
UNBOUND_WARNING_S = 30.0
_RECEIPT_STATES = {"DELIVRD": SmsStatus.DELIVERED}  # every other final state is a failure


class _Hook(AbstractHook):
    def __init__(self, adapter: SmppAdapter) -> None:
        self.adapter = adapter

    async def sending(self, smpp_message: Any, pdu: bytes, client_id: str) -> None:
        return None

    async def received(self, smpp_message: Any, pdu: bytes, client_id: str) -> None:
        if isinstance(smpp_message, SubmitSmResp) and smpp_message.log_id:
            self.adapter.acknowledged(smpp_message)
        elif isinstance(smpp_message, DeliverSm) and smpp_message.is_receipt():
            await self.adapter.receipt(smpp_message)

    async def send_error(self, smpp_message: Any, error: Exception, client_id: str) -> None:
        if smpp_message.log_id:
            self.adapter.outcome(int(smpp_message.log_id), SmsStatus.FAILED, None, f"not sent: {error}")


class SmppAdapter:
    name = "smpp"
    acknowledged_only = True

    def __init__(self, database: Engine, settings: SmsSettings) -> None:
        self.database = database
        self.settings = settings
        self.rate = settings.carrier_rate
        self.batch = max(1, int(self.rate / 2)) if self.rate else 500
        self._outcomes: list[dict[str, Any]] = []
        self._waiting: set[int] = set()
        self._answered = asyncio.Event()
        self.esme: ESME | None = None
        self._task: asyncio.Task | None = None
        self._flusher: asyncio.Task | None = None
        self._warned_at = time.monotonic()  # the first warning after UNBOUND_WARNING_S

    async def start(self) -> None:
        logger = StructuredLogger("ringtui.smpp", level=logging.WARNING)
        self.esme = ESME(
            smsc_host=self.settings.smpp_host, smsc_port=self.settings.smpp_port,
            system_id=self.settings.smpp_system_id, password=self.settings.smpp_password,
            broker=SimpleBroker(maxsize=max(2500, self.batch * 2)), hook=_Hook(self),
            rate_limiter=SimpleRateLimiter(logger, send_rate=float(self.rate)) if self.rate else None,
            log_level=logging.WARNING, enquire_link_interval=30.0, socket_timeout=10.0)
        self._task = asyncio.create_task(self.esme.start())
        self._flusher = asyncio.create_task(self._flush_forever())

    async def close(self) -> None:
        await self._flush()
        if self.esme is not None:
            await self.esme.stop()
        for task in (self._task, self._flusher):
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in (self._task, self._flusher) if t), return_exceptions=True)

    # ------------------------------------------------------------ sending

    @property
    def bound(self) -> bool:
        return self.esme is not None and self.esme.session_state == SmppSessionState.BOUND_TRX

    async def send(self, campaign: store.SmsCampaign) -> int:
        if not self.bound:  # nothing is claimed while the carrier is out of reach
            if time.monotonic() - self._warned_at > UNBOUND_WARNING_S:
                self._warned_at = time.monotonic()
                log.warning("SMS campaign %s waits: no SMPP session with the carrier at %s:%s "
                            "(see [sms.smpp] in config.toml)", campaign.name, self.settings.smpp_host,
                            self.settings.smpp_port)
            return 0
        claimed = await asyncio.to_thread(store.claim, self.database, campaign, self.settings, self.batch,
                                          SmsStatus.QUEUED)
        if not claimed:
            return 0
        assert self.esme is not None
        self._waiting.update(sms.sms_id for sms in claimed)
        for sms in claimed:
            await self.esme.broker.enqueue(SubmitSm(
                short_message=campaign.message, source=_address(campaign.sender),
                destination=PhoneNumber(sms.number.lstrip("+"), TON.INTERNATIONAL, NPI.ISDN),
                registered_delivery=0b00000001, log_id=str(sms.sms_id), extra_data=campaign.name))
        await self._wait_for_answers(self.batch if len(claimed) == self.batch else 0)
        return len(claimed)

    async def _wait_for_answers(self, in_flight: int) -> None:
        """Until at most `in_flight` SMS await the carrier's answer (0: all answered)."""
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while len(self._waiting) > in_flight and time.monotonic() < deadline:
            self._answered.clear()
            try:
                await asyncio.wait_for(self._answered.wait(), timeout=1.0)
            except TimeoutError:
                continue
        if len(self._waiting) > in_flight:
            # the carrier may or may not have them: at most once, as after a crash (store.reconcile)
            log.warning("%d SMS submitted without an answer from the carrier after %ss; not resent",
                        len(self._waiting), ANSWER_TIMEOUT_S)
            for sms_id in list(self._waiting):
                self.outcome(sms_id, SmsStatus.FAILED, None,
                             f"no answer from the carrier within {ANSWER_TIMEOUT_S:g} s; not resent so "
                             "that nobody is texted twice")
        await self._flush()

    # ------------------------------------------------------------ answers

    def outcome(self, sms_id: int, status: SmsStatus, carrier_id: str | None, detail: str = "") -> None:
        self._outcomes.append({"sms_id": sms_id, "status": status.value, "carrier_id": carrier_id,
                               "detail": detail})
        if sms_id in self._waiting:
            self._waiting.discard(sms_id)
            self._answered.set()

    def acknowledged(self, response: SubmitSmResp) -> None:
        if response.command_status == SmppCommandStatus.ESME_ROK:
            self.outcome(int(response.log_id), SmsStatus.SENT, response.message_id)
        else:
            self.outcome(int(response.log_id), SmsStatus.FAILED, None,
                         f"refused by the carrier: {response.command_status.name}")

    async def receipt(self, deliver: DeliverSm) -> None:
        fields = deliver.parse_receipt()
        carrier_id = str(fields.get("id", ""))
        state = str(fields.get("stat", "")).upper()
        sms_id = int(deliver.log_id) if deliver.log_id else None
        if sms_id is None and carrier_id:  # sent before a restart: the carrier's id finds it
            sms_id = await asyncio.to_thread(store.sms_id_of_carrier, self.database, carrier_id)
        if sms_id is None:
            log.warning("delivery receipt for unknown message %r (%s)", carrier_id, state)
            return
        status = _RECEIPT_STATES.get(state, SmsStatus.FAILED)
        detail = ("" if status == SmsStatus.DELIVERED
                  else f"carrier receipt {state} err {fields.get('err', '')}")
        self.outcome(sms_id, status, carrier_id or None, detail)

    async def _flush(self) -> None:
        batch, self._outcomes = self._outcomes, []
        if batch:
            await asyncio.to_thread(store.record_outcomes, self.database, batch)

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            try:
                await self._flush()
            except Exception:
                log.exception("recording carrier answers failed")


def _address(sender: str) -> PhoneNumber:
    if sender.startswith("+") and sender[1:].isdigit():
        return PhoneNumber(sender[1:], TON.INTERNATIONAL, NPI.ISDN)
    return PhoneNumber(sender, TON.ALPHANUMERIC, NPI.UNKNOWN)
