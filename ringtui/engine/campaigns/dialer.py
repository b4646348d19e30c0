"""The power dialer (K2): each free agent of a running call campaign is given the next number, in turn.

Every half second, for each running call campaign, each of its agents (named
or by group) who is FREE in the engine core gets the next due number: claimed
and committed (call_store.claim), then called through the telephony. The core
hears the call as the agent's outbound call (outbound_call ... outbound_answered
... agent_hung_up or caller_hung_up), so the agent is IN_CALL meanwhile (inbound
routing skips them), the call leaves its record with the campaign's tags, and the
agent's after-call work keeps them out of the next call until it is over.
An agent whose phone does not answer gives the number back (the attempt is not
counted) and is left alone for AGENT_PAUSE_S.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from ringtui.engine.campaigns import call_store
from ringtui.engine.campaigns.call_store import CallCampaign, Claimed
from ringtui.engine.campaigns.telephony import AGENT, Outcome, PowerCall, Telephony
from ringtui.engine.core.errors import CoreError
from ringtui.services.dialing import dialler
from ringtui.vocab import AgentState, CampaignKind, DialOrder, RecipientStatus

if TYPE_CHECKING:
    from ringtui.engine.runtime import EngineRuntime

log = logging.getLogger("ringtui.engine.campaigns")

POLL_S = 0.5
AGENT_PAUSE_S = 30.0

Publish = Callable[[dict[str, Any]], None]


class Progress:
    """The campaign_progress events of the live feed: figures read in a worker thread, published from the
    event loop one at a time, so the last event of a campaign always follows its last result."""

    def __init__(self, database: Any, publish: Publish, kind: str) -> None:
        self.database, self.publish, self.kind = database, publish, kind
        self.lock = asyncio.Lock()

    async def tell(self, campaign: CallCampaign) -> None:
        async with self.lock:
            figures = await asyncio.to_thread(call_store.progress, self.database, campaign.id)
            self.publish({"type": "campaign_progress", "campaign": campaign.name, "kind": self.kind,
                          **figures})


async def poll(step: Callable[[], Awaitable[Any]], what: str,
               calls: Callable[[], Iterable[asyncio.Task[None]]]) -> None:
    """Run `step` every POLL_S until cancelled (a failed step is logged, not fatal); then the calls
    in progress are cancelled, their numbers left in progress for the next start to settle."""
    try:
        while True:
            try:
                await step()
            except Exception:
                log.exception("%s step failed", what)
            await asyncio.sleep(POLL_S)
    finally:
        for task in list(calls()):
            task.cancel()


class PowerDialer:
    def __init__(self, runtime: EngineRuntime, telephony: Telephony, publish: Publish) -> None:
        self.runtime = runtime
        self.database = runtime.database
        self.telephony = telephony
        self.publish = publish
        self.progress = Progress(self.database, publish, CampaignKind.CALLS.value)
        self.calls: dict[str, asyncio.Task[None]] = {}  # agent e-mail -> the call they are on
        self.resting: dict[str, float] = {}  # agent e-mail -> loop time they may be called again

    async def run(self) -> None:
        await poll(self.step, "power dialer", lambda: self.calls.values())

    async def step(self) -> int:
        """Give each free agent of the running call campaigns a number; how many calls started."""
        started = 0
        running = await asyncio.to_thread(call_store.running_campaigns, self.database, CampaignKind.CALLS)
        for campaign in running:
            for email in await asyncio.to_thread(call_store.assignees, self.database, campaign.id):
                if not self._free(email):
                    continue
                user_id = await asyncio.to_thread(call_store.user_id_of, self.database, email)
                claimed = await asyncio.to_thread(call_store.claim, self.database, campaign, user_id=user_id)
                if claimed is None:
                    break  # nothing due in this campaign now
                self.calls[email] = asyncio.create_task(self._call(campaign, claimed, email))
                started += 1
        await asyncio.to_thread(call_store.link_records, self.database)
        return started

    def _free(self, email: str) -> bool:
        center = self.runtime.center
        if email in self.calls or email not in center.agents:
            return False
        if self.resting.get(email, 0.0) > asyncio.get_running_loop().time():
            return False
        return center.agent_state(email) == AgentState.FREE

    async def _call(self, campaign: CallCampaign, claimed: Claimed, email: str) -> None:
        shown = {"type": "campaign_call", "campaign": campaign.name, "agent": email, "number": claimed.number,
                 "columns": claimed.columns, "script": campaign.script, "state": "dialing_agent",
                 "result": None}
        try:
            outcome = await self._converse(campaign, claimed, email, shown)
            if outcome.result is None:
                self.resting[email] = asyncio.get_running_loop().time() + AGENT_PAUSE_S
                log.info("campaign %s: %s not reached (%s); %s is tried again later", campaign.name, email,
                         outcome.detail, claimed.number)
                await asyncio.to_thread(call_store.release, self.database, claimed, outcome.detail)
            else:
                shown["result"] = outcome.result.value
                await asyncio.to_thread(call_store.settle, self.database, campaign, claimed, outcome.result,
                                        outcome.detail)
        except asyncio.CancelledError:
            raise  # the engine stops: the number stays in progress, settled at the next start
        except Exception as error:
            log.exception("campaign %s: the call to %s failed", campaign.name, claimed.number)
            shown["result"] = RecipientStatus.FAILED.value
            await asyncio.to_thread(call_store.settle, self.database, campaign, claimed,
                                    RecipientStatus.FAILED, f"engine error: {error}")
        finally:
            self.calls.pop(email, None)
        self.publish({**shown, "state": "ended"})
        await self.progress.tell(campaign)

    async def _converse(self, campaign: CallCampaign, claimed: Claimed, email: str,
                        shown: dict[str, Any]) -> Outcome:
        center, call_id = self.runtime.center, claimed.call_id
        caller_id = await asyncio.to_thread(self._caller_id, email)
        self.runtime.apply(center.outbound_call(call_id, email, claimed.number, caller_id))
        if call_id not in center.calls:  # the OUT blacklist refused it
            return Outcome(RecipientStatus.BLACKLISTED, f"{claimed.number} is blacklisted", ended_by="system")
        if campaign.tags:
            self.runtime.apply(center.tag_call(call_id, campaign.tags))

        def report(state: str) -> None:
            shown["state"] = state
            self.publish(dict(shown))
            if state == "connected":
                self._core(lambda: center.outbound_answered(call_id))

        agent = center.agents[email].config
        call = PowerCall(agent=email, number=claimed.number, caller_id=caller_id,
                         customer_first=campaign.dial_order == DialOrder.CUSTOMER_FIRST.value,
                         agent_ring_s=agent.ring_s, customer_ring_s=self.runtime.settings.campaigns.ring_s)
        outcome = Outcome(RecipientStatus.FAILED, "the call was interrupted", ended_by="system")
        try:
            outcome = await self.telephony.power_call(call, report)
        finally:
            if call_id in center.calls:
                self._core(lambda: center.agent_hung_up(call_id, email) if outcome.ended_by == AGENT
                           else center.caller_hung_up(call_id))
        return outcome

    def _caller_id(self, email: str) -> str:
        with Session(self.database) as db:
            return dialler(db, email).caller_id or ""

    def _core(self, change: Callable[[], Any]) -> None:
        try:
            self.runtime.apply(change())
        except CoreError as error:
            log.info("campaign call event not taken by the engine: %s", error)
