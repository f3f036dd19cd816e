"""Prompt caching against the fake server's simulation of both providers' rules: a stable static prefix, the
Anthropic breakpoint, cached and cache-write tokens per verdict, their prices and the savings reported."""

from __future__ import annotations

import pytest

from judge.caching import MIN_CACHEABLE_TOKENS, cacheable_tokens, static_prefix
from judge.cli import main
from judge.pricing import cache_prices, call_cost
from judge.runner import estimate_run, execute_run, start_run
from judge.runner.costs import run_savings
from judge.specs import builtin_specs
from runner_helpers import llm_spec, make_dataset

LONG_CRITERIA = " ".join(f"Rule {i}: the answer must state the sum exactly, in digits, without hedging." for i in
                         range(110))  # about 8,000 characters, some 2,000 tokens


def _long_spec(model: str):
    return llm_spec(model=model, criteria=LONG_CRITERIA,
                    template="{criteria}\n\n{rubric}\n\nQuestion: {input}\nAnswer: {output}")


@pytest.mark.parametrize("model", ["openai/gpt-4.1-mini", "anthropic/claude-sonnet-4-5"])
def test_a_200_row_run_with_a_long_spec_reads_90_percent_of_its_input_from_the_cache(store, tmp_path, fake_llm,
                                                                                         model):
    make_dataset(store, tmp_path, 200)
    spec = _long_spec(model)
    assert cacheable_tokens(spec) >= MIN_CACHEABLE_TOKENS
    summary = execute_run(store, start_run(store, dataset="sums", spec=spec, concurrency=8))
    assert (summary.done, summary.failed) == (200, 0)

    verdicts = store.verdicts(summary.run_id)
    first = verdicts[verdicts["cached_input_tokens"] == 0]
    assert len(first) == 1, "only the first request misses the cache"
    rest = verdicts.drop(first.index)
    assert rest["cached_input_tokens"].sum() / rest["input_tokens"].sum() >= 0.9
    if model.startswith("anthropic"):
        assert first["cache_write_tokens"].iloc[0] >= MIN_CACHEABLE_TOKENS and rest["cache_write_tokens"].eq(0).all()
        content = fake_llm.requests[0].body["messages"][0]["content"]
        assert content[0] == {"type": "text", "text": static_prefix(spec), "cache_control": {"type": "ephemeral"}}
        assert "cache_control" not in content[1] and content[1]["text"] == "What is 0 + 0?\nAnswer: It is 0."

    price = (0.40, 1.60) if model.startswith("openai") else (3.00, 15.00)
    row = rest.iloc[0]
    expected = call_cost(price, int(row["input_tokens"]), int(row["output_tokens"]),
                         cached_tokens=int(row["cached_input_tokens"]), cache_rates=cache_prices(model, price))
    assert row["cost_usd"] == pytest.approx(expected)
    assert row["cost_usd"] < call_cost(price, int(row["input_tokens"]), int(row["output_tokens"])) * 0.5
    savings = run_savings(store, store.run(summary.run_id))
    assert savings.cached_share >= 0.89 and savings.caching_saved_usd > 0


def test_cache_prices_follow_each_providers_rules():
    assert cache_prices("openai/gpt-4.1-mini", (0.40, 1.60)) == pytest.approx((0.10, 0.40))
    assert cache_prices("openai/gpt-4o", (2.50, 10.0)) == pytest.approx((1.25, 2.50))
    assert cache_prices("anthropic/claude-sonnet-4-5", (3.0, 15.0)) == pytest.approx((0.30, 3.75))
    assert cache_prices("openai-compatible/llama", (1.0, 1.0)) == (1.0, 1.0)
    # 1,000 input tokens of which 800 read and 100 written, 10 out, at Anthropic's rates, then in a batch
    cost = call_cost((3.0, 15.0), 1000, 10, cached_tokens=800, cache_write_tokens=100, cache_rates=(0.3, 3.75))
    assert cost == pytest.approx((100 * 3.0 + 800 * 0.3 + 100 * 3.75 + 10 * 15.0) / 1e6)
    assert call_cost((3.0, 15.0), 1000, 10, batch=True) == pytest.approx((3000 + 150) / 1e6 / 2)


def test_built_in_judges_put_the_item_last_so_their_prompt_is_a_stable_prefix():
    for spec in builtin_specs().values():
        if spec.kind != "llm":
            continue
        prefix = static_prefix(spec)
        prompt = spec.render({"input": "Q?", "output": "A.", "context": "C.", "reference": "R."})
        assert prompt.startswith(prefix) and len(prefix) > 0.8 * len(prompt), spec.name
        assert "A." not in prefix and "Q?" not in prefix


def test_the_estimate_and_judge_show_report_the_caching_saving(store, tmp_path, fake_llm, capsys):
    make_dataset(store, tmp_path, 20)
    spec = _long_spec("anthropic/claude-sonnet-4-5")
    estimate = estimate_run(store, dataset="sums", spec=spec)
    assert estimate.est_cached_input_tokens == 19 * cacheable_tokens(spec)
    assert estimate.est_cost_usd < estimate.uncached_cost_usd and estimate.caching_saves_usd > 0
    assert "prompt caching: " in estimate.describe() and "of input tokens from the provider's cache" in \
        estimate.describe()

    run_id = execute_run(store, start_run(store, dataset="sums", spec=spec)).run_id
    assert main(["--db", str(store.path), "show", run_id]) == 0
    out = capsys.readouterr().out
    assert "prompt caching: " in out and "read from the cache" in out and "saved $" in out


def test_judge_prices_lists_the_cache_rates(store, capsys):
    assert main(["--db", str(store.path), "prices"]) == 0
    out = capsys.readouterr().out
    assert "gpt-4.1-mini\t0.4\t1.6\tbuilt-in\tcached 0.1\twrite 0.4" in out
    assert "claude-sonnet-4-5\t3\t15\tbuilt-in\tcached 0.3\twrite 3.75" in out
