"""Calls in progress and their ring attempts, as the core tracks them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ringtui.engine.core.events import AttemptSummary, TransferSummary
from ringtui.engine.core.scenario import Scenario, Step
from ringtui.vocab import CallKind, Direction, Outcome, TransferKind


class Phase(StrEnum):
    """Where a call is: what input it expects next."""

    ROUTING = "routing"  # between steps (transient)
    MENU = "menu"
    RINGING = "ringing"  # a ring step, or a direct line
    QUEUED = "queued"
    VOICEMAIL = "voicemail"
    FORWARDED = "forwarded"
    DIALING = "dialing"  # outbound, far end not answered yet
    CONNECTED = "connected"
    TRANSFERRING = "transferring"  # an agent handed the call on: the target (or the transferrer again) rings
    SURVEY = "survey"


@dataclass
class RingAttempt:
    agent: str
    started_at: datetime
    ended_at: datetime | None = None
    outcome: Outcome | None = None
    live: bool = False  # the agent's phone is ringing now
    timed_out: bool = False  # rang its full ring_s; settled NO_ANSWER or CALL_ANSWERED at the call's end

    def close(self, at: datetime, outcome: Outcome | None) -> None:
        self.live, self.ended_at, self.outcome = False, at, outcome

    def summary(self) -> AttemptSummary:
        assert self.ended_at is not None and self.outcome is not None
        return AttemptSummary(agent=self.agent, started_at=self.started_at, ended_at=self.ended_at,
                              outcome=self.outcome)


@dataclass
class Transfer:
    """One hand-on of a call by the agent connected to it (S6): to an agent, or to an external number."""

    at: datetime
    by: str  # the transferring agent's e-mail
    to_agent: str | None = None
    to_number: str | None = None
    kind: TransferKind = TransferKind.BLIND
    answered: bool = False
    recalling: bool = False  # the target did not take it: the transferrer's phone rings again

    def summary(self) -> TransferSummary:
        return TransferSummary(at=self.at, by=self.by, to_agent=self.to_agent, to_number=self.to_number,
                               kind=self.kind, answered=self.answered)


@dataclass
class Call:
    call_id: str
    direction: Direction
    kind: CallKind
    from_number: str
    to_number: str
    started_at: datetime
    arrival: int  # arrival order, for the waiting list
    scenario: Scenario | None = None  # kept for the call's life: a configuration reload does not change it
    vip: bool = False
    phase: Phase = Phase.ROUTING
    step: Step | None = None
    handled_by: str | None = None  # the last step entered that handles callers (not a survey): S6 redirection
    step_token: int = 0  # bumps on every step change: timers of an earlier step are void
    attempts: list[RingAttempt] = field(default_factory=list)
    tried: set[str] = field(default_factory=set)  # agents rung (or refused) in the current step
    hunt: list[str] = field(default_factory=list)  # agents still to try, in the strategy's order
    refusals: int = 0  # refusal attempts recorded in the current step
    agent: str | None = None  # connected agent
    first_agent: str | None = None  # the agent who answered first: the record's user after a transfer
    answered_at: datetime | None = None  # when the customer was first connected (an agent or a forward)
    connected_at: datetime | None = None  # when the current agent was connected
    talk_ended_at: datetime | None = None
    connected_step: str | None = None
    queued_at: datetime | None = None
    menu_seen: bool = False
    key_pressed: bool = False
    voicemail_started: bool = False
    forwarded_to: str | None = None
    recorded: bool = False
    survey_step: Step | None = None
    survey_rating: int | None = None
    tags: list[str] = field(default_factory=list)
    ended_by_agent: bool = False
    transfers: list[Transfer] = field(default_factory=list)

    @property
    def pending_transfer(self) -> Transfer | None:
        """The transfer whose target has not taken the call yet (phase TRANSFERRING)."""
        if self.phase == Phase.TRANSFERRING and self.transfers:
            return self.transfers[-1]
        return None

    def live_attempts(self) -> list[RingAttempt]:
        return [attempt for attempt in self.attempts if attempt.live]

    def live_attempt(self, email: str) -> RingAttempt | None:
        for attempt in reversed(self.attempts):
            if attempt.agent == email and attempt.live:
                return attempt
        return None

    def last_attempt(self, email: str) -> RingAttempt | None:
        for attempt in reversed(self.attempts):
            if attempt.agent == email:
                return attempt
        return None
