"""Pairwise judges: which of two outputs is better, asked in both orders so the slot an output sits in cannot
decide the verdict.

LLM judges favour a position (usually the first). FastChat's MT-Bench judge asks twice, with the outputs
swapped, and calls a pair a tie when the two answers disagree; that is the default here. A pairwise spec
(`kind: "pairwise"`) has a template over `{output_a}` and `{output_b}` (the outputs *as shown*, first and
second) and the usual `{input}`, `{context}`, `{reference}`, `{criteria}`, `{rubric}` and metadata columns.

The judge answers on a 1-5 preference scale (1 = the first response is clearly better, 3 = equally good,
5 = the second is clearly better), which every provider's structured verdict already carries; 1-2 choose the
first slot, 3 is a tie, 4-5 the second. Each reply is stored with its prompt, raw text and reasoning; the
verdict of a pair is the winner when both orders agree, else `tie` (or `inconsistent`, when the spec says
`"on_disagreement": "inconsistent"`, which reports leave out of accuracy but count).

Calls go through the runner's call path (`judge.runner.judge_items`: rendering, retries with backoff, the
adaptive rate limit, tolerant parsing with one repair request, cost). A run writes its replies chunk by
chunk, so it resumes where it stopped, and a reply with the same model, prompt and parameters as an earlier
one (any pairwise run) is reused from the cache instead of paid for again. With `batch=True` the same work
goes through the provider's batch API at half the price (judge/pairwise_batch.py).
"""

from __future__ import annotations

import hashlib
import json
import secrets as _secrets
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from judge.errors import ImportFailed, InvalidSpec, JudgeError
from judge.pairs import DEFAULT_PREFERENCE_CRITERION, ORDERS, InvalidPreference, coerce_choice
from judge.specs import ITEM_VARIABLES, SPEC_VARIABLES, JudgeSpec

KIND = "pairwise"
DISAGREEMENT_RULES = ("tie", "inconsistent")
INCONSISTENT = "inconsistent"
CHUNK_SIZE = 64

PREFERENCE_SCALE = {
    "1": "Response A is clearly better.",
    "2": "Response A is somewhat better.",
    "3": "Both are equally good (or equally bad): a tie.",
    "4": "Response B is somewhat better.",
    "5": "Response B is clearly better.",
}

DEFAULT_TEMPLATE = """You are an impartial judge comparing two responses to the same input.

Criterion: {criteria}

[Input]
{input}

[Response A]
{output_a}

[Response B]
{output_b}

Judge only on the criterion. The order in which the responses are shown, their length and their style must
not influence you. Reason step by step, then give your verdict as a score on this scale:
{rubric}"""


def slot_choice(score: int | None) -> str | None:
    """'first', 'second' or 'tie' for a 1-5 preference score (None when the reply had no score)."""
    if score is None or pd.isna(score):
        return None
    return "first" if int(score) <= 2 else ("tie" if int(score) == 3 else "second")


def pair_choice(slot: str | None, order: str) -> str | None:
    """The slot choice in the pair's own terms: in order 'ba' the first slot holds output B."""
    if slot is None:
        return None
    if slot == "tie":
        return "tie"
    first, second = ("a", "b") if order == "ab" else ("b", "a")
    return first if slot == "first" else second


def combine(choices: Mapping[str, str | None], rule: str = "tie") -> str | None:
    """A pair's verdict from its replies per order: the winner when every order agrees, else `rule`.

    None when a reply is missing or unreadable (an unscored pair, never a guessed one).
    """
    values = list(choices.values())
    if not values or any(v is None for v in values):
        return None
    return values[0] if all(v == values[0] for v in values) else rule


