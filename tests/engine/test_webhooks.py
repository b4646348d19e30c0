"""The webhook dispatcher against real HTTP receivers on 127.0.0.1: signing, retries,
no retry on 4xx, a dead endpoint that does not hold up the others, queue overflow,
configuration picked up, and deliveries recorded in the database."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ringtui.config import load_settings
from ringtui.engine.core.events import CallAnswered, CallEnded, CallStarted, CallSummary
from ringtui.engine.webhooks import (
    CallEvents,
    DeliveryResult,
    WebhookDispatcher,
    WebhookTarget,
    dispatcher_for,
    sign,
    verify_signature,
)
from ringtui.vocab import CallKind, CallType, Direction, EndedBy
from tests.conftest import ok

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CALLER = "+34612345678"
LINE = "+33144951479"
SECRET = "s3cr3t" * 8


# ---------------------------------------------------------------- a real receiver


@dataclass
class Received:
    at: float  # time.monotonic() when the request arrived
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    signed: bool | None  # None when the receiver has no secret to check with

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """An HTTP server in a thread answering POSTs with `statuses` in turn (the last one repeats),
    or never answering at all (`hang`). With a `secret` it answers 401 to a bad signature."""

    def __init__(self, statuses: Sequence[int] = (200,), *, secret: str | None = None,
                 hang: bool = False) -> None:
        self.statuses = list(statuses)
        self.secret = secret
        self.hang = hang
        self.requests: list[Received] = []
        self._arrived = threading.Condition()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                signed = (None if receiver.secret is None else
                          verify_signature(receiver.secret, body, headers.get("x-ringtui-signature")))
                with receiver._arrived:
                    receiver.requests.append(Received(time.monotonic(), self.path, headers, body, signed))
                    count = len(receiver.requests)
                    receiver._arrived.notify_all()
                if receiver.hang:
                    receiver._stopping.wait(30)
                    self.close_connection = True
                    return
                status = 401 if signed is False else receiver.statuses[
                    min(count, len(receiver.statuses)) - 1]
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.requests) >= count, timeout)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(secret=SECRET) as running:
        yield running


# ---------------------------------------------------------------- helpers


def started(call_id: str, direction: Direction = Direction.IN) -> CallStarted:
    return CallStarted(at=T0, call_id=call_id, direction=direction, kind=CallKind.IVR,
                       from_number=CALLER, to_number=LINE, ivr="Standard")


def ended(call_id: str, type_: CallType) -> CallEnded:
    answered = type_ == CallType.ANSWERED
    summary = CallSummary(
        call_id=call_id, direction=Direction.IN, kind=CallKind.IVR, from_number=CALLER, to_number=LINE,
        started_at=T0, ended_at=T0 + timedelta(seconds=60), type=type_, ended_by=EndedBy.CUSTOMER,
        ivr="Standard", agent="ana@acme.test" if answered else None,
        answered_at=T0 + timedelta(seconds=10) if answered else None, wait_s=10, talk_s=50 if answered else 0)
    return CallEnded(at=T0 + timedelta(seconds=60), call=summary)


def target(receiver: Receiver, webhook_id: int = 1, events: tuple[str, ...] = ("all",),
           secret: str = SECRET) -> WebhookTarget:
    return WebhookTarget(id=webhook_id, url=receiver.url, events=events, secret=secret)


class Outcomes:
    """Collects what the dispatcher reports, from its worker thread."""

    def __init__(self) -> None:
        self.results: list[DeliveryResult] = []
        self._lock = threading.Lock()

    def __call__(self, result: DeliveryResult) -> None:
        with self._lock:
            self.results.append(result)

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[DeliveryResult]:
        deadline = time.monotonic() + timeout
        while len(self.results) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return list(self.results)


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 20))


def fast(targets: Any, outcomes: Outcomes | None = None, **options: Any) -> WebhookDispatcher:
    settings = {"backoff_s": 0.05, "timeout_s": 2.0, "refresh_s": 0.0, **options}
    return WebhookDispatcher(targets if callable(targets) else (lambda: targets), on_delivery=outcomes,
                             **settings)


# ---------------------------------------------------------------- signing and vocabulary


def test_signature_verifies_only_the_exact_body_with_the_right_secret():
    body = b'{"event":"missed_call"}'
    header = sign(SECRET, body)
    assert header.startswith("sha256=") and len(header) == len("sha256=") + 64
    assert verify_signature(SECRET, body, header)
    assert verify_signature(SECRET, body.decode(), header)
    assert not verify_signature("other", body, header)
    assert not verify_signature(SECRET, body + b" ", header)
    assert not verify_signature(SECRET, body, header.removeprefix("sha256="))
    assert not verify_signature(SECRET, body, None)


def test_core_events_become_the_public_vocabulary():
    calls = CallEvents()
    assert [e.name for e in calls.translate(started("c1"))] == ["incoming_call"]
    assert calls.translate(started("c2", Direction.OUT)) == []
    answered = calls.translate(CallAnswered(at=T0 + timedelta(seconds=10), call_id="c1",
                                            agent="ana@acme.test", wait_s=10.0))
    assert [e.name for e in answered] == ["call_answered"]
    assert answered[0].call["from_number"] == CALLER and answered[0].call["agent"] == "ana@acme.test"
    assert answered[0].call["ivr"] == "Standard" and answered[0].call["type"] is None
    assert [e.name for e in calls.translate(ended("c1", CallType.ANSWERED))] == ["call_ended"]
    assert [e.name for e in calls.translate(ended("c3", CallType.MISSED))] == ["missed_call", "call_ended"]
    assert [e.name for e in calls.translate(ended("c4", CallType.VOICEMAIL))] == ["voicemail", "call_ended"]
    voicemail = calls.translate(ended("c4", CallType.VOICEMAIL))[0].call
    assert (voicemail["type"], voicemail["talk_s"], voicemail["direction"]) == ("voicemail", 0, "in")


# ---------------------------------------------------------------- delivering


def test_signed_payload_reaches_a_real_receiver(receiver):
    outcomes = Outcomes()

    async def scenario() -> None:
        async with fast([target(receiver, events=("missed_call",))], outcomes) as dispatcher:
            dispatcher.submit(started("c1"))  # not subscribed: nothing sent
            dispatcher.submit(ended("c1", CallType.MISSED))
            await outcomes.wait_for(1)

    before = time.time()
    run(scenario())
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.signed is True
    body = request.json()
    assert body["event"] == "missed_call" and body["protocol"] == 1
    assert body["id"] == request.headers["x-ringtui-delivery"]
    assert body["at"] == "2026-11-02T09:01:00Z"
    assert {"call_id", "direction", "kind", "from_number", "to_number", "ivr", "agent", "wait_s", "talk_s",
            "type"} <= set(body["call"])
    assert (body["call"]["call_id"], body["call"]["type"], body["call"]["from_number"]) == (
        "c1", "missed", CALLER)
    assert request.headers["x-ringtui-event"] == "missed_call"
    assert request.headers["content-type"] == "application/json"
    assert before - 1 <= int(request.headers["x-ringtui-timestamp"]) <= time.time() + 1
    assert [(r.ok, r.status, r.attempts) for r in outcomes.results] == [(True, "200", 1)]


def test_a_wrong_secret_is_refused_by_the_receiver_and_not_retried(receiver):
    outcomes = Outcomes()

    async def send() -> None:
        async with fast([target(receiver, secret="not-the-secret")], outcomes) as dispatcher:
            dispatcher.submit(started("c1"))
            await outcomes.wait_for(1)

    run(send())
    assert [r.signed for r in receiver.requests] == [False]
    assert [(r.ok, r.status) for r in outcomes.results] == [(False, "401")]


def test_5xx_is_retried_with_exponential_backoff_then_delivered():
    outcomes = Outcomes()
    with Receiver((500, 500, 200)) as flaky:
        async def scenario() -> WebhookDispatcher:
            async with fast([target(flaky)], outcomes, backoff_s=0.1) as dispatcher:
                dispatcher.submit(started("c1"))
                await outcomes.wait_for(1)
            return dispatcher

        dispatcher = run(scenario())
    assert len(flaky.requests) == 3
    assert len({r.headers["x-ringtui-delivery"] for r in flaky.requests}) == 1  # one delivery, retried
    first_gap = flaky.requests[1].at - flaky.requests[0].at
    second_gap = flaky.requests[2].at - flaky.requests[1].at
    assert first_gap >= 0.09 and second_gap >= 0.19, (first_gap, second_gap)
    assert [(r.ok, r.status, r.attempts) for r in outcomes.results] == [(True, "200 (3 attempts)", 3)]
    assert (dispatcher.stats.retries, dispatcher.stats.delivered, dispatcher.stats.failed) == (2, 1, 0)


def test_attempts_are_bounded_on_a_receiver_that_keeps_failing():
    outcomes = Outcomes()
    with Receiver((503,)) as broken:
        async def scenario() -> None:
            async with fast([target(broken)], outcomes, backoff_s=0.01, max_attempts=3) as dispatcher:
                dispatcher.submit(started("c1"))
                await outcomes.wait_for(1)

        run(scenario())
    assert len(broken.requests) == 3
    assert [(r.ok, r.status, r.http_status) for r in outcomes.results] == [(False, "503 (3 attempts)", 503)]


def test_4xx_is_final():
    outcomes = Outcomes()
    with Receiver((404,)) as gone:
        async def scenario() -> WebhookDispatcher:
            async with fast([target(gone)], outcomes, backoff_s=0.01) as dispatcher:
                dispatcher.submit(started("c1"))
                await outcomes.wait_for(1)
                await asyncio.sleep(0.2)  # time enough for retries, were there any
            return dispatcher

        dispatcher = run(scenario())
    assert len(gone.requests) == 1
    assert [(r.ok, r.status, r.attempts) for r in outcomes.results] == [(False, "404", 1)]
    assert dispatcher.stats.retries == 0


def test_connection_refused_is_retried_then_reported():
    with Receiver() as closed:
        url = closed.url  # a port that was just free and is closed again below
    outcomes = Outcomes()

    async def scenario() -> None:
        dead = WebhookTarget(id=7, url=url, events=("all",), secret=SECRET)
        async with fast([dead], outcomes, backoff_s=0.01, max_attempts=2) as dispatcher:
            dispatcher.submit(started("c1"))
            await outcomes.wait_for(1)

    run(scenario())
    [result] = outcomes.results
    assert not result.ok and result.http_status is None and result.attempts == 2
    assert result.status.startswith("ConnectError") and result.status.endswith("(2 attempts)")


def test_a_hanging_endpoint_delays_neither_other_webhooks_nor_submit():
    outcomes = Outcomes()
    with Receiver(hang=True) as dead, Receiver() as healthy:
        async def scenario() -> tuple[float, float, float]:
            dispatcher = fast([target(dead, 1), target(healthy, 2)], outcomes, timeout_s=10.0)
            dispatcher.start()
            submitted = time.monotonic()
            dispatcher.submit(started("c1"))
            dispatcher.submit(started("c2"))
            submit_s = time.monotonic() - submitted
            assert await asyncio.to_thread(healthy.wait_for, 2, 5.0)
            delivered_s = time.monotonic() - submitted
            assert dead.wait_for(1, 1.0)  # the dead one has the first event and is still hanging
            assert [r.webhook_id for r in await outcomes.wait_for(2)] == [2, 2]
            closing = time.monotonic()
            await dispatcher.aclose(timeout_s=0.3)
            return submit_s, delivered_s, time.monotonic() - closing

        submit_s, delivered_s, close_s = run(scenario())
    assert submit_s < 0.5  # against a 10 s hang: submit() does not wait for any delivery
    assert delivered_s < 1.0, f"the healthy webhook waited {delivered_s:.2f} s behind the dead one"
    assert close_s < 2.0, f"aclose took {close_s:.2f} s with a delivery hanging"
    assert len(dead.requests) == 1  # the second event waits behind the first in the dead one's lane


def test_a_receiver_that_never_answers_times_out_and_is_reported():
    outcomes = Outcomes()
    with Receiver(hang=True) as dead:
        async def send() -> None:
            async with fast([target(dead)], outcomes, timeout_s=0.2, max_attempts=2,
                            backoff_s=0.01) as dispatcher:
                dispatcher.submit(started("c1"))
                await outcomes.wait_for(1)

        run(send())
    [result] = outcomes.results
    assert result.status == "ReadTimeout (2 attempts)" and not result.ok
    assert len(dead.requests) == 2


def test_overflow_drops_the_oldest_events_and_submit_never_blocks(receiver):
    outcomes = Outcomes()

    async def scenario() -> tuple[WebhookDispatcher, float]:
        dispatcher = fast([target(receiver)], outcomes, queue_size=5)
        dispatcher.start()
        slowest = 0.0
        for n in range(1000):  # no await: the router cannot take anything meanwhile
            begun = time.perf_counter()
            dispatcher.submit(started(f"c{n}"))
            slowest = max(slowest, time.perf_counter() - begun)
        await outcomes.wait_for(5)
        await dispatcher.aclose()
        return dispatcher, slowest

    dispatcher, slowest = run(scenario())
    assert slowest < 0.1, f"one submit() took {slowest * 1000:.1f} ms"  # i.e. it never waited
    assert (dispatcher.stats.submitted, dispatcher.stats.dropped) == (1000, 995)
    assert sorted(r.json()["call"]["call_id"] for r in receiver.requests) == sorted(
        f"c{n}" for n in range(995, 1000))


def test_a_full_lane_drops_its_oldest_delivery_and_counts_it():
    outcomes = Outcomes()
    with Receiver(hang=True) as dead:
        async def scenario() -> WebhookDispatcher:
            dispatcher = fast([target(dead, 3)], outcomes, lane_size=2, timeout_s=10.0)
            for n in range(6):
                dispatcher.submit(started(f"c{n}"))
            await asyncio.to_thread(dead.wait_for, 1, 5.0)
            await asyncio.sleep(0.1)
            await dispatcher.aclose(timeout_s=0.1)
            return dispatcher

        dispatcher = run(scenario())
    # c0 is on the wire; of c1..c5 the lane keeps the two newest
    assert dispatcher.stats.dropped == 3 and dispatcher.stats.dropped_by_webhook == {3: 3}


def test_submit_without_an_event_loop_or_after_close_drops_and_does_not_raise(receiver):
    dispatcher = fast([target(receiver)])
    dispatcher.submit(started("c1"))  # no running loop
    assert dispatcher.stats.dropped == 1

    async def scenario() -> None:
        dispatcher.start()
        await dispatcher.aclose()
        dispatcher.submit(started("c2"))

    run(scenario())
    assert dispatcher.stats.dropped == 2 and receiver.requests == []


def test_a_failing_webhook_source_or_recorder_does_not_stop_deliveries(receiver):
    calls = {"n": 0}

    def targets() -> list[WebhookTarget]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("database gone for a moment")
        return [target(receiver)]

    def on_delivery(result: DeliveryResult) -> None:
        raise RuntimeError("cannot record")

    async def scenario() -> None:
        async with WebhookDispatcher(targets, on_delivery=on_delivery, refresh_s=0.0) as dispatcher:
            for n in range(3):
                dispatcher.submit(started(f"c{n}"))
            await asyncio.to_thread(receiver.wait_for, 3, 5.0)

    run(scenario())
    assert [r.json()["call"]["call_id"] for r in receiver.requests] == ["c0", "c1", "c2"]


def test_added_and_removed_webhooks_are_picked_up_without_restart():
    outcomes = Outcomes()
    with Receiver() as first, Receiver() as second:
        configured = [target(first, 1)]

        async def scenario() -> None:
            async with fast(lambda: list(configured), outcomes) as dispatcher:
                dispatcher.submit(started("c1"))
                await outcomes.wait_for(1)
                configured[:] = [target(second, 2)]
                dispatcher.submit(started("c2"))
                await outcomes.wait_for(2)

        run(scenario())
    assert [r.json()["call"]["call_id"] for r in first.requests] == ["c1"]
    assert [r.json()["call"]["call_id"] for r in second.requests] == ["c2"]


def test_aclose_delivers_what_is_queued(receiver):
    async def scenario() -> None:
        dispatcher = fast([target(receiver)])
        for n in range(20):
            dispatcher.submit(started(f"c{n}"))
        await dispatcher.aclose(timeout_s=5.0)

    run(scenario())
    assert len(receiver.requests) == 20


# ---------------------------------------------------------------- with the database


def test_deliveries_reach_the_webhooks_of_the_database_and_are_recorded(account, db_url, receiver):
    from tests.commands.test_webhooks import webhooks_cli

    hooks = webhooks_cli(db_url)
    secret = ok(hooks("add", receiver.url, "--events", "missed_call,call_ended", "--json")).json()["secret"]
    receiver.secret = secret

    async def scenario() -> None:
        async with dispatcher_for(load_settings(database_url=db_url), refresh_s=0.0,
                                  backoff_s=0.01) as dispatcher:
            dispatcher.submit(started("c1"))
            dispatcher.submit(ended("c1", CallType.MISSED))
            await asyncio.to_thread(receiver.wait_for, 2, 5.0)
        # aclose waited for the deliveries and their records

    run(scenario())
    assert [r.headers["x-ringtui-event"] for r in receiver.requests] == ["missed_call", "call_ended"]
    assert all(r.signed for r in receiver.requests)
    [listed] = ok(hooks("list", "--json")).json()
    assert listed["last_status"] == "200" and listed["last_delivery_at"] is not None
