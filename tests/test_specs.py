"""Judge specs: safe templates, validation, built-ins, storage with history, few-shot examples."""

import json

import pytest

from judge.errors import InvalidSpec, NotFound
from judge.parsing import parse_verdict
from judge.specs import DEFAULT_MODEL, JudgeSpec, builtin_specs, examples_from_labels, load_spec, save_spec

RUBRIC = {str(n): f"anchor {n}" for n in range(1, 6)}
ITEM = {"input": "What is 2+2?", "output": "4", "context": None, "reference": "four", "item_id": "q1",
        "metadata": {"app_version": "v2", "lang": "en"}}


def spec(**changes) -> JudgeSpec:
    body = {"name": "t", "criteria": "Is it right?", "rubric": RUBRIC,
            "template": "Q: {input}\nA: {output}\nCtx: {context}\nVersion {app_version}"}
    return JudgeSpec.from_dict({**body, **changes})


# -- templates --------------------------------------------------------------------------------------
def test_render_fills_item_fields_metadata_and_blanks_missing_optional_fields():
    assert spec().render(ITEM) == "Q: What is 2+2?\nA: 4\nCtx: \nVersion v2"


def test_escaped_braces_are_literal_and_not_variables():
    s = spec(template='Reply as {{"score": n}} about {output}')
    assert s.variables() == {"output"}
    assert s.render(ITEM) == 'Reply as {"score": n} about 4'


@pytest.mark.parametrize("template", ["{output.__class__}", "{metadata[0]}", "{output!r}", "{output:>10}", "{}",
                                      "{0}"])
def test_attribute_index_conversion_and_positional_variables_are_refused(template):
    with pytest.raises(InvalidSpec):
        spec(template=template).variables()


def test_unmatched_brace_says_how_to_escape():
    with pytest.raises(InvalidSpec, match=r"\{\{"):
        spec(template="JSON like {output").variables()


def test_unknown_variable_lists_the_available_ones():
    s = spec(template="{output} {customer_tier}")
    with pytest.raises(InvalidSpec) as caught:
        s.validate(["app_version", "lang"])
    message = str(caught.value)
    assert "{customer_tier}" in message
    for name in ("{app_version}", "{lang}", "{input}", "{reference}", "{rubric}", "{examples}"):
        assert name in message
    s.validate(["customer_tier"])
    s.validate()  # without columns, metadata variables cannot be checked yet


def test_render_of_a_variable_the_item_lacks_is_an_error():
    with pytest.raises(InvalidSpec, match="tier"):
        spec(template="{output} {tier}").render(ITEM)


def test_rubric_criteria_and_examples_render_into_their_slots():
    examples = [{"input": "1+1?", "output": "2", "score": 5, "reasoning": "Exact."}]
    s = spec(template="{criteria}\n{rubric}\n{examples}\n{output}", examples=examples)
    prompt = s.render(ITEM)
    assert prompt.startswith("Is it right?\n1 - anchor 1\n2 - anchor 2")
    assert "Example 1" in prompt and '"score": 5' in prompt
    assert parse_verdict(prompt.split("Verdict: ")[1].split("\n")[0]) == ("Exact.", 5)


def test_examples_are_appended_when_the_template_has_no_slot():
    s = spec(template="{output}", examples=[{"output": "2", "score": 1, "reasoning": "Wrong."}])
    prompt = s.render(ITEM)
    assert prompt.startswith("4\n\nExamples of graded responses")
    assert "Wrong." in prompt


def test_template_hash_changes_with_the_prompt_not_with_the_model():
    base = spec()
    assert base.template_hash() == spec(model="openai/other").template_hash()
    assert base.template_hash() != spec(template="{output}!").template_hash()


# -- validation ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "changes, message",
    [
        ({"rubric": {"1": "a", "2": "b", "3": "c", "4": "d"}}, "missing: 5"),
        ({"rubric": {**RUBRIC, "5": "  "}}, "missing: 5"),
        ({"rubric": {**RUBRIC, "6": "x"}}, "unexpected keys: 6"),
        ({"kind": "python"}, "kind must be one of"),
        ({"template": "{input} only"}, "must include {output}"),
        ({"template": ""}, "needs a prompt template"),
        ({"pass_threshold": 6}, "pass threshold"),
        ({"kind": "reference"}, "reference_metric"),
        ({"kind": "assertion", "checks": []}, "at least one check"),
        ({"kind": "assertion", "checks": [{"type": "exec", "code": "1"}]}, "type 'exec'"),
        ({"examples": [{"output": "x", "score": 9}]}, "score from 1 to 5"),
    ],
)
def test_invalid_specs_say_what_to_fix(changes, message):
    with pytest.raises(InvalidSpec, match=message.replace("{", r"\{").replace("}", r"\}")):
        spec(**changes).validate()


