"""Runner benchmark: speed, client CPU, fault tolerance, the cache and kill/resume against the fake LLM server.

    .venv/bin/python bench/runner_bench.py [--rows 2000] [--latency 0.2] [--concurrency 32]

The fake server runs in a SEPARATE process (this script with --serve), so its CPU is not counted as the
runner's; the script talks to it over stdin/stdout to script faults and read its request counter.
Prints one line per target with PASS/FAIL.
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


async def bare_sdk_loop(url: str, rows: int, concurrency: int) -> float:
    """The peer: the openai SDK in a plain asyncio loop with a semaphore, parsing and storing nothing."""
    import openai

    client = openai.AsyncOpenAI(api_key="sk-fake", base_url=f"{url}/v1", max_retries=0)
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await client.chat.completions.create(
                model="gpt-test", messages=[{"role": "user", "content": f"Question {i}: output {{output}}"}])

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(rows)))
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.latency)
        return 0

    from judge.runner import RetryPolicy, execute_run, start_run
    from judge.store import Store
    from runner_helpers import llm_spec, make_dataset

    rows, concurrency = args.rows, args.concurrency
    ideal = rows * args.latency / concurrency
    server = ServerProcess(args.latency)
    os.environ.update(server.env())
    tmp = Path(tempfile.mkdtemp(prefix="runner-bench-"))
    results = []
    try:
        store = Store(tmp / "bench.duckdb")
        make_dataset(store, tmp, rows)
        spec = llm_spec()

        # 1. Speed and CPU: first request to last verdict stored, process CPU net of start-up.
        run_id = start_run(store, dataset="sums", spec=spec, concurrency=concurrency)
        cpu, wall = time.process_time(), time.perf_counter()
        summary = execute_run(store, run_id)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peer_cpu = time.process_time()
        peer = asyncio.run(bare_sdk_loop(server.url, rows, concurrency))
        peer_cpu = time.process_time() - peer_cpu
        results.append(report(
            "speed", wall <= 1.10 * ideal,
            f"{wall:.2f} s for {rows} rows at concurrency {concurrency} = {wall / ideal:.3f} x ideal "
            f"({ideal:.2f} s); bare openai SDK loop {peer:.2f} s = {peer / ideal:.3f} x ideal; "
            f"runner/peer {wall / peer:.3f}"))
        results.append(report(
            "client CPU", cpu / rows * 1000 <= 3.0,
            f"{cpu / rows * 1000:.2f} ms per judged row ({cpu:.2f} s CPU, parse and store included); "
            f"the bare SDK loop alone {peer_cpu / rows * 1000:.2f} ms per row"))
        assert summary.done == rows and summary.failed == 0, summary.describe()

        # 1b. The runner's own share: the same run with a provider that only waits the latency (no SDK).
        waiting = start_run(store, dataset="sums", spec=llm_spec(criteria="Is the sum right? (no SDK)"),
                            concurrency=concurrency)
        cpu, wall = time.process_time(), time.perf_counter()
        execute_run(store, waiting, provider=LatencyOnlyProvider(args.latency))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
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
    finally:
        server.stop()
    print(json.dumps({"all_passed": all(results)}))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
