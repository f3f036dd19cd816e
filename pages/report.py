"""Report: how far one judge run agrees with the people, where it disagrees, and fixing labels on the spot."""

import streamlit as st

from judge.ui import errors_shown, get_store, read
from judge.ui.annotator import remembered_annotator
from judge.ui.charts import confusion_heatmap, score_distributions
from judge.ui.label_form import grade_inputs
from judge.ui.nav import page_link
from judge.ui.pairwise_report import pairwise_run_report
from judge.ui.reports import all_figures_table, figure_text, grade_text, interval_text, report, takes_fewshot
from judge.reports.weighted import sample_sentence
from judge.ui.run_labels import run_labels

st.title("Agreement report")
st.caption("Every figure has a 95% interval and the n it rests on. Undefined figures say why.")

runs = read("runs")
if len(read("pairwise_runs")) and st.radio("Runs", ["1-5 and pass/fail", "Pairwise"], index=0 if len(runs) else 1,
                                           horizontal=True, key="report.kind") == "Pairwise":
    with errors_shown():
        pairwise_run_report(get_store())
    st.stop()
if not len(runs):
    st.info("No judge run yet: run a judge (or import scores with `judge import-run`) to see how far it agrees "
            "with people.", icon=":material/info:")
    page_link("pages/run.py", label="Run a judge", icon=":material/play_circle:")
    st.stop()

pick_col, run_col = st.columns([1, 3])
criteria = sorted({str(c) for c in runs["criterion"].dropna()})
wanted = pick_col.selectbox("Criterion", ["(all)", *criteria], key="report.criterion")
shown = runs if wanted == "(all)" else runs[runs["criterion"] == wanted]
labels = run_labels(shown)
run_id = run_col.selectbox("Run", list(labels), format_func=labels.get, key="report.run")

