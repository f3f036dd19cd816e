"""Team labeling: tasks, per-annotator links with unguessable tokens, assignment, and owner access.

A link's token is the only credential an annotator holds. It is 256 random bits from `secrets`, shown once,
stored only as its SHA-256, and re-checked on every read and every write (so revoking or expiring a link
stops it at the next click). A link opens exactly one task: everything an annotator does goes through
`open_link`/`next_item`/`submit_label` here, which never take a dataset or task id from the browser.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Mapping
from urllib.parse import quote

import numpy as np

from judge.criteria import Criterion
from judge.errors import AccessDenied, JudgeError, NotFound
from judge.names import MAX_NAME_CHARS, RESERVED_NAMES, lookalike_of, name_key, name_problem
from judge.owner_guard import secret_problem
from judge.store import Store

TOKEN_BYTES = 32
MAX_CRITIQUE_CHARS = 5_000
MAX_INSTRUCTIONS_CHARS = 20_000
MAX_OVERLAP = 20
DEFAULT_LINK_DAYS = 14
MAX_LINK_DAYS = 365
OWNER_SECRET_ENV = "JUDGE_OWNER_SECRET"
OWNER_EMAILS_ENV = "JUDGE_OWNER_EMAILS"
BASE_URL_ENV = "JUDGE_BASE_URL"

_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,128}")


class InvalidInput(JudgeError):
    """A name, critique or parameter typed by a person is too long, empty or holds control characters."""


def _now() -> datetime:
    """Naive UTC, the form every timestamp this module writes and compares takes."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


# -- input hygiene ------------------------------------------------------------------------------------
def clean_text(text: Any, *, field: str, limit: int, multiline: bool = True) -> str | None:
    """Text a person typed, normalized (NFC, stripped); control characters other than newlines and tabs
    are refused rather than silently dropped, so what is stored is exactly what was reviewed."""
    if text is None:
        return None
    text = unicodedata.normalize("NFC", str(text)).replace("\r\n", "\n").strip()
    allowed = "\n\t" if multiline else ""
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") and ch not in allowed for ch in text):
        raise InvalidInput(f"The {field} holds control or invisible characters; remove them and try again.")
    if len(text) > limit:
        raise InvalidInput(f"The {field} is {len(text):,} characters long; the limit is {limit:,}.")
    return text or None


def clean_name(name: Any) -> str:
    """An annotator name: one line, 1 to MAX_NAME_CHARS characters, nothing invisible (judge.names)."""
    if name is None or not str(name).strip():
        raise InvalidInput("Type your name first: every label records who gave it.")
    problem = name_problem(name)
    if problem:
        raise InvalidInput(problem[0].upper() + problem[1:] + ".")
    return unicodedata.normalize("NFC", str(name)).strip()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- tasks --------------------------------------------------------------------------------------------
