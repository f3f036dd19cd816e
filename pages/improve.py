"""Improve: turn the judge's disagreements with people into few-shot examples and guidelines, score
candidate prompts on held-out labels, and promote the one that really agrees better."""

import streamlit as st

from judge.improve import add_fewshot, automatic_candidates, promote
from judge.runner import run_in_background, start_run
from judge.specs import JudgeSpec
from judge.ui import errors_shown, get_store, read
from judge.ui.improve import (
    CANDIDATES, JOB, cached, default_judge, leaderboard_table, start_scoring,
)
from judge.ui.jobs import find_job
from judge.ui.judges import secrets
from judge.ui.nav import page_link
from judge.ui.reports import grade_text
from judge.ui.run import judge_choices, load_choice
from judge.ui.run_labels import run_labels

st.title("Improve a judge")
st.caption("About 30% of the labeled items (by a stable hash) are for tuning: few-shot examples and guidelines "
           "come from there. The other 70% are held out and only ever used to score candidates, so a better "
           "score is a real improvement, not a judge that has seen the answers.")

datasets = read("datasets")
if not len(datasets):
    st.info("Improving a judge starts from people's labels: upload a dataset and label some of it first.",
            icon=":material/info:")
    page_link("pages/upload.py", label="Upload outputs", icon=":material/upload:")
    st.stop()

with errors_shown():
    left, right = st.columns(2, gap="large")
    dataset = left.selectbox("Dataset", list(datasets["name"]), key="improve.dataset")
    info = read("dataset", dataset)
    finished = read("runs", int(info["id"]))
    finished = finished[finished["status"] == "done"]
    choices = judge_choices()
    specs = {label: load_choice(choice) for label, choice in choices.items()}
    picked = right.selectbox("Judge", list(choices), key=f"improve.judge.{dataset}",
                             index=default_judge(specs, set(finished["spec_name"])),
                             help="Judges with a finished run on this dataset come first to mind: their "
                                  "disagreements are where improving starts.")
    current = specs[picked]
    llm = current.kind == "llm"
    model = None
    if llm:
        model = right.text_input("Model", value=current.model or "", key=f"improve.model.{current.name}",
                                 help="provider/model for the base run and every candidate").strip() or None
    else:
        right.caption(f"A {current.kind} judge runs offline: no model, no key, no cost.")
    store = get_store()
    criteria = [c.name for c in read("criteria", dataset)]
    criterion = left.selectbox("Criterion", criteria, key=f"improve.criterion.{dataset}",
                               index=criteria.index(current.judged_criterion) if current.judged_criterion in criteria
                               else 0, help="The people's labels that score the candidates.")
    split = cached("heldout_split", dataset, spec_name=current.name, criterion=criterion)
    from_reviews = f" ({len(split.reviewed):,} graded in reviews only)" if split.reviewed else ""
    left.markdown(f"**{len(split.tuning):,}** tuning items{from_reviews} · **{len(split.heldout):,}** held-out items")

    runs = finished[(finished["spec_name"] == current.name) & (finished["criterion"] == criterion)]
    st.subheader("Disagreements on tuning items")
    if not len(runs):
        st.info("No finished run of this judge on this dataset yet: run it on the tuning items to see where it "
                "disagrees with people.", icon=":material/info:")
        if st.button("Run on the tuning items", icon=":material/play_arrow:", disabled=not split.tuning):
            run_id = start_run(store, dataset=dataset, spec=current, model=model, item_uids=split.tuning,
                               name="improve: tuning", secrets=secrets(), criterion=criterion)
            run_in_background(store, run_id, secrets=secrets())
            st.toast(f"Started run {run_id}; this page shows it when it is done.", icon=":material/rocket_launch:")
        base = None
    else:
        labels = run_labels(runs)
        widest = list(labels).index(runs.loc[runs["done"].idxmax(), "id"])  # the run with the most verdicts
        base = st.selectbox("Base run", list(labels), index=widest, key=f"improve.base.{current.name}",
                            format_func=labels.get)
        rows = cached("corrections", base)
        if not len(rows):
            st.success("The judge agrees with people on every tuning item it scored.", icon=":material/check:")
        for row in rows.head(20).itertuples():
            title = (f"{row.item_id}: human {grade_text(row.human_score, row.human_passed)}, "
                     f"judge {grade_text(row.judge_score, row.judge_passed)} ({row.direction})")
            with st.expander(title):
                st.markdown("**Response**")
                st.text(str(row.output)[:2000])
                cols = st.columns(2)
                cols[0].markdown(f"**Judge's reasoning**\n\n{row.reasoning or '—'}")
                cols[1].markdown(f"**Human critique**\n\n{row.critique if isinstance(row.critique, str) else '—'}")
                if llm and st.button("Use as few-shot", key=f"improve.use.{row.item_uid}", icon=":material/add:"):
                    spec, version = add_fewshot(store, current, rows[rows["item_uid"] == row.item_uid])
                    st.toast(f"Saved {spec.name} v{version} with {len(spec.examples)} example(s).",
                             icon=":material/check:")
                    st.rerun()

    st.subheader("Candidates")
    candidates = st.session_state.setdefault(CANDIDATES, {})
    if not llm:
        change = "another reference metric" if current.kind == "reference" else "stricter or extra checks"
        st.info(f"Few-shot examples and guidelines only change what an LLM judge reads; a {current.kind} judge "
                f"scores by its own rules. Edit its spec below (say, {change}) and score the variants on the "
                "held-out items.", icon=":material/info:")
    else:
        fewshot = st.number_input("Few-shot examples in the automatic candidate", 0, 10, 3, key="improve.fewshot")
        if base is not None and st.button("Add automatic candidates", icon=":material/auto_fix_high:"):
            for label, spec in automatic_candidates(store, current, base, fewshot=int(fewshot)):
                candidates[label] = spec.to_dict()
    with st.expander("Edit a candidate", icon=":material/edit:"):
        label = st.text_input("Label", key="improve.new_label", placeholder="e.g. stricter rubric").strip()
        body = st.text_area("Spec JSON", value=current.to_json(), height=300, key="improve.new_body")
        if st.button("Add candidate", key="improve.add"):
            if not label or label == "current":
                st.warning("Give the candidate a label other than 'current'.", icon=":material/warning:")
            else:
                candidates[label] = JudgeSpec.from_json(body).validate().to_dict()
    st.markdown("- **current**: " + current.name + " as saved")
    for label in list(candidates):
        cols = st.columns([5, 1])
        spec = JudgeSpec.from_dict(candidates[label])
        cols[0].markdown(f"- **{label}**: {len(spec.examples)} example(s), criteria of {len(spec.criteria)} chars")
        if cols[1].button("Remove", key=f"improve.remove.{label}"):
            del candidates[label]
            st.rerun()
    if not candidates:
        st.caption("Add a candidate to score it against the current spec on the held-out items.")
    if st.button("Score candidates on held-out", type="primary", icon=":material/leaderboard:",
                 disabled=not candidates):
        st.session_state[JOB] = start_scoring(dataset, {"current": current.to_dict(), **candidates}, model=model,
                                              seed=split.seed, concurrency=16, criterion=criterion)


