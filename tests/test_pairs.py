"""Pair data: importing pairs and human preferences, LLMBar as it is, pairs formed from two dataset versions."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from judge.errors import ImportFailed, JudgeError, NotFound
from judge.importing import import_file
from judge.pairs import (
    InvalidPreference, coerce_choice, import_pairs, pairs_from_versions, record_preference, shown_order,
)

LLMBAR_ROWS = {"LLMBar/Natural": 100, "LLMBar/Adversarial/Neighbor": 134, "LLMBar/Adversarial/GPTInst": 92,
               "LLMBar/Adversarial/GPTOut": 47, "LLMBar/Adversarial/Manual": 46, "Processed/MT-Bench": 200,
               "Processed/FairEval": 66, "Processed/LLMEval^2": 200}


def write_pairs(path, rows):
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_pairs_with_systems_and_preferences_per_annotator_import(store, tmp_path):
    path = write_pairs(tmp_path / "p.csv", [
        {"id": "q1", "prompt": "2+2?", "response_a": "4", "response_b": "5", "model_a": "v1", "model_b": "v2",
         "annotator": "maya", "preference": "a", "comment": "right sum", "topic": "math"},
        {"id": "q1", "prompt": "2+2?", "response_a": "4", "response_b": "5", "model_a": "v1", "model_b": "v2",
         "annotator": "li", "preference": "tie", "comment": None, "topic": "math"},
        {"id": "q2", "prompt": "Capital of France?", "response_a": "Lyon", "response_b": "Paris",
         "model_a": "v1", "model_b": "v2", "annotator": "maya", "preference": "B", "comment": None, "topic": "geo"},
    ])
    result = import_pairs(store, path, dataset="versions", criterion="helpfulness")
    assert (result.pairs, result.new_pairs, result.preferences) == (2, 2, 3)
    assert result.mapping["system_a"] == "model_a" and result.mapping["preference"] == "preference"
    pairs = store.pairs("versions")
    assert list(pairs["pair_id"]) == ["q1", "q2"]
    assert pairs.loc[0, "metadata"] == {"topic": "math"} and pairs.loc[1, "system_b"] == "v2"
    prefs = store.preferences("versions", criterion="helpfulness")
    assert sorted(zip(prefs["pair_id"], prefs["annotator"], prefs["choice"])) == [
        ("q1", "li", "tie"), ("q1", "maya", "a"), ("q2", "maya", "b")]
    assert pd.isna(prefs.set_index("annotator").loc["li", "critique"])
    again = import_pairs(store, path, dataset="versions", criterion="helpfulness")
    assert (again.new_pairs, again.preferences) == (0, 0)


def test_a_bad_preference_names_file_row_and_column_and_stores_nothing(store, tmp_path):
    path = write_pairs(tmp_path / "bad.csv", [
        {"input": "x", "output_a": "1", "output_b": "2", "winner": "a"},
        {"input": "y", "output_a": "1", "output_b": "2", "winner": "maybe"},
    ])
    with pytest.raises(ImportFailed, match=r"bad.csv, row 3, column 'winner': A preference must be a, b or tie"):
        import_pairs(store, path, dataset="d")
    assert store.pair_datasets().empty


def test_a_missing_output_b_column_says_how_to_map_it(store, tmp_path):
    path = write_pairs(tmp_path / "one.csv", [{"input": "x", "output_a": "1", "other": "2"}])
    with pytest.raises(ImportFailed, match="no output_b column .*--map output_b=COLUMN"):
        import_pairs(store, path, dataset="d")
    result = import_pairs(store, path, dataset="d", column_map={"output_b": "other"})
    assert result.pairs == 1 and store.pairs("d").loc[0, "output_b"] == "2"


def test_llmbar_imports_whole_as_it_is(store, shared_data):
    folder = shared_data / "llmbar"
    result = import_pairs(store, folder, dataset="llmbar")
    assert result.mapping == {"input": "input", "output_a": "output_1", "output_b": "output_2", "preference": "label"}
    assert result.pairs == sum(LLMBAR_ROWS.values()) == 885
    assert result.preferences == 885
    pairs = store.pairs("llmbar")
    subsets = pairs["metadata"].map(lambda m: m["subset"]).value_counts().to_dict()
    assert subsets == LLMBAR_ROWS
    prefs = store.preferences("llmbar").merge(pairs[["uid", "metadata"]], left_on="pair_uid", right_on="uid")
    # Hand check against the files: label 1 -> a (output_1 better), 2 -> b.
    for subset in ("LLMBar/Natural", "Processed/MT-Bench"):
        raw = json.loads((folder / subset / "dataset.json").read_text())
        expected = ["a" if row["label"] == 1 else "b" for row in raw]
        got = prefs[prefs["metadata"].map(lambda m: m["subset"]) == subset]
        got = got.assign(n=got["pair_id"].str.rsplit("/", n=1).str[-1].astype(int)).sort_values("n")
        assert list(got["choice"]) == expected
        first = pairs[pairs["pair_id"] == f"{subset}/1"].iloc[0]
        assert (first["input"], first["output_a"], first["output_b"]) == (
            raw[0]["input"], raw[0]["output_1"], raw[0]["output_2"])


def test_pairs_formed_from_two_versions_of_a_dataset(store, tmp_path):
    pd.DataFrame({"id": ["1", "2", "3"], "input": ["a?", "b?", "c?"], "output": ["A1", "B1", "C"]}).to_csv(
        tmp_path / "v1.csv", index=False)
    pd.DataFrame({"id": ["1", "2", "3"], "input": ["a?", "b?", "c?"], "output": ["A2", "B2", "C"]}).to_csv(
        tmp_path / "v2.csv", index=False)
    import_file(store, tmp_path / "v1.csv", dataset="app")
    import_file(store, tmp_path / "v2.csv", dataset="app")
    result = pairs_from_versions(store, "app", 1, 2)
    assert result.dataset == "app v1 vs v2" and result.pairs == 2
    assert "1 item(s) have the same output" in result.warnings[0]
    pairs = store.pairs("app v1 vs v2")
    assert list(zip(pairs["pair_id"], pairs["output_a"], pairs["output_b"])) == [("1", "A1", "A2"), ("2", "B1", "B2")]
    assert set(pairs["system_a"]) == {"app v1"} and set(pairs["system_b"]) == {"app v2"}


def test_pairs_need_the_same_input_in_both_versions(store, tmp_path):
    pd.DataFrame({"id": ["1"], "input": ["a?"], "output": ["x"]}).to_csv(tmp_path / "v1.csv", index=False)
    pd.DataFrame({"id": ["1"], "input": ["other?"], "output": ["y"]}).to_csv(tmp_path / "v2.csv", index=False)
    import_file(store, tmp_path / "v1.csv", dataset="app")
    import_file(store, tmp_path / "v2.csv", dataset="app")
    with pytest.raises(JudgeError, match="Item '1' has a different input"):
        pairs_from_versions(store, "app", 1, 2)


def test_preferences_are_append_only_and_validated(store, tmp_path):
    import_pairs(store, write_pairs(tmp_path / "p.csv", [{"input": "x", "output_a": "1", "output_b": "2"}]),
                 dataset="d")
    uid = store.pairs("d").loc[0, "uid"]
    order = shown_order(uid, "maya")
    assert order in ("ab", "ba") and shown_order(uid, "maya") == order
    assert record_preference(store, uid, "maya", "a", shown=order)
    assert not record_preference(store, uid, "maya", "a", shown=order)
    assert record_preference(store, uid, "maya", "tie", shown=order, critique="both fine")
    assert store.preferences("d").loc[0, "choice"] == "tie"
    assert list(store.preference_history(uid)["choice"]) == ["a", "tie"]
    with pytest.raises(InvalidPreference, match="must be a, b or tie"):
        record_preference(store, uid, "maya", "c")
    with pytest.raises(InvalidPreference, match="shown order"):
        record_preference(store, uid, "maya", "a", shown="ba-ab")
    with pytest.raises(NotFound, match="No pair nope"):
        record_preference(store, "nope", "maya", "a")
    assert coerce_choice(2) == "b" and coerce_choice("model_a") == "a" and coerce_choice("") is None


def test_shown_orders_are_balanced_across_pairs():
    orders = [shown_order(f"pair{i}", "maya") for i in range(2000)]
    assert 0.46 < orders.count("ab") / len(orders) < 0.54