def create_task(
    store: Store,
    *,
    name: str,
    dataset: str,
    version: int | None = None,
    rubric: str | None = None,
    instructions: str | None = None,
    overlap: int = 1,
    sample_size: int | None = None,
    seed: int = 0,
    filter: dict[str, Any] | None = None,
    due_date: date | str | None = None,
    criteria: list[str] | None = None,
    strategy: str | None = None,
) -> int:
    """A labeling task over a dataset version, or over a filtered, seeded random sample of it, or over the
    items a label-next `strategy` suggests (sample_size of them, default 20, ranked on the first criterion).

    `criteria` names the criteria its annotators grade, all on one screen (default: every criterion of the
    dataset). `overlap` is how many distinct annotators should label each item (2+ lets agreement be
    measured); `filter` keeps items whose metadata columns equal the given values; `rubric` pins that
    rubric's latest version for a single-criterion task (else each criterion's current rubric applies).
    """
    name = clean_text(name, field="task name", limit=200, multiline=False)
    if not name:
        raise InvalidInput("A task needs a name.")
    instructions = clean_text(instructions, field="instructions", limit=MAX_INSTRUCTIONS_CHARS)
    if not 1 <= int(overlap) <= MAX_OVERLAP:
        raise InvalidInput(f"Overlap is how many people label each item: 1 to {MAX_OVERLAP}, not {overlap}.")
    if sample_size is not None and int(sample_size) < 1:
        raise InvalidInput("A sample size must be at least 1 (leave it empty to use every item).")
    if isinstance(due_date, str):
        try:
            due_date = date.fromisoformat(due_date) if due_date.strip() else None
        except ValueError:
            raise InvalidInput(f"A due date looks like 2025-06-30, not {due_date!r}.") from None
    ds = store.dataset(dataset, version)
    graded = [store.criterion(ds["name"], name) for name in criteria] if criteria else store.criteria(ds["name"])
    if not graded:
        graded = [store.item_criterion(store.items(ds["id"])["uid"].iloc[0])] if ds["row_count"] else []
    if rubric and len(graded) > 1:
        raise InvalidInput("A rubric can be pinned only for a task that grades one criterion.")
    rubric_id = store.rubric(rubric)["id"] if rubric else None
    if strategy:
        return _strategy_task(store, ds, graded, name, strategy, rubric_id=rubric_id, instructions=instructions,
                              sample_size=sample_size, seed=seed, overlap=int(overlap), due_date=due_date)
    uids = store.items(ds["id"], metadata=filter)["uid"].tolist()
    if sample_size is not None and int(sample_size) < len(uids):
        picked = np.random.default_rng(seed).choice(len(uids), size=int(sample_size), replace=False)
        uids = [uids[i] for i in sorted(picked)]
    return store.create_task(
        name, ds["id"], uids, rubric_id=rubric_id, instructions=instructions, filter=filter,
        sample_size=sample_size, seed=seed if sample_size is not None else None, overlap=int(overlap),
        due_date=due_date, criterion_ids=[c.id for c in graded],
    )


def _strategy_task(store: Store, ds: dict[str, Any], graded: list[Criterion], name: str, strategy: str, *,
                   sample_size: int | None, seed: int, **options: Any) -> int:
    """A task over the items a strategy suggests, in its order, with the design recorded for its labels."""
    from judge.label_next import DEFAULT_BATCH, suggest

    if ds["version"] != store.dataset(ds["name"])["version"]:
        raise InvalidInput("A strategy draws from the latest version of a dataset: leave --version out.")
    with store.transaction():
        batch = suggest(store, ds["name"], graded[0].name if graded else None, n=sample_size or DEFAULT_BATCH,
                        strategy=strategy, seed=seed)
        task_id = store.create_task(name, ds["id"], [s.item_uid for s in batch], sample_size=len(batch), seed=seed,
                                    criterion_ids=[c.id for c in graded], **options)
        if batch:
            store.set_task_design(task_id, batch[0].design, {s.item_uid: s.share for s in batch})
    return task_id


def task_criteria(store: Store, task: dict[str, Any]) -> list[Criterion]:
    """The criteria a task grades, in order; a task's pinned rubric (one criterion) stands for its rubric."""
    criteria = [store.criterion_by_id(i) for i in task["criterion_ids"]]
    if task["rubric_id"] and len(criteria) == 1:
        criteria[0].rubric = store.rubric(rubric_id=task["rubric_id"])
    return criteria


def close_task(store: Store, task_id: int) -> None:
    store.close_task(task_id, _now())


# -- links --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NewLink:
    """A link just created: the only moment its token exists outside the person who receives it."""

    link_id: int
    task_id: int
    annotator: str | None
    token: str
    expires_at: datetime

    def url(self, base_url: str | None = None) -> str:
        return link_url(base_url, self.token)


@dataclass(frozen=True)
class LinkAccess:
    """What a valid token grants: one task, as one named annotator or (open link) as a typed name."""

    link_id: int
    task_id: int
    annotator: str | None
    expires_at: datetime

    @property
    def is_open(self) -> bool:
        return self.annotator is None


def configured_base_url() -> str | None:
    """$JUDGE_BASE_URL: the dashboard's address as annotators reach it (through a reverse proxy, say)."""
    return os.environ.get(BASE_URL_ENV) or None


def default_base_url() -> str:
    return configured_base_url() or "http://localhost:8501"


def link_url(base_url: str | None, token: str) -> str:
    """The URL to hand an annotator: <base>/annotate?token=... (base includes any reverse-proxy path)."""
    base = (base_url or default_base_url()).rstrip("/")
    return f"{base}/annotate?token={quote(token, safe='')}"