@st.fragment(run_every=1.0)
def scoring_view() -> None:
    job = find_job(st.session_state.get(JOB))
    if job is None:
        return
    with errors_shown():
        st.subheader("Leaderboard")
        if job.running:
            for label, run_id in list(job.runs.items()):
                run = read("run", run_id)
                total = int(run["total_items"] or 0)
                st.progress(run["done"] / total if total else 1.0, text=f"{label}: {run['done']} of {total}")
            st.caption(f"Scoring {len(job.labels)} candidates on the held-out items…")
        if job.error:
            st.error(job.error, icon=":material/error:")
        board = job.board
        if board is None:
            return
        number = st.column_config.NumberColumn
        st.dataframe(leaderboard_table(board), hide_index=True, width="stretch",
                     column_config={"rank": "Rank", "candidate": "Candidate",
                                    "kappa": number(board.figure.replace("_", " ").capitalize(), format="%.3f"),
                                    "kappa 95% CI": "95% CI", "exact": number("Exact", format="percent"),
                                    "pass/fail kappa": number("Pass/fail kappa", format="%.3f"),
                                    "vs current": number("Vs current", format="%+.3f"),
                                    "vs current 95% CI": "Vs current 95% CI", "n": "Items", "run": "Run"})
        (st.success if board.better_than_current else st.info)(board.verdict())
        if not board.best["current"] and st.button(f"Promote '{board.best['label']}'", type="primary",
                                                   key="improve.promote", icon=":material/upgrade:"):
            version = promote(get_store(), board.best_spec)
            st.toast(f"Saved {board.best_spec.name} v{version}.", icon=":material/check:")


scoring_view()
