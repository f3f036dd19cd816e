"""The store: migrations from a blank file, append-only labels, and turn-taking between processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

from judge.errors import JudgeError, NotFound
from judge.store import Store
from judge.store.schema import MIGRATIONS


def test_blank_file_migrates_to_the_exact_schema(tmp_path):
    store = Store(tmp_path / "blank.duckdb")
    tables = store.tables()
    assert sorted(tables) == sorted([
        "annotators", "baselines", "batch_units", "criteria", "dataset_items", "datasets", "fewshot_marks",
        "funnel_runs", "funnel_stage_runs", "funnel_steps", "funnel_versions", "funnels", "items",
        "judge_specs", "labels", "model_prices", "pair_links", "pair_tasks", "pairs", "pairwise_runs",
        "pairwise_verdicts", "preferences", "rubrics", "run_batches", "runs", "schema_migrations",
        "task_items", "task_links", "tasks", "verdicts",
    ])
    assert tables["labels"] == [
        "id", "item_uid", "annotator_id", "kind", "score", "passed", "critique", "rubric_id", "task_id",
        "source", "created_at", "criterion_id", "effective_passed", "sample_design", "sample_share",
    ]
    assert tables["criteria"] == ["id", "dataset_name", "name", "scale", "rubric_name", "position", "created_at"]
    assert {"criterion", "spec_body", "pass_threshold", "rubric_id"} <= set(tables["runs"])
    assert tables["tasks"][-2:] == ["criterion_ids", "sample_design"]
    assert tables["task_items"][-1] == "sample_share"
    assert tables["items"] == ["uid", "dataset_name", "item_id", "input", "output", "context", "reference"]
    assert tables["verdicts"] == [
        "run_id", "item_uid", "sample", "score", "weighted_score", "passed", "reasoning", "raw_reply",
        "prompt", "model_reported", "input_tokens", "output_tokens", "latency_ms", "cost_usd", "cache_key",
        "cached", "error", "created_at", "cached_input_tokens", "cache_write_tokens", "batch_id", "score_probs",
    ]
    assert tables["funnel_versions"] == [  # 0008_funnel
        "id", "funnel_id", "version", "stages", "target", "alpha", "delta", "calibration", "split_seed",
        "calibration_share", "calibration_uids", "heldout_uids", "calibration_hash", "heldout_hash", "dataset_id",
        "calibration_run_id", "created_at",
    ]
    assert tables["funnel_steps"] == ["funnel_run_id", "stage", "item_uid", "confidence", "passed", "score", "error",
                                      "settled"]
    assert tables["run_batches"] == [
        "key", "run_id", "provider", "round", "requests", "status", "batch_id", "input_file_id", "provider_status",
        "output_file_id", "error_file_id", "cancel_requested", "error", "created_at", "submitted_at", "collected_at",
    ]
    assert tables["batch_units"] == [
        "batch_key", "custom_id", "run_id", "item_uid", "sample", "cache_key", "kind", "prompt", "carried",
        "outcome", "reason",
    ]
    assert tables["judge_specs"] == ["id", "name", "version", "body", "body_hash", "created_at"]
    assert tables["task_links"] == [
        "id", "task_id", "annotator_id", "token_hash", "created_at", "expires_at", "revoked_at",
    ]
    assert tables["runs"][-1] == "notice"  # 0004_faults
    assert tables["pairs"] == [
        "uid", "dataset_name", "pair_id", "input", "output_a", "output_b", "system_a", "system_b", "context",
        "reference", "metadata", "position", "source_file", "created_at",
    ]
    assert tables["pair_tasks"] == ["id", "name", "dataset_name", "criterion", "instructions", "created_at",
                                    "closed_at"]
    assert tables["pair_links"] == ["id", "pair_task_id", "annotator_id", "token_hash", "created_at", "expires_at",
                                    "revoked_at"]
    assert tables["preferences"] == [
        "id", "pair_uid", "annotator_id", "criterion", "choice", "shown_order", "critique", "source", "created_at",
    ]
    assert tables["pairwise_runs"] == [
        "id", "name", "dataset_name", "spec_name", "spec_body", "criterion", "model", "base_url", "orders",
        "source", "status", "total_pairs", "template_hash", "code_version", "error", "created_at", "finished_at",
        "batch",
    ]
    assert tables["pairwise_verdicts"] == [
        "run_id", "pair_uid", "shown_order", "score", "choice", "reasoning", "raw_reply", "prompt",
        "model_reported", "input_tokens", "output_tokens", "latency_ms", "cost_usd", "cache_key", "cached",
        "error", "created_at", "batch_id",
    ]


def test_migrations_are_recorded_and_applied_once(tmp_path):
    path = tmp_path / "s.duckdb"
    first = Store(path)
    assert first.migrate() == []
    with first.db.connect() as con:
        names = [n for (n,) in con.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]
    assert names == [name for name, _ in MIGRATIONS]
    assert Store(path).migrate() == []


def _one_item(store: Store) -> str:
    with store.db.connect() as con:
        con.execute("INSERT INTO datasets (name, version, content_hash, row_count) VALUES ('d', 1, 'h', 1)")
        con.execute("INSERT INTO items VALUES ('u1', 'd', '1', 'q', 'a', NULL, NULL)")
        con.execute("INSERT INTO dataset_items VALUES (1, 'u1', 0, '{}')")
    return "u1"


def test_an_edited_label_keeps_its_history(store):
    uid = _one_item(store)
    store.add_label(uid, "ana", score=2, critique="too vague")
    store.add_label(uid, "ana", score=4, passed=True, critique="fine after all")
    latest = store.latest_labels(store.dataset("d")["id"])
    assert latest[["annotator", "score", "critique"]].values.tolist() == [["ana", 4, "fine after all"]]
    assert store.label_history(uid)["score"].tolist() == [4, 2]


@pytest.mark.parametrize("score", [0, 6, 3.5, "x", True])
def test_a_label_outside_1_to_5_is_refused(store, score):
    uid = _one_item(store)
    with pytest.raises((JudgeError, ValueError)):
        store.add_label(uid, "ana", score=score)
    assert store.label_history(uid).empty


def test_a_label_on_an_unknown_item_is_refused(store):
    with pytest.raises(NotFound):
        store.add_label("nope", "ana", score=3)


def test_rubrics_are_versioned_not_overwritten(store):
    anchors = {str(s): f"anchor {s}" for s in range(1, 6)}
    first = store.save_rubric("helpful", "Is it helpful?", anchors)
    assert store.save_rubric("helpful", "Is it helpful?", anchors) == first
    second = store.save_rubric("helpful", "Is it helpful and correct?", anchors, pass_threshold=3)
    assert second != first
    assert store.rubric("helpful")["version"] == 2
    assert store.rubric(rubric_id=first)["criteria"] == "Is it helpful?"


def test_threads_labeling_at_once_lose_nothing(store):
    uid = _one_item(store)

    def label(who):
        for i in range(20):
            store.add_label(uid, who, score=1 + i % 5)

    threads = [threading.Thread(target=label, args=(f"a{n}",)) for n in range(5)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(store.label_history(uid)) == 100


def test_another_process_writes_while_this_one_uses_the_store(tmp_path):
    path = tmp_path / "shared.duckdb"
    store = Store(path)
    uid = _one_item(store)
    script = textwrap.dedent(f"""
        from judge.store import Store
        s = Store({str(path)!r})
        for i in range(30):
            s.add_label({uid!r}, "terminal", score=3)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    for _ in range(30):
        store.add_label(uid, "dashboard", score=4)
        store.latest_labels(store.dataset("d")["id"])
    assert proc.wait(timeout=60) == 0
    assert len(store.label_history(uid)) == 60