def link_lifetime(days: Any) -> timedelta:
    """How long a new link lives, from a number of days: more than 0, at most MAX_LINK_DAYS (a year)."""
    try:
        days = float(days)
    except (TypeError, ValueError):
        raise InvalidInput(f"A link lives a number of days, not {days!r}.") from None
    if not (0 < days <= MAX_LINK_DAYS):  # also refuses nan
        raise InvalidInput(f"A link lives more than 0 and at most {MAX_LINK_DAYS} days, not {days:g}; "
                           "create a new link when this one expires.")
    return timedelta(days=days)


def create_link(
    store: Store, task_id: int, *, annotator: str | None = None, expires_in: timedelta | None = None,
    email: str | None = None,
) -> NewLink:
    """A named link (labels are recorded as `annotator`) or, without one, an open link where people type a name."""
    expires_in = expires_in if expires_in is not None else timedelta(days=DEFAULT_LINK_DAYS)
    if expires_in <= timedelta(0):
        raise InvalidInput("A link must expire in the future.")
    if expires_in > timedelta(days=MAX_LINK_DAYS):
        raise InvalidInput(f"A link lives at most {MAX_LINK_DAYS} days; create a new one when it expires.")
    name = clean_name(annotator) if annotator is not None else None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = _now() + expires_in
    with store.transaction():
        store.task(task_id)
        annotator_id = store.annotator_id(name, email=email) if name else None
        link_id = store.add_link(task_id, hash_token(token), annotator_id=annotator_id, expires_at=expires_at)
    return NewLink(link_id, task_id, name, token, expires_at)


def revoke_link(store: Store, link_id: int) -> None:
    store.revoke_link(link_id, _now())


def open_link(store: Store, token: Any) -> LinkAccess:
    """The access a token grants, or AccessDenied: malformed, unknown, revoked, expired or task closed.

    The message does not say which, so a guesser learns nothing from it.
    """
    denied = AccessDenied("This labeling link is not valid: it may be mistyped, expired or revoked. "
                          "Ask the task owner for a new link.")
    if not isinstance(token, str) or not _TOKEN_SHAPE.fullmatch(token):
        raise denied
    with store.transaction():
        link = store.link_by_hash(hash_token(token))
        if link is None or link["revoked_at"] is not None or link["expires_at"] <= _now():
            raise denied
        task = store.task(link["task_id"])
    if task["closed_at"] is not None:
        raise AccessDenied("This labeling task is closed: thank you, no more labels are needed.")
    return LinkAccess(link["id"], link["task_id"], link["annotator"], link["expires_at"])


def annotator_name(store: Store, access: LinkAccess, typed: Any = None) -> str:
    """Who is labeling: the link's annotator, else (open link) the typed name or signed-in email.

    On an open link a name is a new identity, so nobody can write labels in someone else's name: refused are
    names that look like a reserved one (a personal link's, `owner`, `imported`; Cyrillic and Greek look-alikes
    included) and any existing annotator's name, compared NFKC and case-folded. Only an identity this same
    link created (all its labels came through it) may come back, under its first spelling.
    """
    if access.annotator is not None:
        return access.annotator
    name = clean_name(typed)
    if lookalike_of(name, store.named_link_annotators() | RESERVED_NAMES) is not None:
        raise AccessDenied(f"The name '{name}' is reserved (or looks like a name that is); type your own name.")
    mine = f"link:{access.link_id}"
    for existing, sources in store.annotator_label_sources().items():
        if name_key(existing) == name_key(name):
            if sources == {mine}:
                return existing  # the same person coming back to this link
            raise AccessDenied(f"The name '{name}' is taken by another annotator; type a name of your own, "
                               "e.g. with your surname.")
    return name


# -- the annotator's side -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def remaining(self) -> int:
        return self.total - self.done


def next_item(store: Store, token: str, typed_name: Any = None, *, skip: Any = ()) -> dict[str, Any] | None:
    """The next item for this link's annotator, passing over the uids in `skip` (skipped this session);
    None when nothing is left. Progress comes from the store, so any device resumes at the same place."""
    skipped = set(skip)
    with store.transaction():
        access = open_link(store, token)
        who = annotator_name(store, access, typed_name)
        task = store.task(access.task_id)
        queue = [uid for uid in store.annotator_queue(access.task_id, who, task["overlap"]) if uid not in skipped]
        return store.item(queue[0]) if queue else None