@dataclass
class PairwiseSpec:
    """A pairwise judge as data (JSON), like a JudgeSpec."""

    name: str
    kind: str = KIND
    criteria: str = "Which response is better overall?"
    template: str = DEFAULT_TEMPLATE
    system: str | None = None
    model: str | None = None
    base_url: str | None = None
    params: dict = field(default_factory=lambda: {"temperature": 0, "max_tokens": 600})
    orders: list[str] = field(default_factory=lambda: list(ORDERS))
    on_disagreement: str = "tie"
    criterion: str | None = None

    @property
    def judged_criterion(self) -> str:
        return (self.criterion or "").strip() or DEFAULT_PREFERENCE_CRITERION

    def validate(self, columns=None) -> "PairwiseSpec":
        """Raise InvalidSpec saying what to fix; with a pair dataset's metadata columns, unknown variables too."""
        who = f"Pairwise judge '{self.name}'"
        if not str(self.name or "").strip():
            raise InvalidSpec("A pairwise judge needs a name.")
        if self.kind != KIND:
            raise InvalidSpec(f"{who}: kind must be 'pairwise', not {self.kind!r}.")
        used = self.as_judge_spec().variables()
        missing = [v for v in ("output_a", "output_b") if v not in used]
        if missing:
            raise InvalidSpec(f"{who}: the template must include {{output_a}} and {{output_b}} (missing: "
                              f"{', '.join('{' + m + '}' for m in missing)}).")
        if not self.orders or any(o not in ORDERS for o in self.orders) or len(set(self.orders)) != len(self.orders):
            raise InvalidSpec(f"{who}: orders is [\"ab\", \"ba\"] (both, the default) or one of them, "
                              f"not {self.orders!r}.")
        if self.on_disagreement not in DISAGREEMENT_RULES:
            raise InvalidSpec(f"{who}: on_disagreement is 'tie' or 'inconsistent', not {self.on_disagreement!r}.")
        if not isinstance(self.params, dict):
            raise InvalidSpec(f"{who}: params must be a JSON object such as {{\"temperature\": 0}}.")
        if columns is not None:
            available = set(ITEM_VARIABLES) | set(SPEC_VARIABLES) | {"output_a", "output_b"} | set(columns)
            unknown = sorted(used - available)
            if unknown:
                raise InvalidSpec(f"{who}: unknown template variable(s) {', '.join('{' + u + '}' for u in unknown)}. "
                                  f"Available: {', '.join('{' + a + '}' for a in sorted(available))}.")
        return self

    def as_judge_spec(self) -> JudgeSpec:
        """The LLM judge the runner's call path runs for one shown order (a 1-5 preference scale)."""
        return JudgeSpec(name=self.name, kind="llm", criteria=self.criteria, rubric=dict(PREFERENCE_SCALE),
                         template=self.template, system=self.system, model=self.model, base_url=self.base_url,
                         params=dict(self.params), criterion=self.judged_criterion)

    def template_hash(self) -> str:
        parts = {k: getattr(self, k) for k in ("kind", "criteria", "template", "system", "orders", "on_disagreement")}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PairwiseSpec":
        if not isinstance(data, dict):
            raise InvalidSpec(f"A pairwise judge spec is a JSON object, not {type(data).__name__}.")
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise InvalidSpec(f"Unknown pairwise spec field(s) {', '.join(unknown)}. Known: {', '.join(known)}.")
        if "name" not in data:
            raise InvalidSpec("A pairwise judge spec needs a name.")
        return cls(**data).validate()


def load_pairwise_spec(name_or_path: str | None = None, *, model: str | None = None) -> PairwiseSpec:
    """A pairwise spec from a .json file, or the built-in `pairwise_preference` judge (no argument)."""
    if name_or_path in (None, "", "pairwise_preference"):
        spec = PairwiseSpec(name="pairwise_preference")
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise InvalidSpec(f"No pairwise spec file {name_or_path}: give a .json file with \"kind\": "
                              "\"pairwise\", or leave it out for the built-in pairwise_preference judge.")
        try:
            spec = PairwiseSpec.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise InvalidSpec(f"{path.name} is not valid JSON: {exc}.") from exc
    if model:
        spec.model = model
    return spec.validate()


