"""SIP load: SIPp callers -> `ringtui engine run --sip` -> SIPp agents, at increasing call rates.

The engine runs as a process of its own (bench/sip/engine_probe.py: the `ringtui engine
run` command itself, plus a probe writing the gateway's counts once a second) on a
throw-away SQLite account: `--agents` agents in one group, registered with digest
authentication from the port a SIPp UAS (`-sn uas`) then answers on, and one number
whose IVR is a single ring step (longest-idle, 20 s). Every call is routed by the core,
rings one agent, is answered, hung up by the caller and recorded.

For each rate, a SIPp caller (`-sn uac`) places rate x `--seconds` calls; a rate passes
when every call succeeded. Reported per rate: calls, failures, set-up time (INVITE
to 200, SIPp's response time, per call with -trace_rtt) p50 and p99, and the CPU of
the process under test (percent of one core, from /proc). The ladder stops at the first
rate with a failure. In the same run, the same ladder against:

- the baseline: a bare aiovoip B2BUA (bench/sip/b2bua.py), INVITE relayed to the same UAS;
- the ceiling: Kamailio forwarding statelessly to the UAS (a minimal cfg, one worker).

    .venv/bin/python bench/sip_load.py [--seconds 60] [--rates 100,200,...] [--targets engine,b2bua,kamailio]
    .venv/bin/python bench/sip_load.py --soak 600 --rate 100     # memory, tasks, legs over 10 minutes
    .venv/bin/python bench/sip_load.py --soak 300 --rate 100 --tracemalloc   # ... and what grew
    .venv/bin/python bench/sip_load.py --profile --rate 200 --seconds 10   # cProfile of the engine's loop

The soak exits non-zero (SOAK FAILED: what grew) when RSS grows past its level after the first
third by more than 10 % + 8 MiB, when asyncio tasks rise, when any call leg, dialog, core call,
server transaction or unacknowledged 200 is left 40 s after the load, or when a call failed.

Only 127.0.0.1 and free ports are used; every process started is stopped by its PID.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HERE = Path(__file__).resolve().parent / "sip"
PYTHON = sys.executable
ADMIN = "boss@bench.test"
RATES = (100, 200, 300, 400, 500, 600, 800, 1000)
TARGET_RATE, TARGET_P99_MS, TARGET_RATIO = 400, 100.0, 0.6
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"


# ---------------------------------------------------------------- processes and /proc


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def family(pid: int) -> list[int]:
    """A process and its descendants (Kamailio forks its workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = [pid], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def cpu_seconds(pid: int) -> float:
    total = 0
    for member in family(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(path: Path, text: str, process: subprocess.Popen[Any], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        if process.poll() is not None:
            sys.exit(f"{process.args[:3]} ended: {path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)
    sys.exit(f"no {text!r} in {path} after {seconds} s")


# ---------------------------------------------------------------- the account


def build_account(workdir: Path, agents: int) -> tuple[Path, str, list[tuple[str, str]]]:
    """SQLite account: `agents` agents in Bench, IVR Load (one ring step), one number; its path,
    the number and the agents' SIP credentials."""
    from ringtui.config import Settings
    from ringtui.db import dispose_engines
    from ringtui.services import groups, ivrs, numbers, user_import, users
    from ringtui.services.base import operation
    from ringtui.services.setup import init_account

    database = workdir / "bench.db"
    settings = Settings(database_url=f"sqlite:///{database}")
    init_account(settings, company="Bench", plan="advanced", admin_email=ADMIN, country="FR")
    people = workdir / "agents.csv"
    with people.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "first_name", "last_name", "role", "groups"])
        writer.writerows([f"agent.{i:03d}@bench.test", f"Agent{i}", "Bench", "none", "Bench"]
                         for i in range(agents))
    scenario = workdir / "ivr.toml"
    scenario.write_text('[[ivr]]\nname = "Load"\n\n[[ivr.step]]\nname = "agents"\ntype = "ring"\n'
                        'groups = ["Bench"]\nstrategy = "longest-idle"\nring_s = 20\n', encoding="utf-8")
    with operation(settings) as op:
        groups.create_group(op, "Bench")
        offer = numbers.search(op, "FR", "mobile", limit=1)[0]
        numbers.add_number(op, offer["number"])
    with operation(settings) as op:
        user_import.import_users(op, people, skip_invalid=False)
        ivrs.apply_file(op, scenario)
        assigned = numbers.assign(op, offer["number"], ivr="Load")
        credentials = [users.sip_credentials(op, f"agent.{i:03d}@bench.test") for i in range(agents)]
    dispose_engines()
    return database, str(assigned["number"]), [(c["username"], c["password"]) for c in credentials]


def recorded(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        calls, answered = connection.execute(
            "select count(*), sum(type = 'answered') from call_record").fetchone()
        ring = connection.execute("select count(*) from ring_attempt").fetchone()[0]
        outcomes = dict(connection.execute("select outcome, count(*) from ring_attempt group by outcome"))
    return {"call_records": calls, "answered": answered or 0, "ring_attempts": ring, "outcomes": outcomes}


# ---------------------------------------------------------------- the peers


def sipp(*args: str, cwd: Path, wait: bool = True, timeout: float = 600) -> subprocess.Popen[Any]:
    cwd.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(["sipp", *args, "-i", "127.0.0.1", "-nostdin"], cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if wait:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop(process)
    return process


def register(engine_port: int, port: int, credentials: list[tuple[str, str]]) -> None:
    """Each agent registers with digest authentication (401, then 200) from `port`, where the answering
    SIPp listens afterwards: the engine sends INVITEs to a binding's source address, as to a phone
    behind NAT. (SIPp 3.6 cannot take a digest password from an -inf file, hence Python.)"""
    from ringtui.engine.sip.digest import digest_response

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
        phone.bind(("127.0.0.1", port))
        phone.settimeout(5)
        def send(n: int, user: str, cseq: int, authorization: str = "") -> str:
            lines = [f"REGISTER sip:127.0.0.1:{engine_port} SIP/2.0",
                     f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKreg{n}x{cseq};rport",
                     f"From: <sip:{user}@127.0.0.1>;tag=reg{n}", f"To: <sip:{user}@127.0.0.1>",
                     f"Call-ID: bench-register-{n}", f"CSeq: {cseq} REGISTER",
                     f"Contact: <sip:{user}@127.0.0.1:{port}>", "User-Agent: SIPp bench agent",
                     "Expires: 3600", *([f"Authorization: {authorization}"] if authorization else [])]
            phone.sendto(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode(),
                         ("127.0.0.1", engine_port))
            return phone.recv(65535).decode()

        for n, (user, password) in enumerate(credentials):
            challenge = send(n, user, 1)
            nonce = challenge.split('nonce="', 1)[1].split('"', 1)[0]
            realm = challenge.split('realm="', 1)[1].split('"', 1)[0]
            uri = f"sip:127.0.0.1:{engine_port}"
            response = digest_response(algorithm="MD5", username=user, realm=realm, password=password,
                                       method="REGISTER", uri=uri, nonce=nonce, qop="auth", nc="00000001",
                                       cnonce="bench")
            digest = (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
                      f'response="{response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="bench"')
            answer = send(n, user, 2, digest)
            if not answer.startswith("SIP/2.0 200"):
                sys.exit(f"agent {user} did not register: {answer.splitlines()[0]}")


class Engine:
    """`ringtui engine run --sip` (through the probe) on the bench account, agents registered."""

    def __init__(self, workdir: Path, database: Path, credentials: list[tuple[str, str]],
                 uas_port: int, *, tracemalloc: bool = False, cprofile: Path | None = None) -> None:
        self.workdir, self.database, self.port = workdir, database, free_udp_port()
        config = workdir / "config.toml"
        # the callers and the agents all come from 127.0.0.1: limits far above the load, so the
        # edge's bookkeeping is measured but nothing is dropped
        config.write_text("[sip]\nrequests_per_s = 1000000\nburst = 1000000\n", encoding="utf-8")
        self.probe, self.log = workdir / "probe.jsonl", workdir / "engine.log"
        env = {**os.environ, "RINGTUI_DATABASE_URL": f"sqlite:///{database}", "RINGTUI_CONFIG": str(config),
               "RINGTUI_ENGINE_TOKEN_FILE": str(workdir / "engine.token"),
               "RINGTUI_BENCH_PROBE": str(self.probe), "NO_COLOR": "1"}
        self.growth = workdir / "growth.txt"
        if tracemalloc:
            env["RINGTUI_BENCH_TRACEMALLOC"] = str(self.growth)
        if cprofile is not None:
            env["RINGTUI_BENCH_CPROFILE"] = str(cprofile)
        self.process = subprocess.Popen(
            [PYTHON, str(HERE / "engine_probe.py"), "engine", "run", "--ws", "127.0.0.1:0", "--sip",
             f"127.0.0.1:{self.port}"], env=env, stdout=subprocess.DEVNULL, stderr=self.log.open("w"))
        try:
            wait_for(self.log, "SIP registrar on", self.process)
            register(self.port, uas_port, credentials)
        except BaseException:  # sys.exit included: never leave the engine running
            self.close()
            raise

    def counts(self) -> dict[str, Any]:
        lines = self.probe.read_text().splitlines() if self.probe.exists() else []
        return json.loads(lines[-1]) if lines else {}

    def close(self) -> None:
        stop(self.process)


def start_b2bua(workdir: Path, uas_port: int) -> tuple[subprocess.Popen[Any], int]:
    port = free_udp_port()
    log = workdir / "b2bua.log"
    process = subprocess.Popen([PYTHON, str(HERE / "b2bua.py"), "--listen", f"127.0.0.1:{port}", "--agent",
                                f"127.0.0.1:{uas_port}"], stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        wait_for(log, "b2bua on", process)
    except BaseException:
        stop(process)
        raise
    return process, port


def start_kamailio(workdir: Path, uas_port: int) -> tuple[subprocess.Popen[Any], int]:
    port = free_udp_port()
    config = workdir / "kamailio.cfg"
    config.write_text(f"""#!KAMAILIO
debug=1
log_stderror=yes
children=1
listen=udp:127.0.0.1:{port}
auto_aliases=no
request_route {{ forward("127.0.0.1", {uas_port}); exit; }}
""", encoding="utf-8")
    log = workdir / "kamailio.log"
    process = subprocess.Popen([KAMAILIO, "-f", str(config), "-DD", "-E", "-m", "64", "-M", "8",
                                "-Y", str(workdir)], stdout=log.open("w"), stderr=subprocess.STDOUT)
    time.sleep(1.0)
    if process.poll() is not None:
        sys.exit(f"kamailio ended: {log.read_text()[-2000:]}")
    return process, port


# ---------------------------------------------------------------- one rate


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def callers(port: int, number: str, rate: int, seconds: float, cwd: Path,
            measured_pid: int) -> dict[str, Any]:
    """rate x seconds calls from a SIPp uac; what they did and the CPU the process under test used."""
    calls = int(rate * seconds)
    cpu_before, started = cpu_seconds(measured_pid), time.monotonic()
    done = sipp(f"127.0.0.1:{port}", "-sn", "uac", "-s", number, "-p", str(free_udp_port()), "-r", str(rate),
                "-m", str(calls), "-l", "20000", "-timeout", f"{int(seconds) + 40}s", "-timeout_error",
                "-recv_timeout", "10000", "-trace_stat", "-stf", "stats.csv", "-fd", "1",
                "-trace_rtt", "-rtt_freq", "1", "-trace_err", cwd=cwd, timeout=seconds + 60)
    wall = time.monotonic() - started
    cpu = cpu_seconds(measured_pid) - cpu_before
    with (cwd / "stats.csv").open(newline="") as stats:
        last = list(csv.DictReader(stats, delimiter=";"))[-1]
    rtts = []
    for path in cwd.glob("*_rtt.csv"):
        with path.open(newline="") as rows:
            rtts += [float(row["response_time_ms"]) for row in csv.DictReader(rows, delimiter=";")]
    successful, failed = int(last["SuccessfulCall(C)"]), int(last["FailedCall(C)"])
    if failed:
        print(failure_kinds(last) + sipp_errors(cwd), end="")
    unfinished = calls - successful - failed  # calls SIPp never completed count as failed
    return {"rate": rate, "calls": calls, "successful": successful, "failed": failed + unfinished,
            "exit": done.returncode, "p50_ms": percentile(rtts, 0.5), "p99_ms": percentile(rtts, 0.99),
            "cpu_pct": 100 * cpu / wall, "wall_s": wall}


def failure_kinds(stats: dict[str, str]) -> str:
    """SIPp's own count of why calls failed (its -trace_stat columns Failed...(C)), and retransmissions."""
    kinds = {name[6:-3]: value for name, value in stats.items() if name.startswith("Failed")
             and name.endswith("(C)") and name != "FailedCall(C)" and value != "0"}
    kinds["Retransmissions"] = stats.get("Retransmissions(C)", "?")
    return "    SIPp failures: " + ", ".join(f"{name} {value}" for name, value in kinds.items()) + "\n"


def sipp_errors(cwd: Path, shown: int = 6) -> str:
    """Why SIPp counted calls as failed: the kinds of error in its -trace_err log, and a few of them."""
    logged = "\n".join(path.read_text(errors="replace") for path in cwd.glob("*_errors.log"))
    lines = [line for line in logged.splitlines() if re.match(r"\d{4}-\d\d-\d\d\t", line)]
    kinds: dict[str, int] = {}
    for line in lines:
        kind = re.sub(r"'[^']*'", "'...'", line.split(": ", 1)[-1])[:100]  # call ids apart
        kinds[kind] = kinds.get(kind, 0) + 1
    top = sorted(kinds.items(), key=lambda item: -item[1])[:shown]
    return "".join(f"    SIPp: {count} x {kind}\n" for kind, count in top)


def ladder(name: str, port: int, number: str, rates: list[int], seconds: float, workdir: Path,
           measured_pid: int) -> list[dict[str, Any]]:
    results = []
    for rate in rates:
        result = callers(port, number, rate, seconds, workdir / f"{name}-{rate}", measured_pid)
        results.append(result)
        print(f"  {name:8} {rate:5}/s  {result['successful']:6} ok {result['failed']:5} failed  "
              f"p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:7.1f} ms  "
              f"CPU {result['cpu_pct']:5.1f} %", flush=True)
        time.sleep(2)  # the last calls end, transactions settle
        if result["failed"]:
            break
    return results


def best(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    passed = [r for r in results if not r["failed"]]
    return passed[-1] if passed else None


# ---------------------------------------------------------------- modes


def load(options: argparse.Namespace, workdir: Path) -> None:
    database, number, credentials = build_account(workdir, options.agents)
    uas_port = free_udp_port()
    engine = Engine(workdir, database, credentials, uas_port) if "engine" in options.targets else None
    uas = sipp("-sn", "uas", "-p", str(uas_port), cwd=workdir / "uas", wait=False)
    time.sleep(0.5)
    summary: dict[str, Any] = {}
    try:
        for name in options.targets:
            print(f"{name}:", flush=True)
            if name == "engine":
                assert engine is not None
                summary[name] = ladder(name, engine.port, number, options.rates, options.seconds, workdir,
                                       engine.process.pid)
                summary["engine_counts_after"] = engine.counts()
                engine.close()
                summary["recorded"] = recorded(database)
                continue
            process, port = (start_b2bua if name == "b2bua" else start_kamailio)(workdir, uas_port)
            try:
                summary[name] = ladder(name, port, "100", options.rates, options.seconds, workdir,
                                       process.pid)
            finally:
                stop(process)
    finally:
        if engine is not None:
            engine.close()
        stop(uas)
    report(summary, options)


def report(summary: dict[str, Any], options: argparse.Namespace) -> None:
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, {options.seconds:g} s per rate, "
          f"{options.agents} agents")
    print("| target | highest rate, 0 failed | p50 set-up | p99 set-up | CPU (one core) "
          "| first failing rate |")
    print("|---|---:|---:|---:|---:|---|")
    for name in options.targets:
        results = summary.get(name, [])
        top = best(results)
        failing = next((f"{r['rate']}/s ({r['failed']} of {r['calls']})" for r in results if r["failed"]),
                       "none up to " + str(options.rates[-1]) + "/s")
        if top is None:
            print(f"| {name} | none | | | | {failing} |")
        else:
            print(f"| {name} | {top['rate']}/s | {top['p50_ms']:.0f} ms | {top['p99_ms']:.0f} ms | "
                  f"{top['cpu_pct']:.0f} % | {failing} |")
    engine, baseline = best(summary.get("engine", [])), best(summary.get("b2bua", []))
    if engine and baseline:
        print(f"engine / bare B2BUA: {engine['rate'] / baseline['rate']:.2f} (target >= {TARGET_RATIO})")
    if "recorded" in summary:
        total = sum(r["successful"] for r in summary["engine"])
        print(f"engine calls succeeded {total}; recorded {summary['recorded']}")
        print(f"engine counts after the ladder: {summary.get('engine_counts_after')}")
    if engine:
        clean = [r for r in summary["engine"] if not r["failed"]]
        met = any(r["rate"] >= TARGET_RATE and r["p99_ms"] <= TARGET_P99_MS for r in clean)
        print(f"target >= {TARGET_RATE}/s with 0 failed and p99 <= {TARGET_P99_MS:.0f} ms: "
              f"{'met' if met else 'NOT met'}")


def soak(options: argparse.Namespace, workdir: Path) -> None:
    database, number, credentials = build_account(workdir, options.agents)
    uas_port = free_udp_port()
    engine = Engine(workdir, database, credentials, uas_port, tracemalloc=options.tracemalloc)
    uas = sipp("-sn", "uas", "-p", str(uas_port), cwd=workdir / "uas", wait=False)
    time.sleep(0.5)
    samples: list[tuple[float, float, dict[str, Any]]] = []
    try:
        caller = sipp(f"127.0.0.1:{engine.port}", "-sn", "uac", "-s", number, "-p", str(free_udp_port()),
                      "-r", str(options.rate), "-m", str(int(options.rate * options.soak)), "-l", "20000",
                      "-timeout", f"{int(options.soak) + 60}s", "-timeout_error", "-recv_timeout", "10000",
                      "-trace_stat", "-stf", "stats.csv", "-fd", "5", "-trace_err", cwd=workdir / "soak",
                      wait=False)
        started = time.monotonic()
        while caller.poll() is None:
            time.sleep(10)
            samples.append((time.monotonic() - started, rss_mib(engine.process.pid), engine.counts()))
            at, rss, counts = samples[-1]
            print(f"  {at:5.0f} s  RSS {rss:6.1f} MiB  tasks {counts.get('asyncio_tasks')}  "
                  f"transactions {counts.get('transactions')}  "
                  f"legs {counts.get('caller_legs')}+{counts.get('agent_legs')}  "
                  f"dialogs {counts.get('caller_dialogs')}  unacked {counts.get('unacked')}  "
                  f"core calls {counts.get('core_calls')}", flush=True)
        time.sleep(40)  # Timer J (32 s) lets the last transactions go
        settled = (time.monotonic() - started, rss_mib(engine.process.pid), engine.counts())
        with (workdir / "soak" / "stats.csv").open(newline="") as stats:
            last = list(csv.DictReader(stats, delimiter=";"))[-1]
    finally:
        engine.close()
        stop(uas)
    print(f"\nsoak {options.soak:g} s at {options.rate}/s: {last['SuccessfulCall(C)']} calls ok, "
          f"{last['FailedCall(C)']} failed; recorded {recorded(database)}")
    first = samples[min(2, len(samples) - 1)]
    for label, (at, rss, counts) in (("early", first), ("end of load", samples[-1]), ("settled", settled)):
        print(f"{label:12} {at:6.0f} s  RSS {rss:6.1f} MiB  {json.dumps(counts)}")
    if engine.growth.exists():
        print(f"\ntracemalloc, growth since the first minute:\n{engine.growth.read_text()}")
    if int(last["FailedCall(C)"]):
        print(failure_kinds(last) + sipp_errors(workdir / "soak"), end="")
    grew = soak_growth(samples, settled) + ([f"{last['FailedCall(C)']} calls failed"]
                                            if int(last["FailedCall(C)"]) else [])
    if grew:
        sys.exit("SOAK FAILED: " + "; ".join(grew))
    print("soak: flat (RSS, tasks, legs, transactions) and every call succeeded")


# what a call leaves in the engine while it is in progress: all of it must be gone once the load stops
PER_CALL = ("caller_legs", "caller_dialogs", "agent_legs", "rings", "core_calls", "endpoint_tasks")
RSS_SLACK = (1.10, 8.0)  # RSS at the end may exceed RSS after the warm-up by 10 % + 8 MiB


def soak_growth(samples: list[tuple[float, float, dict[str, Any]]],
                settled: tuple[float, float, dict[str, Any]]) -> list[str]:
    """What grew over the soak: RSS past the warm-up (the first third), asyncio tasks above their
    level at the start, and, once the load stopped and Timer J passed, any call leg, dialog, core
    call or server transaction left behind."""
    if len(samples) < 3:
        return ["too short a soak to judge (fewer than 3 samples)"]
    warm = samples[len(samples) // 3]
    end = samples[-1]
    problems = []
    factor, mib = RSS_SLACK
    if end[1] > warm[1] * factor + mib:
        problems.append(f"RSS grew {warm[1]:.1f} -> {end[1]:.1f} MiB from {warm[0]:.0f} s to {end[0]:.0f} s")
    tasks_then, tasks_after = samples[0][2].get("asyncio_tasks", 0), settled[2].get("asyncio_tasks", 0)
    if tasks_after > tasks_then:
        problems.append(f"asyncio tasks {tasks_then} at the start, {tasks_after} after the load")
    left = {name: settled[2].get(name, 0) for name in (*PER_CALL, "transactions", "unacked")}
    problems += [f"{count} {name} left after the load" for name, count in left.items() if count]
    return problems


def profile(options: argparse.Namespace, workdir: Path) -> None:
    """The engine's event loop under cProfile for one rate; the functions that cost most."""
    import pstats

    database, number, credentials = build_account(workdir, options.agents)
    uas_port = free_udp_port()
    output = Path(tempfile.gettempdir()) / f"ringtui_sip_profile_{options.rate}.pstats"
    engine = Engine(workdir, database, credentials, uas_port, cprofile=output)
    uas = sipp("-sn", "uas", "-p", str(uas_port), cwd=workdir / "uas", wait=False)
    try:
        time.sleep(1)
        print(callers(engine.port, number, options.rate, options.seconds, workdir / "profiled",
                      engine.process.pid))
    finally:
        engine.close()
        stop(uas)
    stats = pstats.Stats(str(output))
    for order in ("tottime", "cumulative"):
        stats.sort_stats(order).print_stats(30)
    print(f"profile in {output} (python -m pstats, snakeviz)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="seconds of calls per rate (the issue's 60 by default; 10 for a quick look)")
    parser.add_argument("--rates", type=lambda text: [int(r) for r in text.split(",")], default=list(RATES))
    parser.add_argument("--targets", type=lambda text: text.split(","),
                        default=["engine", "b2bua", "kamailio"])
    # 150: a short stall of a busy machine must not leave every agent busy (each new call would then
    # be refused 480 by the ring step, which measures the agent pool, not the engine)
    parser.add_argument("--agents", type=int, default=150)
    parser.add_argument("--soak", type=float,
                        help="soak for this many seconds at --rate instead of the ladder")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="soak: trace allocations in the engine (slower) and show what grew")
    parser.add_argument("--profile", action="store_true", help="cProfile the engine's event loop at --rate")
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    options = parser.parse_args()
    if shutil.which("sipp") is None:
        sys.exit("sipp is not on PATH (Debian package sip-tester)")
    workdir = Path(tempfile.mkdtemp(prefix="ringtui-sip-load-"))
    try:
        if options.soak:
            soak(options, workdir)
        elif options.profile:
            profile(options, workdir)
        else:
            load(options, workdir)
    finally:
        if options.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