with errors_shown():
    with_review = st.toggle("Count review labels", key="report.include_review",
                            help="Grades given in a judge-first review, while seeing the judge's answer: they lean "
                                 "towards it, so they are left out unless you count them here.")
    result = report("agreement_report", run_id, include_review=with_review)
    used, criterion = result["labels"], result["criterion"]
    review_mark = " · with review labels" if used.get("review", {}).get("included") else ""
    pass_fail = criterion["scale"] == "pass/fail"
    rubric = f", rubric v{criterion['rubric_version']}" if criterion["rubric_version"] else ""
    st.caption(f"Measured on criterion **{criterion['name']}** ({criterion['scale']}{rubric}): {used['items']} "
               f"labeled items ({used['adjudicated']} adjudicated, {used['excluded_fewshot']} few-shot examples "
               f"left out); the judge passes at {used['pass_threshold']}.")
    if sample_sentence(used.get("sample")):
        st.info(sample_sentence(used["sample"]), icon=":material/balance:")
    if used.get("review", {}).get("note"):
        st.caption(f":material/rate_review: {used['review']['note'].capitalize()}")
    if not used["items"]:
        st.warning("No labeled item in this run's dataset yet: label some on the Label page, or open a run on a "
                   "labeled dataset.", icon=":material/warning:")
        st.stop()

    scores, passfail, rate = result["scores"], result["pass_fail"], result["pass_rate"]
    if pass_fail:  # people graded pass/fail: the pass/fail figures lead, there is no 1-5 agreement
        cards = [("Pass/fail kappa", passfail["kappa"], False), ("True positive rate", passfail["tpr"], True),
                 ("True negative rate", passfail["tnr"], True),
                 ("Recall of failures", passfail["failure_recall"], True),
                 ("Precision of failures", passfail["failure_precision"], True),
                 ("Corrected pass rate", rate["corrected"], True)]
    else:
        cards = [("Quadratic kappa", scores["quadratic_kappa"], False),
                 ("Exact agreement", scores["exact_agreement"], True),
                 ("Within 1", scores["within_one_agreement"], True), ("Pass/fail kappa", passfail["kappa"], False),
                 ("Recall of failures", passfail["failure_recall"], True),
                 ("Corrected pass rate", rate["corrected"], True)]
    for column, (title, fig, percent) in zip(st.columns(3) + st.columns(3), cards):
        column.metric(title, figure_text(fig, percent=percent), help=fig["undefined"], border=True)
        column.caption(interval_text(fig, percent=percent) + review_mark)
    ceiling = result["human_ceiling"]["krippendorff_alpha"]
    st.markdown(f"Human-human Krippendorff's alpha (the ceiling): **{figure_text(ceiling)}** ({interval_text(ceiling)})")
    advice = rate.get("advice") or {}
    if advice.get("possible") and (advice["more_pass_labels"] or advice["more_fail_labels"]):
        st.info(f"Label about {advice['more_pass_labels']} more passing and {advice['more_fail_labels']} more failing "
                f"items to know the true pass rate within ±{advice['target_half_width']}.", icon=":material/lightbulb:")

    with st.expander("All figures"):
        st.dataframe(all_figures_table(result), hide_index=True, width="stretch")

    if not pass_fail:
        left, right = st.columns(2)
        left.plotly_chart(confusion_heatmap(scores["confusion_matrix"]), key="report.confusion")
        right.plotly_chart(score_distributions(scores["confusion_matrix"]), key="report.distributions")

    run = read("report_run", run_id)
    st.subheader("Disagreements")
    table = read("disagreements", run_id, run["dataset_id"], run["criterion_id"], used["pass_threshold"])
    if not len(table):
        st.success("The judge agrees with the people on every labeled item.", icon=":material/check:")
    else:
        table = table.assign(human=[grade_text(s, p) for s, p in zip(table["human_score"], table["human_passed"])],
                             judge=[grade_text(s, p) for s, p in zip(table["judge_score"], table["judge_passed"])],
                             critique=table["critique"].fillna(""))
        st.caption(f"{len(table):,} labeled items where the judge disagrees with the people: a different pass/fail "
                   "first, then the furthest apart.")
        shown = ["item_id", "human", "judge", *([] if pass_fail else ["distance"]), "reasoning", "critique"]
        st.dataframe(table[shown],
                     hide_index=True, key="report.disagreements", width="stretch",
                     column_config={"item_id": "Item", "human": "Human", "judge": "Judge", "distance": "Off by",
                                    "reasoning": st.column_config.TextColumn("Judge's reasoning", width="large"),
                                    "critique": st.column_config.TextColumn("Human critique", width="medium")})
        picked = st.selectbox("Look closer", list(table.index), key="report.item",
                              format_func=lambda i: f"{table.at[i, 'item_id']} (human {table.at[i, 'human']}, "
                                                    f"judge {table.at[i, 'judge']})")
        row = table.loc[picked]
        st.markdown("**Input**")
        st.text(row["input"] or "-")  # item text is shown as typed, never as Markdown
        st.markdown("**Output**")
        st.text(row["output"] or "-")
        judge_col, human_col = st.columns(2)
        judge_col.markdown(f"**Judge: {row['judge']}**")
        judge_col.text(row["reasoning"] or "(no reasoning)")
        human_col.markdown(f"**Human: {row['human']}**")
        human_col.text(row["critique"] or "(no critique)")
        with st.form("report.revise"):
            st.markdown(f"**Revise my label** on {criterion['name']}")
            who = st.text_input("Your name", value=remembered_annotator() or "", key="report.annotator")
            grade = grade_inputs("report.grade", read("criterion", run["dataset"], criterion["name"]),
                                 {"score": row["human_score"], "passed": row["human_passed"]})
            if st.form_submit_button("Save label", type="primary"):
                get_store().add_label(row["item_uid"], who, criterion=criterion["name"], source="report", **grade)
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
        key, title = ("pass_fail_kappa", "Pass/fail kappa") if pass_fail else ("quadratic_kappa", "Quadratic kappa")
        st.caption(f"Worst {title.lower()} first.")
        st.dataframe([{column: s["value"], "items": s["items"], "kappa": s[key]["value"],
                       "interval": interval_text(s[key]),
                       "exact": figure_text(s["exact_agreement"], percent=True)}
                      for s in slices], hide_index=True, key="report.slices", width="stretch",
                     column_config={"items": "Items", "kappa": st.column_config.NumberColumn(title, format="%.3f"),
                                    "interval": "95% interval",
                                    "exact": "Exact agreement"})
