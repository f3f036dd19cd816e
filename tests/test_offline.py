"""Offline judges: the metrics on published worked examples, assertion checks, and the 1-5 mapping."""

import json

import pytest

from judge.errors import InvalidSpec
from judge.offline import (
    ASSERTION_THRESHOLDS,
    REFERENCE_THRESHOLDS,
    score_from_share,
    score_offline,
    validate_checks,
)
from judge.similarity import (
    json_differences,
    json_equivalent,
    json_leaf_f1,
    normalized_match,
    rouge_l,
    token_f1,
)
from judge.specs import JudgeSpec, builtin_specs

RUBRIC = {str(n): f"anchor {n}" for n in range(1, 6)}


def assertion_spec(*checks, threshold=4) -> JudgeSpec:
    return JudgeSpec(name="a", kind="assertion", rubric=RUBRIC, checks=list(checks), pass_threshold=threshold)


def reference_spec(metric) -> JudgeSpec:
    return JudgeSpec(name="r", kind="reference", rubric=RUBRIC, reference_metric=metric)


# -- metrics on worked examples ---------------------------------------------------------------------
def test_rouge_l_matches_lins_worked_example():
    # Lin (2004), section 3.1: reference S1 "police killed the gunman".
    # S2 "police kill the gunman": LCS = "police the gunman" = 3 words; P = 3/4, R = 3/4, F = 0.75.
    assert rouge_l("police killed the gunman", "police kill the gunman") == pytest.approx(0.75)
    # S3 "the gunman kill police": LCS = "the gunman" = 2 words; P = R = 2/4, F = 0.5.
    assert rouge_l("police killed the gunman", "the gunman kill police") == pytest.approx(0.5)


def test_rouge_l_with_different_lengths():
    # ref "the cat sat on the mat" (6 words), cand "the cat on the mat today" (6 words):
    # LCS = "the cat on the mat" = 5; P = 5/6, R = 5/6, F = 5/6.
    assert rouge_l("the cat sat on the mat", "the cat on the mat today") == pytest.approx(5 / 6)
    # ref 4 words, cand "police" (1 word): LCS = 1; P = 1, R = 1/4, F = 2*1*0.25/1.25 = 0.4.
    assert rouge_l("police killed the gunman", "Police!") == pytest.approx(0.4)
    assert rouge_l("a b", "") == 0.0 and rouge_l("", "") == 1.0


def test_token_f1_matches_the_squad_definition():
    # SQuAD: normalize (lower case, drop punctuation and articles), then multiset overlap.
    # ref "Broncos" -> [broncos]; cand "the Denver Broncos" -> [denver, broncos]
    # common = 1; P = 1/2, R = 1/1; F1 = 2 * 0.5 * 1 / 1.5 = 2/3.
    assert token_f1("Broncos", "the Denver Broncos") == pytest.approx(2 / 3)
    # ref "a cat sat on a mat" -> [cat, sat, on, mat]; cand "The cat sat." -> [cat, sat]
    # common = 2; P = 2/2, R = 2/4; F1 = 2 * 1 * 0.5 / 1.5 = 2/3.
    assert token_f1("a cat sat on a mat", "The cat sat.") == pytest.approx(2 / 3)
    # Repeated tokens count once per occurrence: ref [to, to, be] vs cand [to, be, be]: common = 2, F1 = 2/3.
    assert token_f1("to to be", "to be be") == pytest.approx(2 / 3)
    assert token_f1("yes", "no") == 0.0
    # The official script deletes punctuation inside words instead of splitting there:
    # "don't" -> [dont], "state-of-the-art" -> [stateoftheart] (the inner "the" is no longer an article).
    assert token_f1("dont", "don't") == 1.0 and token_f1("stateoftheart", "state-of-the-art") == 1.0
    # ref "U.S. troops" -> [us, troops]; cand "US troops left" -> [us, troops, left]: P = 2/3, R = 1, F1 = 0.8.
    assert token_f1("U.S. troops", "US troops left") == pytest.approx(0.8)
    assert token_f1("", "") == 1.0 and token_f1("the", "") == 1.0  # no tokens on either side, as SQuAD 2.0


def test_normalized_match_ignores_case_whitespace_and_punctuation():
    assert normalized_match("Paris.", "  paris ")
    assert normalized_match("New-York", "new york")
    assert not normalized_match("Paris", "Lyon")


# -- JSON trees -------------------------------------------------------------------------------------
TREE = {"op": "and", "args": [{"field": "status", "op": "eq", "value": "open"},
                              {"field": "owner", "op": "eq", "value": "me"}]}


