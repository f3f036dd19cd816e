"""Keep the judge honest as the data moves: an audit of its agreement on each new dataset version.

When a new version of a dataset arrives, the items it added are data the judge was never checked on. An
audit is a small random sample of the version (`suggest_audit`: the `random` label-next design, so it
estimates without bias) labeled by people; `audit_status` measures the judge's agreement on the labeled
items new in that version (all items for a first version), and `judge gate --require-audit` fails a run
whose judge was not checked there (fewer than --audit-min-labels labels, or agreement below
--audit-min-agreement), saying so.
"""

from __future__ import annotations

from typing import Any

from judge.label_next import Suggestion, suggest

DEFAULT_AUDIT_LABELS = 20


def suggest_audit(store, dataset: str, criterion: str | None = None, *, n: int = DEFAULT_AUDIT_LABELS) -> list[Suggestion]:
    """A random audit sample of the latest version (seeded by the version, so everyone gets the same one)."""
    version = int(store.dataset(dataset)["version"])
    return suggest(store, dataset, criterion, n=n, strategy="random", seed=version)


def audit_status(store, run_id: str, *, min_labels: int = DEFAULT_AUDIT_LABELS,
                 min_agreement: float | None = None, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Whether the run's judge was checked on the items new in its dataset version: labels there, the
    criterion's primary figure (pass/fail kappa or quadratic kappa) with its interval, and why not when not."""
    from judge.reports.agreement import agreement_figures, paired_labels

    with store.transaction():
        run = store.report_run(run_id)
        both, _ = paired_labels(store, run)
        new = store.new_item_uids(run["dataset_id"])
    audited = both[both["item_uid"].isin(new)].reset_index(drop=True)
    section, name = ("pass_fail", "kappa") if run.get("scale") == "pass/fail" else ("scores", "quadratic_kappa")
    agreement = agreement_figures(audited, n_boot=n_boot, seed=seed)[section][name]
    where = f"{run['dataset']} v{run['dataset_version']}"
    if len(audited) < min_labels:
        reason = (f"the judge was checked on {len(audited)} labeled items new in {where}, fewer than {min_labels}: "
                  f"label an audit sample with `judge label-next --dataset {run['dataset']} --strategy random "
                  f"--seed {run['dataset_version']} --n {min_labels - len(audited)}`")
    elif min_agreement is not None and (agreement["value"] is None or agreement["value"] < min_agreement):
        shown = "undefined" if agreement["value"] is None else f"{agreement['value']:.3f}"
        reason = f"the judge's {name} on {where}'s new items is {shown}, below the required {min_agreement}"
    else:
        reason = None
    return {"dataset": run["dataset"], "dataset_version": run["dataset_version"], "new_items": len(new),
            "labeled_new_items": len(audited), "figure": f"{section}.{name}", "agreement": agreement,
            "min_labels": min_labels, "min_agreement": min_agreement, "passed": reason is None, "reason": reason}


def agreement_by_version(store, judge: str, *, criterion: str | None = None, n_boot: int = 1000,
                         seed: int = 0) -> list[dict[str, Any]]:
    """Per run of a judge (oldest first): its dataset and app version, and its agreement with people on that
    version's labeled items and on the items new in it, each with its interval: drift shows as a falling row."""
    from judge.reports.agreement import agreement_figures, paired_labels

    rows = []
    for record in store.spec_runs(judge, criterion).to_dict("records"):
        with store.transaction():
            run = store.report_run(record["id"])
            both, _ = paired_labels(store, run)
            new = store.new_item_uids(run["dataset_id"])
        section, name = ("pass_fail", "kappa") if run.get("scale") == "pass/fail" else ("scores", "quadratic_kappa")
        fresh = both[both["item_uid"].isin(new)].reset_index(drop=True)
        rows.append({"run": run["id"], "dataset": run["dataset"], "dataset_version": run["dataset_version"],
                     "app_version": record["version_tag"], "figure": f"{section}.{name}",
                     "labeled": len(both), "agreement": agreement_figures(both, n_boot=n_boot, seed=seed)[section][name],
                     "labeled_new": len(fresh),
                     "agreement_new": agreement_figures(fresh, n_boot=n_boot, seed=seed)[section][name]})
    return rows
