"""The Pairwise and Rankings pages in Streamlit's AppTest on a temporary store seeded through the Python API."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from judge.pairs import import_pairs
from judge.store import Store
from tests.test_pages_data import APP, HOSTILE, markdown, texts


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "judge.duckdb"
    monkeypatch.setenv("JUDGE_DB", str(path))
    address = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    yield path
    config.set_option("server.address", address)


def seed(db, tmp_path) -> Store:
    rng = np.random.default_rng(0)
    rows = []
    for k in range(30):
        a, b = rng.choice(["v1", "v2", "v3"], size=2, replace=False)
        rows.append({"id": f"m{k}", "input": f"task {k}", "output_a": HOSTILE if k == 0 else f"{a} answer {k}",
                     "output_b": f"{b} answer {k}", "system_a": a, "system_b": b,
                     "preference": "a" if max(a, b) == a else "b"})
    pd.DataFrame(rows).to_csv(tmp_path / "arena.csv", index=False)
    store = Store(db)
    import_pairs(store, tmp_path / "arena.csv", dataset="arena")
    return store


def open_page(page: str, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_pairwise_page_records_the_choice_in_the_shown_order(db, tmp_path):
    store = seed(db, tmp_path)
    at = open_page("pages/pairwise.py", annotator="maya", pairs="arena")
    assert "Pair 1 of 30" in markdown(at)
    assert HOSTILE in texts(at)  # outputs are literal text
    first_shown = texts(at)[1]
    next(b for b in at.button if b.label == "Response 1 is better").click().run()
    assert not at.exception, at.exception
    prefs = store.preferences("arena", annotator="maya")
    assert len(prefs) == 1
    pair = store.pairs("arena").set_index("uid").loc[prefs.loc[0, "pair_uid"]]
    chosen = pair["output_a"] if prefs.loc[0, "choice"] == "a" else pair["output_b"]
    assert chosen == first_shown and prefs.loc[0, "shown_order"] in ("ab", "ba")
    assert "Pair 2 of 30" in markdown(at)


def test_rankings_page_shows_the_human_ranking(db, tmp_path):
    seed(db, tmp_path)
    at = open_page("pages/rankings.py")
    frame = at.dataframe[0].value
    assert list(frame["System"]) == ["v3", "v2", "v1"]
    assert len(at.get("plotly_chart")) == 4  # ratings, observed win rates, P(beats), P(stronger)


def test_pairwise_judge_page_runs_both_orders_in_the_background_and_reports(db, tmp_path, fake_llm):
    import time

    store = seed(db, tmp_path)
    at = open_page("pages/pairwise_judge.py")
    next(t for t in at.text_input if t.label == "Model").set_value("openai/gpt-test").run()
    assert "about 60 calls (0 reused from earlier runs)" in markdown(at)
    next(b for b in at.button if b.label == "Start pairwise run").click().run()
    assert not at.exception, at.exception
    deadline = time.monotonic() + 60
    while store.pairwise_runs("arena").iloc[0]["status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.2)
    run = store.pairwise_run(store.pairwise_runs("arena").iloc[0]["id"])
    assert (run["status"], run["done"], run["orders"]) == ("done", 60, ["ab", "ba"])
    at.run()
    assert not at.exception, at.exception
    figures = at.dataframe[1].value
    assert "position consistency" in set(figures["Figure"]) and "accuracy (both orders)" in set(figures["Figure"])
    assert len(at.dataframe[2].value) == 30  # one row per pair
    detail = texts(at)
    assert detail.count("choice: a") + detail.count("choice: b") + detail.count("choice: tie") == 2


def test_pairwise_judge_page_forms_pairs_from_two_versions(db, tmp_path):
    from judge.importing import import_file

    store = Store(db)
    for version, answers in ((1, ["old a", "old b"]), (2, ["new a", "new b"])):
        pd.DataFrame({"id": ["1", "2"], "input": ["q1", "q2"], "output": answers}).to_csv(
            tmp_path / f"v{version}.csv", index=False)
        import_file(store, tmp_path / f"v{version}.csv", dataset="app")
    at = open_page("pages/pairwise_judge.py")
    next(b for b in at.button if b.label == "Form pairs").click().run()
    assert not at.exception, at.exception
    assert "app v1 vs v2: 2 pairs (2 new)" in markdown(at)
    pairs = store.pairs("app v1 vs v2")
    assert list(pairs["output_a"]) == ["old a", "old b"] and list(pairs["output_b"]) == ["new a", "new b"]


def test_pairwise_judge_page_starts_a_batch_run_and_lists_its_batches(db, tmp_path, fake_llm):
    import time

    store = seed(db, tmp_path)
    at = open_page("pages/pairwise_judge.py")
    next(t for t in at.text_input if t.label == "Model").set_value("openai/gpt-4.1-mini").run()
    next(r for r in at.radio if r.label == "When").set_value("Batch").run()
    assert "batch, 50% cheaper, results within 24 h" in markdown(at)
    next(b for b in at.button if b.label == "Start pairwise run").click().run()
    assert not at.exception, at.exception
    deadline = time.monotonic() + 60
    while store.pairwise_runs("arena").iloc[0]["status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.2)
    run = store.pairwise_run(store.pairwise_runs("arena").iloc[0]["id"])
    assert (run["status"], run["done"], run["batch"]["batch_retry"]) == ("done", 60, "batch")
    (batch,) = fake_llm.batches.values()
    assert len(batch.custom_ids) == 60
    at.run()
    assert not at.exception, at.exception
    batches = at.dataframe[1].value
    assert list(batches["batch_id"]) == [batch.id] and list(batches["stored"]) == [60]
    assert at.get("progress")[0].proto.text.startswith("done: 60 of 60 replies, 0 failed, 0 from cache, cost $")
    assert "position consistency" in set(at.dataframe[2].value["Figure"])


def test_the_demo_pairs_give_every_pairwise_page_real_content(db):
    from judge.demo import DEMO_DIR, DEMO_PAIRS_DIR, load_demo_pairs

    store = Store(db)
    assert load_demo_pairs(store, DEMO_DIR / DEMO_PAIRS_DIR) == ["support-versions"]
    at = open_page("pages/pairwise.py", annotator="lena", pairs="support-versions")
    assert "Pair 1 of 36" in markdown(at) and len(texts(at)) >= 3
    at = open_page("pages/pairwise_judge.py")
    assert "position consistency" in set(at.dataframe[1].value["Figure"])
    at = open_page("pages/rankings.py")
    assert list(at.dataframe[0].value["System"]) == ["v2.0", "v1.2", "v1.1", "v1.0"]
    at = open_page("pages/report.py")
    assert at.radio(key="report.kind").value == "Pairwise"
    assert [m.label for m in at.metric][0] == "Accuracy (a/b/tie)"


def test_pairwise_page_makes_a_labeling_task_and_links_and_revokes_them(db, tmp_path):
    from judge.pair_links import open_pair_link
    from judge.errors import AccessDenied

    store = seed(db, tmp_path)
    at = open_page("pages/pairwise.py", annotator="maya", pairs="arena")
    next(b for b in at.button if b.label == "Create a task on preference").click().run()
    assert not at.exception, at.exception
    (task,) = store.pair_tasks().itertuples()
    assert (task.name, task.dataset_name, task.criterion) == ("Compare arena", "arena", "preference")
    next(t for t in at.text_input if t.label.startswith("Annotator name")).set_value("ana")
    next(b for b in at.button if b.label == "Create link").click().run()
    assert not at.exception, at.exception
    (url,) = [c.value for c in at.code]
    token = url.split("token=")[1]
    assert open_pair_link(store, token).annotator == "ana"
    links = at.dataframe[0].value
    assert list(links["annotator"]) == ["ana"] and "token_hash" not in links.columns
    next(b for b in at.button if b.label == "Revoke").click().run()
    assert not at.exception, at.exception
    with pytest.raises(AccessDenied):
        open_pair_link(store, token)


def test_pairwise_judge_page_imports_an_external_run_and_resumes_a_stopped_one(db, tmp_path, fake_llm):
    import time

    from judge.pairwise import PairwiseSpec, execute_pairwise_run, start_pairwise_run

    store = seed(db, tmp_path)
    pairs = store.pairs("arena")
    content = pd.DataFrame({"pair_id": pairs["pair_id"], "choice_ab": "a", "choice_ba": "b"}).to_csv(index=False)
    at = open_page("pages/pairwise_judge.py")
    at.file_uploader(key="pairwise_judge.run_file").set_value(("external.csv", content.encode(), "text/csv")).run()
    next(b for b in at.button if b.label == "Import the run").click().run()
    assert not at.exception, at.exception
    (imported,) = store.pairwise_runs("arena").itertuples()
    assert (imported.source, imported.replies) == ("import", 60)
    assert f"Imported pairwise run {imported.id} on arena." in markdown(at)
    assert not [b for b in at.button if b.label == "Resume run"], "an imported run has nothing to resume"

    stopped = start_pairwise_run(store, dataset="arena", spec=PairwiseSpec(name="pref", model="openai/gpt-test"))

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        execute_pairwise_run(store, stopped, progress=stop)
    assert store.pairwise_run(stopped)["status"] == "cancelled"
    at.run()
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Report of run")).set_value(stopped).run()
    next(b for b in at.button if b.label == "Resume run").click().run()
    assert not at.exception, at.exception
    deadline = time.monotonic() + 60
    while store.pairwise_run(stopped)["status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert store.pairwise_run(stopped)["done"] == 60 and fake_llm.count == 60

    killed = start_pairwise_run(store, dataset="arena", spec=PairwiseSpec(name="pref", model="openai/gpt-test",
                                                                         criteria="Kinder?"))
    store.set_pairwise_run_status(killed, "running")  # as a server that died while executing it leaves it
    at.run()
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Report of run")).set_value(killed).run()
    next(b for b in at.button if b.label == "Resume run").click().run()
    deadline = time.monotonic() + 60
    while store.pairwise_run(killed)["status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert store.pairwise_run(killed)["done"] == 60


def test_rankings_page_pools_several_judge_runs_and_compares_with_people(db, tmp_path):
    from judge.pairwise import import_pairwise_run
    from judge.ranking import rank

    store = seed(db, tmp_path)
    pairs = store.pairs("arena")
    humans = store.preferences("arena").set_index("pair_id")["choice"]
    runs = []
    for name, flip in (("first", 0), ("second", 5)):
        choices = [("b" if humans[p] == "a" else "a") if i < flip else humans[p] for i, p in enumerate(pairs["pair_id"])]
        pd.DataFrame({"pair_id": pairs["pair_id"], "choice_ab": choices, "choice_ba": choices}).to_csv(
            tmp_path / f"{name}.csv", index=False)
        runs.append(import_pairwise_run(store, tmp_path / f"{name}.csv", dataset="arena", name=name))
    at = open_page("pages/rankings.py")
    at.radio(key="rankings.source").set_value("Pairwise judge runs").run()
    at.multiselect(key="rankings.runs").set_value(runs).run()
    assert not at.exception, at.exception
    pooled = rank(store, runs=runs, compare_human=True)
    table = at.dataframe[0].value
    assert list(table["System"]) == [r["system"] for r in pooled["ranking"]]
    assert list(table["Matches"]) == [r["matches"] for r in pooled["ranking"]] and table["Matches"].sum() == 2 * 2 * 30
    assert at.metric[0].label == "Kendall tau, judge vs human ranking"


def test_pairwise_judge_page_runs_an_edited_template_and_says_what_is_wrong_with_a_bad_one(db, tmp_path, fake_llm):
    import time

    store = seed(db, tmp_path)
    at = open_page("pages/pairwise_judge.py")
    next(t for t in at.text_input if t.label == "Model").set_value("openai/gpt-test").run()
    area = next(t for t in at.text_area if t.label.startswith("Template"))
    area.set_value("Only {output_a}").run()
    assert any("must include {output_a} and {output_b}" in e.value for e in at.error)
    area = next(t for t in at.text_area if t.label.startswith("Template"))
    area.set_value("Which is kinder?\nFirst: {output_a}\nSecond: {output_b}\n{rubric}").run()
    next(b for b in at.button if b.label == "Start pairwise run").click().run()
    assert not at.exception, at.exception
    deadline = time.monotonic() + 60
    while store.pairwise_runs("arena").iloc[0]["status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.2)
    (run_id,) = store.pairwise_runs("arena")["id"]
    assert store.pairwise_run(run_id)["spec_body"]["template"].startswith("Which is kinder?")
    assert store.pairwise_verdicts(run_id)["prompt"].str.startswith("Which is kinder?\nFirst: ").all()


def test_the_label_page_leads_to_pairwise_labeling_when_there_are_pairs(db, tmp_path):
    from judge.importing import import_file

    store = seed(db, tmp_path)
    pd.DataFrame({"id": ["1"], "input": ["q"], "output": ["a"]}).to_csv(tmp_path / "one.csv", index=False)
    import_file(store, tmp_path / "one.csv", dataset="one")
    at = open_page("pages/label.py", annotator="maya")
    links = [element.proto for element in at.get("page_link")]
    assert any(link.page.endswith("pairwise") and "compare pairs" in link.label for link in links), links
