"""Judge Workbench: build an LLM-as-a-judge evaluator that agrees with your people, then use it.

The public Python API; everything not listed here is an implementation detail.
"""

from judge.errors import JudgeError, NotFound, StoreBusy
from judge.store import Store

__all__ = ["JudgeError", "NotFound", "Store", "StoreBusy"]
