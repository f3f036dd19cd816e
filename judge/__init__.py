"""Judge Workbench: build an LLM-as-a-judge evaluator that agrees with your people, then use it.

The public Python API; everything not listed here is an implementation detail.
"""

from judge.errors import JudgeError, NotFound, StoreBusy
from judge.offline import OfflineVerdict, score_offline
from judge.parsing import ParseFailure, parse_verdict
from judge.providers import get_provider
from judge.specs import JudgeSpec, builtin_specs, examples_from_labels, load_spec
from judge.store import Store

__all__ = [
    "JudgeError",
    "JudgeSpec",
    "NotFound",
    "OfflineVerdict",
    "ParseFailure",
    "Store",
    "StoreBusy",
    "builtin_specs",
    "examples_from_labels",
    "get_provider",
    "load_spec",
    "parse_verdict",
    "score_offline",
]
