"""Providers through the real OpenAI and Anthropic SDK clients, against the fake vendor server."""

from __future__ import annotations

import asyncio
import json
import math
import time
import traceback
from email.utils import formatdate

import pytest
from openai.types.chat import ChatCompletionTokenLogprob
from openai.types.chat.chat_completion_token_logprob import TopLogprob

from fake_llm import approx_tokens, prompt_text
from judge.errors import InvalidSpec, MissingKey
from judge.providers import VERDICT_SCHEMA, JudgeRequest, ProviderError, get_provider
from judge.providers.http_errors import retry_after_seconds
from judge.providers.logprobs import score_probs

REQUEST = JudgeRequest(prompt="Is this answer faithful?", system="You are a strict judge.",
                       params={"temperature": 0, "max_tokens": 300, "seed": 11})


def complete(provider, request=REQUEST):
    """Run one call on a fresh event loop and close the provider's client afterwards."""
    async def call():
        try:
            return await provider.complete(request)
        finally:
            await provider.aclose()
    return asyncio.run(call())


def failure(provider, request=REQUEST) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        complete(provider, request)
    return caught.value


def test_openai_sends_a_strict_json_schema_request(fake_llm):
    complete(get_provider("openai/gpt-4.1-mini"))
    (path, headers, body), = fake_llm.requests
    assert path == "/v1/chat/completions" and headers["authorization"] == "Bearer sk-fake-openai-key"
    assert headers["user-agent"].startswith("AsyncOpenAI/Python"), "the official SDK client sent it"
    assert headers["x-stainless-lang"] == "python"
    assert body == {
        "model": "gpt-4.1-mini",
        "messages": [{"role": "system", "content": "You are a strict judge."},
                     {"role": "user", "content": "Is this answer faithful?"}],
        "response_format": {"type": "json_schema",
                            "json_schema": {"name": "verdict", "strict": True, "schema": VERDICT_SCHEMA}},
        "temperature": 0, "max_completion_tokens": 300, "seed": 11,
    }


def test_openai_reply_becomes_a_completion(fake_llm):
    fake_llm.reported_models["gpt-4.1-mini"] = "gpt-4.1-mini-2025-04-14"
    fake_llm.reply_with(lambda body: {"reasoning": "Grounded in the context.", "score": 5})
    completion = complete(get_provider("openai/gpt-4.1-mini"))
    assert json.loads(completion.text) == {"reasoning": "Grounded in the context.", "score": 5}
    assert completion.model == "gpt-4.1-mini-2025-04-14"
    assert completion.input_tokens == approx_tokens(prompt_text(fake_llm.requests[0].body))
    assert completion.output_tokens == approx_tokens(completion.text)
    assert completion.score_probs is None


def test_openai_logprobs_give_weighted_score_probabilities(fake_llm):
    fake_llm.reply_with(lambda body: {"reasoning": "Mostly right.", "score": 4,
                                      "score_probs": {3: 0.3, 4: 0.6, 5: 0.1}})
    request = JudgeRequest(prompt="p", params={"temperature": 0}, logprobs=True)
    completion = complete(get_provider("openai/gpt-4.1-mini"), request)
    body = fake_llm.requests[0].body
    assert body["logprobs"] is True and body["top_logprobs"] == 5
    assert completion.score_probs == pytest.approx({3: 0.3, 4: 0.6, 5: 0.1})
    fake_llm.logprobs = False  # a server that ignores the request: no probabilities, still a completion
    assert complete(get_provider("openai/gpt-4.1-mini"), request).score_probs is None


def _token(text, logprob=-0.01, top=()):
    return ChatCompletionTokenLogprob(token=text, logprob=logprob, bytes=list(text.encode()),
                                      top_logprobs=[TopLogprob(token=t, logprob=math.log(p), bytes=None)
                                                    for t, p in top])


def test_score_probs_finds_the_score_token_after_multibyte_text():
    text = '{"reasoning": "naïve score: 2 is wrong", "score": 3}'
    tokens = [_token(t) for t in ['{"', 'reasoning', '":', ' "', 'na', 'ï', 've', ' score', ':', ' ', '2', ' is',
                                  ' wrong', '",', ' "', 'score', '":']]
    tokens += [_token(" 3", top=[(" 3", 0.5), ("3", 0.1), (" 2", 0.2), (" a", 0.2)]), _token("}")]
    assert "".join(t.token for t in tokens) == text
    assert score_probs(text, tokens) == pytest.approx({2: 0.25, 3: 0.75})
    assert score_probs('{"reasoning": "none"}', tokens) is None
    assert score_probs(text, [_token(t.token) for t in tokens]) is None  # no alternatives returned


