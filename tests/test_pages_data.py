"""The data pages in Streamlit's AppTest: each page on a temporary store seeded through the import API."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from judge.importing import import_file
from judge.store import Store

APP = str(Path(__file__).resolve().parents[1] / "app.py")
HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> **not bold** # not a heading'


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    """The store the app opens; served on loopback like `make run`, so the owner pages open without a secret."""
    path = tmp_path / "judge.duckdb"
    monkeypatch.setenv("JUDGE_DB", str(path))
    address = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    yield path
    config.set_option("server.address", address)


def support_csv(tmp_path: Path, rows: int = 6) -> Path:
    frame = pd.DataFrame({
        "id": [f"s{i}" for i in range(1, rows + 1)],
        "question": [f"How do I reset my password, try {i}?" for i in range(1, rows + 1)],
        "answer": [HOSTILE if i == 2 else f"Open Settings, then Security ({i})." for i in range(1, rows + 1)],
        "topic": ["account" if i % 2 else "billing" for i in range(1, rows + 1)],
        "score": [4, None, None, None, None, None][:rows] + [None] * max(rows - 6, 0),
    })
    path = tmp_path / "support.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def seeded(db, tmp_path) -> Store:
    store = Store(db)
    import_file(store, support_csv(tmp_path), dataset="support", annotator="alice")
    return store


def open_page(page: str, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page != "pages/home.py":
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def markdown(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in [*at.markdown, *at.caption, *at.info, *at.success, *at.error])


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_overview_of_an_empty_store_points_to_upload(db):
    at = open_page("pages/home.py")
    assert "The store is empty" in markdown(at)
    assert "1. Upload" in markdown(at) and "Next" in markdown(at)


def test_overview_lists_datasets_with_counts(seeded):
    at = open_page("pages/home.py")
    frame = at.dataframe[0].value
    assert frame.loc[0, "name"] == "support" and frame.loc[0, "items"] == 6 and frame.loc[0, "labeled_items"] == 1
    assert frame.loc[0, "labeled_share"] == pytest.approx(1 / 6), "each dataset's own share, not the largest's"
    assert "alice (1 label)" in markdown(at)


def test_overview_names_offline_runs_and_their_app_version(seeded):
    from judge.runner import execute_run, start_run
    from judge.specs import builtin_specs

    execute_run(seeded, start_run(seeded, dataset="support", spec=builtin_specs()["reference_f1"],
                                  version_tag="v2.0"))
    runs = open_page("pages/home.py").dataframe[1].value
    assert (runs.loc[0, "model"], runs.loc[0, "version_tag"]) == ("offline", "v2.0")


def test_upload_page_without_a_file_explains_the_expected_columns(db):
    at = open_page("pages/upload.py")
    assert "output" in markdown(at) and "(required)" in markdown(at)


def test_datasets_page_shows_items_labels_and_exports(seeded):
    at = open_page("pages/datasets.py", dataset="support")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Items"] == "6" and metrics["Labeled items"] == "1" and metrics["Annotators"] == "1"
    items = at.dataframe[1].value
    assert list(items["item_id"]) == [f"s{i}" for i in range(1, 7)]
    assert items.loc[0, "score"] == 4 and items.loc[0, "annotator"] == "alice"
    assert "topic" in items.columns  # metadata columns are shown
    assert at.dataframe[0].value.loc[0, "annotator"] == "alice"


def test_label_page_asks_who_is_labeling_once(seeded):
    at = open_page("pages/label.py")
    assert "Who is labeling?" in markdown(at)
    at.text_input(key="label.who.name").input("bob")
    button(at, "Start labeling").click().run()
    assert at.query_params["annotator"] == ["bob"] or at.query_params["annotator"] == "bob"
    assert "Item 1 of 6" in markdown(at)


def test_label_save_next_back_and_history(seeded):
    at = open_page("pages/label.py", annotator="bob", dataset="support")
    assert "Item 1 of 6" in markdown(at)
    first = at.session_state["label.queue"][0]
    assert seeded.item(first)["item_id"] == "s1"
    assert any(r.label == "overall: score" for r in at.radio)
    assert "Open Settings" in " ".join(texts(at))

    at.radio(key=f"label.{first}.overall.score").set_value(2)
    at.text_area(key=f"label.{first}.overall.critique").input("Too vague")
    button(at, "Save and next").click().run()
    assert not at.exception
    assert "Item 2 of 6" in markdown(at)
    dataset_id = seeded.dataset("support")["id"]
    bob = seeded.latest_labels(dataset_id, annotator="bob")
    assert bob[["score", "passed", "critique"]].values.tolist() == [[2, False, "Too vague"]]  # 2 < pass at 4

    button(at, "Back").click().run()
    assert "Item 1 of 6" in markdown(at) and "editing adds a new version" in markdown(at)
    at.radio(key=f"label.{first}.overall.score").set_value(5)
    at.radio(key=f"label.{first}.overall.passed").set_value("Pass")
    button(at, "Save and next").click().run()
    history = seeded.label_history(first)
    assert history["score"].tolist() == [5, 2, 4]  # newest first; alice's imported label kept too
    assert seeded.latest_labels(dataset_id, annotator="bob")["score"].tolist() == [5]
    button(at, "Back").click().run()
    assert "Label history (3)" in [e.label for e in at.expander]


def test_label_skip_and_saving_requires_a_grade(seeded):
    at = open_page("pages/label.py", annotator="bob")
    button(at, "Save and next").click().run()
    assert "Grade at least one criterion" in markdown(at) and "Item 1 of 6" in markdown(at)
    button(at, "Skip").click().run()
    assert "Item 2 of 6" in markdown(at)
    assert seeded.latest_labels(seeded.dataset("support")["id"], annotator="bob").empty


def test_label_page_shows_hostile_output_as_literal_text(seeded):
    at = open_page("pages/label.py", annotator="bob")
    button(at, "Skip").click().run()
    assert HOSTILE in texts(at)  # st.text: shown as typed, no HTML, no Markdown
    assert "pwned" not in markdown(at)


def test_seeded_sample_in_the_url_gives_everyone_the_same_queue(seeded):
    one = open_page("pages/label.py", annotator="bob", seed="3", size="3")
    two = open_page("pages/label.py", annotator="ann", seed="3", size="3")
    assert one.session_state["label.queue"] == two.session_state["label.queue"]
    assert len(one.session_state["label.queue"]) == 3 and "Item 1 of 3" in markdown(one)


def test_label_queue_filters_on_metadata(seeded):
    at = open_page("pages/label.py", annotator="bob")
    at.selectbox(key="label.filter.topic").select("billing").run()
    queue = at.session_state["label.queue"]
    assert [seeded.item(u)["item_id"] for u in queue] == ["s2", "s4", "s6"]


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.file_uploader(key="upload.file").set_value((name, content, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def test_upload_detects_columns_imports_and_reimport_is_a_no_op(db, tmp_path):
    at = upload(open_page("pages/upload.py"), "support.csv", support_csv(tmp_path).read_bytes())
    mapping = {s.label.rstrip(" *"): s.value for s in at.selectbox}
    assert mapping["Input"] == "question" and mapping["Output"] == "answer" and mapping["Score"] == "score"
    assert mapping["Context"] == "(not in this file)"
    assert at.dataframe[0].value.shape == (6, 5)  # the preview
    assert at.text_input(key=next(t.key for t in at.text_input if t.label == "Dataset name")).value == "support"

    button(at, "Import").click().run()
    assert "Imported **6 items** and **1 labels** as support version 1" in markdown(at)
    store = Store(db)
    assert store.dataset("support")["row_count"] == 6
    assert store.latest_labels(store.dataset("support")["id"])["annotator"].tolist() == ["imported"]

    button(at, "Import").click().run()
    assert "already imported (no change)" in markdown(at)
    assert len(store.dataset_versions("support")) == 1


def test_upload_with_an_edited_mapping_and_a_failed_import(db, tmp_path):
    at = upload(open_page("pages/upload.py"), "support.csv", support_csv(tmp_path).read_bytes())
    output_key = next(s.key for s in at.selectbox if s.label.startswith("Output"))
    at.selectbox(key=output_key).select("(not in this file)").run()
    button(at, "Import").click().run()
    assert "support.csv" in markdown(at) and "no output column" in markdown(at)  # ImportFailed, on the page
    assert Store(db).datasets().empty

    at.selectbox(key=output_key).select("question").run()
    button(at, "Import").click().run()
    store = Store(db)
    assert store.items(store.dataset("support")["id"])["output"].iloc[0].startswith("How do I reset")
