"""The fake vendor server speaks both APIs well enough for the real SDKs, and its scripting does what it says."""

from __future__ import annotations

import asyncio
import json
import math
import time

import anthropic
import httpx2
import openai
import pytest

from fake_llm import FakeLLMServer, default_verdict

VERDICT_TOOL = {"name": "record_verdict", "description": "Record the verdict.",
                "input_schema": {"type": "object", "properties": {"reasoning": {"type": "string"},
                                                                  "score": {"type": "integer"}}}}


def ask_openai(server, content="Rate this answer.", **kwargs):
    async def call():
        async with openai.AsyncOpenAI(api_key="sk-test", base_url=server.openai_base_url, max_retries=0,
                                      timeout=kwargs.pop("timeout", 10)) as client:
            return await client.chat.completions.create(
                model=kwargs.pop("model", "gpt-4.1-mini"), messages=[{"role": "user", "content": content}], **kwargs)
    return asyncio.run(call())


def ask_anthropic(server, content="Rate this answer.", **kwargs):
    async def call():
        async with anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=server.anthropic_base_url,
                                            max_retries=0, timeout=10) as client:
            return await client.messages.create(model="claude-sonnet-4-6", max_tokens=300,
                                                messages=[{"role": "user", "content": content}], **kwargs)
    return asyncio.run(call())


def test_fixture_points_environment_at_the_server(fake_llm, monkeypatch):
    import os
    assert os.environ["OPENAI_BASE_URL"] == fake_llm.openai_base_url
    assert os.environ["ANTHROPIC_BASE_URL"] == fake_llm.anthropic_base_url
    models = httpx2.get(f"{fake_llm.url}/v1/models").json()
    assert models["object"] == "list" and {"id", "object", "owned_by"} <= set(models["data"][0])


def test_default_openai_reply_is_deterministic_and_realistic(fake_llm):
    first = ask_openai(fake_llm, "Same prompt")
    second = ask_openai(fake_llm, "Same prompt")
    verdict = json.loads(first.choices[0].message.content)
    assert verdict == json.loads(second.choices[0].message.content) == default_verdict("Same prompt")
    assert first.id.startswith("chatcmpl-") and first.id != second.id
    assert first.model == "gpt-4.1-mini" and first.choices[0].finish_reason == "stop"
    assert first.usage.prompt_tokens > 0 and first.usage.completion_tokens > 0
    scores = {json.loads(ask_openai(fake_llm, f"prompt {i}").choices[0].message.content)["score"] for i in range(30)}
    assert scores == {1, 2, 3, 4, 5}


def test_records_requests_with_headers_and_body(fake_llm):
    ask_openai(fake_llm, "hello", temperature=0, seed=7)
    (path, headers, body), = fake_llm.requests
    assert path == "/v1/chat/completions" and fake_llm.count == 1
    assert headers["authorization"] == "Bearer sk-test"
    assert body["messages"] == [{"role": "user", "content": "hello"}]
    assert body["temperature"] == 0 and body["seed"] == 7


def test_scripted_replies_and_reported_model(fake_llm):
    fake_llm.reported_models["gpt-4.1-mini"] = "gpt-4.1-mini-2025-04-14"
    fake_llm.reply_with(lambda body: {"reasoning": "scripted", "score": 5})
    reply = ask_openai(fake_llm)
    assert json.loads(reply.choices[0].message.content) == {"reasoning": "scripted", "score": 5}
    assert reply.model == "gpt-4.1-mini-2025-04-14"
    fake_llm.reply_with(lambda body: "just text")
    assert ask_openai(fake_llm).choices[0].message.content == "just text"
    fake_llm.reply_with(None)
    assert json.loads(ask_openai(fake_llm, "x").choices[0].message.content) == default_verdict("x")


def test_anthropic_forced_tool_returns_tool_use(fake_llm):
    fake_llm.reply_with(lambda body: {"reasoning": "fine", "score": 4})
    message = ask_anthropic(fake_llm, tools=[VERDICT_TOOL], tool_choice={"type": "tool", "name": "record_verdict"})
    (block,) = message.content
    assert block.type == "tool_use" and block.name == "record_verdict"
    assert block.input == {"reasoning": "fine", "score": 4}
    assert message.stop_reason == "tool_use" and message.id.startswith("msg_")
    assert message.usage.input_tokens > 0 and message.model == "claude-sonnet-4-6"
    plain = ask_anthropic(fake_llm)
    assert plain.content[0].type == "text" and plain.stop_reason == "end_turn"
    assert fake_llm.requests[0].headers["authorization"] == "Bearer sk-ant-test"


def test_injected_status_errors_carry_vendor_shape_and_retry_after(fake_llm):
    fake_llm.fail_next(1, 429, retry_after=3)
    with pytest.raises(openai.RateLimitError) as caught:
        ask_openai(fake_llm)
    assert caught.value.response.headers["retry-after"] == "3"
    fake_llm.fail_next(1, 529)
    with pytest.raises(anthropic.APIStatusError) as caught:
        ask_anthropic(fake_llm)
    assert caught.value.status_code == 529 and caught.value.body["error"]["type"] == "overloaded_error"
    fake_llm.fail_next(1, 400, message="bad temperature")
    with pytest.raises(openai.BadRequestError, match="bad temperature"):
        ask_openai(fake_llm)
    assert ask_openai(fake_llm).choices[0].finish_reason == "stop"


def test_fail_rate_is_seeded_and_reproducible():
    def pattern(seed):
        with FakeLLMServer(seed=seed) as server:
            server.fail_rate(status=500, rate=0.3)
            with httpx2.Client(base_url=server.url) as client:
                return [client.post("/v1/chat/completions", json={"model": "m", "messages": []}).status_code
                        for _ in range(40)]

    first = pattern(1)
    assert first == pattern(1) and 4 <= first.count(500) <= 20 and set(first) == {200, 500}


