"""An engine stopping while the recorder writes a batch: the calls of that batch keep their own end."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text

from ringtui.config import load_settings
from ringtui.db import engine_for
from ringtui.engine.recorder import Recorder
from tests.engine.conftest import running_engine
from tests.engine.test_runtime import center_account  # noqa: F401 - a fixture

ANA = "ana@acme.test"


def test_a_call_ended_just_before_the_stop_is_not_recorded_as_ended_by_the_restart(
        center_account, db_url, monkeypatch):  # noqa: F811 - the fixture
    """The stop cancels the flush loop while it writes the call's end; the write must land before the
    engine closes the records still open (as ended by engine_restart)."""
    _, number = center_account
    write, slow = Recorder.write, asyncio.Event()

    def slow_write(recorder: Recorder, batch: list) -> int:
        if slow.is_set():
            time.sleep(1.0)  # a loaded database
        return write(recorder, batch)

    monkeypatch.setattr(Recorder, "write", slow_write)

    async def scenario() -> None:
        async with asyncio.timeout(10), running_engine(load_settings(database_url=db_url)) as (runtime, _):
            runtime.apply(runtime.center.agent_connected(ANA, "sip"))
            runtime.apply(runtime.center.call_arrived("call-1", "+34612345678", number))
            runtime.apply(runtime.center.agent_answered("call-1", ANA))
            await asyncio.sleep(1.0)  # its record is written, open
            slow.set()
            runtime.apply(runtime.center.caller_hung_up("call-1"))
            while runtime.recorder.pending:  # the flush loop took the end, and writes it slowly
                await asyncio.sleep(0.01)
            # leaving stops the engine while that batch is being written

    asyncio.run(scenario())
    with engine_for(db_url).connect() as connection:
        rows = connection.execute(text("SELECT type, ended_by FROM call_record")).all()
    assert [tuple(row) for row in rows] == [("answered", "customer")]
