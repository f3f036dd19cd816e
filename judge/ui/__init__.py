"""Streamlit glue shared by the pages: the cached store, cached reads, and the error boundary.

Only this package imports streamlit inside `judge`.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from importlib import import_module
from typing import Any, Iterator

import streamlit as st

from judge.config import db_path
from judge.errors import JudgeError, StoreDamaged
from judge.store import Store


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    return Store(path)


def get_store() -> Store:
    """One Store object per server process and store path (it holds no open connection).

    A page that reaches the store from a run that skipped app.py (see `route_through_app`) is rerun
    through app.py first, so no data is shown before its token or owner check.
    """
    from judge.ui.auth import route_through_app

    route_through_app()
    with _stopped_if_damaged():
        return _store(str(db_path()))


@contextmanager
def _stopped_if_damaged() -> Iterator[None]:
    """A store file that cannot be read stops the page with its message (every page needs the store),
    whether it was damaged before the server started or while it runs."""
    try:
        yield
    except StoreDamaged as exc:
        st.error(str(exc), icon=":material/database:")
        st.stop()


def _store_version(path: str) -> tuple[int, int]:
    """Changes whenever any process commits to the store: the key that invalidates cached reads."""
    stamps = []
    for suffix in ("", ".wal"):
        try:
            stamps.append(os.stat(path + suffix).st_mtime_ns)
        except FileNotFoundError:
            stamps.append(0)
    return stamps[0], stamps[1]


@st.cache_data(show_spinner=False, max_entries=512)
def _read(path: str, version: tuple[int, int], method: str, args: tuple, kwargs: tuple) -> Any:
    return getattr(_store(path), method)(*args, **dict(kwargs))


def read(method: str, *args: Any, **kwargs: Any) -> Any:
    """A cached `Store.<method>(...)` read, recomputed only after a write by this or another process."""
    path = str(get_store().path)
    with _stopped_if_damaged():
        return _read(path, _store_version(path), method, args, tuple(sorted(kwargs.items())))


@st.cache_data(show_spinner="Computing…", max_entries=256)
def _compute(path: str, version: tuple[int, int], target: str, args: tuple, kwargs: tuple) -> Any:
    module, _, name = target.partition(":")
    return getattr(import_module(module), name)(_store(path), *args, **dict(kwargs))


def computed(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """`fn(store, *args, **kwargs)` for a module-level function (a report, a split, an estimate), cached like
    `read`: recomputed only after a write, so a click on a page reruns it instantly."""
    path = str(get_store().path)
    target = f"{fn.__module__}:{fn.__qualname__}"
    return _compute(path, _store_version(path), target, args, tuple(sorted(kwargs.items())))


@contextmanager
def errors_shown() -> Iterator[None]:
    """The one boundary where `judge` errors become a message on the page instead of a traceback."""
    try:
        yield
    except JudgeError as exc:
        st.error(str(exc), icon=":material/error:")