# -- runs ----------------------------------------------------------------------------------------------------
def start_pairwise_run(store, *, dataset: str, spec: PairwiseSpec, model: str | None = None,
                       base_url: str | None = None, name: str | None = None, secrets: Mapping | None = None,
                       batch: bool = False, batch_retry: str = "batch", poll_seconds: float | None = None) -> str:
    """Validate the spec, model and key, record the run (with its exact spec body), return its id.

    `batch` sends the replies through the provider's batch API (half price, results within 24 h); failed
    units are retried in a follow-up batch, or by direct calls with `batch_retry="sync"`; the batches are
    polled every `poll_seconds` (default: from 1 s backing off to 60 s) by whichever process executes or
    resumes the run.
    """
    from judge.pairwise_batch import BATCH_RETRIES
    from judge.providers import get_provider
    from judge.runner import code_version

    if batch_retry not in BATCH_RETRIES:
        raise JudgeError(f"batch_retry must be 'batch' or 'sync', not {batch_retry!r}.")
    model = model or spec.model
    if not model:
        raise InvalidSpec(f"Pairwise judge '{spec.name}' names no model: pass one such as openai/gpt-4.1-mini.")
    base_url = base_url or spec.base_url
    pairs = store.pairs(dataset)
    spec.validate(columns=set().union(*(m.keys() for m in pairs["metadata"])))
    provider = get_provider(model, base_url=base_url, timeout=60.0, secrets=secrets)
    if batch:
        from judge.providers.batches import batch_api

        batch_api(provider)  # an openai-compatible server has none: say so before anything is recorded
    run_id = f"{datetime.now():%Y%m%d-%H%M%S}-{_secrets.token_hex(3)}"
    store.create_pairwise_run(id=run_id, name=name, dataset_name=dataset, spec_name=spec.name,
                              batch={"batch_retry": batch_retry, "poll_seconds": poll_seconds} if batch else None,
                              spec_body={**spec.to_dict(), "model": model, "base_url": base_url},
                              criterion=spec.judged_criterion, model=model, base_url=base_url, orders=spec.orders,
                              total_pairs=len(pairs), template_hash=spec.template_hash(),
                              code_version=code_version())
    return run_id


def _cache_key(spec: PairwiseSpec, model: str, base_url: str | None, prompt: str) -> str:
    parts = ["pairwise", model, base_url, spec.system, prompt, spec.params]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _shown_item(pair: dict[str, Any], order: str) -> dict[str, Any]:
    first, second = (pair["output_a"], pair["output_b"]) if order == "ab" else (pair["output_b"], pair["output_a"])
    return {"uid": f"{pair['uid']}|{order}", "item_id": pair["pair_id"], "input": pair["input"], "output": "",
            "context": pair["context"], "reference": pair["reference"],
            "metadata": {**(pair["metadata"] or {}), "output_a": first, "output_b": second}}


@dataclass(frozen=True)
class PairwiseSummary:
    run_id: str
    status: str
    replies: int
    failed: int
    cached: int
    cost_usd: float | None

    def describe(self) -> str:
        cost = "cost unknown" if self.cost_usd is None else f"${self.cost_usd:,.4f}"
        return (f"pairwise run {self.run_id} {self.status}: {self.replies:,} replies, {self.failed:,} failed, "
                f"{self.cached:,} from cache, {cost}")


def execute_pairwise_run(store, run_id: str, *, secrets: Mapping | None = None, concurrency: int = 8,
                         progress: Callable[[int, int], None] | None = None, poll_seconds: float | None = None,
                         cancel: threading.Event | None = None) -> PairwiseSummary:
    """Judge every (pair, shown order) the run has no reply for yet; resumable, cached, chunk by chunk.

    A failed reply is not done: each execution drops the run's failed replies first and asks for them again.
    A batch run submits, polls (every `poll_seconds`, else the run's) and collects until every reply is
    settled; resuming it collects the batches already sent and sends only what is in none. Setting `cancel`
    stops either kind (status 'cancelled', every stored reply kept; a direct run after its current chunk).
    RunBusy if another process is executing the run.
    """
    run = store.pairwise_run(run_id)
    spec = PairwiseSpec.from_dict(run["spec_body"])
    llm_spec = spec.as_judge_spec()
    if run["batch"]:
        return _execute_batch_run(store, run, spec, secrets=secrets, concurrency=concurrency, progress=progress,
                                  poll_seconds=poll_seconds, cancel=cancel)
    from judge.pairwise_batch import PairwiseSink

    lock = PairwiseSink(store, run_id)  # the runner's per-run lock: RunBusy while another process executes it
    try:
        store.discard_failed_pairwise_verdicts(run_id)
        return _execute_direct_run(store, run, spec, llm_spec, secrets=secrets, concurrency=concurrency,
                                   progress=progress, cancel=cancel)
    finally:
        lock.close()


