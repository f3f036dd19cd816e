"""Runner benchmark: speed, client CPU, fault tolerance, the cache and kill/resume against the fake LLM server.

    .venv/bin/python bench/runner_bench.py [--rows 2000] [--latency 0.2] [--concurrency 32] [--offline-rows 100000]
                                           [--high-rows 10000] [--high-concurrency 256] [--high-latency 1.0]

The fake server runs in a SEPARATE process (this script with --serve), so its CPU is not counted as the
runner's; the script talks to it over stdin/stdout to script faults and read its request counter.
Prints one line per target with PASS/FAIL and exits 0: it measures, it is not a test. The peers are bare
openai SDK loops that store nothing, once with a plain request and once with the options the runner sends
(json_schema response format, log-probabilities), measured in the same run as the runner.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


# -- the server process ---------------------------------------------------------------------------------
def serve(latency: float) -> None:
    """Run a FakeLLMServer; print its URL, then answer commands from stdin until it closes."""
    from fake_llm import FakeLLMServer

    server = FakeLLMServer(seed=7, latency=latency).start()
    print(server.url, flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        if command == "count":
            print(server.count, flush=True)
        elif command == "faults":
            server.fail_rate(429, float(args[0]), retry_after=None)
            server.fail_rate(500, float(args[1]))
            print("ok", flush=True)
        elif command == "reset":
            server.reset()
            print("ok", flush=True)
        elif command == "latency":
            server.latency = float(args[0])
            print("ok", flush=True)
    server.stop()


class ServerProcess:
    def __init__(self, latency: float):
        self.process = subprocess.Popen([sys.executable, __file__, "--serve", "--latency", str(latency)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.url = self.process.stdout.readline().strip()

    def ask(self, command: str) -> str:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    @property
    def count(self) -> int:
        return int(self.ask("count"))

    def env(self) -> dict[str, str]:
        return {"OPENAI_BASE_URL": f"{self.url}/v1", "OPENAI_API_KEY": "sk-fake-openai-key"}

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(10)


# -- scenarios ------------------------------------------------------------------------------------------
def report(name: str, ok: bool, detail: str) -> bool:
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)
    return ok


async def bare_sdk_loop(url: str, rows: int, concurrency: int, *, same_options: bool, aiohttp: bool = False) -> float:
    """The peer: the openai SDK in a plain asyncio loop with a semaphore, parsing and storing nothing.

    `same_options` sends what the runner sends for llm_spec() (strict json_schema reply, log-probabilities,
    temperature and max tokens); otherwise a bare request with the model and the message only. `aiohttp`
    gives the SDK client its aiohttp transport (`openai.DefaultAioHttpClient`) instead of the default.
    """
    import openai

    from judge.providers.openai_provider import RESPONSE_FORMAT, TOP_LOGPROBS

    client = openai.AsyncOpenAI(api_key="sk-fake", base_url=f"{url}/v1", max_retries=0,
                                **({"http_client": openai.DefaultAioHttpClient()} if aiohttp else {}))
    gate = asyncio.Semaphore(concurrency)
    options = dict(response_format=RESPONSE_FORMAT, logprobs=True, top_logprobs=TOP_LOGPROBS, temperature=0,
                   max_completion_tokens=200) if same_options else {}

    async def one(i: int) -> None:
        async with gate:
            await client.chat.completions.create(
                model="gpt-test", messages=[{"role": "user", "content": f"Question {i}: output {{output}}"}],
                **options)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(rows)))
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


def measured(function, *args, **kwargs) -> tuple[float, float, object]:
    """(wall seconds, process CPU seconds, result) of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def offline_figures(tmp: Path, rows: int) -> None:
    """A first and an identical cached run of the built-in reference_rouge judge over `rows` rows, in-process."""
    from judge.runner import execute_run, start_run
    from judge.specs import load_spec
    from judge.store import Store
    from runner_helpers import make_dataset

    store = Store(tmp / "offline.duckdb")
    make_dataset(store, tmp, rows, name="offline")
    spec = load_spec(store, "reference_rouge")
    walls = []
    for label in ("first run", "identical re-run (cache)"):
        run_id = start_run(store, dataset="offline", spec=spec)
        wall, cpu, summary = measured(execute_run, store, run_id)
        walls.append(wall)
        report(f"offline reference_rouge, {rows:,} rows, {label}", summary.done == rows,
               f"{wall:.2f} s ({rows / wall:,.0f} rows/s), {cpu:.2f} s CPU, {summary.cached:,} from the cache")
    report("offline cached re-run faster than the first", walls[1] < walls[0],
           f"{walls[1] / walls[0]:.2f} x the first run's time")


class FirstCallClock:
    """Wraps the run's provider, unchanged, to note when the first request goes out."""

    def __init__(self, provider):
        self.provider, self.name, self.model = provider, provider.name, provider.model
        self.first_call: float | None = None

    async def complete(self, request):
        if self.first_call is None:
            self.first_call = time.perf_counter()
        return await self.provider.complete(request)

    async def aclose(self) -> None:
        await self.provider.aclose()


