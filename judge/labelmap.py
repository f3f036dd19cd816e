"""Categorical human labels mapped onto pass/fail or a 1-5 score at import, with a stated, stored mapping.

    --label-map Consistent=pass,Benign=pass,Questionable=fail,Unwanted=fail     # onto the passed role
    --label-map A=5,B=3,C=1                                                      # onto the score role

The map is stored with the dataset version (its column_map), so the labels can be reproduced from the file.
A value the map does not name is an error for that row and column, never a silent gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from judge.errors import JudgeError

_PASS_TARGETS = {"pass": True, "passed": True, "true": True, "yes": True,
                 "fail": False, "failed": False, "false": False, "no": False}
_SCORE_TARGETS = {str(n): n for n in range(1, 6)}


@dataclass(frozen=True)
class LabelMap:
    """`values` maps each label as written in the file onto True/False (role passed) or 1-5 (role score)."""

    role: str
    values: dict[str, Any]

    @classmethod
    def parse(cls, text: str) -> LabelMap:
        """Read `LABEL=TARGET,LABEL=TARGET`; every target is pass/fail (or true/false, yes/no) or every one 1-5."""
        pairs: dict[str, str] = {}
        for part in (p for p in str(text).split(",") if p.strip()):
            label, sep, target = part.rpartition("=")
            label, target = label.strip(), target.strip().lower()
            if not sep or not label or not target:
                raise JudgeError(f"--label-map takes LABEL=TARGET pairs separated by commas (e.g. "
                                 f"Consistent=pass,Unwanted=fail or A=5,B=1), not '{part.strip()}'.")
            if label in pairs:
                raise JudgeError(f"--label-map names '{label}' twice; give each label one target.")
            pairs[label] = target
        if not pairs:
            raise JudgeError("--label-map is empty; give LABEL=TARGET pairs such as Consistent=pass,Unwanted=fail.")
        if all(t in _PASS_TARGETS for t in pairs.values()):
            return cls("passed", {label: _PASS_TARGETS[t] for label, t in pairs.items()})
        if all(t in _SCORE_TARGETS for t in pairs.values()):
            return cls("score", {label: _SCORE_TARGETS[t] for label, t in pairs.items()})
        raise JudgeError("--label-map targets must all be pass/fail or all be whole scores 1-5, not "
                         f"{', '.join(sorted(set(pairs.values())))}.")

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> LabelMap:
        return cls(stored["role"], dict(stored["values"]))

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "values": dict(self.values)}

    def describe_role(self) -> str:
        return "pass/fail values" if self.role == "passed" else "1-5 scores"

    def apply(self, label: str | None) -> Any:
        """The target of one cell's label (None stays None); ValueError naming the label when it is unmapped."""
        if label is None:
            return None
        if label in self.values:
            return self.values[label]
        folded = {k.casefold(): v for k, v in self.values.items()}
        if label.casefold() in folded:
            return folded[label.casefold()]
        raise ValueError(f"the label '{label}' is not in the label map (it maps {', '.join(self.values)}); add "
                         f"it, e.g. --label-map ...,{label}={'pass' if self.role == 'passed' else '3'}.")
