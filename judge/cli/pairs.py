"""`judge import-pairs`, `pairs`, `prefer`, `pairwise-run`, `import-pairwise-run`, `pair-task`, `pair-link`,
`rank`: pairwise comparisons."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from judge.cli.data import _column_map
from judge.errors import JudgeError


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def _import_pairs(store, args) -> int:
    from judge.pairs import import_pairs, pairs_from_versions

    if args.versions:
        if args.file:
            raise JudgeError("Give a pair file or --versions A B of a --from dataset, not both.")
        if not args.source:
            raise JudgeError("--versions A B needs --from DATASET (the dataset whose two versions are paired).")
        result = pairs_from_versions(store, args.source, args.versions[0], args.versions[1], into=args.dataset)
    else:
        if not args.file:
            raise JudgeError("Give a pair file or folder (or --from DATASET --versions A B).")
        result = import_pairs(store, args.file, dataset=args.dataset or Path(args.file).stem,
                              column_map=_column_map(args.map), annotator=args.annotator, criterion=args.criterion)
    print(f"{result.dataset}: {result.pairs} pairs ({result.new_pairs} new), {result.preferences} preferences added")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _pairs(store, args) -> int:
    frame = store.pair_datasets()
    if frame.empty:
        print("no pair datasets yet: judge import-pairs FILE --dataset NAME")
    for row in frame.itertuples():
        print(f"{row.name}\t{row.pairs} pairs\t{row.preferences} preferences\t{row.runs} runs")
    return 0


def _prefer(store, args) -> int:
    from judge.pairs import record_preference

    pairs = store.pairs(args.dataset).set_index("pair_id")
    if args.pair not in pairs.index:
        raise JudgeError(f"Pair dataset '{args.dataset}' has no pair '{args.pair}'.")
    changed = record_preference(store, pairs.loc[args.pair, "uid"], args.annotator, args.choice,
                                criterion=args.criterion, critique=args.critique, source="cli")
    print("saved" if changed else "unchanged (the same as the current preference)")
    return 0


def _pairwise_run(store, args) -> int:
    from judge.pairwise import estimate_pairwise_run, execute_pairwise_run, load_pairwise_spec, start_pairwise_run

    if args.resume:
        run_id = args.resume
    elif not args.dataset:
        raise JudgeError("judge pairwise-run needs --dataset PAIRS (or --resume RUN).")
    else:
        spec = load_pairwise_spec(args.judge, model=args.model)
        if args.one_order:
            spec.orders = ["ab"]
        if args.criterion:
            spec.criterion = args.criterion
        print(estimate_pairwise_run(store, dataset=args.dataset, spec=spec).describe(batch=args.batch))
        run_id = start_pairwise_run(store, dataset=args.dataset, spec=spec, name=args.name, batch=args.batch,
                                    batch_retry=args.batch_retry, poll_seconds=args.poll)
        print(f"run {run_id}")
        if args.batch:
            print(f"(batch mode: polls until the provider is done; Ctrl-C or a kill loses nothing, "
                  f"judge pairwise-run --resume {run_id} collects; judge cancel {run_id} cancels)", file=sys.stderr)
    summary = execute_pairwise_run(store, run_id, concurrency=args.concurrency, poll_seconds=args.poll)
    print(summary.describe())
    batches = store.run_batches(run_id)
    if len(batches):
        print(batches[["round", "provider", "batch_id", "status", "requests", "stored", "resent",
                       "canceled"]].to_string(index=False))
    return 0


def _pairwise_runs(store, args) -> int:
    runs = store.pairwise_runs(args.dataset)
    if runs.empty:
        print("no pairwise runs yet: judge pairwise-run --dataset PAIRS --model provider/model")
    for row in runs.itertuples():
        cost = "-" if pd.isna(row.cost_usd) else f"${row.cost_usd:,.4f}"
        print(f"{row.id}\t{row.dataset_name}\t{row.spec_name}\t{row.model or row.source}\t{row.status}\t"
              f"{row.replies} replies\t{row.failed} failed\t{cost}")
    return 0


def _import_pairwise_run(store, args) -> int:
    from judge.pairwise import import_pairwise_run

    run_id = import_pairwise_run(store, args.file, dataset=args.dataset, name=args.name, criterion=args.criterion,
                                 column_map=_column_map(args.map))
    print(f"imported pairwise run {run_id}")
    return 0


def pairwise_report(store, args) -> int:
    """`judge report --run RUN` for a pairwise run."""
    from judge.cli.reports import _table, show
    from judge.reports.pairwise import pairwise_report as build

    report = build(store, args.run, n_boot=args.boot, seed=args.seed, slice_by=args.slice)
    if args.json:
        _print_json(report)
        return 0
    run = report["run"]
    print(f"Pairwise run {run['id']}: judge {run['spec_name']} ({run['model'] or 'imported'}) on {run['dataset']}, "
          f"orders {', '.join(run['orders'])}, criterion {run['criterion']}; 95% intervals\n")
    rows = [[name, show(fig), fig["n"]] for name, fig in report["agreement"].items()]
    print(_table(rows, ["agreement with people", "value [95% CI]", "n"]) + "\n")
    rows = [[name, show(fig), fig["n"]] for name, fig in report["position"].items()]
    print(_table(rows, ["position bias", "value [95% CI]", "n"]))
    ceiling = report["human_ceiling"]
    print(f"\nPeople with each other (the ceiling): Krippendorff's alpha {show(ceiling['krippendorff_alpha'])}, "
          f"same choice {show(ceiling['pairwise_agreement'])}")
    stats = report["run_stats"]
    cost = "-" if stats["cost_usd"] is None else f"${stats['cost_usd']:.4f}"
    print(f"Pairs {stats['pairs']}, replies {stats['replies']}, failed {stats['failed']}, cost {cost}")
    if args.slice:
        print()
        print(_table([[s["value"], s["pairs"], show(s["accuracy"]), show(s["kappa"])] for s in report["slices"]],
                     [args.slice, "pairs", "accuracy", "kappa"]))
    return 0


def pairwise_show(store, args) -> int:
    """`judge show RUN` for a pairwise run: its record, batches, and every reply with its reasoning."""
    from judge.pairwise import pair_verdicts

    run = store.pairwise_run(args.run)
    replies = store.pairwise_verdicts(args.run).drop(columns=["metadata"])
    batches = store.run_batches(args.run)
    if args.json:
        _print_json({"run": run, "batches": json.loads(batches.to_json(orient="records", date_format="iso")),
                     "verdicts": json.loads(pair_verdicts(store, args.run).drop(columns=["metadata"]).to_json(
                         orient="records")),
                     "replies": json.loads(replies.to_json(orient="records", date_format="iso"))})
        return 0
    cost = "unknown" if run["cost_usd"] is None or pd.isna(run["cost_usd"]) else f"${run['cost_usd']:,.4f}"
    print(f"pairwise run {run['id']}  status {run['status']}  pairs {run['dataset_name']}  judge {run['spec_name']}  "
          f"criterion {run['criterion']}  model {run['model'] or run['source']}  orders {', '.join(run['orders'])}"
          f"{'  batch' if run['batch'] else ''}")
    print(f"replies {run['done']:,}/{run['total_pairs'] * len(run['orders']):,}  failed {run['failed']:,}  "
          f"cached {run['cached']:,}  cost {cost}")
    if run["error"]:
        print(f"error: {run['error']}")
    if not batches.empty:
        print(batches[["round", "batch_id", "status", "provider_status", "requests", "stored", "resent",
                       "canceled"]].to_string(index=False))
    if not replies.empty:
        table = replies[["pair_id", "shown_order", "choice", "error", "reasoning"]].copy()
        table["reasoning"] = table["reasoning"].fillna("").str.slice(0, 70)
        print(table.to_string(index=False))
    return 0


def _rank(store, args) -> int:
    from judge.ranking import rank

    result = rank(store, runs=args.run, dataset=args.dataset, human=args.human, compare_human=args.compare_human,
                  criterion=args.criterion, n_boot=args.boot, seed=args.seed)
    if args.json:
        _print_json(result)
        return 0
    from judge.cli.reports import _table, show

    print(f"Bradley-Terry ranking from {result['source']} ({result['matches']} matches, ties count half); "
          f"95% bootstrap intervals over {result['n_boot']} resamples\n")
    print(_table([[r["rank"], r["system"], f"{r['rating']:.0f}", f"[{r['rating_ci'][0]:.0f}, {r['rating_ci'][1]:.0f}]",
                   r["matches"], f"{r['win_rate']:.1%}"] for r in result["ranking"]],
                 ["rank", "system", "rating", "95% CI", "matches", "win rate"]))
    if result.get("kendall_tau") is not None:
        print(f"\nKendall tau, judge ranking vs human ranking: {show(result['kendall_tau'])}")
    return 0


def _pair_task(store, args) -> int:
    from judge.pair_links import create_pair_task

    if args.list:
        for row in store.pair_tasks().itertuples():
            print(f"{row.id}\t{row.name}\t{row.dataset_name}\t{row.criterion}")
        return 0
    if not (args.name and args.dataset):
        raise JudgeError("judge pair-task NAME --dataset PAIRS [--criterion C] creates a task (or --list).")
    task_id = create_pair_task(store, name=args.name, dataset=args.dataset, criterion=args.criterion,
                               instructions=args.instructions)
    print(f"pairwise labeling task {task_id}: judge pair-link {task_id} [--annotator NAME] makes its links")
    return 0


def _pair_link(store, args) -> int:
    from datetime import timedelta

    from judge.pair_links import create_pair_link

    link = create_pair_link(store, args.task, annotator=args.annotator, expires_in=timedelta(days=args.days))
    print(f"{link.url(args.base_url)}\n(link {link.link_id}, shown once; expires {link.expires_at:%Y-%m-%d %H:%M} UTC)")
    return 0


def _pair_links(store, args) -> int:
    if args.revoke is not None:
        from judge.pair_links import revoke_pair_link

        revoke_pair_link(store, args.revoke)
        print(f"revoked pairwise labeling link {args.revoke}: it stops working at its next click")
        return 0
    links = store.pair_links(args.task)
    if links.empty:
        print("no pairwise labeling links yet: judge pair-link TASK [--annotator NAME]")
    for row in links.itertuples():
        state = "revoked" if not pd.isna(row.revoked_at) else f"expires {row.expires_at:%Y-%m-%d %H:%M}"
        print(f"{row.id}\ttask {row.task_id} {row.task}\t{row.dataset_name}\t{row.annotator}\t{state}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("import-pairs", help="import pairs (input, output_a, output_b) and human preferences")
    p.add_argument("file", nargs="?", help="CSV, TSV, JSONL, Parquet, a JSON array, or a folder of those")
    p.add_argument("--dataset", help="pair dataset name (default: the file name)")
    p.add_argument("--map", action="append", default=[], metavar="ROLE=COLUMN", help="override a detected column")
    p.add_argument("--annotator", default="imported", help="whose preferences the file holds (default: imported)")
    p.add_argument("--criterion", default="preference", help="what the preferences judge (default: preference)")
    p.add_argument("--from", dest="source", help="form pairs from two versions of this dataset instead")
    p.add_argument("--versions", nargs=2, type=int, metavar=("A", "B"), help="the two versions (A = output_a)")
    p.set_defaults(handler=_import_pairs)

    p = sub.add_parser("pairs", help="list pair datasets")
    p.set_defaults(handler=_pairs)

    p = sub.add_parser("prefer", help="record one person's preference on a pair")
    p.add_argument("--dataset", required=True)
    p.add_argument("--pair", required=True, help="pair id")
    p.add_argument("--annotator", required=True)
    p.add_argument("--choice", required=True, help="a, b or tie")
    p.add_argument("--criterion", default="preference")
    p.add_argument("--critique")
    p.set_defaults(handler=_prefer)

    p = sub.add_parser("pairwise-run", help="judge every pair in both orders with a pairwise LLM judge")
    p.add_argument("--dataset", help="pair dataset")
    p.add_argument("--judge", help="pairwise spec .json (default: the built-in pairwise_preference)")
    p.add_argument("--model", help="provider/model, e.g. openai/gpt-4.1-mini")
    p.add_argument("--criterion", help="the preference criterion the run is measured on")
    p.add_argument("--one-order", action="store_true", help="judge only the A-first order (not recommended)")
    p.add_argument("--name")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--resume", metavar="RUN", help="finish an interrupted pairwise run (a batch run: collect it)")
    p.add_argument("--batch", action="store_true", help="through the provider's batch API: half price, within 24 h")
    p.add_argument("--batch-retry", choices=["batch", "sync"], default="batch",
                   help="failed batch units: in a follow-up batch (default) or as direct calls")
    p.add_argument("--poll", type=float, metavar="SECONDS", help="how often to ask the provider about a batch")
    p.set_defaults(handler=_pairwise_run)

    p = sub.add_parser("pairwise-runs", help="list pairwise runs")
    p.add_argument("--dataset", help="only the runs on this pair dataset")
    p.set_defaults(handler=_pairwise_runs)

    p = sub.add_parser("import-pairwise-run", help="store pairwise choices made elsewhere as a pairwise run")
    p.add_argument("file")
    p.add_argument("--dataset", required=True, help="pair dataset the choices are about")
    p.add_argument("--name")
    p.add_argument("--criterion", default="preference")
    p.add_argument("--map", action="append", default=[], metavar="ROLE=COLUMN",
                   help="pair_id=, choice_ab= or choice_ba= column")
    p.set_defaults(handler=_import_pairwise_run)

    p = sub.add_parser("pair-task", help="a pairwise labeling task over a pair dataset, for labeling links")
    p.add_argument("name", nargs="?")
    p.add_argument("--dataset", help="pair dataset")
    p.add_argument("--criterion", default="preference")
    p.add_argument("--instructions")
    p.add_argument("--list", action="store_true", help="list pairwise labeling tasks")
    p.set_defaults(handler=_pair_task)

    p = sub.add_parser("pair-link", help="a labeling link to a pairwise task (named, or open without --annotator)")
    p.add_argument("task", type=int, help="pairwise task id")
    p.add_argument("--annotator", help="whose link it is (omit for an open link where people type a name)")
    p.add_argument("--days", type=int, default=14, help="days until the link expires (default 14)")
    p.add_argument("--base-url", help="dashboard URL as annotators reach it (default $JUDGE_BASE_URL or local)")
    p.set_defaults(handler=_pair_link)

    p = sub.add_parser("pair-links", help="list pairwise labeling links (never their tokens), or revoke one")
    p.add_argument("--task", type=int, help="only the links of this pairwise task")
    p.add_argument("--revoke", type=int, metavar="LINK", help="revoke this link: it stops working at its next click")
    p.set_defaults(handler=_pair_links)

    p = sub.add_parser("rank", help="Bradley-Terry ranking of systems from pairwise verdicts or preferences")
    p.add_argument("--run", action="append", default=[], help="pairwise run id (repeat to pool runs)")
    p.add_argument("--dataset", help="pair dataset (with --human: rank from people's preferences)")
    p.add_argument("--human", action="store_true", help="rank from human preferences instead of a judge")
    p.add_argument("--compare-human", action="store_true", help="Kendall tau of the judge ranking vs the human one")
    p.add_argument("--criterion", default=None, help="preference criterion (default: the run's, or preference)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--boot", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=_rank)
