"""A call center on a fake clock, and a harness that keeps every action and event it produced."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

from ringtui.engine.core.actions import Action, RingAgent
from ringtui.engine.core.agents import AgentConfig
from ringtui.engine.core.center import CallCenter, Reaction
from ringtui.engine.core.clock import FakeClock
from ringtui.engine.core.events import CallEnded, CallSummary, Event
from ringtui.engine.core.scenario import Scenario, Step
from ringtui.vocab import Outcome, StepType

MONDAY_9 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
IVR_NUMBER = "+33100000001"
CALLER = "+33612345678"
ANN, BOB, CID = "ann@acme.test", "bob@acme.test", "cid@acme.test"


def step(name: str, type_: StepType | str, **fields: Any) -> Step:
    return Step(name=name, type=StepType(type_), **fields)


def ivr(*steps: Step, name: str = "sales", number: str = IVR_NUMBER, **settings: Any) -> Scenario:
    return Scenario(name=name, steps=steps, numbers=(number,), **settings)


class Harness:
    """Drives a CallCenter and remembers everything it said."""

    def __init__(self, center: CallCenter, clock: FakeClock) -> None:
        self.center, self.clock = center, clock
        self.actions: list[Action] = []
        self.events: list[Event] = []
        self._calls = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.center, name)

        def recorded(*args: Any, **kwargs: Any) -> Reaction:
            reaction = method(*args, **kwargs)
            if not isinstance(reaction, Reaction):
                return reaction
            self.actions += reaction.actions
            self.events += reaction.events
            return reaction
        return recorded

    def wait(self, seconds: float) -> Reaction:
        self.clock.advance(seconds)
        return self.advance()

    def call(self, from_number: str = CALLER, to_number: str = IVR_NUMBER, call_id: str | None = None
             ) -> tuple[str, Reaction]:
        self._calls += 1
        call_id = call_id or f"c{self._calls}"
        return call_id, self.call_arrived(call_id, from_number, to_number)

    def talk(self, call_id: str, email: str, seconds: float = 60) -> Reaction:
        """The agent answers, talks, hangs up."""
        self.agent_answered(call_id, email)
        self.clock.advance(seconds)
        return self.agent_hung_up(call_id, email)

    def summary(self, call_id: str) -> CallSummary:
        ended = [e.call for e in self.events if isinstance(e, CallEnded) and e.call.call_id == call_id]
        assert len(ended) == 1, f"{len(ended)} CallEnded for {call_id}"
        return ended[0]

    def outcomes(self, call_id: str) -> list[tuple[str, Outcome]]:
        return [(attempt.agent, attempt.outcome) for attempt in self.summary(call_id).attempts]

    def state(self, email: str) -> str:
        return self.center.agent_state(email).value


def rung(reaction: Reaction) -> list[str]:
    return [action.agent for action in reaction.of(RingAgent)]


def make_center(clock: FakeClock, agents: Iterable[AgentConfig | str] = (ANN, BOB, CID),
                scenarios: Iterable[Scenario] = (), connect: bool = True, seed: int = 7,
                **settings: Any) -> Harness:
    center = CallCenter(clock, rng=random.Random(seed), **settings)
    harness = Harness(center, clock)
    configs = [a if isinstance(a, AgentConfig) else AgentConfig(email=a, name=a.split("@")[0])
               for a in agents]
    harness.load_agents(configs)
    harness.load_scenarios(list(scenarios))
    if connect:
        for config in configs:
            harness.agent_connected(config.email, "sip")
    return harness


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_9)
