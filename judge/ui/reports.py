"""Cached report computations for the Align pages: recomputed only after a write to the store.

A report over many items takes a second or so; caching it keyed on the store's version keeps page reruns
(a click, a selection) instant while any new label or verdict still shows at once.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from judge import reports
from judge.criteria import is_missing
from judge.specs import builtin_specs
from judge.ui import computed


def report(name: str, *args: Any, **kwargs: Any) -> Any:
    """`judge.reports.<name>(store, ...)`, cached until the store changes."""
    return computed(getattr(reports, name), *args, **kwargs)


def figure_text(fig: dict[str, Any] | None, digits: int = 3, *, percent: bool = False) -> str:
    """A figure as '0.812' (or '81.2%' for a share), or 'n/a' when undefined (the interval text says why)."""
    if not fig or fig["value"] is None:
        return "n/a"
    return _number(fig["value"], digits, percent)


def interval_text(fig: dict[str, Any] | None, digits: int = 3, *, percent: bool = False) -> str:
    """'95% CI 0.72 to 0.88 · n=60' (with the few-labels warning when the figure carries it), why no
    interval was given, or why the figure is undefined."""
    if not fig:
        return ""
    if fig["value"] is None:
        return f"undefined: {fig['undefined']} · n={fig['n']:,}"
    if not fig["ci"]:
        refused = fig.get("interval_refused")
        return f"no interval: {refused} · n={fig['n']:,}" if refused else f"n={fig['n']:,}"
    low, high = fig["ci"]
    warning = "".join(f" · {text}" for text in (fig.get("warning"), fig.get("sample")) if text)
    return f"95% CI {_number(low, digits, percent)} to {_number(high, digits, percent)} · n={fig['n']:,}{warning}"


def _number(value: float, digits: int, percent: bool) -> str:
    return f"{value:.{max(digits - 2, 0)}%}" if percent else f"{value:.{digits}f}"


def grade_text(score: Any, passed: Any) -> str:
    """A grade as people read it: '4 (pass)', '2 (fail)', or 'pass' on a pass/fail criterion."""
    verdict = "" if is_missing(passed) else ("pass" if passed else "fail")
    if is_missing(score):
        return verdict or "–"
    return f"{int(score)} ({verdict})" if verdict else str(int(score))


def comparison_table(rows: list[dict[str, Any]], labels: dict[str, str]) -> pd.DataFrame:
    """compare_runs' rows as a table of readable columns and formatted values ('–' where a value is undefined)."""
    def text(value: Any, pattern: str) -> str:
        return "–" if value is None or value != value else pattern.format(value)

    return pd.DataFrame([{
        "Run": labels[r["run"]["id"]], "Labeled items": f"{r['labeled_items']:,}",
        "Quadratic kappa": figure_text(r["quadratic_kappa"]), "95% interval": interval_text(r["quadratic_kappa"]),
        "Pass/fail kappa": figure_text(r["pass_fail_kappa"]),
        "Recall of failures": figure_text(r["failure_recall"], percent=True),
        "Cost": text(r["cost_usd"], "${:,.2f}"), "Cost per 1k items": text(r["cost_per_1k_items"], "${:,.2f}"),
        "Kappa per $ per 1k": text(r["agreement_per_dollar"], "{:.2f}"),
        "p50 latency": text(r["latency_p50_ms"], "{:,.0f} ms"), "p95 latency": text(r["latency_p95_ms"], "{:,.0f} ms"),
        "Parse failures": text(r["parse_failure_rate"], "{:.1%}"),
    } for r in rows])


def takes_fewshot(run: dict[str, Any]) -> bool:
    """Few-shot examples only mean something to an LLM judge, not to reference, assertion, distilled or
    imported scores (`run` is a `Store.report_run` dict)."""
    if run["source"] != "judge":
        return False
    if run["spec"]:
        return run["spec"].get("kind", "llm") == "llm"
    builtin = builtin_specs().get(run["spec_name"])
    return builtin is not None and builtin.kind == "llm"


# (group, name) -> (readable name, shown as a percent)
FIGURE_NAMES = {
    ("scores", "quadratic_kappa"): ("Quadratic weighted kappa", False),
    ("scores", "linear_kappa"): ("Linear weighted kappa", False),
    ("scores", "exact_agreement"): ("Exact agreement", True),
    ("scores", "within_one_agreement"): ("Within 1 point", True),
    ("scores", "spearman_rho"): ("Spearman's rho", False),
    ("scores", "kendall_tau_b"): ("Kendall's tau-b", False),
    ("scores", "mae"): ("Mean absolute error (points)", False),
    ("scores", "mean_bias"): ("Mean bias, judge minus human (points)", False),
    ("pass_fail", "kappa"): ("Pass/fail kappa", False),
    ("pass_fail", "tpr"): ("Passes the judge passes (TPR)", True),
    ("pass_fail", "tnr"): ("Failures the judge fails (TNR)", True),
    ("pass_fail", "failure_precision"): ("Precision of failures", True),
    ("pass_fail", "failure_recall"): ("Recall of failures", True),
    ("pass_fail", "failure_f1"): ("F1 of failures", False),
    ("pass_fail", "false_failure_rate"): ("False failure rate", True),
    ("pass_fail", "mcc"): ("Matthews correlation", False),
}


def all_figures_table(result: dict[str, Any]) -> pd.DataFrame:
    """Every score and pass/fail figure of an agreement report with a readable name, value and interval."""
    rows = []
    for group in ("scores", "pass_fail"):
        for name, fig in result[group].items():
            if not isinstance(fig, dict) or "value" not in fig:
                continue
            title, percent = FIGURE_NAMES.get((group, name), (name.replace("_", " ").capitalize(), False))
            rows.append({"Figure": title, "Value": figure_text(fig, percent=percent),
                         "95% interval": interval_text(fig, percent=percent)})
    return pd.DataFrame(rows)


def version_agreement_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """`judge.audit.agreement_by_version` as a table a person reads: version, items, figure and interval."""
    return pd.DataFrame([{
        "Dataset": f"{r['dataset']} v{r['dataset_version']}", "App version": r["app_version"] or "",
        "Figure": FIGURE_NAMES.get(tuple(r["figure"].split(".", 1)), (r["figure"], False))[0],
        "Labeled items": r["labeled"], "Agreement": figure_text(r["agreement"]),
        "95% interval": interval_text(r["agreement"]), "Labeled new items": r["labeled_new"],
        "On new items": figure_text(r["agreement_new"]), "95% interval (new)": interval_text(r["agreement_new"]),
    } for r in rows])
