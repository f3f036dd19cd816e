"""parse_verdict on real-looking judge replies: a number counts only where it is stated as the verdict.

Issue 10, item 3: "A score 5 would need citations; ..." was stored as 5, "a score of 2 out of 10" as 2, and a
JSON object without a score key but with a digit in its reasoning as 5. Half of the table below are such
traps: each must be refused with a reason (the runner keeps the raw reply beside it), never scored.
"""

from __future__ import annotations

import pytest

from judge.parsing import ParseFailure, parse_verdict

READ = [  # (reply, score): the score is stated as the verdict
    ('{"reasoning": "Every claim is backed by the context.", "score": 5}', 5),
    ('```json\n{\n  "reasoning": "The answer omits step 3 of 5.",\n  "score": 3\n}\n```', 3),
    ('Sure! Here is my evaluation:\n\n{"reasoning": "Mostly right; the date is wrong.", "score": 4}', 4),
    ('{"reasoning": "It cites 2 sources out of the 10 given, both correctly.", "score": 4}', 4),
    ('{"score": 2, "reasoning": "A score of 5 would need citations; there are none."}', 2),
    ("{'reasoning': 'The tone is fine but 3 of the 4 facts are invented.', 'score': 1}", 1),
    ('{"reasoning": "Version 2.0 of the API is described correctly.", "score": "5"}', 5),
    ('{"reasoning": "Good.", "score": "4/5"}', 4),
    ('{"reasoning": "Acceptable.", "score": "3 out of 5"}', 3),
    ('{"rationale": "Answers the question in 12 words.", "rating": 5}', 5),
    ('{"reasoning": ["Step 1: read the question.", "Step 2: compare with the reference."], "score": 4}', 4),
    ("The response addresses 4 of the 5 requirements but misses the refund window.\n\nScore: 3", 3),
    ("Step 1: the user asked for 3 options. Step 2: the answer gives 2.\nFinal score: 2", 2),
    ("The response is accurate and concise.\n\n**Score:** 5", 5),
    ("Reasoning: the answer is correct, though it takes 10 sentences to get there.\nScore: 4/5", 4),
    ("It contradicts the context twice (paragraphs 1 and 3).\nRating = 1", 1),
    ("A score of 5 would need citations. The answer has two.\nScore: 4.", 4),
    ("Faithful to the source.\n### Final score: 5", 5),
    ('Here is the format you asked for: {"reasoning": "...", "score": 1}\n'
     'My verdict: {"reasoning": "Correct and complete.", "score": 5}', 5),
    ("The answer is partly right.\n\nScore: 3 out of 5", 3),
    ('{"reasoning": "Clear; mentions the 30-day policy.", "score": 4.0}', 4),
]

REFUSED = [  # (reply, a word of the reason): a number that is not stated as the verdict
    ("A score 5 would need citations; this one has none, so it gets a low mark.", "no JSON object"),
    ("I would rate this a score of 2 out of 10: it misses the point.", "no JSON object"),
    ('{"reasoning": "A score of 5 would need citations; this has none, so a low mark."}', "no score key"),
    ('{"reasoning": "Score: 4 seems right but I am unsure.", "verdict": "mostly correct"}', "no score key"),
    ("Score: 8/10\nThe answer is solid.", "not as the last line"),
    ("The answer is solid overall.\nScore: 8/10", "another scale"),
    ("The answer is solid overall.\nScore: 7 out of 10", "another scale"),
    ('{"reasoning": "Solid.", "score": "8/10"}', "another scale"),
    ('{"reasoning": "Solid.", "score": "9 out of 10"}', "another scale"),
    ("I'm sorry, but I can't evaluate this response because it contains personal data.", "no JSON object"),
    ("I cannot provide a score for this content.", "no JSON object"),
    ("The response gets 4 stars from me, it is quite good.", "no JSON object"),
    ("Overall I'd give it a 4. It is mostly correct.", "no JSON object"),
    ("Score: 3\nScore: 5", "several scores"),
    ("Score: between 3 and 4", "no JSON object"),
    ("Score: 3-4", "no JSON object"),
    ("Score: four", "no JSON object"),
    ('{"reasoning": "Unclear.", "score": null}', "not a number"),
    ('{"reasoning": "The answer covers 2 of the 3 points and', "truncated"),
    ("Thinking about it: the user asked 3 questions; 2 are answered. Let me weigh this against the rubric",
     "no JSON object"),
    ("Score: 4 would be fair if it cited the policy, but it does not.", "no JSON object"),
]


def test_the_table_is_big_enough_and_half_traps():
    assert len(READ) + len(REFUSED) >= 40 and len(REFUSED) >= 20


@pytest.mark.parametrize("reply, score", READ)
def test_a_score_stated_as_the_verdict_is_read(reply, score):
    assert parse_verdict(reply)[1] == score


@pytest.mark.parametrize("reply, reason", REFUSED)
def test_a_number_not_stated_as_the_verdict_is_refused_with_a_reason(reply, reason):
    with pytest.raises(ParseFailure) as caught:
        parse_verdict(reply)
    assert reason in caught.value.reason
