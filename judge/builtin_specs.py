"""The built-in judges: starting points with careful 1-5 rubrics, meant to be copied and tuned.

LLM judges ask for step-by-step reasoning BEFORE the score (the score then follows from the reasoning rather
than being rationalised after it) and a JSON reply `{"reasoning": ..., "score": n}` in that order. The offline
judges need no key and no network, so the demo works anywhere; their rubrics describe the documented
thresholds in judge/offline.py.
"""

from __future__ import annotations

DEFAULT_MODEL = "openai/gpt-4.1-mini"

_REPLY = (
    "Think step by step before deciding: write your reasoning first, then the score that follows from it.\n"
    'Reply with ONLY a JSON object with two keys, in this order: "reasoning" (your step-by-step reasoning, '
    'a string) and "score" (an integer from 1 to 5). For example:\n'
    '{{"reasoning": "Step 1: ... Step 2: ... Therefore the score is 3.", "score": 3}}'
)

_GRADING = "Grade against this scale:\n{rubric}\n\n{examples}\n\n"


def _llm(name: str, criteria: str, rubric: dict[str, str], body: str, steps: str) -> dict:
    return {
        "name": name,
        "kind": "llm",
        "criteria": criteria,
        "rubric": rubric,
        "system": "You are a careful, impartial evaluator of AI-generated responses. You grade strictly "
                  "against the rubric you are given and never reward length or confident tone for its own sake.",
        # Everything that is the same for every item first, the item last: a stable prefix the provider caches.
        "template": f"Criterion: {{criteria}}\n\n{_GRADING}How to judge:\n{steps}\n\n{_REPLY}\n\n"
                    f"The case to judge:\n\n{body}",
        "model": DEFAULT_MODEL,
        "params": {"temperature": 0, "max_tokens": 600},
        "pass_threshold": 4,
    }


