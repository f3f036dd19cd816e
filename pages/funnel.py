"""Funnel: cheap judges first, strong judges next, people last, with thresholds calibrated on human labels."""

import streamlit as st

from judge.funnel import create_funnel, funnel_background_state, funnel_in_background, list_funnels
from judge.funnel_report import funnel_report
from judge.ui import computed, errors_shown, get_store, read
from judge.ui.funnel_view import DEMO_FUNNEL, comparison_table, funnel_chart, stage_table, version_table

st.title("Funnel")
st.caption("Each stage settles the items it is sure of, at a threshold calibrated on human labels so that "
           "settled verdicts agree with people at least 1 - alpha of the time, with probability 1 - delta. "
           "What no judge settles goes to people.")

with errors_shown():
    datasets = read("datasets")
    if not len(datasets):
        st.info("No dataset yet: upload one first.", icon=":material/info:")
        st.stop()
    with st.expander("Build a funnel", expanded=not len(computed(list_funnels)), icon=":material/filter_alt:"):
        names = list(dict.fromkeys(datasets["name"]))
        default = names.index(DEMO_FUNNEL["dataset"]) if DEMO_FUNNEL["dataset"] in names else 0
        name = st.text_input("Funnel name", value=DEMO_FUNNEL["name"], key="funnel.new_name")
        dataset = st.selectbox("Dataset", names, index=default, key="funnel.dataset")
        criteria = [c.name for c in read("criteria", dataset)]
        demo = DEMO_FUNNEL["criterion"]
        criterion = st.selectbox("Criterion", criteria, key="funnel.criterion",
                                 index=criteria.index(demo) if demo in criteria else 0)
        stages = st.text_area("Stages, cheapest first, one per line (offline:SPEC[/fail|pass|both], distilled, "
                              "llm:SPEC@MODEL[*SAMPLES][+batch])", value=DEMO_FUNNEL["stages"], key="funnel.stages")
        if st.button("Save funnel", icon=":material/save:", key="funnel.save"):
            version = create_funnel(get_store(), name, dataset=dataset, criterion=criterion,
                                    stages=[line for line in stages.splitlines() if line.strip()])
            st.success(f"Saved funnel {name} version {version}: calibrate it below.", icon=":material/check:")

    funnels = computed(list_funnels)
    if not len(funnels):
        st.stop()
    picked = st.selectbox("Funnel", list(funnels["name"]), key="funnel.name")
    row = funnels.set_index("name").loc[picked]
    st.markdown(f"**{picked}**: {row['dataset']} · {row['criterion']} · version {row['version']} · "
                + ("calibrated" if row["calibrated"] else "not calibrated yet"))

    @st.fragment(run_every=1.0)
    def background() -> None:
        state = funnel_background_state(get_store(), picked)
        if state is None:
            return
        if state["running"]:
            st.info(f"Funnel {picked}: {state['action']} in progress…", icon=":material/hourglass_top:")
            return
        if state["error"]:
            st.error(state["error"], icon=":material/error:")
        elif state["result"] is not None:
            st.success(state["result"].describe(), icon=":material/check:")
        finished = (picked, state["action"], id(state["result"]), state["error"])
        if st.session_state.get("funnel.finished") != finished:  # once per finish: the report below is new
            st.session_state["funnel.finished"] = finished
            st.rerun(scope="app")

    calibrate_col, run_col = st.columns(2)
    with calibrate_col.container(border=True):
        alpha = st.number_input("alpha (tolerated disagreement)", 0.01, 0.5, 0.2, 0.01, key="funnel.alpha")
        delta = st.number_input("delta (risk the promise fails)", 0.01, 0.5, 0.2, 0.01, key="funnel.delta")
        if st.button("Calibrate", icon=":material/tune:", key="funnel.calibrate"):
            funnel_in_background(get_store(), picked, "calibrate", alpha=float(alpha), delta=float(delta))
    with run_col.container(border=True):
        versions = read("dataset_versions", row["dataset"])
        version = st.selectbox("Dataset version", list(versions["version"])[::-1], key="funnel.version")
        if st.button("Run funnel", icon=":material/play_arrow:", key="funnel.run", disabled=not row["calibrated"]):
            funnel_in_background(get_store(), picked, "run", dataset_version=int(version))
    background()

    if not row["calibrated"] or not row["runs"]:
        st.stop()
    report = computed(funnel_report, picked)
    st.subheader(f"Run {report['funnel_run_id']} on {report['dataset']} v{report['dataset_version']}")
    guarantee = report["guarantee"]
    (st.success if guarantee["held"] else st.warning)(guarantee["text"], icon=":material/verified:")
    st.plotly_chart(funnel_chart(report), config={"displayModeBar": False}, key="funnel.chart")
    st.dataframe(stage_table(report), hide_index=True, key="funnel.stages_table")
    for stage in report["stages"]:
        if stage["kind"] != "people" and stage["threshold"] is None:
            st.caption(f"{stage['label']}: {stage['calibration_note']}.")
    st.markdown("**The funnel against the strongest judge alone** (held-out labeled items)")
    st.dataframe(comparison_table(report), hide_index=True, key="funnel.comparison")
    st.markdown("**App versions**: what passes the judges' screen, what needs people")
    st.dataframe(version_table(report), hide_index=True, key="funnel.versions")
    if report["task_id"]:
        st.caption(f"The items for people are labeling task {report['task_id']} (Team labeling).")
