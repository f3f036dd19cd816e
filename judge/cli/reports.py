"""`judge report`, `agreement`, `compare`, `trend`, `baseline`, `gate`, `card` and `import-run`.

With --json each prints one JSON document (every figure as {"value", "ci", "n", "undefined"}); without, a
readable table. `judge gate` exits 1 on a significant regression, so CI can fail the build on it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from judge.errors import JudgeError
from judge.reports.weighted import sample_sentence
from judge.reports import (
    agreement_by_slice, agreement_report, compare_runs, gate, human_agreement, import_run, judge_card,
    pin_baseline, reference_agreement, trend, write_card,
)
from judge.reports.completeness import DEFAULT_ALLOWANCE


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def show(fig: dict[str, Any] | None) -> str:
    """One figure as 'value [low, high]', or 'undefined (reason)'; a few-labels warning or the reason an
    interval was refused follows in parentheses."""
    if fig is None:
        return "-"
    if fig["value"] is None:
        return f"undefined ({fig['undefined']})"
    ci = f" [{fig['ci'][0]:.3f}, {fig['ci'][1]:.3f}]" if fig["ci"] else ""
    note = fig.get("warning") or (fig.get("interval_refused") and f"no interval: {fig['interval_refused']}")
    notes = [text for text in (note, fig.get("sample")) if text]
    return f"{fig['value']:.3f}{ci}" + (f" ({'; '.join(notes)})" if notes else "")


def _ms(value) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def _money(value) -> str:
    return "-" if value is None else f"${value:,.4f}"


def _share(value) -> str:
    return "-" if value is None else f"{value:.1%}"


def _table(rows: list[list[Any]], header: list[str]) -> str:
    cells = [header] + [["-" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _figure_rows(group: dict[str, Any]) -> list[list[Any]]:
    return [[name, show(fig), fig["n"]] for name, fig in group.items() if isinstance(fig, dict) and "value" in fig]


# -- handlers ------------------------------------------------------------------------------------------------
def _report(store, args) -> int:
    if store.is_pairwise_run(args.run):
        from judge.cli.pairs import pairwise_report

        return pairwise_report(store, args)
    report = agreement_report(store, args.run, n_boot=args.boot, seed=args.seed,
                              include_review=args.include_review)
    if args.slice:
        report["slices"] = agreement_by_slice(store, args.run, args.slice, n_boot=args.boot, seed=args.seed)
    if args.json:
        _print_json(report)
        return 0
    run, labels, criterion = report["run"], report["labels"], report["criterion"]
    version = f"v{run['spec_version']}" if run["spec_version"] is not None else "(built-in)"
    print(f"Run {run['id']}: judge {run['spec_name']} {version} ({run['model'] or 'offline'}) "
          f"on {run['dataset']} v{run['dataset_version']}")
    rubric = f", rubric v{criterion['rubric_version']}" if criterion["rubric_version"] else ""
    print(f"Criterion {criterion['name']} ({criterion['scale']}{rubric}): {labels['items']} labeled items "
          f"({labels['adjudicated']} adjudicated, {labels['excluded_fewshot']} few-shot examples left out), "
          f"judge pass threshold {labels['pass_threshold']}; 95% intervals over {report['n_boot']} resamples\n")
    for note in (sample_sentence(labels.get("sample")), (labels.get("review") or {}).get("note")):
        if note:
            print(note[0].upper() + note[1:] + "\n")
    pass_table = _table(_figure_rows(report["pass_fail"]), ["pass/fail", "value [95% CI]", "n"]) + "\n"
    if criterion["scale"] == "pass/fail":  # people graded pass/fail: those figures are the ones that exist
        print(pass_table)
    else:
        print(_table(_figure_rows(report["scores"]), ["1-5 score", "value [95% CI]", "n"]) + "\n")
        print(pass_table)
    rate = report["pass_rate"]
    rows = [["mean score", show(report["mean_score"]), report["mean_score"]["n"]]]
    if rate["judged_items"]:
        rows += [["observed pass rate", show(rate["observed"]), rate["observed"]["n"]],
                 ["corrected pass rate", show(rate["corrected"]), rate["corrected"]["n"]]]
    print(_table(rows, ["run", "value [95% CI]", "n"]))
    advice = rate.get("advice") or {}
    if advice.get("possible") and (advice["more_pass_labels"] or advice["more_fail_labels"]):
        print(f"To narrow the corrected pass rate to +-{advice['target_half_width']}: label about "
              f"{advice['more_pass_labels']} more passing and {advice['more_fail_labels']} more failing items.")
    elif advice.get("reason"):
        print(f"Sample size: {advice['reason']}.")
    ceiling = report["human_ceiling"]["krippendorff_alpha"]
    print(f"\nHuman-human Krippendorff's alpha (the ceiling): {show(ceiling)} n={ceiling['n']}")
    stats = report["run_stats"]
    cost = "-" if stats["cost_usd"] is None else f"${stats['cost_usd']:.4f}"
    print(f"Verdicts {stats['verdicts']}, failed {stats['failed_verdicts']}, cost {cost}, latency p50 "
          f"{_ms(stats['latency_p50_ms'])}, p95 {_ms(stats['latency_p95_ms'])}")
    if args.slice:
        print()
        print(_table([[s["value"], s["items"], show(s["quadratic_kappa"]), show(s["exact_agreement"])]
                      for s in report["slices"]], [args.slice, "items", "quadratic kappa", "exact"]))
    return 0


def _agreement(store, args) -> int:
    result = human_agreement(store, args.dataset, criterion=args.criterion, n_boot=args.boot, seed=args.seed)
    if args.references:
        result["references"] = reference_agreement(store, args.dataset, criterion=args.criterion, n_boot=args.boot,
                                                   seed=args.seed)
    if args.json:
        _print_json(result)
        return 0
    print(f"Dataset {result['dataset']} v{result['dataset_version']}, criterion {result['criterion']['name']} "
          f"({result['criterion']['scale']}): {result['items_with_two_or_more']} items with two or more annotators")
    print(f"Krippendorff's alpha (ordinal, 1-5): {show(result['krippendorff_alpha'])}")
    print(f"Krippendorff's alpha (pass/fail):    {show(result['pass_fail_alpha'])}\n")
    print(_table([[a["name"], a["labels"], a["scored"], a["pass_fail"]] for a in result["annotators"]],
                 ["annotator", "labels", "scored", "pass/fail"]) + "\n")
    if result["pairwise"]:
        print(_table([[p["a"], p["b"], p["n"], show(p["quadratic_kappa"]), show(p["exact_agreement"])]
                      for p in result["pairwise"]], ["a", "b", "n", "quadratic kappa", "exact"]))
    if args.references:
        refs = result["references"]
        print(f"\n{refs['labeled_with_reference']} labeled items have a reference")
        print(_table([[m["judge"], m["items"], show(m["quadratic_kappa"]), show(m["spearman_rho"])]
                      for m in refs["offline_metrics"] + refs["reference_runs"]],
                     ["reference scorer", "items", "quadratic kappa", "spearman"]))
    return 0


def _compare(store, args) -> int:
    result = compare_runs(store, args.runs, n_boot=args.boot, seed=args.seed)
    if args.json:
        _print_json(result)
        return 0
    print(f"Criterion {result['criterion']['name']} ({result['criterion']['scale']}): {result['common_items']} items "
          f"judged by every run ({result['excluded_fewshot']} few-shot left out)\n")
    print(_table([[r["run"]["id"], r["run"]["spec_name"], r["labeled_items"], show(r["quadratic_kappa"]),
                   show(r["pass_fail_kappa"]), _money(r["cost_usd"]), _ms(r["latency_p50_ms"]),
                   _ms(r["latency_p95_ms"]), _share(r["parse_failure_rate"])] for r in result["runs"]],
                 ["run", "judge", "labeled", "quadratic kappa", "pass/fail kappa", "cost", "p50", "p95",
                  "failures"]) + "\n")
    figure_name = result["differences"][0]["figure"] if result["differences"] else "kappa"
    print(_table([[d["a"], d["b"], d["n"], show(d["difference"]),
                   "-" if d["p_value"] is None else f"{d['p_value']:.3f}",
                   d["better"] or "no significant difference"] for d in result["differences"]],
                 ["a", "b", "n", f"{figure_name}(a) - (b)", "p (permutation)", "better"]))
    for d in result["differences"]:
        if d["power_note"]:
            print(f"note ({d['a']} vs {d['b']}): {d['power_note']}")
    return 0


def _trend(store, args) -> int:
    result = trend(store, args.judge, criterion=args.criterion, n_boot=args.boot, seed=args.seed)
    if args.json:
        _print_json(result)
        return 0
    print(f"Judge {result['judge']} on criterion {result['criterion']}, baseline "
          f"{result['baseline_run'] or 'not pinned (judge baseline)'}\n")
    print(_table([[p["run_id"], p["version_tag"], f"v{p['spec_version']}", p["model"], show(p["mean_score"]),
                   show(p["corrected_pass_rate"]), p["judge_change"] or "",
                   _regression_flag(p)]
                  for p in result["points"]],
                 ["run", "app version", "spec", "model", "mean score", "corrected pass rate", "judge change",
                  "flag"]))
    print(f"\nregression test: {result['regression_test']}")
    return 0


def _regression_flag(point: dict[str, Any]) -> str:
    """'REGRESSION (pass_rate p=0.012)' for a significant regression, 'baseline', or nothing."""
    if point["is_baseline"]:
        return "baseline"
    if not point["regression"]:
        return ""
    failed = [f"{key} p={check['p_value']:.3f}" for key, check in point["regression_checks"].items()
              if check["regression"]]
    return f"REGRESSION ({', '.join(failed)})"


def _baseline(store, args) -> int:
    if args.run:
        pin_baseline(store, args.judge, args.run, allowance=args.allow_failures)
        print(f"baseline of {args.judge} is now run {args.run}")
    else:
        print(store.baseline_run(args.judge) or f"no baseline pinned for {args.judge}")
    return 0


def _gate(store, args) -> int:
    baseline = args.baseline
    if baseline is None:
        baseline = store.baseline_run(store.report_run(args.run)["spec_name"])
        if baseline is None:
            raise JudgeError("No --baseline given and none pinned; pin one with judge baseline --judge NAME --run RUN.")
    result = gate(store, args.run, baseline, n_boot=args.boot, seed=args.seed, allowance=args.allow_failures)
    audit = None
    if args.require_audit:
        from judge.audit import audit_status

        audit = audit_status(store, args.run, min_labels=args.audit_min_labels,
                             min_agreement=args.audit_min_agreement, n_boot=args.boot, seed=args.seed)
    if args.json:
        _print_json(result.to_dict() | ({"audit": audit} if audit else {}))
    else:
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(_table([[name, show(c["baseline"]), show(c["run"]), show(c["difference"]),
                       "-" if c["p_value"] is None else f"{c['p_value']:.3f}",
                       "REGRESSION" if c["regression"] else "ok"] for name, c in result.checks.items()],
                     ["figure", f"baseline {baseline}", f"run {args.run}", "run - baseline", "p (one-sided)",
                      "verdict"]))
        reasons = [f"{', '.join(result.regressions)} regressed"] if result.regressions else []
        reasons += [result.incomplete] if result.incomplete else []
        print("gate: " + ("passed" if result.passed else f"FAILED ({'; '.join(reasons)})"))
        if audit:
            print(f"audit: {'passed' if audit['passed'] else 'FAILED'} ({audit['labeled_new_items']} labeled of "
                  f"{audit['new_items']} items new in {audit['dataset']} v{audit['dataset_version']}"
                  + (f"; {audit['reason']}" if audit["reason"] else "") + ")")
    return 0 if result.passed and (audit is None or audit["passed"]) else 1


def _card(store, args) -> int:
    if args.output:
        for path in write_card(store, args.judge, args.output, criterion=args.criterion, n_boot=args.boot,
                               seed=args.seed, force=args.force):
            print(path)
        return 0
    markdown, card = judge_card(store, args.judge, criterion=args.criterion, n_boot=args.boot, seed=args.seed)
    if args.json:
        _print_json(card)
    else:
        print(markdown)
    return 0


def _import_run(store, args) -> int:
    run_id = import_run(store, args.file, dataset=args.dataset, score_column=args.score_column, name=args.name,
                        reasoning_column=args.reasoning_column, id_column=args.id_column,
                        version_tag=args.version_tag, criterion=args.criterion)
    print(run_id)
    return 0


# -- parsers -------------------------------------------------------------------------------------------------
def _bootstrap_options(parser: argparse.ArgumentParser, *, json_flag: bool = True) -> None:
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print JSON (keys documented in the README)")
    parser.add_argument("--boot", type=int, default=1000, help="bootstrap resamples for the intervals (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed: the same seed gives the same intervals")


def register(sub) -> None:
    p = sub.add_parser("report", help="agreement of one run with the human labels")
    p.add_argument("--run", required=True, help="run id")
    p.add_argument("--slice", help="also show agreement per value of this metadata column, worst first")
    p.add_argument("--include-review", action="store_true",
                   help="count review labels (given while seeing the judge's answer) in every figure")
    _bootstrap_options(p)
    p.set_defaults(handler=_report)

    p = sub.add_parser("agreement", help="agreement between annotators on a dataset (the ceiling)")
    p.add_argument("--dataset", required=True)
    p.add_argument("--references", action="store_true",
                   help="also measure offline reference metrics and reference-judge runs against the labels")
    p.add_argument("--criterion", help="criterion whose labels to measure against (default: the dataset's only one)")
    _bootstrap_options(p)
    p.set_defaults(handler=_agreement)

    p = sub.add_parser("compare", help="two or more runs on the same items side by side")
    p.add_argument("runs", nargs="+", metavar="RUN")
    _bootstrap_options(p)
    p.set_defaults(handler=_compare)

    p = sub.add_parser("trend", help="one judge's runs over app versions, with regressions flagged")
    p.add_argument("--judge", required=True, help="judge (spec) name")
    p.add_argument("--criterion", help="the criterion of the runs to show (default: the one the judge was run on)")
    _bootstrap_options(p)
    p.set_defaults(handler=_trend)

    p = sub.add_parser("baseline", help="pin a run as a judge's baseline (without --run: show the pinned one)")
    p.add_argument("--judge", required=True, help="judge (spec) name")
    p.add_argument("--run", help="run id to pin")
    p.add_argument("--allow-failures", default=DEFAULT_ALLOWANCE, metavar="N|P%",
                   help=f"failed or missing verdicts accepted in the run (default {DEFAULT_ALLOWANCE})")
    p.set_defaults(handler=_baseline)

    p = sub.add_parser("gate", help="exit 1 when a run is significantly worse than the baseline (for CI)")
    p.add_argument("--run", required=True)
    p.add_argument("--baseline", help="baseline run id (default: the judge's pinned baseline)")
    p.add_argument("--allow-failures", default=DEFAULT_ALLOWANCE, metavar="N|P%",
                   help=f"failed or missing verdicts accepted in the run (default {DEFAULT_ALLOWANCE}); "
                        "beyond that the gate fails")
    p.add_argument("--require-audit", action="store_true",
                   help="also fail unless the judge's agreement was checked on the items new in this dataset version")
    p.add_argument("--audit-min-labels", type=int, default=20, help="labels the audit needs (default 20)")
    p.add_argument("--audit-min-agreement", type=float, help="minimum primary agreement figure on the audit")
    _bootstrap_options(p)
    p.set_defaults(handler=_gate)

    p = sub.add_parser("card", help="export a judge card (Markdown and JSON)")
    p.add_argument("--judge", required=True, help="judge (spec) name")
    p.add_argument("-o", "--output", metavar="DIR", help="write <judge>.card.md and .card.json into DIR")
    p.add_argument("--criterion", help="the criterion it was measured on (default: the one the judge was run on)")
    p.add_argument("--force", action="store_true", help="replace cards already in DIR")
    _bootstrap_options(p)
    p.set_defaults(handler=_card)

    p = sub.add_parser("import-run", help="store 1-5 scores produced elsewhere as a run")
    p.add_argument("file")
    p.add_argument("--dataset", required=True)
    p.add_argument("--score-column", required=True)
    p.add_argument("--name", required=True, help="the judge's name (used by trend, baseline and card)")
    p.add_argument("--reasoning-column")
    p.add_argument("--id-column", help="item id column (default: the dataset's id column)")
    p.add_argument("--version-tag", help="app version these scores belong to")
    p.add_argument("--criterion", help="criterion the scores grade (default: one named like the judge, else the "
                                       "dataset's only one)")
    p.set_defaults(handler=_import_run)
