"""Run: run a judge over a dataset with one or more models, then follow the run live as verdicts land.

A run started here executes in the server process and continues when the browser closes; the live view
polls the store once a second, so a reload (or another browser) picks it up where it is.
"""

import streamlit as st

from judge.runner import cancel_run, run_in_background, stop_background
from judge.ui import errors_shown, get_store, read
from judge.ui.judges import secrets
from judge.settings import missing_key
from judge.ui.run import (MODES, STATUS_ICONS, batches_table, cost_text, estimate, judge_choices, launch,
                          load_choice, model_options, runs_table, savings_text, typed_models, verdicts_table)
from judge.ui.run_labels import run_labels
from judge.ui.uploads import verdict_downloads

VIEW = "run.view"

st.title("Run a judge")
st.caption("Judge every row of a dataset. Runs go on in the background when you close the browser; verdicts are "
           "cached, so re-running an unchanged judge on unchanged rows costs nothing.")

datasets = read("datasets")
if not len(datasets):
    st.info("Upload a dataset first.", icon=":material/info:")
    st.stop()

with errors_shown():
    left, right = st.columns(2, gap="large")
    dataset = left.selectbox("Dataset", list(datasets["name"]), key="run.dataset")
    choices = judge_choices()
    choice = left.selectbox("Judge", list(choices), key="run.judge")
    spec = load_choice(choices[choice])
    criteria = [c.name for c in read("criteria", dataset)]
    criterion = left.selectbox(
        "Measured on criterion", criteria, key=f"run.criterion.{dataset}",
        index=criteria.index(spec.judged_criterion) if spec.judged_criterion in criteria else 0,
        help="Whose human labels this run is compared with. The judge grades "
             f"'{spec.judged_criterion}'.") if criteria else None
    models: list = [None]
    base_url, mode = None, "now"
    if spec.kind == "llm":
        picked = right.multiselect("Models", model_options(spec), default=[model_options(spec)[0]], key="run.models")
        other = right.text_input("Other models", placeholder="provider/model, e.g. openai-compatible/llama3.1",
                                 key="run.other_models")
        base_url = right.text_input("Base URL (OpenAI-compatible servers)", key="run.base_url").strip() or None
        models = list(dict.fromkeys(picked + typed_models(other)))
        mode = right.radio("When", list(MODES), format_func=MODES.get, horizontal=True, key="run.mode",
                           help="A batch goes through the provider's batch API (OpenAI, Anthropic): half the price; "
                                "the page (or `judge run --resume RUN`) collects the results when they are ready.")
    else:
        right.info(f"{spec.name} is an offline judge ({spec.kind}): no model, no API calls.", icon=":material/bolt:")
    knobs = st.columns(3)
    concurrency = knobs[0].number_input("Concurrency", 1, 256, 16, key="run.concurrency",
                                        help="Calls in flight at most; the runner slows down by itself on 429s.")
    samples = knobs[1].number_input("Samples per row", 1, 10, 1, key="run.samples",
                                    help="More than one reports how often the samples disagree (flip rate).")
    version_tag = knobs[2].text_input("Version tag", key="run.version_tag",
                                      help="A label for this run, e.g. the app version being judged.").strip() or None

    if not models:
        st.warning("Pick at least one model.", icon=":material/warning:")
    else:
        for model in models:
            guess = estimate(dataset, spec, model, base_url, int(samples))
            st.markdown(f"**{model or spec.name}**: {guess['text']}")
            if spec.kind == "llm":
                st.caption(f"Now: {guess['cost']} · {guess['batch']}")
            if variable := missing_key(model, secrets()):
                st.warning(f"{variable} is not set, so {model} cannot be called: set it in the environment or in "
                           ".streamlit/secrets.toml, or pick an offline judge.", icon=":material/key_off:")
        if st.button("Start", type="primary", icon=":material/play_arrow:"):
            run_ids = launch(dataset, spec, models, base_url=base_url, concurrency=int(concurrency),
                             samples=int(samples), version_tag=version_tag, criterion=criterion,
                             batch=mode == "batch")
            st.session_state[VIEW] = run_ids[-1]  # the run list below is built after this: show the new run
            st.toast(f"Started {len(run_ids)} run(s) in the background.", icon=":material/rocket_launch:")

st.divider()
runs = read("runs")
if not len(runs):
    st.stop()
st.subheader("Runs")


@st.fragment(run_every=2.0)
def recent_runs() -> None:
    table = runs_table(read("runs").head(20))
    st.dataframe(table, hide_index=True,
                 column_config={"Pass rate": st.column_config.NumberColumn(format="percent"),
                                "Mean score": st.column_config.NumberColumn(format="%.2f"),
                                "Cost": st.column_config.NumberColumn(format="$%.4f"),
                                "Started": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})


recent_runs()
labels = run_labels(runs.head(50))
if st.session_state.get(VIEW) not in labels:
    st.session_state.pop(VIEW, None)
run_id = st.selectbox("Run", list(labels), format_func=labels.get, key=VIEW)


@st.fragment(run_every=1.0)
def live_view(run_id: str) -> None:
    with errors_shown():
        run = get_store().run(run_id)  # not cached: a dead run turns 'interrupted' with time, not with a write
        total = int(run["total_items"] or 0) * int(run["samples"])
        st.progress(run["done"] / total if total else 1.0,
                    text=f"{STATUS_ICONS.get(run['status'], '')} {run['status']} · {run['done']:,} of {total:,}")
        cols = st.columns(5)
        cols[0].metric("Verdicts", f"{run['done']:,}")
        cols[1].metric("Failed", f"{run['failed']:,}")
        cols[2].metric("From cache", f"{run['cached']:,}")
        cols[3].metric("Mean score", "—" if run["mean_score"] is None else f"{run['mean_score']:.2f}")
        cols[4].metric("Cost", cost_text(run["cost_usd"], run["model"]))
        if run["error"]:
            st.error(run["error"], icon=":material/error:")
        if run["notice"]:
            st.info(run["notice"], icon=":material/hourglass_top:")
        if saved := savings_text(run):
            st.caption(saved)
        batches = batches_table(run_id)
        if len(batches):
            st.dataframe(batches, hide_index=True)
            if batches["Status"].isin(["submitting", "submitted"]).any() and \
                    st.button("Cancel batch", icon=":material/cancel:", key="run.cancel_batch"):
                cancel_run(get_store(), run_id, secrets=secrets())
                st.toast("Asked the provider to cancel; what it finished is still collected.")
        if run["status"] == "running" and st.button("Stop", icon=":material/stop:", key="run.stop"):
            if not stop_background(get_store(), run_id):
                st.warning("This run is executing in another process (a terminal?): stop it there.")
        if run["status"] in ("interrupted", "cancelled", "failed", "pending") and \
                run["done"] - run["failed"] < total and \
                st.button("Resume", icon=":material/replay:", key="run.resume"):
            run_in_background(get_store(), run_id, secrets=secrets())
        verdicts = read("verdicts", run_id)
        failures = verdicts[verdicts["error"].notna()]
        if len(failures):
            with st.expander(f"Failures ({len(failures)})", icon=":material/error:"):
                st.dataframe(verdicts_table(failures)[["Item", "Sample", "Failure"]], hide_index=True)
        st.dataframe(verdicts_table(verdicts), hide_index=True, height=420,
                     column_config={"Reasoning": st.column_config.TextColumn(width="large"),
                                    "Cost": st.column_config.NumberColumn(format="$%.5f"),
                                    "Latency": st.column_config.NumberColumn(format="%.0f ms")})


live_view(run_id)
verdict_downloads(run_id)
