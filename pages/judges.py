"""Judges: write a judge (criterion, 1-5 rubric, prompt), see its prompt on a real row, try it, save it."""

import streamlit as st

from judge.caching import caching_note
from judge.errors import JudgeError
from judge.offline import score_offline
from judge.specs import JudgeSpec, builtin_specs, examples_from_labels, save_spec
from judge.trial import TRIAL_ROWS, sample_items, try_spec
from judge.ui import errors_shown, get_store, read
from judge.ui.judges import load_into_editor, loaded, secrets, spec_editor, starting_points
from judge.ui.run_labels import model_text

st.title("Judges")
st.caption("A judge is data: a criterion, what each score 1-5 means, and a prompt (or offline checks). "
           "Start from a built-in, preview the prompt on a real row, try it on a few rows, save a version.")

with errors_shown():
    choices = starting_points(read("specs"))
    pick_col, import_col = st.columns([3, 2], vertical_alignment="bottom")
    labels = list(choices)
    previous = st.session_state.get("judges.choice")
    choice = pick_col.selectbox("Start from", labels, index=labels.index(previous) if previous in labels else 0)
    if choice != previous:
        st.session_state["judges.choice"] = choice
        source, name = choices[choice]
        load_into_editor(read("spec_body", name) if source == "saved" else builtin_specs()[name].to_dict())
    uploaded = import_col.file_uploader("Import a spec (.json)", type=["json"], key="judges.import")
    if uploaded is not None and st.session_state.get("judges.imported") != uploaded.file_id:
        st.session_state["judges.imported"] = uploaded.file_id
        load_into_editor(JudgeSpec.from_json(uploaded.getvalue().decode("utf-8")).to_dict())

datasets = read("datasets")
edit_col, preview_col = st.columns([3, 2], gap="large")
spec = None
with edit_col, errors_shown():
    spec = spec_editor(loaded())

with preview_col:
    st.subheader("Preview")
    if not len(datasets):
        st.info("Upload a dataset to preview the prompt on a real row.", icon=":material/info:")
    else:
        dataset_name = st.selectbox("Dataset", list(datasets["name"]), key="judges.dataset")
        dataset = read("dataset", dataset_name)
        row = st.number_input("Row", 1, max(int(dataset["row_count"]), 1), 1, key="judges.row")
        columns = read("metadata_columns", dataset["id"]).keys()
        if spec is not None:
            try:
                spec.validate(columns)
                item = sample_items(get_store(), dataset_name, 1, start=int(row) - 1)[0]
                if spec.kind == "llm":
                    st.code(spec.render(item), language=None, wrap_lines=True)
                    st.caption(caching_note(spec))
                else:
                    verdict = score_offline(spec, item)
                    st.metric("Offline score", "—" if verdict.score is None else verdict.score)
                    st.text(verdict.error or verdict.reasoning)
            except JudgeError as exc:
                st.error(str(exc), icon=":material/error:")

if spec is None:
    st.stop()

st.divider()
save_col, export_col, fewshot_col, try_col = st.columns(4)
with errors_shown():
    if save_col.button("Save as new version", type="primary", icon=":material/save:"):
        version = save_spec(get_store(), spec)
        st.session_state["judges.choice"] = f"{spec.name} (saved v{version}, {spec.kind})"
        st.toast(f"Saved {spec.name} version {version}.", icon=":material/check:")
    export_col.download_button("Export JSON", spec.to_json(), file_name=f"{spec.name or 'judge'}.json",
                               mime="application/json", icon=":material/download:")
    if len(datasets) and spec.kind == "llm" and fewshot_col.button(
            "Examples from labels", icon=":material/school:",
            help="Use the labeled items marked as few-shot examples for this judge, with their human grade."):
        examples = examples_from_labels(get_store(), spec.name, int(dataset["id"]))
        if not examples:
            st.warning(f"No labeled item of {dataset_name} is marked as a few-shot example for {spec.name}.")
        else:
            load_into_editor({**spec.to_dict(), "examples": examples})
            st.rerun()
    if len(datasets) and try_col.button(f"Try on {TRIAL_ROWS} rows", icon=":material/science:"):
        with st.spinner(f"Judging {TRIAL_ROWS} rows of {dataset_name}..."):
            trial = try_spec(get_store(), spec, dataset_name, start=int(row) - 1, secrets=secrets())
            st.session_state["judges.trial"] = (spec.body_hash(), trial)
    tried_hash, trial = st.session_state.get("judges.trial") or (None, None)
    if tried_hash == spec.body_hash():
        st.dataframe(trial, hide_index=True,
                     column_config={"reasoning": st.column_config.TextColumn(width="large")})

    history = read("spec_history", spec.name) if spec.name else None
    if history is not None and len(history):
        with st.expander(f"Version history of {spec.name} ({len(history)})"):
            st.dataframe(history.drop(columns=["body"]).assign(model=history["model"].map(model_text)),
                         hide_index=True, width="stretch",
                         column_config={"version": st.column_config.NumberColumn("Version", format="v%d"),
                                        "kind": "Kind", "model": "Model", "body_hash": "Content hash",
                                        "created_at": st.column_config.DatetimeColumn("Saved",
                                                                                      format="YYYY-MM-DD HH:mm")})
            version = st.selectbox("Version", list(history["version"]), key="judges.history_version")
            if st.button("Load this version into the editor", icon=":material/history:"):
                load_into_editor(read("spec_body", spec.name, int(version)))
                st.rerun()
