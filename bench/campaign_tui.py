"""Benchmark: the Campaigns screen on a 100,000-number SMS campaign (headless Textual run_test).

Creates an SQLite database with an SMS campaign of N numbers (default 100,000) through the
CLI, then measures in one process: the CPU the list spends over S seconds (default 10) while
the feed brings `campaign_progress` events at R a second (default 200) in the engine's shape
with the counts, then opening the campaign's detail until its numbers table shows rows
(every number read, the first 400 handed to the table).

    .venv/bin/python bench/campaign_tui.py [--numbers N] [--seconds S] [--rate R]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def ringtui(db: str, *args: str) -> None:
    exe = Path(sys.executable).parent / "ringtui"
    subprocess.run([str(exe), "--db", db, *args], capture_output=True, text=True, check=True)


def seed(folder: Path, count: int) -> str:
    url = f"sqlite:///{folder / 'bench.db'}"
    ringtui(url, "init", "--company", "Bench", "--plan", "business", "--admin", "boss@bench.test",
            "--country", "FR")
    ringtui(url, "campaign", "sms", "request-access")
    ringtui(url, "campaign", "sms", "approve", "boss@bench.test")
    listing = folder / "list.txt"
    listing.write_text("".join(f"+336{i:08d}\n" for i in range(count)))
    ringtui(url, "campaign", "sms", "create", "Big", "--sender", "Bench", "--country", "FR",
            "--message", "Hi", "--recipients", str(listing))
    return url


async def measure(url: str, count: int, seconds: float, rate: int) -> None:
    from textual.app import App

    from ringtui.config import load_settings
    from ringtui.screens.campaigns import CampaignDetailScreen, CampaignsScreen
    from ringtui.screens.context import TuiContext
    from ringtui.screens.feed import LiveState

    feed = LiveState()
    context = TuiContext(settings=load_settings(database_url=url), feed=feed)

    class Bench(App[None]):
        def on_mount(self) -> None:
            self.push_screen(CampaignsScreen(context))

    app = Bench()
    async with app.run_test(size=(160, 48)) as pilot:
        while not (isinstance(app.screen, CampaignsScreen) and app.screen.table.row_count):
            await pilot.pause(0.01)
        cpu, wall = time.process_time(), time.perf_counter()
        done, step = 0, max(1, count // int(seconds * rate))
        while time.perf_counter() - wall < seconds:
            done = min(count, done + step)
            feed.apply({"type": "campaign_progress", "campaign": "Big", "kind": "sms", "status": "running",
                        "total": count, "done": done, "results": {"sent": done}})
            await asyncio.sleep(1 / rate)
        share = (time.process_time() - cpu) / (time.perf_counter() - wall)
        print(f"list under {rate} progress events/s for {seconds:g} s: {share:.0%} of a core "
              f"(row shows {app.screen.table.get_row('Big')[3]})")
        started = time.perf_counter()
        await pilot.press("enter")
        while not (isinstance(app.screen, CampaignDetailScreen)
                   and app.screen.query_one("#numbers").row_count):
            await pilot.pause(0.01)
        print(f"detail of {count:,} numbers shown: {time.perf_counter() - started:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = seed(Path(tmp), args.numbers)
        asyncio.run(measure(url, args.numbers, args.seconds, args.rate))


if __name__ == "__main__":
    main()
