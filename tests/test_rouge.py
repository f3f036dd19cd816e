"""ROUGE comes from Google's rouge-score package, so figures compare with published ones; each variant is named."""

from __future__ import annotations

import random

import pytest
from rouge_score import rouge_scorer

from judge.offline import score_offline
from judge.similarity import ROUGE_METRICS, rouge, rouge_l
from judge.specs import JudgeSpec, builtin_specs

REF, CAND = "The quick brown fox jumps over the lazy dog", "The quick brown dog jumps on the log."


def test_rouge_scores_the_packages_worked_example():
    # Tokens: 9 in the reference, 8 in the candidate. Shared unigrams: the x2, quick, brown, dog, jumps = 6,
    # so P = 6/8, R = 6/9, F1 = 2PR/(P+R) = 0.70588. LCS "the quick brown jumps the" = 5: F1 = 2(5/8)(5/9)/(5/8+5/9).
    assert rouge(REF, CAND, "rouge_1") == pytest.approx(0.7058823529411765)
    assert rouge_l(REF, CAND) == pytest.approx(2 * (5 / 8) * (5 / 9) / (5 / 8 + 5 / 9))
    # Bigrams: "the quick", "quick brown", "jumps ... " -> the quick, quick brown = 2 of 8 and 7: F1 = 2/7.5.
    assert rouge(REF, CAND, "rouge_2") == pytest.approx(2 * (2 / 7) * (2 / 8) / (2 / 7 + 2 / 8))
    # Porter stemming makes "killed" and "kill" one token.
    assert rouge_l("police killed the gunman", "police kill the gunman") == pytest.approx(0.75)
    assert rouge("police killed the gunman", "police kill the gunman", "rouge_l_porter") == 1.0


def test_every_variant_equals_the_package_on_two_thousand_pairs():
    rng = random.Random(7)
    words = "the a cat cats sat sitting on mat mats dog dogs ran running quickly over lazy fox 3 42".split()

    def text():
        lines = [" ".join(rng.choices(words, k=rng.randint(1, 12))) for _ in range(rng.randint(1, 3))]
        return "\n".join(lines)

    pairs = [(text(), text()) for _ in range(2000)]
    for metric, (kind, stem) in ROUGE_METRICS.items():
        scorer = rouge_scorer.RougeScorer([kind], use_stemmer=stem)
        assert [rouge(r, c, metric) for r, c in pairs] == [scorer.score(r, c)[kind].fmeasure for r, c in pairs]


def test_the_spec_names_the_variant_and_every_variant_is_a_reference_metric():
    assert "rouge-score package" in builtin_specs()["reference_rouge"].criteria
    for metric in ROUGE_METRICS:
        spec = JudgeSpec(name=f"r-{metric}", kind="reference", reference_metric=metric,
                         criteria="overlap", rubric={str(n): "x" for n in range(1, 6)})
        verdict = score_offline(spec, {"output": CAND, "reference": REF})
        assert metric in verdict.reasoning and verdict.score is not None
