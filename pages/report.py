"""Report: how far one judge run agrees with the people, where it disagrees, and fixing labels on the spot."""

import streamlit as st

from judge.ui import errors_shown, get_store, read
from judge.ui.annotator import remembered_annotator
from judge.ui.charts import confusion_heatmap, score_distributions
from judge.ui.nav import page_link
from judge.ui.reports import all_figures_table, figure_text, interval_text, report, takes_fewshot
from judge.ui.run_labels import run_labels

st.title("Agreement report")
st.caption("Every figure has a 95% bootstrap interval and its n. Undefined figures say why.")

runs = read("runs")
if not len(runs):
    st.info("No judge run yet: run a judge (or import scores with `judge import-run`) to see how far it agrees "
            "with people.", icon=":material/info:")
    page_link("pages/run.py", label="Run a judge", icon=":material/play_circle:")
    st.stop()

labels = run_labels(runs)
run_id = st.selectbox("Run", list(labels), format_func=labels.get, key="report.run")

with errors_shown():
    result = report("agreement_report", run_id)
    used = result["labels"]
    st.caption(f"{used['items']} labeled items ({used['adjudicated']} adjudicated, {used['excluded_fewshot']} "
               f"few-shot examples left out), pass threshold {used['pass_threshold']}.")
    if not used["items"]:
        st.warning("No labeled item in this run's dataset yet: label some on the Label page, or open a run on a "
                   "labeled dataset.", icon=":material/warning:")
        st.stop()

    scores, passfail, rate = result["scores"], result["pass_fail"], result["pass_rate"]
    cards = [("Quadratic kappa", scores["quadratic_kappa"], False),
             ("Exact agreement", scores["exact_agreement"], True),
             ("Within 1", scores["within_one_agreement"], True), ("Pass/fail kappa", passfail["kappa"], False),
             ("Recall of failures", passfail["failure_recall"], True),
             ("Corrected pass rate", rate["corrected"], True)]
    for column, (title, fig, percent) in zip(st.columns(3) + st.columns(3), cards):
        column.metric(title, figure_text(fig, percent=percent), help=fig["undefined"], border=True)
        column.caption(interval_text(fig, percent=percent))
    ceiling = result["human_ceiling"]["krippendorff_alpha"]
    st.markdown(f"Human-human Krippendorff's alpha (the ceiling): **{figure_text(ceiling)}** ({interval_text(ceiling)})")
    advice = rate.get("advice") or {}
    if advice.get("possible") and (advice["more_pass_labels"] or advice["more_fail_labels"]):
        st.info(f"Label about {advice['more_pass_labels']} more passing and {advice['more_fail_labels']} more failing "
                f"items to know the true pass rate within ±{advice['target_half_width']}.", icon=":material/lightbulb:")

    with st.expander("All figures"):
        st.dataframe(all_figures_table(result), hide_index=True, width="stretch")

    left, right = st.columns(2)
    left.plotly_chart(confusion_heatmap(scores["confusion_matrix"]), key="report.confusion")
    right.plotly_chart(score_distributions(scores["confusion_matrix"]), key="report.distributions")

    run = read("report_run", run_id)
    st.subheader("Disagreements")
    table = read("disagreements", run_id, run["dataset_id"], used["pass_threshold"])
    if not len(table):
        st.success("The judge gives every labeled item the human score.", icon=":material/check:")
    else:
        st.caption(f"{len(table):,} labeled items where the judge's score differs from the human one, furthest "
                   "apart first.")
        st.dataframe(table[["item_id", "human_score", "judge_score", "distance", "reasoning", "critique"]],
                     hide_index=True, key="report.disagreements", width="stretch",
                     column_config={"item_id": "Item", "human_score": "Human", "judge_score": "Judge",
                                    "distance": "Off by",
                                    "reasoning": st.column_config.TextColumn("Judge's reasoning", width="large"),
                                    "critique": st.column_config.TextColumn("Human critique", width="medium")})
        picked = st.selectbox("Look closer", list(table.index), key="report.item",
                              format_func=lambda i: f"{table.at[i, 'item_id']} (human {table.at[i, 'human_score']}, "
                                                    f"judge {table.at[i, 'judge_score']})")
        row = table.loc[picked]
        st.markdown("**Input**")
        st.text(row["input"] or "-")  # item text is shown as typed, never as Markdown
        st.markdown("**Output**")
        st.text(row["output"] or "-")
        judge_col, human_col = st.columns(2)
        judge_col.markdown(f"**Judge: {row['judge_score']}**")
        judge_col.text(row["reasoning"] or "(no reasoning)")
        human_col.markdown(f"**Human: {row['human_score']}**")
        human_col.text(row["critique"] or "(no critique)")
        with st.form("report.revise"):
            st.markdown("**Revise my label**")
            who = st.text_input("Your name", value=remembered_annotator() or "", key="report.annotator")
            score = st.radio("Score", [1, 2, 3, 4, 5], index=int(row["human_score"]) - 1, horizontal=True,
                             key="report.score")
            critique = st.text_area("Critique", key="report.critique")
            if st.form_submit_button("Save label", type="primary"):
                get_store().add_label(row["item_uid"], who, score=score, critique=critique or None,
                                      source="report")
                st.toast("Label saved; the report updates with it.", icon=":material/check:")
                st.rerun()
        if takes_fewshot(run) and st.button("Use as a few-shot example for this judge", key="report.fewshot",
                                            icon=":material/school:"):
            get_store().mark_fewshot(run["spec_name"], row["item_uid"])
            st.toast(f"Marked for {run['spec_name']}; it is left out of this judge's agreement from now on.")
            st.rerun()

    columns = list(read("metadata_columns", run["dataset_id"]))
    if columns:
        st.subheader("Agreement per slice")
        column = st.selectbox("Metadata column", columns, key="report.slice")
        slices = report("agreement_by_slice", run_id, column)
        st.caption("Worst quadratic kappa first.")
        st.dataframe([{column: s["value"], "items": s["items"], "quadratic kappa": s["quadratic_kappa"]["value"],
                       "interval": interval_text(s["quadratic_kappa"]),
                       "exact": figure_text(s["exact_agreement"], percent=True)}
                      for s in slices], hide_index=True, key="report.slices", width="stretch",
                     column_config={"items": "Items",
                                    "quadratic kappa": st.column_config.NumberColumn("Quadratic kappa", format="%.3f"),
                                    "interval": "95% interval",
                                    "exact": "Exact agreement"})
