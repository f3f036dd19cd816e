"""Judge Workbench: build an LLM-as-a-judge evaluator that agrees with your people, then use it.

The public Python API; everything not listed here is an implementation detail.
"""

from judge.distill import distill_judge
from judge.errors import ImportFailed, JudgeError, NotFound, StoreBusy
from judge.exporting import export_bytes, export_frame
from judge.importing import ImportResult, detect_columns, import_file, import_labels, read_table
from judge.improve import automatic_candidates, corrections, heldout_split, promote, score_candidates
from judge.offline import OfflineVerdict, score_offline
from judge.parsing import ParseFailure, parse_verdict
from judge.providers import get_provider
from judge.reports import (
    GateResult, agreement_report, compare_runs, gate, human_agreement, import_run, judge_card, trend,
)
from judge.specs import JudgeSpec, builtin_specs, examples_from_labels, load_spec
from judge.store import Store

__all__ = [
    "GateResult",
    "ImportFailed",
    "ImportResult",
    "JudgeError",
    "JudgeSpec",
    "NotFound",
    "OfflineVerdict",
    "ParseFailure",
    "Store",
    "StoreBusy",
    "agreement_report",
    "automatic_candidates",
    "builtin_specs",
    "compare_runs",
    "corrections",
    "detect_columns",
    "distill_judge",
    "examples_from_labels",
    "export_bytes",
    "export_frame",
    "gate",
    "get_provider",
    "heldout_split",
    "human_agreement",
    "import_file",
    "import_labels",
    "import_run",
    "judge_card",
    "load_spec",
    "parse_verdict",
    "promote",
    "read_table",
    "score_candidates",
    "score_offline",
    "trend",
]
