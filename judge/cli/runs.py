"""`judge run`, `specs`, `runs`, `show` and `prices`: running judges from a terminal or CI.

`judge run` prints the estimate and a progress line on stderr and the run id as the last line of stdout,
so a script can do `RUN=$(judge run ... --yes | tail -n1)`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import pandas as pd

from judge.errors import JudgeError
from judge.pricing import BUILTIN_PRICES, PRICES_AS_OF, cache_prices
from judge.reports.completeness import Allowance, run_completeness
from judge.runner import Progress, cancel_run, estimate_run, execute_run, start_run
from judge.runner.costs import run_savings
from judge.specs import builtin_specs, load_spec


class ProgressLine:
    """A one-line progress bar on stderr (redrawn with \\r, at most 10 times a second; no dependency)."""

    WIDTH = 30

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self._last = 0.0

    def __call__(self, progress: Progress, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < 0.1:
            return
        self._last = now
        share = progress.done / progress.total if progress.total else 1.0
        filled = int(share * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        waiting = progress.wait_text
        self.stream.write(f"\r[{bar}] {progress.done:,}/{progress.total:,} {progress.rate:5.1f}/s "
                          f"failed {progress.failed:,} cached {progress.cached:,}"
                          + (f" · {waiting[:160]}" if waiting else "")
                          + ("\x1b[K" if self.stream.isatty() else ""))  # erase what a longer line left
        if final:
            self.stream.write("\n")
        self.stream.flush()


def _confirm(args, text: str) -> None:
    print(text, file=sys.stderr)
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise JudgeError("Not starting without confirmation: add --yes to run non-interactively.")
    if input("Start? [y/N] ").strip().lower() not in ("y", "yes"):
        raise JudgeError("Run not started.")


def _run(store, args) -> int:
    allowance = Allowance.parse(args.allow_failures)
    if args.resume:
        run_id = args.resume
        batch = bool(store.run(run_id)["params"].get("batch"))
        _confirm(args, f"resuming {run_id}: {estimate_run(store, run_id=run_id).describe(batch=batch)}")
    else:
        if not args.dataset or not args.judge:
            raise JudgeError("judge run needs --dataset NAME and --judge SPEC (or --resume RUN).")
        spec = load_spec(store, args.judge)
        estimate = estimate_run(store, dataset=args.dataset, spec=spec, model=args.model, base_url=args.base_url,
                                samples=args.samples)
        _confirm(args, estimate.describe(batch=args.batch))
        run_id = start_run(store, dataset=args.dataset, spec=spec, model=args.model, base_url=args.base_url,
                           concurrency=args.concurrency, samples=args.samples, version_tag=args.version_tag,
                           timeout=args.timeout, criterion=args.criterion, batch=args.batch,
                           batch_retry=args.batch_retry, poll_seconds=args.poll)
        print(f"run {run_id} started", file=sys.stderr)
    if store.run(run_id)["params"].get("batch"):
        print(f"batch mode: the work goes to the provider's batch API and this command waits for the results; "
              f"stopping it leaves the batches running (judge run --resume {run_id} collects them, "
              f"judge cancel {run_id} cancels them)", file=sys.stderr)
    bar = ProgressLine()
    tracker: list[Progress] = []

    def progress(state: Progress) -> None:
        tracker[:] = [state]
        bar(state)

    try:
        summary = execute_run(store, run_id, progress=progress,
                              concurrency=args.concurrency if args.resume and args.concurrency_set else None,
                              poll_seconds=args.poll if args.resume else None)
    finally:  # the progress line ends before any message, the error of a stopped run included
        if tracker:
            bar(tracker[0], final=True)
    print(summary.describe(), file=sys.stderr)
    completeness = run_completeness(store, run_id)
    print(run_id)
    if completeness.failed > allowance.limit(completeness.expected):
        print(f"error: {completeness.describe()} (allowed: {allowance}); retry them with "
              f"judge run --resume {run_id}, or pass --allow-failures.", file=sys.stderr)
        return 1
    return 0


def _cancel(store, args) -> int:
    pairwise = store.is_pairwise_run(args.run)
    if pairwise:
        from judge.pairwise import cancel_pairwise_run

        canceled = cancel_pairwise_run(store, args.run)
    else:
        canceled = cancel_run(store, args.run)
    if canceled:
        print(f"asked the provider to cancel {canceled} batch(es) of run {args.run}; what they finished is "
              f"collected by the process polling them, or by `judge {'pairwise-run' if pairwise else 'run'} "
              f"--resume {args.run}`")
    else:
        print(f"run {args.run} has no open batch; a direct run stops with Ctrl-C in its terminal")
    return 0


def _specs(store, args) -> int:
    saved = store.specs()
    for row in saved.itertuples():
        print(f"{row.name}\tsaved v{row.version}\t{row.kind}\t{row.model or ''}")
    for name, spec in builtin_specs().items():
        if name not in set(saved["name"]):
            print(f"{name}\tbuilt-in\t{spec.kind}\t{spec.model or ''}")
    return 0


def _runs(store, args) -> int:
    dataset_id = store.dataset(args.dataset)["id"] if args.dataset else None
    table = store.runs(dataset_id)
    if table.empty:
        print("no runs yet: start one with `judge run --dataset NAME --judge SPEC`")
        return 0
    shown = pd.DataFrame({
        "run": table["id"],
        "dataset": table["dataset"] + " v" + table["dataset_version"].astype(str),
        "judge": table["spec_name"],
        "criterion": table["criterion"].fillna("-"),
        "model": table["model"].fillna("offline"),
        "version": table["version_tag"].fillna("") if "version_tag" in table else "",
        "status": table["status"],
        "verdicts": table["done"].astype(int).astype(str) + "/" + table["total_items"].fillna(0).astype(int).astype(str),
        "failed": table["failed"].astype(int),
        "mean": table["mean_score"].map(lambda v: "-" if pd.isna(v) else f"{v:.2f}"),
        "pass rate": table["pass_rate"].map(lambda v: "-" if pd.isna(v) else f"{v:.0%}"),
        "cost": table["cost_usd"].map(lambda v: "-" if pd.isna(v) or not v else f"${v:,.4f}"),
        "started": table["created_at"].map(lambda v: f"{v:%Y-%m-%d %H:%M}"),
    })
    print(shown.to_string(index=False))
    return 0


def _show(store, args) -> int:
    if store.is_pairwise_run(args.run):
        from judge.cli.pairs import pairwise_show

        return pairwise_show(store, args)
    run = store.run(args.run)
    verdicts = store.verdicts(args.run)
    if args.json:
        body = {"run": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in run.items()},
                "savings": run_savings(store, run).to_dict(),
                "batches": json.loads(store.run_batches(args.run).to_json(orient="records", date_format="iso")),
                "verdicts": json.loads(verdicts.to_json(orient="records", date_format="iso"))}
        print(json.dumps(body, indent=2, default=str))
        return 0
    cost = "unknown" if run["cost_usd"] is None else f"${run['cost_usd']:,.4f}"
    print(f"run {run['id']}  status {run['status']}  dataset {run['dataset']} v{run['dataset_version']}  "
          f"judge {run['spec_name']}  criterion {run['criterion'] or '-'}  model {run['model'] or 'offline'}")
    print(f"verdicts {run['done']:,}/{int(run['total_items'] or 0) * int(run['samples']):,}  "
          f"failed {run['failed']:,}  cached {run['cached']:,}  passed {run['passed']:,}  cost {cost}")
    if run["error"]:
        print(f"error: {run['error']}")
    savings = run_savings(store, run)
    if savings.describe():
        print(savings.describe())
    batches = store.run_batches(args.run)
    if not batches.empty:
        print(batches[["round", "batch_id", "status", "provider_status", "requests", "stored", "resent",
                       "canceled"]].to_string(index=False))
    if not verdicts.empty:
        table = verdicts[["item_id", "sample", "score", "passed", "error", "reasoning"]].copy()
        table["reasoning"] = table["reasoning"].fillna("").str.slice(0, 70)
        print(table.to_string(index=False))
    return 0


def _prices(store, args) -> int:
    if args.prices_command == "set":
        store.set_model_price(args.model, args.input, args.output)
        print(f"{args.model}: ${args.input:g} in, ${args.output:g} out per million tokens")
        return 0
    overrides = store.model_price_overrides()
    print(f"USD per million tokens (input, output, then cached input read, cache write; a batch costs half); "
          f"built-in prices are approximate, as of {PRICES_AS_OF}")
    rows = [(model, price, "override") for model, price in sorted(overrides.items())]
    rows += [(model, price, "built-in") for model, price in BUILTIN_PRICES.items()]
    for model, (inp, out), source in rows:
        named = model if "/" in model else f"{'anthropic' if model.startswith('claude') else 'openai'}/{model}"
        read, write = cache_prices(named, (inp, out))
        print(f"{model}\t{inp:g}\t{out:g}\t{source}\tcached {read:g}\twrite {write:g}")
    return 0


class _StoreConcurrency(argparse.Action):
    """Remembers that --concurrency was given, so a resume changes it only when asked to."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.concurrency = values
        namespace.concurrency_set = True


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run", help="run a judge over a dataset (prints the run id last)")
    p.add_argument("--dataset", help="dataset name (its latest version)")
    p.add_argument("--judge", help="a saved or built-in judge name, or a .json spec file (see judge specs)")
    p.add_argument("--model", help="provider/model, e.g. openai/gpt-4.1-mini (default: the spec's model)")
    p.add_argument("--base-url", help="API base URL (openai-compatible servers)")
    p.add_argument("--concurrency", type=int, default=16, action=_StoreConcurrency,
                   help="calls in flight at most (default 16)")
    p.add_argument("--samples", type=int, default=1, help="verdicts per item; > 1 reports the flip rate")
    p.add_argument("--version-tag", help="a label for this run, e.g. the app version judged")
    p.add_argument("--criterion", help="criterion whose labels the run is measured on (default: the one the judge "
                                       "grades, else the dataset's only one)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per call (default 60)")
    p.add_argument("--resume", metavar="RUN", help="finish an interrupted run (only missing verdicts are made; a "
                   "batch run polls and collects its batches and never submits them again)")
    p.add_argument("--batch", action="store_true",
                   help="through the provider's batch API: 50%% cheaper, results within 24 h")
    p.add_argument("--batch-retry", choices=("batch", "sync"), default="batch",
                   help="failed batch units: a follow-up batch (default) or direct calls")
    p.add_argument("--poll", type=float,
                   help="seconds between polls of a batch run (default: 1 s, backing off to 60 s)")
    p.add_argument("--yes", action="store_true", help="start without asking (required when not interactive)")
    p.add_argument("--allow-failures", default="0", metavar="N|P%",
                   help="failed verdicts accepted before exiting 1 (a count, or a share such as 2%%; default 0)")
    p.set_defaults(handler=_run, concurrency_set=False)

    p = subparsers.add_parser("cancel", help="cancel a run: its provider batches, or a direct run of this process")
    p.add_argument("run")
    p.set_defaults(handler=_cancel)

    p = subparsers.add_parser("specs", help="list saved and built-in judge names")
    p.set_defaults(handler=_specs)

    p = subparsers.add_parser("runs", help="list runs, newest first")
    p.add_argument("--dataset", help="only runs over this dataset")
    p.set_defaults(handler=_runs)

    p = subparsers.add_parser("show", help="a run's summary and per-row verdicts")
    p.add_argument("run")
    p.add_argument("--json", action="store_true", help="everything as JSON")
    p.set_defaults(handler=_show)

    p = subparsers.add_parser("prices", help="model prices used for cost estimates")
    sub = p.add_subparsers(dest="prices_command", metavar="COMMAND")
    setter = sub.add_parser("set", help="override a model's price (USD per million tokens)")
    setter.add_argument("model", help="provider/model or the bare model name")
    setter.add_argument("input", type=float, help="USD per million input tokens")
    setter.add_argument("output", type=float, help="USD per million output tokens")
    p.set_defaults(handler=_prices)
