"""Agreement reports: how far a judge agrees with people, compared with other judges and over app versions.

Every figure is a dict {"value", "ci": [low, high], "n", "undefined"}: a 95% bootstrap interval over items
(seeded, so reproducible) or, when the metric has no value on these labels, the reason why.
"""

from judge.reports.agreement import agreement_by_slice, agreement_report, human_agreement
from judge.reports.card import judge_card, write_card
from judge.reports.compare import compare_runs
from judge.reports.imported import import_run
from judge.reports.passrate import sample_size_advice, true_pass_rate
from judge.reports.references import reference_agreement
from judge.reports.trends import GateResult, gate, pin_baseline, trend

__all__ = [
    "GateResult", "agreement_by_slice", "agreement_report", "compare_runs", "gate", "human_agreement",
    "import_run", "judge_card", "pin_baseline", "reference_agreement", "sample_size_advice", "trend",
    "true_pass_rate", "write_card",
]