def test_score_probs_reads_the_score_key_not_a_score_quoted_in_the_reasoning_after_it():
    text = '{"score": 3, "reasoning": "a score: 5 would need citations"}'
    tokens = [_token(t) for t in ['{"', 'score', '":']]
    tokens += [_token(" 3", top=[(" 3", 0.6), (" 4", 0.4)])]
    tokens += [_token(t) for t in [', "', 'reasoning', '":', ' "a', ' score', ':', ' ', '5', ' would', ' need',
                                   ' citations', '"}']]
    assert "".join(t.token for t in tokens) == text
    assert score_probs(text, tokens) == pytest.approx({3: 0.6, 4: 0.4})


def test_anthropic_forces_the_verdict_tool(fake_llm):
    fake_llm.reply_with(lambda body: {"reasoning": "Contradicts the context.", "score": 1})
    completion = complete(get_provider("anthropic/claude-sonnet-4-6"))
    (path, headers, body), = fake_llm.requests
    assert path == "/v1/messages" and headers["anthropic-version"] == "2026-10-21"
    assert headers["user-agent"].startswith("AsyncAnthropic/Python"), "the official SDK client sent it"
    assert body == {
        "model": "claude-sonnet-4-6", "max_tokens": 300,
        "system": [{"type": "text", "text": "You are a strict judge.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "Is this answer faithful?"}],
        "tools": [{"name": "record_verdict", "description": body["tools"][0]["description"],
                   "input_schema": VERDICT_SCHEMA}],
        "tool_choice": {"type": "tool", "name": "record_verdict"},
    }  # no temperature or seed: API version 2026-10-21 rejects sampling parameters
    assert json.loads(completion.text) == {"reasoning": "Contradicts the context.", "score": 1}
    assert completion.model == "claude-sonnet-4-6" and completion.score_probs is None
    assert completion.input_tokens > 0 and completion.output_tokens == approx_tokens(completion.text)


def test_anthropic_cut_off_reply_is_passed_on_as_text(fake_llm):
    fake_llm.malformed_next(1, "truncated")
    completion = complete(get_provider("anthropic/claude-sonnet-4-6"))
    assert completion.text.startswith('{"reasoning"') and not completion.text.endswith("}")


@pytest.mark.parametrize("model", ["openai/gpt-4.1-mini", "anthropic/claude-sonnet-4-6"])
def test_rate_limit_is_retryable_with_retry_after(fake_llm, model):
    fake_llm.fail_next(1, 429, retry_after=7)
    error = failure(get_provider(model))
    assert (error.retryable, error.status, error.retry_after) == (True, 429, 7.0)
    assert "rate limit" in str(error)


def test_retry_after_as_http_date(fake_llm):
    fake_llm.fail_next(1, 429, retry_after=formatdate(time.time() + 30, usegmt=True))
    error = failure(get_provider("openai/gpt-4.1-mini"))
    assert error.retryable and 25 <= error.retry_after <= 31
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"retry-after": "soon"}) is None


@pytest.mark.parametrize("model,status", [("openai/gpt-4.1-mini", 500), ("anthropic/claude-sonnet-4-6", 529),
                                          ("openai/gpt-4.1-mini", 503)])
def test_server_errors_are_retryable(fake_llm, model, status):
    fake_llm.fail_next(1, status)
    error = failure(get_provider(model))
    assert error.retryable and error.status == status and error.retry_after is None


@pytest.mark.parametrize("model", ["openai/gpt-4.1-mini", "anthropic/claude-sonnet-4-6"])
def test_bad_request_is_final_and_quotes_the_vendor(fake_llm, model):
    fake_llm.fail_next(1, 400, message="max_tokens: must be at most 64000")
    error = failure(get_provider(model))
    assert not error.retryable and error.status == 400
    assert "max_tokens: must be at most 64000" in str(error)


def test_timeout_and_unreadable_reply_are_retryable(fake_llm):
    fake_llm.hang_next(1)
    started = time.monotonic()
    error = failure(get_provider("openai/gpt-4.1-mini", timeout=0.3))
    assert error.retryable and "0.3s" in str(error) and time.monotonic() - started < 3
    fake_llm.hang_next(1)
    assert failure(get_provider("anthropic/claude-sonnet-4-6", timeout=0.3)).retryable
    fake_llm.malformed_next(1, "body")
    assert failure(get_provider("openai/gpt-4.1-mini")).retryable


def test_unreachable_server_is_retryable(monkeypatch, fake_llm):
    port = fake_llm.port
    fake_llm.stop()
    error = failure(get_provider("openai/gpt-4.1-mini", base_url=f"http://127.0.0.1:{port}/v1"))
    assert error.retryable and "could not reach openai" in str(error)


def test_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(MissingKey, match=r"^Set OPENAI_API_KEY in the environment or in \.streamlit/secrets\.toml$"):
        get_provider("openai/gpt-4.1-mini")
    with pytest.raises(MissingKey, match="ANTHROPIC_API_KEY"):
        get_provider("anthropic/claude-sonnet-4-6", secrets={"OPENAI_API_KEY": "sk-other"})


