"""Agent selection strategies (Asterisk app_queue / mod_callcenter vocabulary).

`preference` puts the reachable agents of a step in the order the strategy would ring
them; ring-all rings them all at once, every other strategy one at a time.
Longest-idle over many agents uses `IdleIndex` instead (a heap, O(log n) a decision).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Sequence

from ringtui.engine.core.agents import Agent
from ringtui.vocab import Strategy


class RoundRobinMemory:
    """Per step: the last agent rung, so the next call resumes after them."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], str] = {}

    def remember(self, step_key: tuple[str, str], email: str) -> None:
        self._last[step_key] = email

    def rotate(self, step_key: tuple[str, str], line: Sequence[str]) -> list[str]:
        """`line` (the step's agents in order) starting after the one rung last."""
        last = self._last.get(step_key)
        if last not in line:
            return list(line)
        cut = line.index(last) + 1
        return [*line[cut:], *line[:cut]]


def preference(strategy: Strategy, line: Sequence[str], agents: dict[str, Agent], *,
               step_key: tuple[str, str], memory: RoundRobinMemory, rng: random.Random,
               weights: dict[str, int] | None = None) -> list[str]:
    """The step's agents (`line`, in the step's order) in the order this strategy tries them."""
    orderers: dict[Strategy, Callable[[], list[str]]] = {
        Strategy.RING_ALL: lambda: list(line),
        Strategy.LINEAR: lambda: list(line),
        Strategy.LONGEST_IDLE: lambda: sorted(line, key=lambda e: agents[e].busy_idle_key()),
        Strategy.FEWEST_CALLS: lambda: sorted(line, key=lambda e: agents[e].calls_today),
        Strategy.LEAST_TALK_TIME: lambda: sorted(line, key=lambda e: agents[e].talk_today_s),
        Strategy.ROUND_ROBIN: lambda: memory.rotate(step_key, line),
        Strategy.RANDOM: lambda: rng.sample(list(line), len(line)),
        Strategy.WEIGHTED_RANDOM: lambda: weighted_order(line, agents, rng, weights or {}),
    }
    return orderers[strategy]()


def weighted_order(line: Sequence[str], agents: dict[str, Agent], rng: random.Random,
                   weights: dict[str, int]) -> list[str]:
    """Sampling without replacement, each draw proportional to weight (step weight, else agent's)."""
    pool = [(email, max(0, weights.get(email, agents[email].config.weight))) for email in line]
    order: list[str] = []
    while pool:
        total = sum(weight for _, weight in pool)
        if total == 0:
            order.extend(email for email, _ in pool)
            break
        order.append(pool.pop(_drawn(pool, rng.uniform(0, total)))[0])
    return order


def _drawn(pool: list[tuple[str, int]], draw: float) -> int:
    last_weighted = 0
    for index, (_, weight) in enumerate(pool):
        if weight > 0:
            last_weighted = index
            draw -= weight
            if draw <= 0:
                return index
    return last_weighted  # rounding left a crumb of the draw


class IdleIndex:
    """Reachable agents by idle time, for longest-idle over hundreds of agents.

    Entries are pushed when an agent may have become reachable and checked when popped
    (lazy deletion): an agent's latest entry is the only valid one.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, int, str]] = []
        self._version: dict[str, int] = {}

    def offer(self, agent: Agent) -> None:
        version = self._version.get(agent.email, 0) + 1
        self._version[agent.email] = version
        heapq.heappush(self._heap, (agent.idle_key(), agent.order, version, agent.email))
        if len(self._heap) > 4 * len(self._version) + 64:
            self._compact()

    def _compact(self) -> None:
        """Drop stale entries: agents re-offered after every call would otherwise pile them up."""
        self._heap = [entry for entry in self._heap if self._version.get(entry[3]) == entry[2]]
        heapq.heapify(self._heap)

    def forget(self, email: str) -> None:
        self._version[email] = self._version.get(email, 0) + 1

    def longest_idle(self, accept: Callable[[str], bool]) -> str | None:
        """The longest-idle agent that `accept`s; entries passed over go back on the heap."""
        heap, passed, found = self._heap, [], None
        while heap:
            entry = heapq.heappop(heap)
            if self._version.get(entry[3]) != entry[2]:
                continue  # stale
            if accept(entry[3]):
                found = entry
                break
            passed.append(entry)
        for entry in passed:
            heapq.heappush(heap, entry)
        if found is not None:
            heapq.heappush(heap, found)  # still valid until the agent's facts change
        return found[3] if found else None