def _execute_direct_run(store, run: dict[str, Any], spec: PairwiseSpec, llm_spec: JudgeSpec, *,
                        secrets: Mapping | None, concurrency: int, progress: Callable[[int, int], None] | None,
                        cancel: threading.Event | None) -> PairwiseSummary:
    from judge.runner import judge_items

    run_id = run["id"]
    done = store.done_pair_orders(run_id)
    pairs = store.pairs(run["dataset_name"]).to_dict("records")
    todo = [(pair, order) for pair in pairs for order in run["orders"] if (pair["uid"], order) not in done]
    total = len(pairs) * len(run["orders"])
    store.set_pairwise_run_status(run_id, "running")
    status, error = "failed", None
    try:
        for start in range(0, len(todo), CHUNK_SIZE):
            chunk = todo[start:start + CHUNK_SIZE]
            units, rows = [], []
            for pair, order in chunk:
                item = _shown_item(pair, order)
                try:
                    prompt = llm_spec.render(item)
                except JudgeError as exc:  # this pair lacks a variable: its reply is an error, the run goes on
                    rows.append({"run_id": run_id, "pair_uid": pair["uid"], "shown_order": order, "cached": False,
                                 "error": f"cannot render the prompt: {exc}"})
                    continue
                units.append((pair, order, item, prompt, _cache_key(spec, run["model"], run["base_url"], prompt)))
            hits = store.cached_pairwise_verdicts(u[4] for u in units)
            rows += [_copied(run_id, pair["uid"], order, hits[key]) for pair, order, _, _, key in units if key in hits]
            to_call = [u for u in units if u[4] not in hits]
            if to_call:
                replies = judge_items(store, llm_spec, [u[2] for u in to_call], model=run["model"],
                                      base_url=run["base_url"], concurrency=concurrency, secrets=secrets)
                rows += [_reply_row(run_id, pair["uid"], order, key, reply)
                         for (pair, order, _, _, key), reply in zip(to_call, replies)]
            store.add_pairwise_verdicts(rows)
            if progress is not None:
                progress(len(done) + start + len(chunk), total)
            if cancel is not None and cancel.is_set():
                break
        status = "cancelled" if cancel is not None and cancel.is_set() else "done"
    except KeyboardInterrupt:
        status = "cancelled"
        raise
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        store.set_pairwise_run_status(run_id, status, error=error)
    return _summary(store, run_id)


def _execute_batch_run(store, run: dict[str, Any], spec: PairwiseSpec, **options: Any) -> PairwiseSummary:
    from judge.pairwise_batch import execute_batch
    from judge.runner.sink import RunBusy

    store.set_pairwise_run_status(run["id"], "running")
    status, error = "failed", None
    try:
        status = "cancelled" if execute_batch(store, run, spec, **options) else "done"
    except RunBusy:  # another process executes it: its status is that process's to set
        status = None
        raise
    except KeyboardInterrupt:
        status = "cancelled"
        raise
    except BaseException as exc:
        error = str(exc) if isinstance(exc, JudgeError) else f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if status is not None:
            store.set_pairwise_run_status(run["id"], status, error=error)
    return _summary(store, run["id"])


def _summary(store, run_id: str) -> PairwiseSummary:
    final = store.pairwise_run(run_id)
    return PairwiseSummary(run_id, final["status"], final["done"], final["failed"], final["cached"],
                           final["cost_usd"])


def cancel_pairwise_run(store, run_id: str, *, secrets: Mapping | None = None) -> int:
    """Cancel a pairwise batch run's open provider batches (what they finished is still collected, by the
    process polling them or by the next resume); returns how many batches were asked to cancel."""
    from judge.pairwise_batch import cancel_batch

    run = store.pairwise_run(run_id)
    return cancel_batch(store, run, secrets=secrets) if run["batch"] else 0


def _reply_row(run_id: str, uid: str, order: str, key: str, reply: dict[str, Any]) -> dict[str, Any]:
    return {"run_id": run_id, "pair_uid": uid, "shown_order": order, "score": reply["score"],
            "choice": pair_choice(slot_choice(reply["score"]), order), "reasoning": reply["reasoning"],
            "raw_reply": reply["raw_reply"], "prompt": reply["prompt"], "model_reported": reply["model_reported"],
            "input_tokens": reply["input_tokens"], "output_tokens": reply["output_tokens"],
            "latency_ms": reply["latency_ms"], "cost_usd": reply["cost_usd"], "cache_key": key, "cached": False,
            "error": reply["error"]}