def test_key_from_secrets_never_appears_in_errors(fake_llm, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    key = "sk-proj-SECRETsecret1234567890"
    secrets = {"OPENAI_API_KEY": key}
    complete(get_provider("openai/gpt-4.1-mini", secrets=secrets))
    assert fake_llm.requests[-1].headers["authorization"] == f"Bearer {key}"
    fake_llm.fail_next(1, 401, message=f"Incorrect API key provided: {key}. Find your key at the dashboard.")
    fake_llm.fail_next(1, 500, message=f"upstream said {key[:12]}***{key[-4:]}")
    fake_llm.hang_next(1)
    errors = [failure(get_provider("openai/gpt-4.1-mini", secrets=secrets, timeout=0.3)) for _ in range(3)]
    assert "Check OPENAI_API_KEY" in str(errors[0]) and not errors[0].retryable
    for error in errors:
        text = "".join(traceback.format_exception(error)) + repr(error) + repr(vars(error))
        assert key not in text and "SECRET" not in text and "7890" not in text


def test_unknown_provider_lists_known_ones():
    for model in ("mistral/large", "gpt-4.1-mini", "openai/", ""):
        with pytest.raises(InvalidSpec) as caught:
            get_provider(model)
        assert "openai/<model>, anthropic/<model>, openai-compatible/<model>" in str(caught.value)


def test_openai_compatible_needs_a_base_url_but_no_key(fake_llm, monkeypatch):
    monkeypatch.delenv("OPENAI_COMPATIBLE_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_COMPATIBLE_BASE_URL", raising=False)
    with pytest.raises(InvalidSpec, match="needs a base URL"):
        get_provider("openai-compatible/llama3.1")
    request = JudgeRequest(prompt="p", params={"temperature": None, "max_tokens": 200, "top_k": 20})
    complete(get_provider("openai-compatible/llama3.1", base_url=fake_llm.openai_base_url), request)
    (_, headers, body), = fake_llm.requests
    assert headers["authorization"] == "Bearer not-needed"
    assert body["max_tokens"] == 200 and body["top_k"] == 20 and "temperature" not in body
    assert body["response_format"]["type"] == "json_schema"


def test_unsupported_json_schema_falls_back_once_to_plain_text(fake_llm):
    fake_llm.json_schema = False
    fake_llm.reply_with(lambda body: "Here is my verdict: {\"reasoning\": \"ok\", \"score\": 3}")
    provider = get_provider("openai-compatible/qwen2.5", base_url=fake_llm.openai_base_url)

    async def two_calls():
        try:
            return [await provider.complete(JudgeRequest(prompt=f"item {i}")) for i in range(2)]
        finally:
            await provider.aclose()

    completions = asyncio.run(two_calls())
    bodies = [r.body for r in fake_llm.requests]
    assert len(bodies) == 3 and "response_format" in bodies[0]
    assert all("response_format" not in b for b in bodies[1:])
    assert bodies[1]["messages"][-1]["content"].startswith("item 0") and "JSON" in bodies[1]["messages"][-1]["content"]
    assert [c.text for c in completions] == ["Here is my verdict: {\"reasoning\": \"ok\", \"score\": 3}"] * 2


def test_one_provider_serves_64_concurrent_calls(fake_llm):
    fake_llm.latency = 0.2
    provider = get_provider("openai/gpt-4.1-mini")

    async def burst():
        try:
            return await asyncio.gather(*[provider.complete(JudgeRequest(prompt=f"item {i}")) for i in range(64)])
        finally:
            await provider.aclose()

    started = time.monotonic()
    completions = asyncio.run(burst())
    elapsed = time.monotonic() - started
    assert len(completions) == 64 and fake_llm.max_in_flight == 64
    assert elapsed < 3, f"64 concurrent calls at 200 ms took {elapsed:.2f}s"


@pytest.mark.parametrize("model", ["openai/gpt-4.1-mini", "anthropic/claude-sonnet-4-6"])
def test_calls_go_through_the_sdk_client_over_aiohttp_unless_told_otherwise(fake_llm, monkeypatch, model):
    import aiohttp
    import httpx2

    provider = get_provider(model)
    transport = provider._endpoint.sdk._client._transport
    assert type(transport).__module__.endswith("httpx_aiohttp.transport")
    completion = complete(provider)
    assert completion.text and isinstance(transport.client, aiohttp.ClientSession)
    assert fake_llm.requests[-1].headers["user-agent"].startswith(("AsyncOpenAI/Python", "AsyncAnthropic/Python"))

    monkeypatch.setenv("JUDGE_HTTP_TRANSPORT", "httpx")
    plain = get_provider(model)
    assert type(plain._endpoint.sdk._client._transport) is httpx2.AsyncHTTPTransport
    assert complete(plain).text == completion.text