class LatencyOnlyProvider:
    """A Provider that waits the server's latency and answers at once: the runner's cost without an SDK."""

    name, model = "latency-only", "latency-only"

    def __init__(self, latency: float):
        self.latency = latency

    async def complete(self, request):
        from judge.providers.base import Completion

        await asyncio.sleep(self.latency)
        return Completion(text='{"reasoning": "Checked the sum step by step.", "score": 4}', model=self.model,
                          input_tokens=40, output_tokens=12, score_probs={3: 0.1, 4: 0.8, 5: 0.1})

    async def aclose(self) -> None:
        return None


def high_concurrency(server: ServerProcess, tmp: Path, rows: int, concurrency: int, latency: float) -> list[bool]:
    """Many slow calls at once (a team with high rate limits): the runner over aiohttp (its transport) and over
    the SDK's default transport, against bare SDK loops with each transport, all in this run."""
    from judge.providers import get_provider
    from judge.runner import execute_run, start_run
    from judge.store import Store
    from runner_helpers import llm_spec, make_dataset

    server.ask(f"latency {latency}")
    store = Store(tmp / "high.duckdb")
    make_dataset(store, tmp, rows, name="high")
    ideal = rows * latency / concurrency
    figures = {}
    for transport in ("aiohttp", "httpx"):
        os.environ["JUDGE_HTTP_TRANSPORT"] = transport
        spec = llm_spec(criteria=f"Is the sum right? ({transport})")
        run_id = start_run(store, dataset="high", spec=spec, concurrency=concurrency)
        clock = FirstCallClock(get_provider(spec.model))
        wall, cpu, summary = measured(execute_run, store, run_id, provider=clock)
        assert summary.done == rows and summary.failed == 0, summary.describe()
        figures[f"runner ({transport})"] = (time.perf_counter() - clock.first_call, cpu)
    os.environ.pop("JUDGE_HTTP_TRANSPORT")
    for transport, same in (("httpx", True), ("httpx", False), ("aiohttp", True)):
        wall, cpu, _ = measured(asyncio.run, bare_sdk_loop(server.url, rows, concurrency, same_options=same,
                                                           aiohttp=transport == "aiohttp"))
        figures[f"bare SDK loop ({transport}, {'same options' if same else 'plain request'})"] = (wall, cpu)
    server.ask("latency 0.2")
    text = "; ".join(f"{name} {span:.2f} s = {span / ideal:.3f} x ideal, {cpu / rows * 1000:.2f} ms CPU/row"
                     for name, (span, cpu) in figures.items())
    span, cpu = figures["runner (aiohttp)"]
    peer_cpu = figures["bare SDK loop (httpx, same options)"][1]
    plain_cpu = figures["bare SDK loop (httpx, plain request)"][1]
    print(f"       {rows:,} rows, concurrency {concurrency}, replies after {latency:g} s (ideal {ideal:.2f} s): {text}")
    return [report(f"high concurrency: span ({rows:,} rows, c={concurrency})", span <= 1.10 * ideal,
                   f"{span / ideal:.3f} x ideal (target <= 1.10)"),
            report("high concurrency: client CPU per row", cpu <= 0.5 * peer_cpu,
                   f"{cpu / rows * 1000:.2f} ms = {cpu / peer_cpu:.2f} x the bare SDK loop with the default "
                   f"transport sending the same request ({peer_cpu / rows * 1000:.2f} ms; target <= 0.5 x); "
                   f"{cpu / plain_cpu:.2f} x the plain-request loop, whose reply has no log-probabilities")]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--offline-rows", type=int, default=0,
                        help="also time an offline judge (reference_rouge) over this many rows, first and cached")
    parser.add_argument("--high-rows", type=int, default=10_000,
                        help="rows of the high-concurrency case (0 skips it)")
    parser.add_argument("--high-concurrency", type=int, default=256)
    parser.add_argument("--high-latency", type=float, default=1.0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.latency)
        return 0

    from judge.providers import get_provider
    from judge.runner import RetryPolicy, execute_run, start_run
    from judge.store import Store
    from runner_helpers import llm_spec, make_dataset

    rows, concurrency = args.rows, args.concurrency
    ideal = rows * args.latency / concurrency
    print(f"load average (1, 5, 15 min) at the start: {', '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"{os.cpu_count()} CPUs", flush=True)
    server = ServerProcess(args.latency)
    os.environ.update(server.env())
    tmp = Path(tempfile.mkdtemp(prefix="runner-bench-"))
    results = []
    try:
        store = Store(tmp / "bench.duckdb")
        make_dataset(store, tmp, rows)
        spec = llm_spec()

        # 1. Speed and CPU: first request to last verdict stored, process CPU net of start-up; the peers right after.
        run_id = start_run(store, dataset="sums", spec=spec, concurrency=concurrency)
        clock = FirstCallClock(get_provider(spec.model))
        wall, cpu, summary = measured(execute_run, store, run_id, provider=clock)
        from_first_call = time.perf_counter() - clock.first_call
        peers = {same: measured(asyncio.run, bare_sdk_loop(server.url, rows, concurrency, same_options=same))
                 for same in (True, False)}
        peer_text = "; ".join(
            f"bare SDK loop{' (same options)' if same else ' (plain request)'} {peer_wall:.2f} s = "
            f"{peer_wall / ideal:.3f} x ideal, runner/peer {wall / peer_wall:.3f}"
            for same, (peer_wall, _, _) in peers.items())
        results.append(report(
            "speed", from_first_call <= 1.10 * ideal,
            f"first request to run returned (last verdict stored) {from_first_call:.2f} s for {rows} rows at "
            f"concurrency {concurrency} = {from_first_call / ideal:.3f} x ideal ({ideal:.2f} s; target <= 1.10); "
            f"the whole execute_run call {wall:.2f} s = {wall / ideal:.3f} x; {peer_text}"))
        peer_cpu = "; ".join(f"bare SDK loop{' (same options)' if same else ' (plain request)'} "
                             f"{peer_cpu / rows * 1000:.2f} ms" for same, (_, peer_cpu, _) in peers.items())
        results.append(report(
            "client CPU", cpu / rows * 1000 <= 3.0,
            f"{cpu / rows * 1000:.2f} ms per judged row ({cpu:.2f} s CPU, parse and store included; target <= 3); "
            f"{peer_cpu} per row, storing nothing"))
        assert summary.done == rows and summary.failed == 0, summary.describe()

        # 1b. The runner's own share: the same run with a provider that only waits the latency (no SDK).
        waiting = start_run(store, dataset="sums", spec=llm_spec(criteria="Is the sum right? (no SDK)"),
                            concurrency=concurrency)
        wall, cpu, _ = measured(execute_run, store, waiting, provider=LatencyOnlyProvider(args.latency))
        report("runner alone (provider without SDK, for reference)", True,
               f"{wall:.2f} s = {wall / ideal:.3f} x ideal, {cpu / rows * 1000:.2f} ms CPU per row")

        # 2. An identical second run: every verdict from the cache, no request.
        before = server.count
        again = start_run(store, dataset="sums", spec=spec, concurrency=concurrency)
        wall = time.perf_counter()
        summary = execute_run(store, again)
        wall = time.perf_counter() - wall
        requests = server.count - before
        results.append(report("identical second run", requests == 0 and wall < 2.0 and summary.cached == rows,
                              f"{requests} requests, {wall:.2f} s, {summary.cached} verdicts from the cache"))

        # 3. Faults: 10% 429s and 5% 500s; every row ends with exactly one verdict.
        server.ask("faults 0.1 0.05")
        faulty = start_run(store, dataset="sums", spec=llm_spec(params={"temperature": 0, "max_tokens": 201}),
                           concurrency=concurrency)
        wall = time.perf_counter()
        summary = execute_run(store, faulty, retry=RetryPolicy(base_delay=0.2, max_delay=5.0))
        wall = time.perf_counter() - wall
        verdicts = store.verdicts(faulty)
        unique = verdicts[["item_uid", "sample"]].drop_duplicates()
        ok = len(verdicts) == rows and len(unique) == rows and summary.failed == 0
        results.append(report("faults (10% 429, 5% 500)", ok,
                              f"{len(verdicts)} verdicts for {rows} rows, {len(unique)} distinct, "
                              f"{summary.failed} failed, {summary.calls} calls, {wall:.1f} s"))
        server.ask("reset")

        # 4. SIGKILL `judge run` halfway, then resume: requests <= rows + concurrency.
        spec_file = tmp / "kill_spec.json"
        spec_file.write_text(llm_spec(name="kill_spec", params={"temperature": 0, "max_tokens": 202}).to_json())
        command = [sys.executable, "-m", "judge", "--db", str(store.path), "run", "--dataset", "sums",
                   "--judge", str(spec_file), "--concurrency", str(concurrency), "--yes"]
        child = subprocess.Popen(command, env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        while server.count < rows // 2:
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait()
        killed_run = store.runs()["id"].iloc[0]
        stored_at_kill = store.run_counts(killed_run)["done"]
        resumed = subprocess.run([sys.executable, "-m", "judge", "--db", str(store.path), "run", "--resume",
                                  killed_run, "--yes"], env={**os.environ}, capture_output=True, text=True)
        requests = server.count
        verdicts = store.verdicts(killed_run)
        ok = (resumed.returncode == 0 and requests <= rows + concurrency and len(verdicts) == rows
              and verdicts["error"].isna().all())
        results.append(report("SIGKILL halfway, then resume", ok,
                              f"{requests} requests for {rows} rows (limit {rows + concurrency}); "
                              f"{stored_at_kill} verdicts stored at the kill, {len(verdicts)} after the resume"))
        if args.high_rows:
            results += high_concurrency(server, tmp, args.high_rows, args.high_concurrency, args.high_latency)
        if args.offline_rows:
            offline_figures(tmp, args.offline_rows)
    finally:
        server.stop()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(json.dumps({"all_passed": all(results), "load_average_1_5_15_min": load}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
