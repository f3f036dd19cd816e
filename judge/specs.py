"""A judge spec is data: what is judged, the 1-5 rubric, the prompt template and the model, as plain JSON.

Keeping specs as data (never code) lets them be stored with history, diffed, exported, imported and edited
from the dashboard safely. Templates use `{column}` variables rendered by a deliberately small renderer:
plain names only (no `{a.b}` attribute or `{a[0]}` index access, no conversions or format specs), so a
template can never reach into Python objects. `{{` and `}}` stand for literal braces.
"""

from __future__ import annotations

import hashlib
import json
import math
import string
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable


from judge.builtin_specs import BUILTIN_SPECS, DEFAULT_MODEL  # noqa: F401  (DEFAULT_MODEL: part of the public face)
from judge.criteria import is_missing
from judge.errors import InvalidSpec, NotFound
from judge.offline import validate_checks
from judge.similarity import ROUGE_METRICS

if TYPE_CHECKING:
    from judge.store import Store

KINDS = ("llm", "assertion", "reference")
REFERENCE_METRICS = ("exact", "normalized", "token_f1", *ROUGE_METRICS, "json_equivalence")
SCORES = ("1", "2", "3", "4", "5")

# Variables every item provides (missing optional fields render as "").
ITEM_VARIABLES = ("input", "output", "context", "reference", "item_id")
# Variables the spec itself provides.
SPEC_VARIABLES = ("criteria", "rubric", "examples")

_FORMATTER = string.Formatter()


def _default_params() -> dict[str, Any]:
    return {"temperature": 0, "max_tokens": 600}