def test_json_equivalence_ignores_key_order_and_and_or_operand_order():
    reordered = {"args": [{"value": "me", "op": "eq", "field": "owner"},
                          {"field": "status", "op": "eq", "value": "open"}], "op": "and"}
    assert json_equivalent(TREE, reordered)
    assert json_differences(TREE, reordered) == []
    # Order matters for a non-commutative list.
    assert not json_equivalent({"path": ["a", "b"]}, {"path": ["b", "a"]})


def test_missing_and_extra_operands_are_named():
    fewer = {"op": "and", "args": [TREE["args"][1]]}
    assert json_differences(TREE, fewer) == [
        "$.args[0]: missing (expected {\"field\": \"status\", \"op\": \"eq\", \"value\": \"open\"})"]
    more = {"op": "and", "args": [*TREE["args"], {"field": "tag", "op": "eq", "value": "vip"}]}
    assert json_differences(TREE, more) == [
        "$.args[2]: unexpected (got {\"field\": \"tag\", \"op\": \"eq\", \"value\": \"vip\"})"]


def test_json_multisets_count_duplicates():
    twice = {"op": "or", "args": [{"v": 1}, {"v": 1}]}
    assert not json_equivalent(twice, {"op": "or", "args": [{"v": 1}, {"v": 2}]})


def test_json_differences_are_readable_paths():
    got = json.loads(json.dumps(TREE))
    got["args"][0]["value"] = "closed"
    got["limit"] = 5
    del got["args"][1]["op"]
    assert json_differences(TREE, got) == [
        "$.args[0].value: expected 'open', got 'closed'",
        "$.args[1].op: missing (expected 'eq')",
        "$.limit: unexpected (got 5)",
    ]
    assert json_differences({"a": [1, 2]}, {"a": [1]}) == ["$.a: expected 2 items, got 1"]
    assert json_differences({"a": 1}, {"a": "1"}) == ["$.a: expected 1, got '1'"]


def test_json_leaf_f1():
    # 7 leaves each ($.op plus 3 per operand); one value differs -> common 6, P = R = 6/7.
    got = json.loads(json.dumps(TREE))
    got["args"][1]["value"] = "you"
    assert json_leaf_f1(TREE, got) == pytest.approx(6 / 7)
    assert json_leaf_f1(TREE, TREE) == 1.0


# -- reference judges --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, score", [(1.0, 5), (0.9, 5), (0.89, 4), (0.7, 4), (0.69, 3), (0.5, 3), (0.3, 2), (0.29, 1), (0.0, 1)]
)
def test_reference_thresholds(value, score):
    assert score_from_share(value, REFERENCE_THRESHOLDS) == score


@pytest.mark.parametrize("share, score", [(1.0, 5), (0.75, 4), (0.74, 3), (0.5, 3), (0.25, 2), (0.0, 1)])
def test_assertion_thresholds(share, score):
    assert score_from_share(share, ASSERTION_THRESHOLDS) == score


def test_reference_metrics_score_and_explain():
    item = {"output": "police kill the gunman", "reference": "police killed the gunman"}
    verdict = score_offline(reference_spec("rouge_l"), item)
    assert (verdict.score, verdict.passed, verdict.error) == (4, True, None)
    assert "0.750" in verdict.reasoning
    assert score_offline(reference_spec("token_f1"), item).score == 3  # F1 = 2/3
    assert score_offline(reference_spec("exact"), item).score == 1
    assert score_offline(reference_spec("exact"), {"output": " 42 ", "reference": "42"}).score == 5
    assert score_offline(reference_spec("normalized"), {"output": "Paris!", "reference": "paris"}).score == 5


@pytest.mark.parametrize("reference", [None, "", "   ", float("nan")])
def test_no_reference_is_an_error_never_a_score(reference):
    for metric in ("exact", "normalized", "token_f1", "rouge_l", "json_equivalence"):
        verdict = score_offline(reference_spec(metric), {"output": "x", "reference": reference})
        assert (verdict.score, verdict.passed, verdict.error) == (None, None, "no reference")