def progress(store: Store, token: str, typed_name: Any = None) -> Progress:
    with store.transaction():
        access = open_link(store, token)
        who = annotator_name(store, access, typed_name)
        total = len(store.task_items(access.task_id))
        left = len(store.annotator_queue(access.task_id, who, store.task(access.task_id)["overlap"]))
    return Progress(done=total - left, total=total)


def task_brief(store: Store, token: str) -> dict[str, Any]:
    """What the annotator page shows above the item: task name, instructions, due date and the criteria to
    grade (each with its rubric)."""
    with store.transaction():
        access = open_link(store, token)
        task = store.task(access.task_id)
        criteria = task_criteria(store, task)
    return {
        "name": task["name"], "instructions": task["instructions"] or "", "due_date": task["due_date"],
        "overlap": task["overlap"], "annotator": access.annotator, "open": access.is_open,
        "criteria": criteria,
    }


def submit_grades(
    store: Store, token: str, item_uid: Any, grades: Mapping[str | None, Mapping[str, Any]], *,
    typed_name: Any = None,
) -> list[int]:
    """Record one person's grades of an item on the task's criteria through a link, in one transaction:
    token, identity, item and criteria are re-checked inside it."""
    cleaned = {name: {**grade, "critique": clean_text(grade.get("critique"), field="critique",
                                                       limit=MAX_CRITIQUE_CHARS)}
               for name, grade in grades.items()}
    with store.transaction():
        access = open_link(store, token)
        who = annotator_name(store, access, typed_name)
        if not isinstance(item_uid, str) or not store.task_has_item(access.task_id, item_uid):
            raise AccessDenied("That item is not part of this link's task.")
        task = store.task(access.task_id)
        criteria = {c.name: c for c in task_criteria(store, task)}
        if None in cleaned and len(criteria) == 1:
            cleaned = {next(iter(criteria)): cleaned.pop(None), **cleaned}
        unknown = [str(name) for name in cleaned if name not in criteria]
        if unknown:
            raise AccessDenied(f"This task does not grade {', '.join(unknown)}.")
        return store.add_grades(
            item_uid, who, cleaned, rubric_ids={name: criteria[name].rubric_id for name in cleaned},
            task_id=access.task_id, source=f"link:{access.link_id}", **store.task_item_design(access.task_id, item_uid),
        )


def submit_label(
    store: Store, token: str, item_uid: Any, *, typed_name: Any = None, score: Any = None, passed: Any = None,
    critique: Any = None, criterion: str | None = None,
) -> int:
    """Record one grade through a link (`criterion`: default the task's only one); see submit_grades."""
    return submit_grades(store, token, item_uid, {criterion: {"score": score, "passed": passed,
                                                              "critique": critique}},
                         typed_name=typed_name)[0]


# -- the owner's side ---------------------------------------------------------------------------------
def annotator_stats(store: Store, task_id: int) -> list[dict[str, Any]]:
    """Per annotator: items labeled, first and last label, and pace in labels per hour of active span."""
    times = store.task_label_times(task_id)
    out = []
    for who, rows in times.groupby("annotator", sort=True):
        first, last = rows["created_at"].min(), rows["created_at"].max()
        span_h = (last - first).total_seconds() / 3600
        out.append({
            "annotator": who, "items": rows["item_uid"].nunique(), "label_rows": len(rows),
            "first_label_at": first, "last_label_at": last,
            "labels_per_hour": round((len(rows) - 1) / span_h, 1) if len(rows) > 1 and span_h > 0 else None,
        })
    return out


def agreement(store: Store, task_id: int) -> dict[str, Any]:
    """Inter-annotator agreement on each of the task's criteria, computed exactly as the reports do
    (judge.reports.agreement): Krippendorff's alpha on scores and on pass/fail, pairwise kappa, with intervals."""
    from judge.reports.agreement import human_agreement_from_labels

    task = store.task(task_id)
    out = {}
    for criterion in task_criteria(store, task):
        labels = store.task_labels(task_id, criterion_id=criterion.id)
        out[criterion.name] = {"scale": criterion.scale,
                               **human_agreement_from_labels(labels, n_boot=500, seed=task_id)}
    return out