@dataclass
class JudgeSpec:
    name: str
    kind: str = "llm"
    criteria: str = ""
    rubric: dict[str, str] = field(default_factory=dict)
    template: str = ""
    system: str | None = None
    examples: list[dict] = field(default_factory=list)
    model: str | None = None
    base_url: str | None = None
    params: dict = field(default_factory=_default_params)
    pass_threshold: int = 4
    checks: list[dict] = field(default_factory=list)
    reference_metric: str | None = None
    criterion: str | None = None

    @property
    def judged_criterion(self) -> str:
        """The criterion this judge grades, whose human labels it is measured on: named, else the spec's name."""
        return (self.criterion or "").strip() or self.name

    # -- template -----------------------------------------------------------------------------------
    def variables(self) -> set[str]:
        """The variable names the template uses; InvalidSpec if the template is malformed or unsafe."""
        return {name for _, name in _parse_template(self.template) if name is not None}

    def available_variables(self, columns: Iterable[str] | None = None) -> list[str]:
        """What a template may use against a dataset with these metadata columns."""
        return sorted(set(ITEM_VARIABLES) | set(SPEC_VARIABLES) | set(columns or ()))

    def render(self, item: dict[str, Any]) -> str:
        """The prompt for one item: item fields, its metadata columns, then {criteria} {rubric} {examples}.

        Few-shot examples are appended in their own block when the template has no {examples} slot, so
        adding examples never silently does nothing.
        """
        values: dict[str, str] = {key: _text(value) for key, value in (item.get("metadata") or {}).items()}
        values.update({key: _text(item.get(key)) for key in ITEM_VARIABLES})
        examples = render_examples(self.examples)
        values.update(criteria=self.criteria.strip(), rubric=render_rubric(self.rubric), examples=examples)
        parts = []
        for literal, name in _parse_template(self.template):
            parts.append(literal)
            if name is None:
                continue
            if name == "examples" and not examples and literal.endswith("\n\n"):
                # No examples: drop the blank lines around the empty slot instead of leaving a gap.
                parts[-1] = literal[:-2]
            if name not in values:
                raise InvalidSpec(
                    f"Judge '{self.name}': the template uses {{{name}}} but this item has no such field. "
                    f"Available: {', '.join(sorted(values))}."
                )
            parts.append(values[name])
        prompt = "".join(parts)
        if examples and "examples" not in self.variables():
            prompt = f"{prompt.rstrip()}\n\n{examples}"
        return prompt

    def template_hash(self) -> str:
        """Identifies what decides a verdict besides the model: the prompt parts, checks and metric."""
        parts = {key: getattr(self, key) for key in
                 ("kind", "criteria", "rubric", "template", "system", "examples", "checks", "reference_metric")}
        return _hash(parts)

    # -- validation ---------------------------------------------------------------------------------
    def validate(self, columns: Iterable[str] | None = None) -> "JudgeSpec":
        """Raise InvalidSpec saying what to fix; with a dataset's columns, unknown variables are errors too."""
        who = f"Judge '{self.name}'" if self.name else "A judge"
        if not str(self.name or "").strip():
            raise InvalidSpec("A judge needs a name.")
        if self.kind not in KINDS:
            raise InvalidSpec(f"{who}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}.")
        missing = [score for score in SCORES if not str(self.rubric.get(score, "")).strip()]
        extra = sorted(set(self.rubric) - set(SCORES))
        if missing or extra:
            raise InvalidSpec(
                f"{who}: the rubric needs a description for each score 1 to 5"
                + (f" (missing: {', '.join(missing)})" if missing else "")
                + (f" (unexpected keys: {', '.join(extra)})" if extra else "") + "."
            )
        if isinstance(self.pass_threshold, bool) or self.pass_threshold not in range(1, 6):
            raise InvalidSpec(f"{who}: the pass threshold must be a score from 1 to 5, not {self.pass_threshold!r}.")
        if not isinstance(self.params, dict):
            raise InvalidSpec(f"{who}: params must be a JSON object such as {{\"temperature\": 0}}.")
        for number, example in enumerate(self.examples, 1):
            _validate_example(who, number, example)
        used = self.variables()
        if self.kind == "llm":
            if not self.template.strip():
                raise InvalidSpec(f"{who}: an LLM judge needs a prompt template.")
            if "output" not in used:
                raise InvalidSpec(f"{who}: the template must include {{output}}, the response being judged.")
        if self.kind == "reference" and self.reference_metric not in REFERENCE_METRICS:
            raise InvalidSpec(
                f"{who}: a reference judge needs reference_metric, one of {', '.join(REFERENCE_METRICS)}"
                f" (got {self.reference_metric!r})."
            )
        if self.kind == "assertion":
            validate_checks(self.checks, who=who)
        if columns is not None:
            available = self.available_variables(columns)
            unknown = sorted(used - set(available))
            if unknown:
                raise InvalidSpec(
                    f"{who}: unknown template variable{'s' if len(unknown) > 1 else ''} "
                    f"{', '.join('{' + name + '}' for name in unknown)}. "
                    f"Available: {', '.join('{' + name + '}' for name in available)}. "
                    "Write {{ and }} for literal braces."
                )
        return self

    # -- serialization ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def body_hash(self) -> str:
        """Identifies the whole spec; saving an identical body again is a no-op."""
        return _hash(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "JudgeSpec":
        """Build a spec from JSON data; unknown keys are refused (they are usually typos)."""
        if not isinstance(data, dict):
            raise InvalidSpec(f"A judge spec is a JSON object, not {type(data).__name__}.")
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise InvalidSpec(f"Unknown judge spec field(s) {', '.join(unknown)}. Known fields: {', '.join(known)}.")
        if "name" not in data:
            raise InvalidSpec("A judge spec needs a name.")
        body = dict(data)
        if body.get("rubric") is None:
            body["rubric"] = {}
        if not isinstance(body["rubric"], dict):
            raise InvalidSpec("The rubric is an object mapping each score \"1\"..\"5\" to its description.")
        body["rubric"] = {str(key): str(value) for key, value in body["rubric"].items()}
        for key, default in (("examples", list), ("checks", list), ("params", _default_params)):
            if body.get(key) is None:
                body[key] = default()
        for key in ("criteria", "template"):
            body[key] = body.get(key) or ""
        if "pass_threshold" in body:
            body["pass_threshold"] = _as_int(body["pass_threshold"], "pass_threshold")
        return cls(**body)

    @classmethod
    def from_json(cls, text: str) -> "JudgeSpec":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidSpec(f"The judge spec is not valid JSON: {exc}.") from exc
        return cls.from_dict(data)


def render_rubric(rubric: dict[str, str]) -> str:
    return "\n".join(f"{score} - {rubric.get(score, '').strip()}" for score in SCORES)


def render_examples(examples: list[dict]) -> str:
    """Few-shot examples as graded cases in the exact reply format the judge must use."""
    if not examples:
        return ""
    blocks = ["Examples of graded responses (follow the same standard):"]
    for number, example in enumerate(examples, 1):
        lines = [f"### Example {number}"]
        for key, title in (("input", "Input"), ("context", "Context"), ("reference", "Reference"),
                           ("output", "Response")):
            if example.get(key) not in (None, ""):
                lines.append(f"{title}:\n{_text(example[key])}")
        verdict = {"reasoning": str(example.get("reasoning") or ""), "score": int(example["score"])}
        lines.append(f"Verdict: {json.dumps(verdict, ensure_ascii=False)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def examples_from_labels(store: "Store", spec_name: str, dataset_id: int) -> list[dict]:
    """Few-shot examples from the items marked for this judge: their content and the human grade.

    An adjudicated label wins over annotators' labels; among those, the latest scored label wins, and its
    critique becomes the example's reasoning. Marked items without a human score are skipped: an example
    without a grade teaches nothing.
    """
    marked = store.fewshot_items(spec_name)
    if not marked:
        return []
    items = store.items(dataset_id)
    items = items[items["uid"].isin(marked)].set_index("uid")
    grades: dict[str, tuple[int, str]] = {}
    for kind in ("label", "adjudication"):
        labels = store.latest_labels(dataset_id, kind=kind).sort_values("label_id")
        for row in labels.itertuples():
            if row.item_uid in items.index and _present(row.score):
                grades[row.item_uid] = (int(row.score), row.critique if _present(row.critique) else "")
    examples = []
    for uid in marked:
        if uid not in grades or uid not in items.index:
            continue
        item = items.loc[uid]
        example = {key: item[key] for key in ("input", "output", "context", "reference") if _present(item[key])}
        score, reasoning = grades[uid]
        examples.append({**example, "score": score, "reasoning": reasoning, "item_uid": uid})
    return examples


def save_spec(store: "Store", spec: "JudgeSpec | dict[str, Any]") -> int:
    """Validate a spec and store it as a new version of its name; returns the version (an identical body
    returns the current one). The store only stores: validation is the spec's own business."""
    if not isinstance(spec, JudgeSpec):
        spec = JudgeSpec.from_dict(spec)
    spec.validate()
    return store.save_spec_body(spec.name, spec.to_dict(), spec.body_hash())


def builtin_specs() -> dict[str, JudgeSpec]:
    """Fresh copies of the built-in judges (callers may edit them freely)."""
    return {name: JudgeSpec.from_dict(json.loads(json.dumps(body))) for name, body in BUILTIN_SPECS.items()}


def load_spec(store: "Store | None", name_or_path: str) -> JudgeSpec:
    """A spec by a .json file path, a saved name (latest version), or a built-in name, in that order."""
    path = Path(name_or_path)
    if name_or_path.endswith(".json") or path.is_file():
        try:
            return JudgeSpec.from_json(path.read_text(encoding="utf-8")).validate()
        except OSError as exc:
            raise NotFound(f"Cannot read the judge spec file {name_or_path}: {exc.strerror}.") from exc
    if store is not None:
        try:
            return JudgeSpec.from_dict(store.spec_body(name_or_path))
        except NotFound:
            pass
    builtins = builtin_specs()
    if name_or_path in builtins:
        return builtins[name_or_path]
    saved = list(store.specs()["name"]) if store is not None else []
    raise NotFound(
        f"No judge named '{name_or_path}'. Saved: {', '.join(saved) or 'none'}. "
        f"Built-in: {', '.join(builtins)}. Or pass a path to a .json spec file."
    )


# -- helpers ----------------------------------------------------------------------------------------
def _parse_template(template: str) -> list[tuple[str, str | None]]:
    """(literal text, variable name or None) pairs; refuses anything but plain variable names."""
    try:
        parsed = list(_FORMATTER.parse(template or ""))
    except ValueError as exc:
        raise InvalidSpec(
            f"The template has an unmatched brace ({exc}). Write {{{{ and }}}} for literal braces."
        ) from None
    out = []
    for literal, name, spec, conversion in parsed:
        if name is None:
            out.append((literal, None))
            continue
        shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if not name.strip() or name.strip().isdigit():
            raise InvalidSpec(f"The template has an empty or numbered variable {shown}; name a column, e.g. {{output}}.")
        if any(ch in name for ch in ".[]") or conversion or spec:
            raise InvalidSpec(
                f"The template variable {shown} is not allowed: use plain names like {{output}} "
                "(no attribute access, indexing, conversions or format specs)."
            )
        out.append((literal, name.strip()))
    return out


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _present(value: Any) -> bool:
    return not is_missing(value)


def _hash(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _as_int(value: Any, what: str) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidSpec(f"{what} must be an integer, not {value!r}.") from None
    if isinstance(value, bool) or not number.is_integer():
        raise InvalidSpec(f"{what} must be an integer, not {value!r}.")
    return int(number)


def _validate_example(who: str, number: int, example: Any) -> None:
    if not isinstance(example, dict):
        raise InvalidSpec(f"{who}: few-shot example {number} must be an object with output, score and reasoning.")
    if not str(example.get("output") or "").strip():
        raise InvalidSpec(f"{who}: few-shot example {number} needs an output.")
    score = example.get("score")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or score not in range(1, 6):
        raise InvalidSpec(f"{who}: few-shot example {number} needs a score from 1 to 5, not {score!r}.")
