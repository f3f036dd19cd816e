"""Reference comparisons used by the offline judges: exact/normalized match, token F1, ROUGE-L, JSON trees.

Each takes (reference, candidate) like scikit-learn's (y_true, y_pred) and returns a bool or a 0-1 float.
Where a maintained reference implementation exists it is used (ROUGE: Google's rouge-score) or followed
exactly (token F1: the official SQuAD evaluation script).
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from typing import Any

_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
# A node whose operator is one of these has unordered operands.
COMMUTATIVE_OPERATORS = {"and", "or"}
OPERATOR_KEYS = ("op", "operator", "type", "bool", "logic")
OPERAND_KEYS = ("args", "arguments", "operands", "children", "conditions", "clauses")


def normalize_text(text: str) -> str:
    """Lower case, punctuation removed, whitespace collapsed."""
    return " ".join(_PUNCTUATION.sub(" ", str(text).lower()).split())


def exact_match(reference: str, candidate: str) -> bool:
    return str(reference).strip() == str(candidate).strip()


def normalized_match(reference: str, candidate: str) -> bool:
    return normalize_text(reference) == normalize_text(candidate)


def _squad_tokens(text: str) -> list[str]:
    """SQuAD's normalize_answer: lower case, punctuation deleted ("don't" -> "dont"), articles dropped."""
    return _ARTICLES.sub(" ", _PUNCTUATION.sub("", str(text).lower())).split()


