"""`judge run / specs / runs / show / prices` through the real CLI entry point and the fake LLM server."""

from __future__ import annotations

import json

from judge.cli import main
from runner_helpers import llm_spec, make_dataset


def _cli(store, capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(store.path), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_run_prints_the_estimate_and_progress_on_stderr_and_the_run_id_last(store, tmp_path, fake_llm, capsys):
    make_dataset(store, tmp_path, 5)
    spec_file = tmp_path / "judge.json"
    spec_file.write_text(llm_spec().to_json())
    code, out, err = _cli(store, capsys, "run", "--dataset", "sums", "--judge", str(spec_file),
                          "--concurrency", "2", "--yes")
    run_id = out.strip().splitlines()[-1]
    assert code == 0 and store.run(run_id)["done"] == 5
    assert "about 5 calls, cost unknown" in err and "5/5" in err and "done: 5/5 verdicts" in err

    code, out, err = _cli(store, capsys, "run", "--resume", run_id, "--yes")
    assert code == 0 and out.strip() == run_id and "about 0 calls" in err and fake_llm.count == 5


def test_run_refuses_to_spend_without_confirmation_when_not_interactive(store, tmp_path, fake_llm, capsys):
    make_dataset(store, tmp_path, 2)
    code, _, err = _cli(store, capsys, "run", "--dataset", "sums", "--judge", "correctness",
                        "--model", "openai/gpt-test")
    assert code == 2 and "add --yes" in err and fake_llm.count == 0 and store.runs().empty


def test_specs_runs_show_and_prices(store, tmp_path, fake_llm, capsys):
    make_dataset(store, tmp_path, 3)
    code, out, _ = _cli(store, capsys, "specs")
    assert code == 0 and "correctness\tbuilt-in" in out and "reference_match" in out

    _cli(store, capsys, "prices", "set", "openai/gpt-test", "1", "2")
    spec_file = tmp_path / "judge.json"
    spec_file.write_text(llm_spec().to_json())
    _, out, err = _cli(store, capsys, "run", "--dataset", "sums", "--judge", str(spec_file), "--yes")
    run_id = out.strip()
    assert "about $0.00" in err

    code, out, _ = _cli(store, capsys, "runs", "--dataset", "sums")
    assert code == 0 and run_id in out and "sum_checker" in out
    code, out, _ = _cli(store, capsys, "show", run_id)
    assert code == 0 and "verdicts 3/3" in out and "q2" in out and "cost $0.0" in out
    code, out, _ = _cli(store, capsys, "show", run_id, "--json")
    body = json.loads(out)
    assert body["run"]["id"] == run_id and len(body["verdicts"]) == 3
    assert {"score", "reasoning", "prompt", "raw_reply", "cost_usd"} <= set(body["verdicts"][0])

    code, out, _ = _cli(store, capsys, "prices")
    assert "openai/gpt-test\t1\t2\toverride" in out and "gpt-4o-mini" in out
    code, _, err = _cli(store, capsys, "show", "nope")
    assert code == 2 and "No run 'nope'" in err