def test_unknown_fields_are_refused_on_import():
    with pytest.raises(InvalidSpec, match="temprature"):
        JudgeSpec.from_dict({"name": "x", "temprature": 0})


def test_json_round_trip():
    original = spec(examples=[{"output": "2", "score": 4, "reasoning": "ok"}], params={"temperature": 0, "seed": 7})
    again = JudgeSpec.from_json(original.to_json())
    assert again == original
    assert again.body_hash() == original.body_hash()


# -- built-ins ----------------------------------------------------------------------------------------
def test_builtins_are_complete_and_valid():
    builtins = builtin_specs()
    for name in ("faithfulness", "answer_relevance", "correctness", "structure_equivalence",
                 "instruction_following", "custom", "reference_match", "reference_rouge", "reference_f1",
                 "json_tree_match", "format_checks"):
        assert name in builtins
    for name, s in builtins.items():
        assert s.name == name
        s.validate([])
        assert all(len(s.rubric[k]) > 10 for k in s.rubric), name


def test_llm_builtins_ask_for_reasoning_before_the_score_in_json():
    for s in builtin_specs().values():
        if s.kind != "llm":
            continue
        assert s.model == DEFAULT_MODEL
        prompt = s.render({**ITEM, "context": "2+2=4"})
        assert prompt.index('"reasoning"') < prompt.index('"score"')
        assert "step by step" in prompt
        assert "5 - " in prompt and "{" not in prompt.replace('{"reasoning"', "")
        assert parse_verdict(prompt[prompt.rindex("{"):]) == ("Step 1: ... Step 2: ... Therefore the score is 3.", 3)


def test_builtin_copies_are_independent():
    builtin_specs()["custom"].rubric["1"] = "changed"
    assert builtin_specs()["custom"].rubric["1"] != "changed"


def test_builtin_templates_use_the_fields_their_criterion_needs():
    builtins = builtin_specs()
    assert "context" in builtins["faithfulness"].variables()
    assert "reference" in builtins["correctness"].variables()
    assert "reference" in builtins["structure_equivalence"].variables()


# -- store --------------------------------------------------------------------------------------------
def test_save_is_append_only_and_identical_bodies_are_a_no_op(store):
    assert save_spec(store, spec().to_dict()) == 1
    assert save_spec(store, spec().to_dict()) == 1
    assert save_spec(store, spec(criteria="Stricter.").to_dict()) == 2
    assert store.spec_body("t")["criteria"] == "Stricter."
    assert store.spec_body("t", 1)["criteria"] == "Is it right?"
    history = store.spec_history("t")
    assert list(history["version"]) == [2, 1]
    assert json.loads(history["body"][1])["criteria"] == "Is it right?"
    listed = store.specs()
    assert list(listed["name"]) == ["t"] and int(listed["version"][0]) == 2 and listed["kind"][0] == "llm"
    assert store.spec_record("t")["version"] == 2


def test_save_refuses_an_invalid_spec(store):
    with pytest.raises(InvalidSpec):
        save_spec(store, {"name": "bad", "rubric": {}})
    assert store.specs().empty


