"""Pairwise labeling through links: a task is one pair dataset and criterion, handed out like labeling tasks.

The credential rules are judge.team's: a token of 256 random bits shown once and stored as its SHA-256,
re-checked on every read and write, the same refusal for every kind of bad token, named links that record
their annotator and open links where people type a name (never one bound to a named link). A link opens
`/annotate?token=...`, the page labeling links use; everything it does goes through this module, which never
takes a dataset or pair from the browser without checking it belongs to the link's task.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from judge import team
from judge.errors import AccessDenied, NotFound
from judge.pairs import DEFAULT_PREFERENCE_CRITERION, pair_queue, save_shown_choice, shown_pair

_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,128}")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class PairLinkAccess:
    link_id: int
    task_id: int
    annotator: str | None
    dataset: str
    criterion: str

    @property
    def is_open(self) -> bool:
        return self.annotator is None


def create_pair_task(store, *, name: str, dataset: str, criterion: str = DEFAULT_PREFERENCE_CRITERION,
                     instructions: str | None = None) -> int:
    name = team.clean_text(name, field="task name", limit=200, multiline=False)
    if not name:
        raise team.InvalidInput("A task needs a name.")
    store.pairs(dataset)  # NotFound when the pair dataset does not exist
    return store.create_pair_task(name, dataset, criterion,
                                  team.clean_text(instructions, field="instructions", limit=team.MAX_INSTRUCTIONS_CHARS))


def create_pair_link(store, task_id: int, *, annotator: str | None = None,
                     expires_in: timedelta | None = None) -> team.NewLink:
    expires_in = expires_in if expires_in is not None else timedelta(days=team.DEFAULT_LINK_DAYS)
    if expires_in <= timedelta(0):
        raise team.InvalidInput("A link must expire in the future.")
    name = team.clean_name(annotator) if annotator is not None else None
    token = secrets.token_urlsafe(team.TOKEN_BYTES)
    expires_at = _now() + expires_in
    with store.transaction():
        annotator_id = store.annotator_id(name) if name else None
        link_id = store.add_pair_link(task_id, team.hash_token(token), annotator_id=annotator_id,
                                      expires_at=expires_at)
    return team.NewLink(link_id, task_id, name, token, expires_at)


def revoke_pair_link(store, link_id: int) -> None:
    """The link stops working at its next click (every write re-checks it); its history stays."""
    if link_id not in set(store.pair_links()["id"]):
        raise NotFound(f"No pairwise labeling link {link_id} (see `judge pair-links`).")
    store.revoke_pair_link(link_id, _now())


def is_pair_link(store, token: Any) -> bool:
    """True when the token (valid or not) belongs to a pairwise link: the annotate page then shows pairs."""
    return (isinstance(token, str) and bool(_TOKEN_SHAPE.fullmatch(token))
            and store.pair_link_by_hash(team.hash_token(token)) is not None)


def open_pair_link(store, token: Any) -> PairLinkAccess:
    denied = AccessDenied("This labeling link is not valid: it may be mistyped, expired or revoked. "
                          "Ask the task owner for a new link.")
    if not isinstance(token, str) or not _TOKEN_SHAPE.fullmatch(token):
        raise denied
    with store.transaction():
        link = store.pair_link_by_hash(team.hash_token(token))
        if link is None or link["revoked_at"] is not None or link["expires_at"] <= _now():
            raise denied
        task = store.pair_task(link["task_id"])
    if task["closed_at"] is not None:
        raise AccessDenied("This labeling task is closed: thank you, no more labels are needed.")
    return PairLinkAccess(link["id"], task["id"], link["annotator"], task["dataset_name"], task["criterion"])


def link_annotator(store, access: PairLinkAccess, typed: Any = None) -> str:
    """Who is labeling: the link's annotator, else (open link) the typed name, never one bound to a named
    link (labeling or pairwise), so an open link cannot write in someone else's name."""
    if access.annotator is not None:
        return access.annotator
    name = team.annotator_name(store, access, typed)
    if name in store.named_pair_link_annotators():
        raise AccessDenied(f"The name '{name}' belongs to a personal link; use that link or another name.")
    return name


def pair_link_brief(store, token: str) -> dict[str, Any]:
    access = open_pair_link(store, token)
    task = store.pair_task(access.task_id)
    return {"name": task["name"], "instructions": task["instructions"] or "", "criterion": task["criterion"],
            "annotator": access.annotator, "open": access.is_open}


def next_link_pair(store, token: str, typed_name: Any = None, *, skip: Any = ()) -> tuple[dict[str, Any] | None,
                                                                                          int, int]:
    """(the next pair as this person sees it or None, pairs done, pairs in all)."""
    with store.transaction():
        access = open_pair_link(store, token)
        who = link_annotator(store, access, typed_name)
        queue = pair_queue(store, access.dataset, who, criterion=access.criterion)
        todo = [uid for uid in queue.remaining if uid not in set(skip)]
        pair = shown_pair(store, access.dataset, todo[0], who) if todo else None
    return pair, queue.done, queue.total


def submit_link_choice(store, token: str, pair_uid: str, slot: str, *, critique: str | None = None,
                       typed_name: Any = None) -> bool:
    """Record a choice through a link; token, name and pair are re-checked in the same transaction."""
    critique = team.clean_text(critique, field="critique", limit=team.MAX_CRITIQUE_CHARS)
    with store.transaction():
        access = open_pair_link(store, token)
        who = link_annotator(store, access, typed_name)
        pair = shown_pair(store, access.dataset, pair_uid, who)  # JudgeError if not a pair of this task
        return save_shown_choice(store, pair, who, slot, criterion=access.criterion, critique=critique,
                                 source=f"pair-link:{access.link_id}")
