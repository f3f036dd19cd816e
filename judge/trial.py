"""Try a judge spec on a few rows before saving or running it: the fastest loop while writing a rubric.

Nothing is stored. Offline specs are scored directly; LLM specs make one call per row through the same
provider interface and reply parsing as a run (one repair request for an unreadable reply), so what the
editor shows is what a run would record.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import Any

import pandas as pd

from judge.errors import JudgeError
from judge.offline import score_offline
from judge.parsing import ParseFailure, parse_verdict, repair_prompt
from judge.specs import JudgeSpec

TRIAL_ROWS = 5
TRIAL_COLUMNS = ["item_id", "score", "passed", "reasoning", "error"]


def sample_items(store, dataset: str, n: int = TRIAL_ROWS, *, start: int = 0) -> list[dict[str, Any]]:
    """Up to `n` items of the latest version of `dataset` from file position `start`, as render-ready dicts."""
    frame = store.items(store.dataset(dataset)["id"])
    rows = frame.iloc[start: start + n].astype(object).where(frame.iloc[start: start + n].notna(), None)
    return rows.to_dict("records")


def try_spec(store, spec: JudgeSpec, dataset: str, *, n: int = TRIAL_ROWS, start: int = 0,
             secrets: Mapping | None = None, timeout: float = 60.0) -> pd.DataFrame:
    """Verdicts of `spec` on `n` rows of `dataset` (item_id, score, passed, reasoning, error); stores nothing."""
    columns = store.metadata_columns(store.dataset(dataset)["id"]).keys()
    spec.validate(columns)
    items = sample_items(store, dataset, n, start=start)
    if spec.kind == "llm":
        verdicts = _run(_judge_all(spec, items, secrets=secrets, timeout=timeout))
    else:
        verdicts = []
        for item in items:
            verdict = score_offline(spec, item)
            verdicts.append((verdict.score, verdict.reasoning, verdict.error))
    rows = [
        {"item_id": item["item_id"], "score": score,
         "passed": None if score is None else score >= spec.pass_threshold, "reasoning": reasoning, "error": error}
        for item, (score, reasoning, error) in zip(items, verdicts)
    ]
    return pd.DataFrame(rows, columns=TRIAL_COLUMNS)


async def _judge_all(spec: JudgeSpec, items: list[dict], *, secrets: Mapping | None, timeout: float) -> list:
    from judge.providers import JudgeRequest, ProviderError, get_provider

    provider = get_provider(spec.model or "", base_url=spec.base_url, timeout=timeout, secrets=secrets)

    async def judge(item: dict) -> tuple[int | None, str, str | None]:
        try:
            prompt = spec.render(item)
            text = (await provider.complete(JudgeRequest(prompt=prompt, system=spec.system, params=spec.params))).text
            try:
                reasoning, score = parse_verdict(text)
            except ParseFailure as first:
                repair = JudgeRequest(prompt=f"{prompt}\n\n{repair_prompt(text, first.reason)}",
                                      system=spec.system, params=spec.params)
                reasoning, score = parse_verdict((await provider.complete(repair)).text)
            return score, reasoning, None
        except ParseFailure as exc:
            return None, "", f"unreadable reply: {exc.reason}"
        except ProviderError as exc:
            return None, "", f"call failed: {exc}"
        except JudgeError as exc:
            return None, "", f"cannot render the prompt: {exc}"

    try:
        return await asyncio.gather(*(judge(item) for item in items))
    finally:
        await provider.aclose()


def _run(coroutine):
    """Run a coroutine from sync code, also when the caller already has an event loop (Streamlit may)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # re-raised in the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]

