"""Helpers of the Run page: model choices, the cached estimate, launching background runs, the live view.

Runs started here execute in a thread of the server process (judge.runner.run_in_background), so they go on
when the browser closes; the page only ever reads their progress from the store.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from judge.runner import estimate_run, run_in_background, start_run
from judge.runner.costs import run_savings
from judge.specs import JudgeSpec, builtin_specs
from judge.ui import computed, get_store, read
from judge.ui.judges import secrets
from judge.ui.run_labels import model_text

# Offered in the model picker besides the judge's own model; any other provider/model can be typed.
SUGGESTED_MODELS = ("openai/gpt-4.1-mini", "openai/gpt-4o-mini", "openai/gpt-4.1", "anthropic/claude-3-5-haiku-latest",
                    "anthropic/claude-sonnet-4-0")
# Column -> heading shown on the page.
RUN_COLUMNS = {"spec_name": "Judge", "criterion": "Criterion", "model": "Model", "dataset": "Dataset", "version_tag": "App version",
               "status": "Status", "done": "Verdicts", "failed": "Failed", "mean_score": "Mean score",
               "pass_rate": "Pass rate", "cost_usd": "Cost", "created_at": "Started", "id": "Run id"}
VERDICT_COLUMNS = {"item_id": "Item", "sample": "Sample", "score": "Score", "passed": "Passed",
                   "reasoning": "Reasoning", "error": "Failure", "cached": "From cache", "latency_ms": "Latency",
                   "cost_usd": "Cost"}
MODES = {"now": "Now", "batch": "Batch: 50% cheaper, results within 24 h"}
BATCH_COLUMNS = {"round": "Round", "batch_id": "Provider batch", "status": "Status",
                 "provider_status": "Provider status", "requests": "Requests", "stored": "Verdicts",
                 "resent": "Sent again", "canceled": "Canceled"}
STATUS_ICONS = {"pending": ":material/schedule:", "running": ":material/progress_activity:",
                "done": ":material/check_circle:", "cancelled": ":material/cancel:", "failed": ":material/error:",
                "interrupted": ":material/pause_circle:"}


def judge_choices() -> dict[str, tuple[str, str]]:
    """Menu label -> ("saved" | "builtin", name); saved judges first."""
    saved = read("specs")
    choices = {f"{row.name} (saved v{row.version})": ("saved", row.name) for row in saved.itertuples()}
    for name, spec in builtin_specs().items():
        choices.setdefault(f"{name} (built-in)", ("builtin", name))
    return choices


def load_choice(choice: tuple[str, str]) -> JudgeSpec:
    source, name = choice
    return JudgeSpec.from_dict(read("spec_body", name)) if source == "saved" else builtin_specs()[name]


def model_options(spec: JudgeSpec) -> list[str]:
    return list(dict.fromkeys([m for m in (spec.model,) if m] + list(SUGGESTED_MODELS)))


def typed_models(text: str) -> list[str]:
    """provider/model names typed free-form, separated by commas or new lines."""
    return [m.strip() for m in text.replace("\n", ",").split(",") if m.strip()]


def _estimate(store, dataset: str, spec_json: str, model: str | None, base_url: str | None,
              samples: int) -> dict[str, Any]:
    estimate = estimate_run(store, dataset=dataset, spec=JudgeSpec.from_json(spec_json), model=model,
                            base_url=base_url, samples=samples)
    cost = "cost unknown" if estimate.est_cost_usd is None else f"about ${estimate.est_cost_usd:,.2f}"
    batch = "batch, 50% cheaper, results within 24 h" + \
        ("" if estimate.batch_cost_usd is None else f": about ${estimate.batch_cost_usd:,.2f}")
    return {"calls": estimate.calls, "cached": estimate.cached, "cost": cost, "batch": batch,
            "text": estimate.describe()}


def estimate(dataset: str, spec: JudgeSpec, model: str | None, base_url: str | None, samples: int) -> dict[str, Any]:
    """The run estimate, recomputed only when the store or the inputs change."""
    return computed(_estimate, dataset, spec.to_json(), model, base_url, samples)


def launch(dataset: str, spec: JudgeSpec, models: list[str | None], *, base_url: str | None, concurrency: int,
           samples: int, version_tag: str | None, criterion: str | None = None, batch: bool = False) -> list[str]:
    """Create one run per model (all validated before any starts), then execute each in the background."""
    store = get_store()
    keys = secrets()
    run_ids = [start_run(store, dataset=dataset, spec=spec, model=model, base_url=base_url, concurrency=concurrency,
                         samples=samples, version_tag=version_tag, secrets=keys, criterion=criterion, batch=batch)
               for model in models]
    for run_id in run_ids:
        run_in_background(store, run_id, secrets=keys)
    return run_ids


def runs_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs list as a person reads it: named columns, "offline" for runs without a model, no blank cost."""
    table = runs[list(RUN_COLUMNS)].copy()
    table["model"] = table["model"].map(model_text)
    table["dataset"] = table["dataset"] + " v" + runs["dataset_version"].astype(str)
    table["version_tag"] = table["version_tag"].fillna("")
    table["cost_usd"] = [None if model_text(m) == "offline" else c for m, c in zip(runs["model"], runs["cost_usd"])]
    return table.rename(columns=RUN_COLUMNS)


def verdicts_table(verdicts: pd.DataFrame) -> pd.DataFrame:
    table = verdicts[list(VERDICT_COLUMNS)].copy()
    table["error"] = table["error"].fillna("")
    table["reasoning"] = table["reasoning"].fillna("")
    return table.rename(columns=VERDICT_COLUMNS)


def cost_text(cost: float | None, model: str | None) -> str:
    if model_text(model) == "offline":
        return "free (offline)"
    return "unknown" if cost is None or cost != cost else f"${cost:,.4f}"


def batches_table(run_id: str) -> pd.DataFrame:
    """The provider batches of a run (none for a direct run), read fresh: they change without a store write."""
    return get_store().run_batches(run_id)[list(BATCH_COLUMNS)].rename(columns=BATCH_COLUMNS)


def savings_text(run: dict[str, Any]) -> str:
    """What prompt caching and batch prices saved this run ("" when neither applied)."""
    text = run_savings(get_store(), run).describe()
    return text[0].upper() + text[1:] if text else ""
