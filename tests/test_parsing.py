"""parse_verdict: strict JSON first, then the usual ways models wrap it; never a made-up score."""

import pytest

from judge.errors import JudgeError
from judge.parsing import ParseFailure, parse_verdict, repair_prompt


@pytest.mark.parametrize(
    "reply, expected",
    [
        ('{"reasoning": "All claims supported.", "score": 5}', ("All claims supported.", 5)),
        ('```json\n{"reasoning": "fenced", "score": 4}\n```', ("fenced", 4)),
        ('```\n{"reasoning": "bare fence", "score": 2}\n```', ("bare fence", 2)),
        ('Here is my verdict:\n{"reasoning": "prose around", "score": 3}\nThanks!', ("prose around", 3)),
        ('{"reasoning": "trailing comma", "score": 4,}', ("trailing comma", 4)),
        ("{'reasoning': 'single quotes', 'score': 1}", ("single quotes", 1)),
        ('{"reasoning": "string score", "score": "4"}', ("string score", 4)),
        ('{"reasoning": "float string", "score": "4.0"}', ("float string", 4)),
        ('{"reasoning": "float", "score": 3.0}', ("float", 3)),
        ('{"Reasoning": "capitalised keys", "Score": 2}', ("capitalised keys", 2)),
        ('{"reasoning": "braces {inside} text", "score": 5}', ("braces {inside} text", 5)),
        ('The response cites the context.\nScore: 4', ("The response cites the context.", 4)),
        ("Reasoning: it is on topic.\nFinal score = 5/5", ("Reasoning: it is on topic.", 5)),
    ],
)
def test_reads_common_reply_shapes(reply, expected):
    assert parse_verdict(reply) == expected


def test_the_last_object_is_the_answer_when_the_format_is_echoed():
    reply = 'You asked for {"reasoning": "...", "score": 3}. My verdict: {"reasoning": "good", "score": 5}'
    assert parse_verdict(reply) == ("good", 5)


def test_reasoning_may_be_missing_but_score_may_not():
    assert parse_verdict('{"score": 4}') == ("", 4)
    with pytest.raises(ParseFailure, match="no score"):
        parse_verdict('{"reasoning": "I forgot the score"}')


@pytest.mark.parametrize(
    "reply, reason",
    [
        ('{"reasoning": "x", "score": 4.5}', "not a whole number"),
        ('{"reasoning": "x", "score": "4.5"}', "not a whole number"),
        ('{"reasoning": "x", "score": 0}', "outside 1-5"),
        ('{"reasoning": "x", "score": 6}', "outside 1-5"),
        ('{"reasoning": "x", "score": "high"}', "not a number"),
        ('{"reasoning": "x", "score": true}', "not a number"),
        ('{"reasoning": "The response is cut off mid-sen', "truncated"),
        ("I think it is pretty good overall.", "no JSON object"),
        ("", "empty reply"),
        ("Score: 7", "outside 1-5"),
    ],
)
def test_invalid_replies_fail_with_a_short_reason(reply, reason):
    with pytest.raises(ParseFailure) as caught:
        parse_verdict(reply)
    assert reason in caught.value.reason
    assert isinstance(caught.value, JudgeError)
    assert len(caught.value.reason) < 80


def test_repair_prompt_quotes_the_reply_and_asks_for_json_only():
    prompt = repair_prompt("Score is great", reason="no JSON object")
    assert "ONLY a JSON object" in prompt
    assert '"reasoning"' in prompt and '"score"' in prompt
    assert "Score is great" in prompt and "no JSON object" in prompt
