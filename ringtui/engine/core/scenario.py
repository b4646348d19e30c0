"""IVR scenarios as the core sees them: plain, immutable data (I1-I3).

services/scenarios.py validates what people type and turns stored IvrStep rows
into these objects; the core only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ringtui.vocab import AnonymousPolicy, SkipCondition, StepType, Strategy

# {"mon": (("09:00", "18:00"),), ...}; a day that is absent is closed
WeekHours = dict[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class Step:
    """One step. Fields a type does not use keep their defaults.

    announce:  text (or sound)
    menu:      text, choices {digit: step name}, timeout_s, default (step name when no key)
    ring:      agents (emails), groups (names), strategy, ring_s, weights {email: weight}
    queue:     as ring, plus max_wait_s and exit (step name when max_wait_s runs out)
    voicemail: text, mailbox (email of the user whose voicemail it is; None = the IVR's)
    forward:   number (E.164)
    survey:    text (the question), category
    """

    name: str
    type: StepType
    skip_if: frozenset[SkipCondition] = frozenset()
    text: str = ""
    sound: str | None = None
    choices: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 8.0
    default: str | None = None
    agents: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    strategy: Strategy = Strategy.RING_ALL
    ring_s: float = 20.0
    weights: dict[str, int] = field(default_factory=dict)
    max_wait_s: float = 300.0
    exit: str | None = None
    mailbox: str | None = None
    number: str | None = None
    category: str = ""


@dataclass(frozen=True)
class Scenario:
    """An IVR: its settings and ordered steps."""

    name: str
    steps: tuple[Step, ...]
    numbers: tuple[str, ...] = ()
    vip_numbers: frozenset[str] = frozenset()
    anonymous: AnonymousPolicy = AnonymousPolicy.ALLOW
    record: bool = False
    announce_recording: bool = False
    opening_hours: WeekHours | None = None
    closed_step: str | None = None

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def after(self, name: str) -> Step | None:
        """The step that follows `name` in the scenario, or None at the end."""
        names = [step.name for step in self.steps]
        index = names.index(name) + 1
        return self.steps[index] if index < len(self.steps) else None