def test_load_spec_prefers_a_file_then_a_saved_name_then_a_builtin(store, tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(spec(name="from_file").to_json())
    assert load_spec(store, str(path)).name == "from_file"
    assert load_spec(store, "faithfulness").criteria.startswith("Faithfulness")
    edited = builtin_specs()["faithfulness"]
    edited.criteria = "Our own faithfulness."
    save_spec(store, edited.to_dict())
    assert load_spec(store, "faithfulness").criteria == "Our own faithfulness."
    with pytest.raises(NotFound, match="Built-in: faithfulness"):
        load_spec(store, "nope")


def _dataset(store):
    with store.db.connect() as con:
        con.execute("INSERT INTO datasets (name, version, content_hash, row_count) VALUES ('qa', 1, 'h', 3)")
        for position, (uid, output) in enumerate([("u1", "Paris"), ("u2", "Lyon"), ("u3", "Nice")]):
            con.execute("INSERT INTO items VALUES (?, 'qa', ?, 'Capital of France?', ?, NULL, 'Paris')",
                        [uid, uid, output])
            con.execute("INSERT INTO dataset_items VALUES (1, ?, ?, '{}')", [uid, position])
    return 1


def test_fewshot_marks_are_append_only_and_latest_wins(store):
    _dataset(store)
    store.mark_fewshot("t", "u2")
    store.mark_fewshot("t", "u1")
    store.mark_fewshot("t", "u3")
    store.mark_fewshot("t", "u3", active=False)
    assert store.fewshot_items("t") == ["u2", "u1"]
    assert store.fewshot_items("other") == []
    with pytest.raises(NotFound):
        store.mark_fewshot("t", "missing")


def test_examples_from_labels_use_the_human_grade_and_critique(store):
    dataset_id = _dataset(store)
    store.add_label("u1", "ann", score=2, critique="first take")
    store.add_label("u1", "ann", score=5, critique="Correct capital.")
    store.add_label("u2", "ann", score=3, critique="meh")
    store.add_label("u2", "owner", score=1, critique="Lyon is wrong.", kind="adjudication")
    for uid in ("u1", "u2", "u3"):  # u3 has no label: skipped
        store.mark_fewshot("t", uid)
    examples = examples_from_labels(store, "t", dataset_id)
    assert examples == [
        {"input": "Capital of France?", "output": "Paris", "reference": "Paris", "score": 5,
         "reasoning": "Correct capital.", "item_uid": "u1"},
        {"input": "Capital of France?", "output": "Lyon", "reference": "Paris", "score": 1,
         "reasoning": "Lyon is wrong.", "item_uid": "u2"},
    ]
    spec(examples=examples).validate()


# -- trying a spec on a few rows ----------------------------------------------------------------------
def test_try_spec_calls_the_model_once_per_row_and_repairs_an_unreadable_reply(store, tmp_path, fake_llm):
    from judge.importing import import_file
    from judge.trial import try_spec

    csv = tmp_path / "qa.csv"
    csv.write_text("id,question,answer\n" + "".join(f"q{n},Question {n}?,Answer {n}\n" for n in range(1, 9)))
    import_file(store, csv, dataset="qa", column_map={"id": "id", "input": "question", "output": "answer"})
    replies = iter(['{"reasoning": "fine", "score": 4}', "I like it.", '{"reasoning": "fixed", "score": 2}',
                    '{"reasoning": "ok", "score": 5}', '{"reasoning": "bad", "score": 1}',
                    '{"reasoning": "ok", "score": 3}'])
    fake_llm.reply_with(lambda body: next(replies))
    spec = builtin_specs()["answer_relevance"]
    spec.params = {"temperature": 0, "max_tokens": 200}
    trial = try_spec(store, spec, "qa", n=5)
    assert list(trial["item_id"]) == ["q1", "q2", "q3", "q4", "q5"]
    assert sorted(trial["score"]) == [1, 2, 3, 4, 5]  # one reply was repaired; replies arrive in any order
    assert trial["error"].isna().all()
    assert len(fake_llm.requests) == 6
    assert sum("could not be read" in json.dumps(r.body) for r in fake_llm.requests) == 1
    assert store.specs().empty  # a trial stores nothing


def test_examples_skip_marked_items_whose_labels_have_no_score(store):
    dataset_id = _dataset(store)
    store.add_label("u1", "ann", passed=True, critique="fine")
    store.add_label("u2", "ann", score=4)
    store.mark_fewshot("t", "u1")
    store.mark_fewshot("t", "u2")
    assert [(e["item_uid"], e["score"], e["reasoning"]) for e in examples_from_labels(store, "t", dataset_id)] == [
        ("u2", 4, "")]


def test_try_spec_retries_a_throttled_call_as_a_run_would(store, tmp_path, fake_llm):
    """A trial goes through the runner's call path: a 429 is retried (honouring Retry-After), never shown
    as an error that a run would not record."""
    from judge.importing import import_file
    from judge.runner import RetryPolicy
    from judge.trial import try_spec

    csv = tmp_path / "qa.csv"
    csv.write_text("id,question,answer\n" + "".join(f"q{n},Question {n}?,Answer {n}\n" for n in range(1, 4)))
    import_file(store, csv, dataset="qa", column_map={"id": "id", "input": "question", "output": "answer"})
    fake_llm.reply_with(lambda body: '{"reasoning": "fine", "score": 4}')
    fake_llm.fail_next(2, status=429, retry_after=0)
    trial = try_spec(store, builtin_specs()["answer_relevance"], "qa", n=3)
    assert list(trial["score"]) == [4, 4, 4] and list(trial["passed"]) == [True, True, True]
    assert trial["error"].isna().all()
    assert len(fake_llm.requests) == 5  # 3 verdicts + 2 retried throttled calls
    assert RetryPolicy().max_retries >= 2
