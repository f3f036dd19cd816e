"""Offline judges: no key, no network, declarative only (never arbitrary code from the UI).

Two kinds:
- `assertion`: a list of checks, as in EvalGen (Shankar et al., 2024), each pass/fail on the output. The share
  of checks passed maps to 1-5 by `ASSERTION_THRESHOLDS`.
- `reference`: the output compared with the item's reference by one metric, mapped to 1-5 by
  `REFERENCE_THRESHOLDS` (continuous metrics) or all-or-nothing (exact, normalized). An item without a
  reference gets the error "no reference" and no score: never a made-up one.

Check objects (`type` plus its fields; an optional `name` labels it in the reasoning):
    regex_present / regex_absent   {"pattern": "..."}      Python regex, searched in the output
    contains / not_contains        {"value": "...", "case_sensitive": false}
    max_length                     {"max": 500, "unit": "chars" | "words"}
    valid_json                     {}
    json_schema                    {"schema": {...}}        JSON Schema, checked with the jsonschema library
    json_path_equals_reference     {"path": "$.a.b[0]"}    the value at path equals the reference's
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jsonschema
import re2
import referencing
import referencing.exceptions

from judge.errors import InvalidSpec
from judge.similarity import (
    ROUGE_METRICS,
    exact_match,
    json_differences,
    json_leaf_f1,
    normalized_match,
    parse_json,
    rouge,
    token_f1,
)

if TYPE_CHECKING:  # offline judges read a spec; they never import judge.specs (which imports them)
    from judge.specs import JudgeSpec

# Share of checks passed -> score: the first row whose minimum the share reaches.
ASSERTION_THRESHOLDS: tuple[tuple[float, int], ...] = ((1.0, 5), (0.75, 4), (0.5, 3), (0.25, 2), (0.0, 1))
# A 0-1 similarity (token F1, ROUGE-L F1, JSON leaf F1) -> score, the same way.
REFERENCE_THRESHOLDS: tuple[tuple[float, int], ...] = ((0.9, 5), (0.7, 4), (0.5, 3), (0.3, 2), (0.0, 1))
# How many JSON differences the reasoning lists.
MAX_DIFFERENCES_SHOWN = 5

CHECK_FIELDS: dict[str, tuple[str, ...]] = {
    "regex_present": ("pattern",),
    "regex_absent": ("pattern",),
    "contains": ("value",),
    "not_contains": ("value",),
    "max_length": ("max",),
    "valid_json": (),
    "json_schema": ("schema",),
    "json_path_equals_reference": ("path",),
}

# User patterns run on RE2: linear time in the text, so no pattern can hang a run ("^(a+)+$" on "a"*34 + "!"
# takes microseconds). RE2 has no lookaround or backreferences; such a pattern is refused at validation.
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the error comes back in the exception, not on stderr
_RE2_OPTIONS.max_mem = 64 << 20

_PATH_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[['\"]([^'\"]+)['\"]\]")


@dataclass(frozen=True)
class OfflineVerdict:
    score: int | None
    reasoning: str
    passed: bool | None
    error: str | None = None


def score_offline(spec: JudgeSpec, item: dict[str, Any]) -> OfflineVerdict:
    """The verdict of an assertion or reference spec on one item (keys input/output/context/reference)."""
    if spec.kind == "assertion":
        return _score_assertions(spec, item)
    if spec.kind == "reference":
        return _score_reference(spec, item)
    raise InvalidSpec(f"Judge '{spec.name}' is an LLM judge; run it with `judge run`, not offline.")


def score_from_share(share: float, thresholds: tuple[tuple[float, int], ...]) -> int:
    """Map a 0-1 value to 1-5 by a thresholds table (first minimum reached wins)."""
    for minimum, score in thresholds:
        if share >= minimum - 1e-12:
            return score
    return thresholds[-1][1]


def validate_checks(checks: list[dict], *, who: str = "A judge") -> None:
    """InvalidSpec naming the first malformed check; a regex that does not compile counts as malformed."""
    if not checks:
        raise InvalidSpec(f"{who}: an assertion judge needs at least one check. Types: {', '.join(CHECK_FIELDS)}.")
    for number, check in enumerate(checks, 1):
        kind = check.get("type") if isinstance(check, dict) else None
        if kind not in CHECK_FIELDS:
            raise InvalidSpec(f"{who}: check {number} has type {kind!r}; use one of {', '.join(CHECK_FIELDS)}.")
        missing = [name for name in CHECK_FIELDS[kind] if check.get(name) in (None, "")]
        if missing:
            raise InvalidSpec(f"{who}: check {number} ({kind}) needs {', '.join(missing)}.")
        if kind.startswith("regex"):
            user_regex(check["pattern"], who=f"{who}: check {number}")
        if kind == "max_length":
            if check.get("unit", "chars") not in ("chars", "words"):
                raise InvalidSpec(f"{who}: check {number} unit must be 'chars' or 'words'.")
            if isinstance(check["max"], bool) or not isinstance(check["max"], int) or check["max"] < 0:
                raise InvalidSpec(f"{who}: check {number} max must be a whole number >= 0.")
        if kind == "json_schema":
            schema = check["schema"]
            if isinstance(schema, dict) and "$schema" in schema and \
                    jsonschema.validators.validator_for(schema, default=None) is None:
                raise InvalidSpec(f"{who}: check {number} names an unknown $schema {schema['$schema']!r}; drop it "
                                  "or name a JSON Schema draft, e.g. https://json-schema.org/draft/2020-12/schema.")
            try:
                jsonschema.validators.validator_for(check["schema"]).check_schema(check["schema"])
            except jsonschema.SchemaError as exc:
                raise InvalidSpec(f"{who}: check {number} has an invalid JSON schema: {exc.message}.") from None
            remote = _remote_refs(check["schema"])
            if remote:
                raise InvalidSpec(f"{who}: check {number} has a JSON schema that refers outside itself "
                                  f"({', '.join(sorted(remote))}): offline judges never open a connection. "
                                  "Copy the referenced schema into $defs and refer to it as #/$defs/NAME.")
        if kind == "json_path_equals_reference":
            _path_steps(check["path"])


# An empty registry with no `retrieve`: a $ref outside the schema fails instead of being fetched from the web
# (jsonschema's default still downloads http(s) refs, which made a judge run a request forgery).
_NO_RETRIEVAL: referencing.Registry = referencing.Registry()
_REF_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")


def _remote_refs(schema: Any) -> set[str]:
    """$refs that do not point inside the schema: anything but a '#...' fragment or a declared $id."""
    refs: set[str] = set()
    ids: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _REF_KEYWORDS and isinstance(value, str):
                    refs.add(value)
                elif key in ("$id", "id") and isinstance(value, str):
                    ids.add(value.split("#", 1)[0])
                else:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return {ref for ref in refs if not ref.startswith("#") and ref.split("#", 1)[0] not in ids}


# -- assertions -------------------------------------------------------------------------------------
def _score_assertions(spec: JudgeSpec, item: dict[str, Any]) -> OfflineVerdict:
    validate_checks(spec.checks, who=f"Judge '{spec.name}'")
    output = "" if item.get("output") is None else str(item["output"])
    needs_reference = any(check["type"] == "json_path_equals_reference" for check in spec.checks)
    if needs_reference and _blank(item.get("reference")):
        return OfflineVerdict(None, "", None, "no reference")
    lines, passed_count = [], 0
    for check in spec.checks:
        ok, detail = _run_check(check, output, item.get("reference"))
        passed_count += ok
        label = check.get("name") or check["type"]
        lines.append(f"{'PASS' if ok else 'FAIL'} {label}" + (f": {detail}" if detail else ""))
    share = passed_count / len(spec.checks)
    score = score_from_share(share, ASSERTION_THRESHOLDS)
    reasoning = f"{passed_count} of {len(spec.checks)} checks passed ({share:.0%}) -> {score}.\n" + "\n".join(lines)
    return OfflineVerdict(score, reasoning, score >= spec.pass_threshold)


@lru_cache(maxsize=256)
def user_regex(pattern: str, *, who: str = "A judge") -> Any:
    """The pattern compiled by RE2 (linear-time matching); InvalidSpec if it is malformed or needs a
    backtracking feature (lookahead, lookbehind, backreferences) that could take exponential time."""
    if not isinstance(pattern, str):
        raise InvalidSpec(f"{who} has a regex that is not a string: {pattern!r}.")
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        hint = ""
        if re.search(r"\(\?<?[=!]|\\[1-9]", pattern):
            hint = (" Lookahead, lookbehind and backreferences are not supported: they can take exponential "
                    "time; split the check in two (regex_present + regex_absent) instead.")
        raise InvalidSpec(f"{who} has an invalid regex {pattern!r} (or one RE2 cannot run): {reason}.{hint}") from None


def _run_check(check: dict, output: str, reference: Any) -> tuple[bool, str]:
    kind = check["type"]
    if kind in ("regex_present", "regex_absent"):
        found = user_regex(check["pattern"]).search(output) is not None
        return found == (kind == "regex_present"), ("pattern found" if found else "pattern not found")
    if kind in ("contains", "not_contains"):
        value, text = str(check["value"]), output
        if not check.get("case_sensitive", False):
            value, text = value.lower(), text.lower()
        found = value in text
        return found == (kind == "contains"), f"{check['value']!r} {'found' if found else 'not found'}"
    if kind == "max_length":
        unit = check.get("unit", "chars")
        length = len(output.split()) if unit == "words" else len(output)
        return length <= check["max"], f"{length} {unit} (max {check['max']})"
    parsed, error = parse_json(output)
    if kind == "valid_json":
        return error is None, error or ""
    if error is not None:
        return False, f"output is not valid JSON ({error})"
    if kind == "json_schema":
        validator = jsonschema.validators.validator_for(check["schema"])(check["schema"], registry=_NO_RETRIEVAL)
        try:
            problem = jsonschema.exceptions.best_match(validator.iter_errors(parsed))
        except referencing.exceptions.Unresolvable as exc:
            return False, f"the schema's $ref {getattr(exc, 'ref', '')!r} is not inside the schema"
        return problem is None, "" if problem is None else f"{problem.json_path}: {problem.message}"
    expected_doc, ref_error = parse_json(str(reference))
    if ref_error is not None:
        return False, f"reference is not valid JSON ({ref_error})"
    steps = _path_steps(check["path"])
    got, got_found = _at_path(parsed, steps)
    expected, expected_found = _at_path(expected_doc, steps)
    if not expected_found:
        return False, f"{check['path']} not in the reference"
    if not got_found:
        return False, f"{check['path']} missing in the output"
    return got == expected, "" if got == expected else f"expected {expected!r}, got {got!r}"


def _path_steps(path: str) -> list[str | int]:
    """`$.a.b[0]` -> ["a", "b", 0]; InvalidSpec for anything else (no filters or wildcards)."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise InvalidSpec(f"A JSON path starts with $, e.g. $.filter.args[0].value (got {path!r}).")
    steps, position = [], 1
    while position < len(path):
        match = _PATH_STEP.match(path, position)
        if match is None:
            raise InvalidSpec(f"Unsupported JSON path {path!r}: use $.key, [index] or ['key'] steps only.")
        key, index, quoted = match.groups()
        steps.append(int(index) if index is not None else (key if key is not None else quoted))
        position = match.end()
    return steps


