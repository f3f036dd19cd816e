"""Widgets of the Judges page: choosing a starting point and the spec editor.

The editor's widget keys carry a generation number: loading another spec (a built-in, a saved version, an
imported file) bumps it, so every field starts over from the loaded spec instead of keeping stale edits.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

import pandas as pd
import streamlit as st

from judge.errors import InvalidSpec
from judge.specs import KINDS, REFERENCE_METRICS, SCORES, JudgeSpec, builtin_specs

GENERATION = "judges.generation"
LOADED = "judges.loaded"


def starting_points(saved: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Menu label -> ("saved" | "builtin", name); saved specs first, since they hold the team's edits."""
    choices = {f"{row.name} (saved v{row.version}, {row.kind})": ("saved", row.name) for row in saved.itertuples()}
    for name, spec in builtin_specs().items():
        choices[f"{name} (built-in, {spec.kind})"] = ("builtin", name)
    return choices


def load_into_editor(body: dict[str, Any]) -> None:
    """Make `body` what the editor shows, discarding unsaved edits."""
    st.session_state[LOADED] = body
    st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1


def loaded() -> dict[str, Any]:
    return st.session_state.get(LOADED) or builtin_specs()["custom"].to_dict()


def spec_editor(start: dict[str, Any]) -> JudgeSpec:
    """All fields of a spec as widgets; returns the edited spec (InvalidSpec for malformed JSON fields)."""
    gen = st.session_state.get(GENERATION, 0)

    def key(name: str) -> str:
        return f"judges.{gen}.{name}"

    body = dict(start)
    name_col, kind_col, threshold_col = st.columns([3, 2, 2])
    body["name"] = name_col.text_input("Name", start.get("name", ""), key=key("name")).strip()
    body["kind"] = kind_col.selectbox("Kind", KINDS, index=KINDS.index(start.get("kind", "llm")), key=key("kind"))
    body["pass_threshold"] = threshold_col.slider("Passes at score", 1, 5, int(start.get("pass_threshold", 4)),
                                                  key=key("threshold"))
    body["criteria"] = st.text_area("Criterion: what is judged, in words", start.get("criteria", ""), height=90,
                                    key=key("criteria"))
    with st.expander("Rubric: what each score means", expanded=True):
        rubric = start.get("rubric") or {}
        body["rubric"] = {score: st.text_input(f"Score {score}", rubric.get(score, ""), key=key(f"rubric{score}"))
                          for score in SCORES}
    if body["kind"] == "llm":
        model_col, url_col, temp_col, tokens_col = st.columns([3, 3, 2, 2])
        params = dict(start.get("params") or {})
        body["model"] = model_col.text_input("Model", start.get("model") or "", key=key("model"),
                                             help="provider/model: openai/..., anthropic/..., openai-compatible/...")
        body["base_url"] = url_col.text_input("Base URL (optional)", start.get("base_url") or "",
                                              key=key("base_url")) or None
        params["temperature"] = temp_col.number_input("Temperature", 0.0, 2.0, float(params.get("temperature", 0)),
                                                      0.1, key=key("temperature"))
        params["max_tokens"] = int(tokens_col.number_input("Max tokens", 50, 8000, int(params.get("max_tokens", 600)),
                                                           50, key=key("max_tokens")))
        body["params"] = params
        body["system"] = st.text_area("System prompt", start.get("system") or "", height=70,
                                      key=key("system")) or None
        body["template"] = st.text_area(
            "Prompt template", start.get("template", ""), height=320, key=key("template"),
            help="Variables: {input} {output} {context} {reference} {item_id}, any metadata column, "
                 "{criteria} {rubric} {examples}. Write {{ and }} for literal braces.")
        body["examples"] = _json_field("Few-shot examples (JSON list)", start.get("examples") or [], key("examples"))
    elif body["kind"] == "reference":
        metric = start.get("reference_metric") or "rouge_l"
        body["reference_metric"] = st.selectbox("Compare with the reference by", REFERENCE_METRICS,
                                                index=REFERENCE_METRICS.index(metric), key=key("metric"))
    else:
        body["checks"] = _json_field("Checks (JSON list; see the README for the check types)",
                                     start.get("checks") or [], key("checks"))
    return JudgeSpec.from_dict(body)


def _json_field(label: str, value: Any, key: str) -> Any:
    text = st.text_area(label, json.dumps(value, indent=2, ensure_ascii=False), height=160, key=key)
    try:
        return json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise InvalidSpec(f"{label}: not valid JSON ({exc.msg} at line {exc.lineno}).") from None


def secrets() -> Mapping[str, Any]:
    """st.secrets as a plain mapping (empty without a secrets.toml), for provider keys."""
    try:
        return st.secrets.to_dict()
    except Exception:  # Streamlit raises when no secrets file exists: then keys come from the environment
        return {}
