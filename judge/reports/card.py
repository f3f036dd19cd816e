"""A judge card: what a judge is, what it was measured on, and how far it agrees with people. For sharing."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from judge.errors import NotFound
from judge.outputs import check_output, write_output
from judge.reports.agreement import agreement_report
from judge.reports.trends import judge_runs

CARD_FIGURES = (
    ("scores", "quadratic_kappa", "Quadratic-weighted kappa"),
    ("scores", "exact_agreement", "Exact agreement"),
    ("scores", "within_one_agreement", "Within-1 agreement"),
    ("scores", "spearman_rho", "Spearman rho"),
    ("scores", "mean_bias", "Mean bias (judge - human)"),
    ("pass_fail", "kappa", "Pass/fail kappa"),
    ("pass_fail", "failure_recall", "Recall of failures"),
    ("pass_fail", "false_failure_rate", "False-failure rate"),
)


def card_figures(scale: str) -> list[tuple[str, str, str]]:
    """The card's figures, the criterion's own first: a pass/fail criterion has no 1-5 human scores."""
    if scale == "pass/fail":
        return [f for f in CARD_FIGURES if f[0] == "pass_fail"]
    return list(CARD_FIGURES)


def _measured_run(store, spec_name: str, criterion: str | None) -> str:
    """The pinned baseline (of that criterion), else the newest run of the judge on the criterion."""
    pinned = store.baseline_run(spec_name)
    if pinned and (criterion is None or store.report_run(pinned)["criterion"] == criterion):
        return pinned
    try:
        runs = judge_runs(store, spec_name, criterion)
    except NotFound as exc:
        raise NotFound(f"{exc} A card measures a judge's runs on a labeled dataset.") from None
    return str(runs["id"].iloc[-1])


def judge_card(store, spec_name: str, *, criterion: str | None = None, n_boot: int = 1000,
               seed: int = 0) -> tuple[str, dict[str, Any]]:
    """(Markdown, JSON-ready dict) describing the judge and its measured agreement with intervals, on one
    criterion (default: the one its runs were measured on)."""
    run_id = _measured_run(store, spec_name, criterion)
    report = agreement_report(store, run_id, n_boot=n_boot, seed=seed)
    card = {
        "judge": spec_name,
        "spec_version": report["run"]["spec_version"],
        "spec": store.report_run(run_id)["spec"],
        "model": report["run"]["model"],
        "criterion": report["criterion"],
        "measured_on": {"run": run_id, "dataset": report["run"]["dataset"],
                        "dataset_version": report["run"]["dataset_version"], **report["labels"]},
        "agreement": {f"{group}.{key}": report[group][key]
                      for group, key, _ in card_figures(report["criterion"]["scale"])},
        "human_ceiling": report["human_ceiling"]["krippendorff_alpha"],
        "corrected_pass_rate": report["pass_rate"]["corrected"],
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return _markdown(card), card


def _show(fig: dict[str, Any]) -> str:
    if fig["value"] is None:
        return f"undefined ({fig['undefined']})"
    ci = f" [{fig['ci'][0]:.3f}, {fig['ci'][1]:.3f}]" if fig["ci"] else ""
    note = fig.get("warning") or (fig.get("interval_refused") and f"no interval: {fig['interval_refused']}")
    return f"{fig['value']:.3f}{ci}" + (f" ({note})" if note else "")


def _markdown(card: dict[str, Any]) -> str:
    measured = card["measured_on"]
    spec = card["spec"]
    lines = [
        f"# Judge card: {card['judge']}",
        "",
        f"- Spec version: {card['spec_version']}  ",
        f"- Model: {card['model'] or 'none (offline judge)'}  ",
        f"- Kind: {spec.get('kind', 'llm')}, pass threshold {measured['pass_threshold']}  ",
        f"- Criterion: {card['criterion']['name']} ({card['criterion']['scale']}"
        + (f", rubric v{card['criterion']['rubric_version']}" if card['criterion']['rubric_version'] else "")
        + f"): {spec.get('criteria') or '-'}",
        "",
        "## Measured on",
        "",
        f"Run `{measured['run']}` on dataset {measured['dataset']} v{measured['dataset_version']}: "
        f"{measured['items']} labeled items ({measured['adjudicated']} adjudicated, "
        f"{measured['excluded_fewshot']} few-shot examples left out). Labels hash `{measured['hash']}`.",
        "",
        f"Labels rule: {measured['rule']}.",
        "",
        "## Agreement with people (95% intervals: Wilson for rates and shares, Dirichlet-bootstrap otherwise)",
        "",
        "| Figure | Value [95% CI] | n |",
        "|---|---|---|",
    ]
    for group, key, title in card_figures(card["criterion"]["scale"]):
        fig = card["agreement"][f"{group}.{key}"]
        lines.append(f"| {title} | {_show(fig)} | {fig['n']} |")
    ceiling = card["human_ceiling"]
    lines.append(f"| Human-human Krippendorff's alpha (ceiling) | {_show(ceiling)} | {ceiling['n']} |")
    lines.append(f"| Corrected pass rate | {_show(card['corrected_pass_rate'])} | "
                 f"{card['corrected_pass_rate']['n']} |")
    lines += ["", f"Generated {card['generated_at']} by Judge Workbench.", ""]
    return "\n".join(lines)


def write_card(store, spec_name: str, directory: str | Path, *, criterion: str | None = None, n_boot: int = 1000,
               seed: int = 0, force: bool = False) -> list[Path]:
    """Write <judge>.card.md and <judge>.card.json into `directory`; returns the two paths. Existing cards
    are replaced only with `force`; neither is ever written over the store's files (judge.outputs)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    md_path, json_path = directory / f"{spec_name}.card.md", directory / f"{spec_name}.card.json"
    for path in (md_path, json_path):
        check_output(path, store_path=store.path, force=force)
    markdown, card = judge_card(store, spec_name, criterion=criterion, n_boot=n_boot, seed=seed)
    write_output(md_path, markdown, store_path=store.path, force=force)
    write_output(json_path, json.dumps(card, indent=2, default=str), store_path=store.path, force=force)
    return [md_path, json_path]