def _at_path(document: Any, steps: list[str | int]) -> tuple[Any, bool]:
    for step in steps:
        if isinstance(step, int) and isinstance(document, list) and step < len(document):
            document = document[step]
        elif isinstance(step, str) and isinstance(document, dict) and step in document:
            document = document[step]
        else:
            return None, False
    return document, True


# -- reference comparison ---------------------------------------------------------------------------
def _score_reference(spec: JudgeSpec, item: dict[str, Any]) -> OfflineVerdict:
    reference = item.get("reference")
    if _blank(reference):
        return OfflineVerdict(None, "", None, "no reference")
    output = "" if item.get("output") is None else str(item["output"])
    reference = str(reference)
    metric = spec.reference_metric
    if metric in ("exact", "normalized"):
        match = (exact_match if metric == "exact" else normalized_match)(reference, output)
        score = 5 if match else 1
        reasoning = f"{'Matches' if match else 'Does not match'} the reference ({metric} comparison) -> {score}."
    elif metric == "token_f1" or metric in ROUGE_METRICS:
        value = token_f1(reference, output) if metric == "token_f1" else rouge(reference, output, metric)
        score = score_from_share(value, REFERENCE_THRESHOLDS)
        reasoning = f"{metric} = {value:.3f} against the reference -> {score}."
    elif metric == "json_equivalence":
        return _score_json(spec, reference, output)
    else:
        raise InvalidSpec(f"Judge '{spec.name}' has an unknown reference_metric {metric!r}.")
    return OfflineVerdict(score, reasoning, score >= spec.pass_threshold)


def _score_json(spec: JudgeSpec, reference: str, output: str) -> OfflineVerdict:
    expected, ref_error = parse_json(reference)
    if ref_error is not None:
        return OfflineVerdict(None, "", None, f"reference is not valid JSON ({ref_error})")
    got, error = parse_json(output)
    if error is not None:
        return OfflineVerdict(1, f"The output is not valid JSON ({error}) -> 1.", 1 >= spec.pass_threshold)
    differences = json_differences(expected, got)
    if not differences:
        return OfflineVerdict(5, "Structurally equivalent to the reference -> 5.", 5 >= spec.pass_threshold)
    similarity = json_leaf_f1(expected, got)
    score = min(4, score_from_share(similarity, REFERENCE_THRESHOLDS))
    shown = differences[:MAX_DIFFERENCES_SHOWN]
    more = len(differences) - len(shown)
    reasoning = (
        f"{len(differences)} difference{'s' if len(differences) > 1 else ''} from the reference; "
        f"leaf F1 = {similarity:.3f} -> {score}.\n" + "\n".join(shown) + (f"\n... and {more} more" if more else "")
    )
    return OfflineVerdict(score, reasoning, score >= spec.pass_threshold)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or not str(value).strip()
