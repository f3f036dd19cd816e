"""A bad key, an unknown model and failed verdicts never pass for a good run (issue 10, item 1).

The real openai/anthropic SDK clients talk to the fake server, which answers 401/403/404 or 500.
"""

from __future__ import annotations

import pytest

from judge.cli import main
from judge.errors import JudgeError, RunAborted
from judge.reports import gate, pin_baseline
from judge.runner import RetryPolicy, estimate_run, execute_run, start_run
from runner_helpers import llm_spec, make_dataset

ROWS = 40
NO_RETRY = RetryPolicy(max_retries=0)


def _cli(store, capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(store.path), *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("model", ["openai/gpt-test", "anthropic/claude-test"])
@pytest.mark.parametrize("status,says", [(401, "rejected the API key"), (403, "rejected the API key"),
                                         (404, "does not know this model")])
def test_a_call_no_other_call_can_get_past_stops_the_run_at_once(store, tmp_path, fake_llm, model, status, says):
    make_dataset(store, tmp_path, ROWS)
    fake_llm.fail_rate(status, 1.0)
    run_id = start_run(store, dataset="sums", spec=llm_spec(model=model), concurrency=4)
    with pytest.raises(RunAborted, match=says) as raised:
        execute_run(store, run_id)
    assert f"judge run --resume {run_id}" in str(raised.value)
    run = store.run(run_id)
    assert run["status"] == "failed" and says in run["error"]
    assert fake_llm.count <= 4, f"{fake_llm.count} calls after the first {status}"
    assert run["done"] == 0  # nothing recorded: no row of failures, no score


def test_judge_run_with_a_bad_key_exits_with_one_message_and_resume_with_a_good_key_finishes(
        store, tmp_path, fake_llm, capsys):
    make_dataset(store, tmp_path, ROWS)
    spec_file = tmp_path / "judge.json"
    spec_file.write_text(llm_spec().to_json())
    fake_llm.fail_rate(401, 1.0, message="Incorrect API key provided: sk-bad***beef.")
    code, out, err = _cli(store, capsys, "run", "--dataset", "sums", "--judge", str(spec_file), "--yes")
    assert code == 2 and fake_llm.count <= 16
    assert err.count("rejected the API key") == 1 and "OPENAI_API_KEY" in err and "sk-bad" not in err
    assert "\nerror: Run " in err  # on its own line, after the progress line
    run_id = store.runs()["id"].iloc[0]
    assert store.run(run_id)["status"] == "failed"

    fake_llm.fail_rate(401, 0)  # the key is fixed
    code, out, err = _cli(store, capsys, "run", "--resume", run_id, "--yes")
    assert code == 0 and out.strip().splitlines()[-1] == run_id and f"about {ROWS} calls" in err
    run = store.run(run_id)
    assert run["status"] == "done" and run["done"] == ROWS and run["failed"] == 0


def test_resume_retries_failed_verdicts_instead_of_counting_them_done(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, ROWS)
    fake_llm.fail_next(10, status=500)
    run_id = start_run(store, dataset="sums", spec=llm_spec(), concurrency=1)
    first = execute_run(store, run_id, retry=NO_RETRY)
    assert first.failed == 10 and store.verdicts(run_id)["score"].isna().sum() == 10

    assert estimate_run(store, run_id=run_id).calls == 10  # what `judge run --resume` announces
    calls_before = fake_llm.count
    second = execute_run(store, run_id, retry=NO_RETRY)
    verdicts = store.verdicts(run_id)
    assert fake_llm.count - calls_before == 10  # exactly the failed rows, once each
    assert second.failed == 0 and len(verdicts) == ROWS and verdicts["item_uid"].is_unique
    assert verdicts["score"].notna().all() and verdicts["error"].isna().all()


def test_judge_run_exits_1_when_verdicts_failed_unless_allowed(store, tmp_path, fake_llm, capsys):
    make_dataset(store, tmp_path, ROWS)
    spec_file = tmp_path / "judge.json"
    spec_file.write_text(llm_spec().to_json())
    fake_llm.fail_next(3, status=400)  # not worth retrying: 3 failed verdicts
    code, out, err = _cli(store, capsys, "run", "--dataset", "sums", "--judge", str(spec_file), "--yes",
                          "--concurrency", "1", "--allow-failures", "2")
    run_id = out.strip().splitlines()[-1]
    assert code == 1 and "3 of 40 verdicts" in err and "HTTP 400" in err and f"--resume {run_id}" in err

    fake_llm.fail_next(2, status=400)
    code, out, err = _cli(store, capsys, "run", "--resume", run_id, "--yes", "--allow-failures", "5%")
    assert code == 0 and store.run(run_id)["failed"] == 2  # 2 of 40 is within 5%
    code, _, err = _cli(store, capsys, "run", "--resume", run_id, "--yes", "--allow-failures", "lots")
    assert code == 2 and "failure allowance 'lots'" in err


def test_gate_fails_and_baseline_refuses_a_run_whose_verdicts_failed(store, tmp_path, fake_llm, capsys):
    make_dataset(store, tmp_path, ROWS)
    good = start_run(store, dataset="sums", spec=llm_spec())
    execute_run(store, good)
    fake_llm.fail_rate(500, 1.0)
    broken = start_run(store, dataset="sums", spec=llm_spec(params={"max_tokens": 300}))  # no cache hits
    execute_run(store, broken, retry=NO_RETRY)
    assert store.run(broken)["failed"] == ROWS

    with pytest.raises(JudgeError, match=rf"Cannot use run {broken} as the baseline.*40 of 40 verdicts"):
        pin_baseline(store, "sum_checker", broken)
    code, _, err = _cli(store, capsys, "baseline", "--judge", "sum_checker", "--run", broken)
    assert code == 2 and "HTTP 500" in err and store.baseline_run("sum_checker") is None
    pin_baseline(store, "sum_checker", good)

    result = gate(store, broken, good, n_boot=50)
    assert not result.passed and "40 of 40 verdicts" in result.incomplete
    code, out, _ = _cli(store, capsys, "gate", "--run", broken, "--boot", "50")
    assert code == 1 and "gate: FAILED" in out and "more than the 2% allowed" in out
    assert not gate(store, broken, good, n_boot=50, allowance="100%").passed  # no score at all: never a pass
    assert gate(store, good, broken, n_boot=50).incomplete is None
