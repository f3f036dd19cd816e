"""The small faults of issue 10, item 12, each through the real CLI entry point or the API it calls.

On main: `link create --days 99999999` raised OverflowError, `prices set M nan inf` was accepted (estimates
read "about $nan"), a mistyped --db silently created an empty store, a store file cut in half gave a raw
IOException traceback, the JSONL error said "at at character", `judge show RUN --json | head` ended in a
BrokenPipeError traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from judge import team
from judge.cli import main
from judge.errors import ImportFailed, JudgeError, StoreDamaged
from judge.importing import import_file
from judge.runner import execute_run, start_run
from judge.specs import builtin_specs
from judge.store import Store
from runner_helpers import llm_spec, make_dataset
from test_pages_data import db, open_page  # noqa: F401 (db is a fixture)
from test_team import seed_dataset

ROOT = Path(__file__).resolve().parents[1]


def _cli(store_path, capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(store_path), *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("days", ["99999999", "1e300", "nan", "inf", "0", "-3", "366"])
def test_link_lifetimes_beyond_a_year_or_not_a_number_are_refused(store, capsys, days):
    seed_dataset(store)
    task_id = team.create_task(store, name="t", dataset="support")
    code, out, err = _cli(store.path, capsys, "link", "create", str(task_id), "--annotator", "ana",
                          "--days", days)
    assert code == 2 and "at most 365 days" in err and "Traceback" not in err
    assert store.task_links(task_id).empty


@pytest.mark.parametrize("prices", [("nan", "1"), ("1", "inf"), ("-1", "2"), ("nan", "nan")])
def test_prices_must_be_finite_and_not_negative(store, capsys, prices):
    code, _, err = _cli(store.path, capsys, "prices", "set", "openai/gpt-x", *prices)
    assert code == 2 and "finite, non-negative" in err
    assert store.model_price_overrides() == {}


def test_a_mistyped_db_is_refused_unless_create_is_given(tmp_path, capsys, monkeypatch):
    typo = tmp_path / "judeg.duckdb"
    code, _, err = _cli(typo, capsys, "runs")
    assert code == 2 and "is the path mistyped? Pass --create" in err and not typo.exists()
    monkeypatch.setenv("JUDGE_DB", str(typo))
    assert main(["datasets"]) == 2 and "$JUDGE_DB" in capsys.readouterr().err and not typo.exists()
    assert main(["--create", "datasets"]) == 0
    assert f"creating a new store at {typo}" in capsys.readouterr().err and typo.exists()
    assert main(["datasets"]) == 0 and "creating" not in capsys.readouterr().err
    demo = tmp_path / "demo.duckdb"
    assert main(["--db", str(demo), "demo", "--if-empty"]) == 0 and demo.exists()  # what `judge demo` is for
    assert f"creating a new store at {demo}" in capsys.readouterr().err


def test_a_store_cut_in_half_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "judge.duckdb"
    store = Store(path)
    seed_dataset(store, n=4000)
    with store.db.connect() as con:
        con.execute("CHECKPOINT")
    os.truncate(path, path.stat().st_size // 2)
    with pytest.raises(StoreDamaged, match="cannot be read or written.*restore it from a backup"):
        Store(path).datasets()
    code, _, err = _cli(path, capsys, "datasets")
    assert code == 2 and err.startswith("error: The store") and "Traceback" not in err
    path.write_bytes(b"not a database at all")
    with pytest.raises(StoreDamaged):
        Store(path)


def test_the_jsonl_error_names_the_character_once(tmp_path, store):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"output": "fine"}\n{"output": "cut', encoding="utf-8")  # the file ends mid-string
    with pytest.raises(ImportFailed) as caught:
        import_file(store, path, dataset="d")
    message = str(caught.value)
    assert "row 2" in message and "Unterminated string starting at character 12" in message
    assert "at at" not in message


def test_show_json_into_a_closed_pipe_ends_quietly(store, tmp_path):
    seed_dataset(store, n=3000)
    run_id = start_run(store, dataset="support", spec=builtin_specs()["format_checks"])
    execute_run(store, run_id)
    command = f"{sys.executable} -m judge --db {store.path} show {run_id} --json | head -c 100"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.startswith("{") and len(done.stdout) == 100
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.returncode == 141  # the writer's status, like any Unix tool whose reader went away


def test_a_bad_days_value_is_refused_by_the_api_too(store):
    with pytest.raises(JudgeError, match="at most 365"):
        team.link_lifetime(400)
    assert team.link_lifetime("7").days == 7


@pytest.mark.parametrize("timeout", ["0", "nan", "inf", "-5"])
def test_a_call_timeout_must_be_a_positive_number_of_seconds(store, tmp_path, capsys, timeout, fake_llm):
    make_dataset(store, tmp_path, 2)
    spec_file = tmp_path / "judge.json"
    spec_file.write_text(llm_spec().to_json())
    code, _, err = _cli(store.path, capsys, "run", "--dataset", "sums", "--judge", str(spec_file),
                        "--timeout", timeout, "--yes")
    assert code == 2 and "timeout is seconds per call" in err and store.runs().empty and fake_llm.count == 0


@pytest.mark.parametrize("page", ["pages/home.py", "pages/run.py", "pages/datasets.py"])
def test_the_dashboard_shows_a_damaged_store_as_one_message(db, page):  # noqa: F811 (db is a fixture)
    db.write_bytes(b"not a database at all")
    at = open_page(page)  # asserts that no exception reached the page
    assert [e.value for e in at.error if "cannot be read or written" in e.value]
