"""Judge Workbench: build an LLM-as-a-judge evaluator that agrees with your people, then use it.

The public Python API; everything not listed here is an implementation detail. Names load on first use
(PEP 562), so `import judge` and every `judge` command start fast instead of importing scipy and the SDKs.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "judge.criteria": ["Criterion", "resolve_pass"],
    "judge.distill": ["distill_judge"],
    "judge.errors": ["ImportFailed", "JudgeError", "NotFound", "RunAborted", "StoreBusy"],
    "judge.exporting": ["export_bytes", "export_frame"],
    "judge.from_code": ["Judge", "Verdict", "load_judge"],
    "judge.funnel": ["Stage", "calibrate_funnel", "create_funnel", "list_funnels", "resume_funnel_run", "run_funnel"],
    "judge.funnel_report": ["funnel_report"],
    "judge.importing": ["ImportResult", "detect_columns", "explain_columns", "import_file", "import_labels",
                        "read_table"],
    "judge.labelmap": ["LabelMap"],
    "judge.improve": ["automatic_candidates", "corrections", "heldout_split", "promote", "score_candidates"],
    "judge.offline": ["OfflineVerdict", "score_offline"],
    "judge.pair_links": ["create_pair_link", "create_pair_task", "revoke_pair_link"],
    "judge.pairs": ["import_pairs", "pairs_from_versions", "record_preference"],
    "judge.pairwise": ["PairwiseSpec", "cancel_pairwise_run", "estimate_pairwise_run", "execute_pairwise_run",
                       "import_pairwise_run", "load_pairwise_spec", "run_pairwise", "start_pairwise_run"],
    "judge.parsing": ["ParseFailure", "parse_verdict"],
    "judge.providers": ["get_provider"],
    "judge.ranking": ["bradley_terry", "rank"],
    "judge.reports": [
        "GateResult", "agreement_report", "compare_runs", "gate", "human_agreement", "import_run", "judge_card",
        "pin_baseline", "trend",
    ],
    "judge.caching": ["cacheable_tokens", "static_prefix"],
    "judge.reports.pairwise": ["pairwise_report"],
    "judge.runner": ["Estimate", "RetryPolicy", "RunSummary", "cancel_run", "estimate_run", "execute_run",
                     "judge_items", "run_in_background", "start_run"],
    "judge.runner.costs": ["RunSavings", "run_savings"],
    "judge.specs": ["JudgeSpec", "builtin_specs", "examples_from_labels", "load_spec", "save_spec"],
    "judge.store": ["Store"],
    "judge.traces": ["import_traces"],
    "judge.verdict_export": ["export_verdicts", "verdict_frame"],
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'judge' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