def test_hang_makes_the_client_time_out(fake_llm):
    fake_llm.hang_next(1)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        ask_openai(fake_llm, timeout=0.3)
    assert time.monotonic() - started < 3
    assert ask_openai(fake_llm).choices[0].finish_reason == "stop"


def test_malformed_replies(fake_llm):
    fake_llm.malformed_next(1, "truncated")
    reply = ask_openai(fake_llm)
    assert reply.choices[0].finish_reason == "length"
    with pytest.raises(ValueError):
        json.loads(reply.choices[0].message.content)
    fake_llm.malformed_next(1, "prose")
    assert not ask_openai(fake_llm).choices[0].message.content.startswith("{")
    fake_llm.malformed_next(1, "body")
    with httpx2.Client(base_url=fake_llm.url) as client:
        response = client.post("/v1/chat/completions", json={"model": "m", "messages": []})
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    with pytest.raises(ValueError):
        fake_llm.malformed_next(1, "nonsense")


def test_logprobs_give_a_distribution_for_the_score_token(fake_llm):
    fake_llm.reply_with(lambda body: {"reasoning": "ok", "score": 4,
                                      "score_probs": {3: 0.2, 4: 0.7, 5: 0.1}})
    reply = ask_openai(fake_llm, logprobs=True, top_logprobs=5)
    tokens = reply.choices[0].logprobs.content
    assert "".join(t.token for t in tokens) == reply.choices[0].message.content
    (score_token,) = [t for t in tokens if t.token == "4"]
    top = {t.token: round(math.exp(t.logprob), 6) for t in score_token.top_logprobs}
    assert top == {"4": 0.7, "3": 0.2, "5": 0.1}
    fake_llm.logprobs = False
    assert ask_openai(fake_llm, logprobs=True, top_logprobs=5).choices[0].logprobs is None


def test_json_schema_can_be_unsupported(fake_llm):
    fake_llm.json_schema = False
    schema = {"type": "json_schema", "json_schema": {"name": "v", "schema": {"type": "object"}}}
    with pytest.raises(openai.BadRequestError, match="json_schema"):
        ask_openai(fake_llm, response_format=schema)


def test_sustains_many_slow_concurrent_connections():
    with FakeLLMServer(latency=0.2) as server:
        async def burst():
            limits = httpx2.Limits(max_connections=200)
            async with httpx2.AsyncClient(base_url=server.url, limits=limits, timeout=10) as client:
                body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
                return await asyncio.gather(*[client.post("/v1/chat/completions", json=body) for _ in range(128)])

        started = time.monotonic()
        responses = asyncio.run(burst())
        elapsed = time.monotonic() - started
    assert all(r.status_code == 200 for r in responses)
    assert server.max_in_flight >= 64 and server.count == 128
    assert elapsed < 2.0, f"128 requests at 200 ms latency took {elapsed:.2f}s"


def test_anthropic_api_version_rejects_sampling_parameters(fake_llm):
    with pytest.raises(anthropic.BadRequestError, match="temperature: Extra inputs are not permitted"):
        ask_anthropic(fake_llm, extra_body={"temperature": 0})


def test_reset_forgets_scripts_faults_and_records(fake_llm):
    fake_llm.reply_with(lambda body: "scripted")
    fake_llm.fail_rate(status=500, rate=1.0)
    fake_llm.fail_next(2, 429)
    with pytest.raises(openai.RateLimitError):
        ask_openai(fake_llm)
    fake_llm.reset()
    assert fake_llm.requests == [] and fake_llm.count == 0
    assert json.loads(ask_openai(fake_llm, "y").choices[0].message.content) == default_verdict("y")


def test_openai_caching_is_a_prefix_match_from_1024_tokens_in_128_token_steps(fake_llm):
    static = "x" * 5000  # 1,250 tokens
    first = ask_openai(fake_llm, static + " question one")
    second = ask_openai(fake_llm, static + " question two")
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    assert second.usage.prompt_tokens_details.cached_tokens == 1152  # 9 x 128 tokens, within the shared 1,250
    assert second.usage.prompt_tokens == math.ceil(len(static + " question two") / 4)
    short = "y" * 3000  # 750 tokens: below the minimum, never cached
    ask_openai(fake_llm, short + " a")
    assert ask_openai(fake_llm, short + " b").usage.prompt_tokens_details.cached_tokens == 0


def test_anthropic_caches_up_to_a_breakpoint_reads_it_later_and_reports_tokens_like_the_api(fake_llm):
    static = "z" * 6000  # 1,500 tokens

    def ask(question):
        async def call():
            async with anthropic.AsyncAnthropic(api_key="sk-ant", base_url=fake_llm.anthropic_base_url,
                                                max_retries=0) as client:
                return await client.messages.create(
                    model="claude-sonnet-4-6", max_tokens=100, tools=[VERDICT_TOOL],
                    tool_choice={"type": "tool", "name": "record_verdict"},
                    messages=[{"role": "user", "content": [
                        {"type": "text", "text": static, "cache_control": {"type": "ephemeral"}},
                        {"type": "text", "text": question}]}])
        return asyncio.run(call())

    first, second = ask("Question one?"), ask("Question two?")
    assert (first.usage.cache_creation_input_tokens, first.usage.cache_read_input_tokens) == (1500, 0)
    assert (second.usage.cache_creation_input_tokens, second.usage.cache_read_input_tokens) == (0, 1500)
    assert second.usage.input_tokens < 10, "input_tokens counts only what follows the breakpoint"