def token_f1(reference: str, candidate: str) -> float:
    """Token F1 as the official SQuAD evaluation script computes it (its normalize_answer, overlap counted as a
    multiset); two answers without a token are equal (1.0), as in the SQuAD 2.0 script."""
    ref_tokens, cand_tokens = _squad_tokens(reference), _squad_tokens(candidate)
    if not ref_tokens or not cand_tokens:
        return float(ref_tokens == cand_tokens)
    common = sum((Counter(ref_tokens) & Counter(cand_tokens)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(cand_tokens), common / len(ref_tokens)
    return 2 * precision * recall / (precision + recall)


# ROUGE as published figures compute it: Google's rouge-score package (the Python port of ROUGE-1.5.5 that
# papers use), with its tokenizer (lower case, runs of [a-z0-9]) and optional Porter stemming. Each metric
# name says its variant: rouge_1, rouge_2, rouge_l (sentence-level LCS), rouge_lsum (summary-level LCS over
# newline-separated sentences), and the same with "_porter" for stemmed tokens. All report F1 (beta = 1).
ROUGE_METRICS: dict[str, tuple[str, bool]] = {
    f"{name}{suffix}": (kind, stem)
    for name, kind in (("rouge_1", "rouge1"), ("rouge_2", "rouge2"), ("rouge_l", "rougeL"), ("rouge_lsum", "rougeLsum"))
    for suffix, stem in (("", False), ("_porter", True))
}
_SCORERS: dict[tuple[str, bool], Any] = {}


def rouge(reference: str, candidate: str, metric: str = "rouge_l") -> float:
    """ROUGE F1 of `candidate` against `reference` from the rouge-score package, variant `metric` (see
    ROUGE_METRICS). Two texts without a single token are equal (1.0); the package would give 0 for them."""
    kind, stem = ROUGE_METRICS[metric]
    if (kind, stem) not in _SCORERS:
        from rouge_score import rouge_scorer, tokenizers

        tokenizer = tokenizers.DefaultTokenizer(use_stemmer=stem)
        _SCORERS[(kind, stem)] = (rouge_scorer.RougeScorer([kind], tokenizer=tokenizer), tokenizer)
    scorer, tokenizer = _SCORERS[(kind, stem)]
    if not tokenizer.tokenize(str(reference)) and not tokenizer.tokenize(str(candidate)):
        return 1.0
    return float(scorer.score(str(reference), str(candidate))[kind].fmeasure)


def rouge_l(reference: str, candidate: str) -> float:
    """ROUGE-L F1 (Lin, 2004): the longest common subsequence of rouge-score's tokens, no stemming."""
    return rouge(reference, candidate, "rouge_l")


# -- JSON trees -------------------------------------------------------------------------------------
def parse_json(text: str) -> tuple[Any, str | None]:
    """(document, None) or (None, short error); a ```json fence around the document is accepted."""
    text = str(text).strip()
    fenced = re.fullmatch(r"```[a-zA-Z]*\s*\n?(.*?)\n?```", text, re.DOTALL)
    if fenced:
        text = fenced.group(1).strip()
    try:
        return json.loads(text), None
    except ValueError as exc:
        return None, f"{exc.msg} at line {exc.lineno} column {exc.colno}" if hasattr(exc, "msg") else str(exc)


def _is_commutative(node: dict) -> bool:
    return any(str(node.get(key, "")).lower() in COMMUTATIVE_OPERATORS for key in OPERATOR_KEYS)


def canonical(value: Any) -> Any:
    """A form where equivalent trees are equal: sorted keys, and/or operands sorted."""
    if isinstance(value, dict):
        out = {key: canonical(child) for key, child in sorted(value.items())}
        if _is_commutative(value):
            for key in OPERAND_KEYS:
                if isinstance(out.get(key), list):
                    out[key] = sorted(out[key], key=lambda child: json.dumps(child, sort_keys=True))
        return out
    if isinstance(value, list):
        return [canonical(child) for child in value]
    return value


def json_equivalent(expected: Any, got: Any) -> bool:
    return canonical(expected) == canonical(got)


def json_differences(expected: Any, got: Any, path: str = "$") -> list[str]:
    """Readable differences in document order, e.g. "$.args[1].value: expected 'open', got 'closed'".

    For and/or operands, identical operands are matched first wherever they sit; the rest are paired in
    order, so the reported index is the expected operand's.
    """
    if isinstance(expected, dict) and isinstance(got, dict):
        out = []
        for key in expected:
            child = f"{path}.{key}"
            if key not in got:
                out.append(f"{child}: missing (expected {_show(expected[key])})")
            elif isinstance(expected[key], list) and isinstance(got[key], list) and _is_commutative(expected) \
                    and key in OPERAND_KEYS:
                out.extend(_unordered_differences(expected[key], got[key], child))
            else:
                out.extend(json_differences(expected[key], got[key], child))
        out.extend(f"{path}.{key}: unexpected (got {_show(got[key])})" for key in got if key not in expected)
        return out
    if isinstance(expected, list) and isinstance(got, list):
        out = [d for i, (e, g) in enumerate(zip(expected, got)) for d in json_differences(e, g, f"{path}[{i}]")]
        if len(expected) != len(got):
            out.append(f"{path}: expected {len(expected)} items, got {len(got)}")
        return out
    if type(expected) is not type(got) and not (_is_number(expected) and _is_number(got)) or expected != got:
        return [f"{path}: expected {_show(expected)}, got {_show(got)}"]
    return []


def _unordered_differences(expected: list, got: list, path: str) -> list[str]:
    remaining = list(enumerate(got))
    unmatched = []
    for index, operand in enumerate(expected):
        match = next((pos for pos, (_, g) in enumerate(remaining) if json_equivalent(operand, g)), None)
        if match is None:
            unmatched.append((index, operand))
        else:
            remaining.pop(match)
    out = []
    for (index, operand), (_, other) in zip(unmatched, remaining):
        out.extend(json_differences(operand, other, f"{path}[{index}]"))
    out.extend(f"{path}[{index}]: missing (expected {_show(operand)})" for index, operand in unmatched[len(remaining):])
    out.extend(f"{path}[{index}]: unexpected (got {_show(other)})" for index, other in remaining[len(unmatched):])
    return out


def json_leaf_f1(expected: Any, got: Any) -> float:
    """F1 over the multisets of (path, leaf value) pairs; and/or operand positions are ignored."""
    expected_leaves, got_leaves = Counter(_leaves(canonical(expected))), Counter(_leaves(canonical(got)))
    common = sum((expected_leaves & got_leaves).values())
    if common == 0:
        return float(expected_leaves == got_leaves)
    precision, recall = common / sum(got_leaves.values()), common / sum(expected_leaves.values())
    return 2 * precision * recall / (precision + recall)


def _leaves(value: Any, path: str = "$", unordered: bool = False) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        commutative = _is_commutative(value)
        return [leaf for key, child in value.items()
                for leaf in _leaves(child, f"{path}.{key}", commutative and key in OPERAND_KEYS)]
    if isinstance(value, list):
        if not value:
            return [(path, "[]")]
        return [leaf for i, child in enumerate(value)
                for leaf in _leaves(child, f"{path}[{'*' if unordered else i}]")]
    return [(path, json.dumps(value, sort_keys=True))]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."
