"""Routing decisions per second: 500 agents, 200 waiting calls, longest-idle, one core.

A decision is "which agent does the call at the head of the waiting list go to". Three
loops, each several runs, medians printed:

- baseline: a bare loop, the floor for Python: a heap of agents by idle time, a heap of
  calls by (VIP, arrival); pop both, push both back (the agent idle from now, the call
  at the back), nothing else.
- core decision: the same loop on the core's own structures and rules: the head of
  CallCenter's WaitingList, CallCenter's choice for that call's queue step (IdleIndex +
  each agent's reachability: connection, snooze, schedule, after-call work, channels),
  then the agent's idle time moves on and the call goes to the back.
- core end to end: real inputs through CallCenter.advance/agent_answered/agent_hung_up
  /call_arrived with every action and event built: an agent hangs up, the core rings the
  longest-idle free agent for the head call (the decision), the agent answers, a new call
  arrives so that 200 keep waiting. Reported as decisions/s and inputs/s.

    .venv/bin/python bench/routing_decisions.py [--runs 5] [--decisions 100000]
"""

from __future__ import annotations

import argparse
import heapq
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ringtui.engine.core.actions import RingAgent
from ringtui.engine.core.agents import AgentConfig
from ringtui.engine.core.center import CallCenter
from ringtui.engine.core.clock import FakeClock
from ringtui.engine.core.scenario import Scenario, Step
from ringtui.vocab import StepType, Strategy

AGENTS, WAITING, NUMBER = 500, 200, "+33100000001"
TARGET = 100_000


def baseline(decisions: int) -> float:
    rng = random.Random(1)
    agents = [(rng.random(), order, f"agent{order}") for order in range(AGENTS)]
    heapq.heapify(agents)
    calls = [(rng.random() < 0.1, arrival, f"c{arrival}") for arrival in range(WAITING)]
    heapq.heapify(calls)
    clock, arrival = 1.0, WAITING
    started = time.perf_counter()
    for _ in range(decisions):
        vip, _, call = heapq.heappop(calls)
        _, order, agent = heapq.heappop(agents)
        clock += 1.0
        heapq.heappush(agents, (clock, order, agent))
        arrival += 1
        heapq.heappush(calls, (vip, arrival, call))
    return decisions / (time.perf_counter() - started)


def loaded_center() -> tuple[CallCenter, FakeClock]:
    """500 connected agents in one longest-idle queue, each in a call, and 200 calls waiting."""
    clock = FakeClock()
    center = CallCenter(clock, rng=random.Random(1))
    emails = [f"agent{i}@bench.test" for i in range(AGENTS)]
    center.load_agents([AgentConfig(email=email, groups=("all",)) for email in emails])
    queue = Step(name="queue", type=StepType.QUEUE, groups=("all",), strategy=Strategy.LONGEST_IDLE,
                 ring_s=3600, max_wait_s=10**9)
    center.load_scenarios([Scenario(name="bench", steps=(queue,), numbers=(NUMBER,),
                                    vip_numbers=frozenset({"+33600000000"}))])
    for email in emails:
        center.agent_connected(email, "sip")
    for index, email in enumerate(emails):  # every agent takes a call, so the next 200 wait
        center.call_arrived(f"busy{index}", "+33611111111", NUMBER)
        center.agent_answered(f"busy{index}", email)
        clock.advance(0.01)
    for index in range(WAITING):
        caller = "+33600000000" if index % 10 == 0 else f"+3361{index:07d}"
        center.call_arrived(f"w{index}", caller, NUMBER)
    return center, clock


def core_decision(decisions: int) -> float:
    center, _ = loaded_center()
    agents = list(center.agents.values())
    for agent in agents:  # make them all free again without ringing anyone: the loop below decides
        agent.in_calls.clear()
        agent.last_call_end = None
        center._refresh(agent)
    waiting, step, idle_time = center.waiting, center.waiting.in_order()[0].step, 1.0
    arrival = 10**6
    started = time.perf_counter()
    for _ in range(decisions):
        call = waiting.in_order()[0]
        (email,) = center._choose(call, step)  # the decision, as dispatch makes it
        agent = center.agents[email]
        idle_time += 1.0
        # the agent's call is over: idle again, the most recently idle
        agent.last_call_end = datetime.fromtimestamp(idle_time, tz=UTC)
        center._refresh(agent)
        waiting.remove(call.call_id)
        arrival += 1
        call.arrival = arrival
        waiting.add(call)
    return decisions / (time.perf_counter() - started)


def core_end_to_end(decisions: int) -> tuple[float, float]:
    center, clock = loaded_center()
    talking = {call_id: next(iter(agent.in_calls)) for call_id, agent in
               ((agent.email, agent) for agent in center.agents.values())}
    order = list(talking)  # agents hang up in this rotating order
    inputs, made, next_call = 0, 0, 0
    started = time.perf_counter()
    while made < decisions:
        email = order[made % len(order)]
        clock.advance(0.001)
        reaction = center.agent_hung_up(talking[email], email)
        ring = [action for action in reaction.actions if isinstance(action, RingAgent)]
        assert len(ring) == 1 and ring[0].agent == email, ring
        center.agent_answered(ring[0].call_id, email)
        talking[email] = ring[0].call_id
        center.call_arrived(f"n{next_call}", f"+3362{next_call:07d}", NUMBER)
        next_call += 1
        inputs += 3
        made += 1
    elapsed = time.perf_counter() - started
    assert len(center.waiting) == WAITING
    return made / elapsed, inputs / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--decisions", type=int, default=100_000)
    args = parser.parse_args()
    figures: dict[str, list[float]] = {"baseline": [], "decision": [], "e2e": [], "e2e_inputs": []}
    for _ in range(args.runs):
        figures["baseline"].append(baseline(args.decisions))
        figures["decision"].append(core_decision(args.decisions))
        e2e, e2e_inputs = core_end_to_end(max(1, args.decisions // 50))
        figures["e2e"].append(e2e)
        figures["e2e_inputs"].append(e2e_inputs)
    median = {name: statistics.median(values) for name, values in figures.items()}
    print(f"Python {platform.python_version()} on {platform.machine()}, {AGENTS} agents, {WAITING} waiting "
          f"calls, longest-idle, median of {args.runs} runs\n")
    print("| loop | decisions/s | vs baseline |")
    print("|---|---:|---:|")
    print(f"| baseline: bare heaps | {median['baseline']:,.0f} | 1.00 |")
    print(f"| core decision (WaitingList + CallCenter._choose + IdleIndex) | {median['decision']:,.0f} | "
          f"{median['decision'] / median['baseline']:.2f} |")
    print(f"| core end to end (hang-up, ring, answer, arrival; {median['e2e_inputs']:,.0f} inputs/s) | "
          f"{median['e2e']:,.0f} | {median['e2e'] / median['baseline']:.2f} |")
    verdict = "meets" if median["decision"] >= TARGET else "misses"
    print(f"\ncore decision {verdict} the target of {TARGET:,} decisions/s")


if __name__ == "__main__":
    main()