def test_json_equivalence_judge():
    spec = builtin_specs()["json_tree_match"]
    reference = json.dumps(TREE)
    equal = score_offline(spec, {"output": "```json\n" + json.dumps(TREE, indent=2) + "\n```", "reference": reference})
    assert equal.score == 5
    wrong = json.loads(reference)
    wrong["args"][0]["value"] = "closed"
    verdict = score_offline(spec, {"output": json.dumps(wrong), "reference": reference})
    assert verdict.score == 4  # not equivalent caps at 4; leaf F1 6/7 = 0.86 -> 4
    assert "$.args[0].value: expected 'open', got 'closed'" in verdict.reasoning
    broken = score_offline(spec, {"output": '{"op": "and", ', "reference": reference})
    assert broken.score == 1 and "not valid JSON" in broken.reasoning
    bad_reference = score_offline(spec, {"output": reference, "reference": "{oops"})
    assert bad_reference.score is None and "reference is not valid JSON" in bad_reference.error


# -- assertion judges --------------------------------------------------------------------------------
def test_each_check_type():
    cases = [
        ({"type": "regex_present", "pattern": r"\d{3}"}, "call 555", "no digits"),
        ({"type": "regex_absent", "pattern": "(?i)sorry"}, "Sure.", "Sorry, no."),
        ({"type": "contains", "value": "Paris"}, "it is paris", "it is Lyon"),
        ({"type": "contains", "value": "Paris", "case_sensitive": True}, "Paris", "paris"),
        ({"type": "not_contains", "value": "As an AI"}, "Hello", "As an AI model, I"),
        ({"type": "max_length", "max": 5}, "12345", "123456"),
        ({"type": "max_length", "max": 2, "unit": "words"}, "two words", "three words here"),
        ({"type": "valid_json"}, '{"a": 1}', "{a: 1}"),
        ({"type": "json_schema", "schema": {"type": "object", "required": ["a"]}}, '{"a": 1}', '{"b": 1}'),
    ]
    for check, passing, failing in cases:
        spec = assertion_spec(check, threshold=5)
        good, bad = score_offline(spec, {"output": passing}), score_offline(spec, {"output": failing})
        assert (good.score, good.passed) == (5, True), check
        assert (bad.score, bad.passed) == (1, False), check


def test_json_path_equals_reference():
    spec = assertion_spec({"type": "json_path_equals_reference", "path": "$.filter.args[1]['value']"})
    reference = '{"filter": {"args": [{"value": 1}, {"value": "open"}]}}'
    assert score_offline(spec, {"output": reference, "reference": reference}).score == 5
    wrong = score_offline(spec, {"output": reference.replace("open", "closed"), "reference": reference})
    assert wrong.score == 1 and "expected 'open', got 'closed'" in wrong.reasoning
    missing = score_offline(spec, {"output": '{"filter": {}}', "reference": reference})
    assert missing.score == 1 and "missing in the output" in missing.reasoning
    assert score_offline(spec, {"output": reference, "reference": None}).error == "no reference"


def test_share_of_checks_maps_to_a_score_with_every_check_explained():
    spec = assertion_spec(
        {"type": "contains", "value": "refund", "name": "mentions refund"},
        {"type": "max_length", "max": 10},
        {"type": "not_contains", "value": "As an AI"},
        {"type": "valid_json"},
    )
    verdict = score_offline(spec, {"output": "As an AI I can give a refund"})
    # 1 of 4 passes (25%) -> 2.
    assert verdict.score == 2 and verdict.passed is False
    assert verdict.reasoning.splitlines()[0] == "1 of 4 checks passed (25%) -> 2."
    assert "PASS mentions refund" in verdict.reasoning and "FAIL max_length: 28 chars (max 10)" in verdict.reasoning


def test_format_checks_builtin_runs_offline():
    spec = builtin_specs()["format_checks"]
    assert score_offline(spec, {"output": "Your order ships on Monday."}).score == 5
    assert score_offline(spec, {"output": "As an AI, I cannot help with that."}).score == 3


@pytest.mark.parametrize(
    "check, message",
    [
        ({"type": "python", "code": "import os"}, "type 'python'"),
        ({"type": "regex_present"}, "needs pattern"),
        ({"type": "regex_present", "pattern": "("}, "invalid regex"),
        ({"type": "max_length", "max": 3, "unit": "lines"}, "unit"),
        ({"type": "max_length", "max": -1}, "whole number"),
        ({"type": "json_schema", "schema": {"type": "nonsense"}}, "invalid JSON schema"),
        ({"type": "json_path_equals_reference", "path": "$..a[?(@.b)]"}, "Unsupported JSON path"),
    ],
)
def test_malformed_checks_are_refused(check, message):
    with pytest.raises(InvalidSpec, match=message):
        validate_checks([check])


def test_llm_specs_cannot_be_scored_offline():
    with pytest.raises(InvalidSpec, match="LLM judge"):
        score_offline(builtin_specs()["faithfulness"], {"output": "x"})