def disagreements(store: Store, task_id: int, *, min_spread: int = 2) -> list[dict[str, Any]]:
    """(Item, criterion) pairs whose annotators' scores span at least `min_spread` points, or whose
    pass/fail differ, with each annotator's label and the current adjudication if the owner settled one."""
    labels = store.task_labels(task_id)
    settled = store.task_labels(task_id, kind="adjudication").drop_duplicates(["item_uid", "criterion"], keep="last")
    settled = settled.set_index(["item_uid", "criterion"])
    out = []
    for (uid, criterion), rows in labels.groupby(["item_uid", "criterion"], sort=False):
        if rows["annotator"].nunique() < 2:
            continue
        scores, passes = rows["score"].dropna(), rows["passed"].dropna()
        spread = int(scores.max() - scores.min()) if len(scores) >= 2 else 0
        if spread < min_spread and passes.nunique() < 2:
            continue
        final = settled.loc[(uid, criterion)] if (uid, criterion) in settled.index else None
        out.append({
            "item_uid": uid, "criterion": criterion, "position": int(rows["position"].iloc[0]), "spread": spread,
            "labels": rows[["annotator", "score", "passed", "critique"]].to_dict("records"),
            "adjudicated": None if final is None else {
                "by": final["annotator"], "score": final["score"], "passed": final["passed"],
                "critique": final["critique"]},
        })
    return sorted(out, key=lambda d: (d["adjudicated"] is not None, -d["spread"], d["position"]))


def adjudicate(
    store: Store, task_id: int, item_uid: str, *, owner: str, score: Any = None, passed: Any = None,
    critique: Any = None, criterion: str | None = None,
) -> int:
    """The owner's final label for an item on one of the task's criteria (default: its only one), kind
    'adjudication'; earlier ones stay in the history."""
    critique = clean_text(critique, field="critique", limit=MAX_CRITIQUE_CHARS)
    with store.transaction():
        if not store.task_has_item(task_id, item_uid):
            raise NotFound(f"Item {item_uid} is not part of task {task_id}.")
        criteria = {c.name: c for c in task_criteria(store, store.task(task_id))}
        if criterion is None and len(criteria) == 1:
            criterion = next(iter(criteria))
        if criterion not in criteria:
            raise NotFound(f"Task {task_id} grades {', '.join(criteria)}: name the criterion to adjudicate.")
        return store.add_label(
            item_uid, clean_name(owner), score=score, passed=passed, critique=critique, criterion=criterion,
            rubric_id=criteria[criterion].rubric_id, task_id=task_id, source="adjudication",
            kind="adjudication",
        )


# -- owner access -------------------------------------------------------------------------------------
def is_loopback(address: str | None) -> bool:
    """True only for addresses no other machine can reach. Streamlit's default (unset) is every interface."""
    if not address:
        return False
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def owner_secret(secrets_map: Mapping[str, Any] | None = None) -> str | None:
    """The owner secret from $JUDGE_OWNER_SECRET, else from secrets (st.secrets / secrets.toml)."""
    value = os.environ.get(OWNER_SECRET_ENV) or (secrets_map or {}).get(OWNER_SECRET_ENV)
    return str(value) if value else None


def owner_emails(secrets_map: Mapping[str, Any] | None = None) -> set[str]:
    """Signed-in (OIDC) emails allowed on the owner pages: $JUDGE_OWNER_EMAILS or secrets, comma separated."""
    raw = os.environ.get(OWNER_EMAILS_ENV) or (secrets_map or {}).get(OWNER_EMAILS_ENV) or ""
    items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
    return {e.strip().lower() for e in items if str(e).strip()}


def secret_matches(given: Any, expected: str | None) -> bool:
    """Constant-time comparison; an unset secret matches nothing."""
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def serving_problem(address: str | None, *, secret: str | None, oidc_owners: set[str]) -> str | None:
    """Why serving on `address` would leave the owner pages open (None when it is safe)."""
    if secret is not None and (weak := secret_problem(secret, name=OWNER_SECRET_ENV)):
        return weak
    if is_loopback(address) or secret or oidc_owners:
        return None
    where = f"address {address}" if address else "every network interface (server.address is unset)"
    return (f"Judge Workbench is served on {where} without an owner secret, so anyone who can reach it could "
            f"upload, run judges and read every dataset. Set {OWNER_SECRET_ENV} (environment or "
            f".streamlit/secrets.toml), or configure OIDC login with {OWNER_EMAILS_ENV}, or serve on "
            "--server.address 127.0.0.1.")