def _copied(run_id: str, uid: str, order: str, hit: dict[str, Any]) -> dict[str, Any]:
    return {**hit, "run_id": run_id, "pair_uid": uid, "shown_order": order, "cached": True, "cost_usd": 0.0,
            "batch_id": None}


@dataclass(frozen=True)
class PairwiseEstimate:
    calls: int
    cached: int
    est_cost_usd: float | None
    batch_cost_usd: float | None = None

    def describe(self, *, batch: bool = False) -> str:
        if self.est_cost_usd is None:
            cost = "cost unknown (no price for this model)"
        elif batch:
            cost = f"batch, 50% cheaper, results within 24 h: about ${self.batch_cost_usd:,.2f}"
        else:
            cost = f"about ${self.est_cost_usd:,.2f}"
        return f"about {self.calls:,} calls ({self.cached:,} reused from earlier runs), {cost}"


def estimate_pairwise_run(store, *, dataset: str, spec: PairwiseSpec, model: str | None = None,
                          base_url: str | None = None) -> PairwiseEstimate:
    """Calls a run would make (both orders of every pair, less cache hits) and their cost, before it starts."""
    from judge.pricing import BATCH_DISCOUNT, estimate_tokens, model_price

    model = model or spec.model
    llm_spec = spec.validate().as_judge_spec()
    base_url = base_url or spec.base_url
    prompts = []
    for pair in store.pairs(dataset).to_dict("records"):
        for order in spec.orders:
            try:
                prompts.append(llm_spec.render(_shown_item(pair, order)))
            except JudgeError:  # recorded as an error reply, never called
                continue
    keys = [_cache_key(spec, model, base_url, prompt) for prompt in prompts]
    hits = store.cached_pairwise_verdicts(keys)
    calls = cached = tokens = 0
    for prompt, key in zip(prompts, keys):
        if key in hits:
            cached += 1
        else:
            calls += 1
            tokens += estimate_tokens(prompt) + (estimate_tokens(spec.system) if spec.system else 0)
    price = model_price(model, store.model_price_overrides())
    output = calls * int(spec.params.get("max_tokens") or 600)
    cost = 0.0 if calls == 0 else (None if price is None else (tokens * price[0] + output * price[1]) / 1_000_000)
    return PairwiseEstimate(calls, cached, cost, None if cost is None else cost * BATCH_DISCOUNT)


_BACKGROUND: dict[tuple[str, str], threading.Thread] = {}
_BACKGROUND_LOCK = threading.Lock()


def running_here(store, run_id: str) -> bool:
    """True while a thread of this process executes the pairwise run (a page then offers no Resume)."""
    with _BACKGROUND_LOCK:
        thread = _BACKGROUND.get((str(store.path), run_id))
    return thread is not None and thread.is_alive()


def run_pairwise_in_background(store, run_id: str, *, secrets: Mapping | None = None) -> threading.Thread:
    """Execute a pairwise run in a daemon thread of this process (the dashboard's server); its status and
    every reply are in the store, so a page follows it there. One thread per run per store."""
    key = (str(store.path), run_id)
    with _BACKGROUND_LOCK:
        running = _BACKGROUND.get(key)
        if running is not None and running.is_alive():
            return running

        def target() -> None:
            try:
                execute_pairwise_run(store, run_id, secrets=secrets)
            except JudgeError:
                return  # recorded as the run's error by execute_pairwise_run; RunBusy: another process has it

        thread = threading.Thread(target=target, name=f"pairwise-run-{run_id}", daemon=True)
        _BACKGROUND[key] = thread
        thread.start()
        return thread


def run_pairwise(store, *, dataset: str, spec: PairwiseSpec, model: str | None = None, base_url: str | None = None,
                 name: str | None = None, secrets: Mapping | None = None, concurrency: int = 8, batch: bool = False,
                 batch_retry: str = "batch", poll_seconds: float | None = None) -> PairwiseSummary:
    """start_pairwise_run + execute_pairwise_run in the foreground."""
    run_id = start_pairwise_run(store, dataset=dataset, spec=spec, model=model, base_url=base_url, name=name,
                                secrets=secrets, batch=batch, batch_retry=batch_retry, poll_seconds=poll_seconds)
    return execute_pairwise_run(store, run_id, secrets=secrets, concurrency=concurrency)