BUILTIN_SPECS: dict[str, dict] = {
    "faithfulness": _llm(
        "faithfulness",
        "Faithfulness: is every claim in the response supported by the provided context? A faithful response "
        "may omit things, but it must not state anything the context does not support or contradicts.",
        {
            "1": "Mostly unsupported: the main claims contradict the context or are invented; relying on it would mislead.",
            "2": "Several claims are unsupported or one central claim contradicts the context.",
            "3": "The central claims are supported, but at least one secondary claim is unsupported or overstated.",
            "4": "Every claim is supported; at most a minor paraphrase goes slightly beyond the literal context "
                 "without changing its meaning.",
            "5": "Every claim is directly supported by the context; nothing is added, contradicted or overstated.",
        },
        "[Question]\n{input}\n\n[Context]\n{context}\n\n[Response]\n{output}",
        "1. List each factual claim the response makes.\n"
        "2. For each claim, find the passage of the context that supports it, or note that none does or that "
        "the context contradicts it.\n"
        "3. Ignore whether the claims are true in the world: judge only support by the context.\n"
        "4. Weigh unsupported claims by how central they are to the answer, then pick the rubric level.",
    ),
    "answer_relevance": _llm(
        "answer_relevance",
        "Answer relevance: does the response address what the user actually asked, directly and completely, "
        "without drifting into unrelated material? Correctness is not judged here.",
        {
            "1": "Off-topic or a refusal/non-answer: the response does not address the question.",
            "2": "Touches the topic but misses the actual question, or answers a different one.",
            "3": "Addresses the question only partly: a main part is missing or buried in irrelevant material.",
            "4": "Answers the whole question directly; small digressions or minor padding.",
            "5": "Answers every part of the question directly and concisely, with nothing irrelevant.",
        },
        "[Question]\n{input}\n\n[Response]\n{output}",
        "1. Restate what the question asks, splitting it into its parts.\n"
        "2. Check which parts the response answers, and how directly.\n"
        "3. Note material that does not serve the question.\n"
        "4. Do not judge factual accuracy; pick the rubric level for relevance and completeness only.",
    ),
    "correctness": _llm(
        "correctness",
        "Correctness: does the response agree with the reference answer on every fact that matters to the "
        "question? Wording may differ; meaning may not.",
        {
            "1": "Wrong: the response contradicts the reference on the main point, or gives no answer.",
            "2": "Mostly wrong: the main point is partly right but a key fact contradicts the reference.",
            "3": "Partly correct: the main point matches, but an important detail is wrong or missing.",
            "4": "Correct on every key fact; a minor detail is missing or imprecise.",
            "5": "Fully correct: equivalent in meaning to the reference, with no errors or omissions that matter.",
        },
        "[Question]\n{input}\n\n[Reference answer]\n{reference}\n\n[Response]\n{output}",
        "1. List the key facts in the reference answer that the question needs.\n"
        "2. For each, decide whether the response states it, contradicts it or omits it.\n"
        "3. Extra correct detail is fine; extra claims that contradict the reference count as errors.\n"
        "4. Ignore style and wording; pick the rubric level from the errors and omissions found.",
    ),
    "structure_equivalence": _llm(
        "structure_equivalence",
        "Structural equivalence: does the generated structure (a JSON query tree, filter or AST) mean the same "
        "as the ground truth? Key order, whitespace and the order of operands of commutative operators "
        "(and/or) do not matter; fields, operators, values and nesting do.",
        {
            "1": "Not comparable: invalid JSON or a structure unrelated to the ground truth.",
            "2": "Same general shape, but the main operator or several fields/values differ; results would differ widely.",
            "3": "One significant difference (a wrong field, operator or value, or a missing condition) that changes the result.",
            "4": "Equivalent in intent with a minor difference unlikely to change the result (e.g. a value's case or "
                 "a redundant wrapper).",
            "5": "Semantically identical to the ground truth (order of keys and of and/or operands aside).",
        },
        "[Request]\n{input}\n\n[Ground truth structure]\n{reference}\n\n[Generated structure]\n{output}",
        "1. Check that the generated structure is valid JSON.\n"
        "2. Walk both trees from the root, comparing operators, fields and values at each node; treat the "
        "operands of and/or as unordered.\n"
        "3. List every difference with its path, e.g. $.args[1].value.\n"
        "4. Judge how much each difference would change the query's result, then pick the rubric level.",
    ),
    "instruction_following": _llm(
        "instruction_following",
        "Instruction following: does the response obey every explicit instruction and constraint in the "
        "request (format, length, language, tone, what to include or avoid)?",
        {
            "1": "Ignores the instructions: the main requested task or format is not done.",
            "2": "Does the task but violates several explicit constraints, or one essential one.",
            "3": "Follows the main instruction but breaks one clear constraint (e.g. length, format or language).",
            "4": "Follows every constraint; a minor deviation in spirit or a slightly loose reading of one.",
            "5": "Follows every explicit instruction and constraint exactly.",
        },
        "[Request]\n{input}\n\n[Response]\n{output}",
        "1. List every explicit instruction and constraint in the request.\n"
        "2. Check each one against the response: followed, partly followed or violated.\n"
        "3. Do not judge quality beyond the instructions.\n"
        "4. Weigh the violations by importance and pick the rubric level.",
    ),
    "custom": _llm(
        "custom",
        "Describe here, in one or two sentences, exactly what a good response does.",
        {
            "1": "Fails the criterion completely.",
            "2": "Mostly fails the criterion; some small part is met.",
            "3": "Meets the criterion partly; clear, important gaps remain.",
            "4": "Meets the criterion with minor shortcomings.",
            "5": "Fully meets the criterion.",
        },
        "[Input]\n{input}\n\n[Response]\n{output}",
        "1. Restate the criterion as concrete things to check.\n"
        "2. Check each one against the response, citing the text.\n"
        "3. Pick the rubric level that matches what you found.",
    ),
    # -- offline: no key, no network ---------------------------------------------------------------
    "reference_match": {
        "name": "reference_match",
        "kind": "reference",
        "reference_metric": "normalized",
        "criteria": "The response equals the reference once case, whitespace and punctuation are ignored.",
        "rubric": {
            "1": "Does not match the reference.",
            "2": "Not used: a normalized match is all or nothing.",
            "3": "Not used: a normalized match is all or nothing.",
            "4": "Not used: a normalized match is all or nothing.",
            "5": "Matches the reference (ignoring case, whitespace and punctuation).",
        },
    },
    "reference_rouge": {
        "name": "reference_rouge",
        "kind": "reference",
        "reference_metric": "rouge_l",
        "criteria": "Word overlap with the reference in order: ROUGE-L F1 of the response against the reference "
                    "(Google's rouge-score package: its tokenizer, sentence-level LCS, no stemming).",
        "rubric": {
            "1": "ROUGE-L F1 below 0.3: little in common with the reference.",
            "2": "ROUGE-L F1 from 0.3 to below 0.5.",
            "3": "ROUGE-L F1 from 0.5 to below 0.7.",
            "4": "ROUGE-L F1 from 0.7 to below 0.9.",
            "5": "ROUGE-L F1 of 0.9 or more: nearly the reference, word for word.",
        },
    },
    "reference_f1": {
        "name": "reference_f1",
        "kind": "reference",
        "reference_metric": "token_f1",
        "criteria": "Token overlap with the reference, ignoring order: SQuAD-style token F1.",
        "rubric": {
            "1": "Token F1 below 0.3.",
            "2": "Token F1 from 0.3 to below 0.5.",
            "3": "Token F1 from 0.5 to below 0.7.",
            "4": "Token F1 from 0.7 to below 0.9.",
            "5": "Token F1 of 0.9 or more.",
        },
    },
    "json_tree_match": {
        "name": "json_tree_match",
        "kind": "reference",
        "reference_metric": "json_equivalence",
        "criteria": "The generated JSON tree equals the reference tree, ignoring key order, whitespace and "
                    "the order of and/or operands.",
        "rubric": {
            "1": "Not valid JSON, or under 30% of the reference's leaf values match.",
            "2": "30% to below 50% of leaf values match.",
            "3": "50% to below 70% of leaf values match.",
            "4": "Not equivalent, but 70% or more of leaf values match.",
            "5": "Structurally equivalent to the reference.",
        },
    },
    "format_checks": {
        "name": "format_checks",
        "kind": "assertion",
        "criteria": "Basic hygiene of a chat answer: not empty, not too long, no boilerplate disclaimers.",
        "checks": [
            {"type": "regex_present", "pattern": r"\S", "name": "not empty"},
            {"type": "max_length", "max": 1200, "unit": "chars", "name": "at most 1200 characters"},
            {"type": "not_contains", "value": "As an AI", "name": "no 'As an AI'"},
            {"type": "regex_absent", "pattern": r"(?i)\b(i cannot|i can't|i'm unable to) (help|assist)",
             "name": "no refusal"},
        ],
        "rubric": {
            "1": "Fewer than 25% of the checks pass.",
            "2": "25% to below 50% of the checks pass.",
            "3": "50% to below 75% of the checks pass.",
            "4": "75% or more of the checks pass, but not all.",
            "5": "Every check passes.",
        },
    },
}

# The criterion each built-in judge grades (whose human labels it is measured on). A run falls back to the
# dataset's only criterion when the dataset has no criterion of this name.
BUILTIN_CRITERIA = {
    "faithfulness": "faithfulness", "answer_relevance": "relevance", "correctness": "correctness",
    "structure_equivalence": "correctness", "instruction_following": "instruction_following",
    "custom": "overall", "reference_match": "correctness", "reference_rouge": "correctness",
    "reference_f1": "correctness", "json_tree_match": "correctness", "format_checks": "format",
}
for _name, _body in BUILTIN_SPECS.items():
    _body["criterion"] = BUILTIN_CRITERIA[_name]