def pair_verdicts(store, run_id: str) -> pd.DataFrame:
    """One row per pair of a run: each order's choice, the combined verdict, and whether the swap changed it."""
    run = store.pairwise_run(run_id)
    rule = (run["spec_body"] or {}).get("on_disagreement", "tie")
    replies = store.pairwise_verdicts(run_id)
    rows = []
    for uid, group in replies.groupby("pair_uid", sort=False):
        by_order = {o: (c if isinstance(c, str) else None) for o, c in zip(group["shown_order"], group["choice"])}
        first = group.iloc[0]
        complete = all(o in by_order for o in run["orders"])
        verdict = combine({o: by_order[o] for o in run["orders"]}, rule) if complete else None
        rows.append({"pair_uid": uid, "pair_id": first["pair_id"], "system_a": first["system_a"],
                     "system_b": first["system_b"], "metadata": first["metadata"],
                     "choice_ab": by_order.get("ab"), "choice_ba": by_order.get("ba"), "verdict": verdict})
    return pd.DataFrame(rows, columns=["pair_uid", "pair_id", "system_a", "system_b", "metadata", "choice_ab",
                                       "choice_ba", "verdict"])


def import_pairwise_run(store, path: str | Path, *, dataset: str, name: str | None = None,
                        criterion: str = DEFAULT_PREFERENCE_CRITERION, column_map: dict[str, str | None] | None = None
                        ) -> str:
    """Record an external judge's pairwise choices (a file of pair ids with a choice per shown order).

    Columns: `pair_id` (or `id`), and `choice` (one order, as 'ab') or `choice_ab` and `choice_ba` (each in the
    pair's own terms: a, b, tie, or 1/2). Every pair id must be a pair of the dataset. Returns the run id.
    """
    from judge.importing import read_table

    path = Path(path)
    frame = read_table(path)
    columns = {str(c).strip().lower(): c for c in frame.columns}
    mapping = {"pair_id": columns.get("pair_id") or columns.get("id"), "choice_ab": columns.get("choice_ab")
               or columns.get("choice"), "choice_ba": columns.get("choice_ba")}
    mapping.update({k: v for k, v in (column_map or {}).items() if k in mapping})
    if mapping["pair_id"] is None or mapping["choice_ab"] is None:
        raise ImportFailed(path.name, "a pairwise run file needs a pair_id column and a choice (or choice_ab and "
                                      "choice_ba) column.")
    orders = ["ab", "ba"] if mapping["choice_ba"] else ["ab"]
    pairs = store.pairs(dataset).set_index("pair_id")
    first_row = 2 if path.suffix.lower() in (".csv", ".tsv") else 1
    run_id = f"{datetime.now():%Y%m%d-%H%M%S}-{_secrets.token_hex(3)}"
    rows = []
    for offset, record in enumerate(frame.to_dict("records")):
        row = first_row + offset
        pair_id = str(record[mapping["pair_id"]]).strip()
        if pair_id not in pairs.index:
            raise ImportFailed(path.name, f"pair '{pair_id}' is not in pair dataset '{dataset}'.", row=row,
                               column=mapping["pair_id"])
        for order in orders:
            column = mapping[f"choice_{order}"]
            try:
                choice = coerce_choice(record[column])
            except InvalidPreference as exc:
                raise ImportFailed(path.name, str(exc), row=row, column=column) from None
            rows.append({"run_id": run_id, "pair_uid": pairs.loc[pair_id, "uid"], "shown_order": order,
                         "choice": choice, "error": None if choice else "no choice in the file", "cached": False})
    with store.transaction():
        store.create_pairwise_run(id=run_id, name=name or path.stem, dataset_name=dataset, spec_name=path.stem,
                                  criterion=criterion, orders=orders, source="import", status="done",
                                  total_pairs=len({row["pair_uid"] for row in rows}),
                                  spec_body={"on_disagreement": "tie"})
        store.add_pairwise_verdicts(rows)
    return run_id

