"""The Judges page in Streamlit's AppTest: preview on a real row, unknown variables, try, save, history."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from judge.importing import import_file
from judge.store import Store

PAGE = str(Path(__file__).parent.parent / "pages" / "judges.py")


@pytest.fixture
def page(tmp_path, monkeypatch):
    db = tmp_path / "judge.duckdb"
    monkeypatch.setenv("JUDGE_DB", str(db))
    csv = tmp_path / "qa.csv"
    csv.write_text(
        "id,question,answer,reference,app_version\n"
        + "".join(f"q{n},Capital of country {n}?,City number {n},City number {n if n % 2 else 99},v{n % 2}\n"
                  for n in range(1, 8))
    )
    store = Store(db)
    import_file(store, csv, dataset="qa", column_map={"id": "id", "input": "question", "output": "answer",
                                                      "reference": "reference"})
    app = AppTest.from_file(PAGE, default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app, store


def test_live_preview_renders_the_chosen_row(page):
    app, _ = page
    assert app.selectbox(key="judges.dataset").value == "qa"
    prompt = app.code[0].value
    assert "City number 1" in prompt and "Capital of country 1?" in prompt
    assert '"reasoning"' in prompt and "{" in prompt  # escaped braces render as literal ones
    app.number_input(key="judges.row").set_value(3).run()
    assert "City number 3" in app.code[0].value


def test_unknown_variable_is_shown_as_an_error_with_the_available_ones(page):
    app, _ = page
    template = app.text_area(key="judges.1.template")
    template.set_value(template.value + "\nTier: {customer_tier}").run()
    errors = [e.value for e in app.error]
    assert any("{customer_tier}" in e and "{app_version}" in e for e in errors), errors
    template.set_value(template.value.replace("{customer_tier}", "{app_version}")).run()
    assert not app.error
    assert "Tier: v1" in app.code[0].value


def test_try_an_offline_judge_then_save_versions(page):
    app, store = page
    labels = app.selectbox[0].options
    app.selectbox[0].set_value(next(o for o in labels if o.startswith("reference_rouge"))).run()
    assert not app.exception, app.exception
    assert app.metric[0].value == "5"  # row 1: output equals the reference
    next(b for b in app.button if b.label.startswith("Try on")).click().run()
    trial = app.dataframe[0].value
    assert list(trial["item_id"]) == ["q1", "q2", "q3", "q4", "q5"]
    # Even rows: reference "City number 99", output "City number 2": LCS 2 of 3 words, ROUGE-L F = 2/3 -> 3.
    assert list(trial["score"]) == [5, 3, 5, 3, 5]

    next(b for b in app.button if b.label == "Save as new version").click().run()
    assert store.specs()["name"].tolist() == ["reference_rouge"]
    app.text_input(key="judges.2.name").set_value("reference_rouge").run()
    app.slider(key="judges.2.threshold").set_value(5).run()
    next(b for b in app.button if b.label == "Save as new version").click().run()
    assert list(store.spec_history("reference_rouge")["version"]) == [2, 1]
    assert store.spec_body("reference_rouge")["pass_threshold"] == 5
    assert any("Version history" in e.label for e in app.expander)


def test_the_preview_says_how_many_prompt_tokens_are_cacheable(page):
    app, _ = page
    def cacheable() -> tuple[int, str]:
        note = next(c.value for c in app.caption if c.value.startswith("Cacheable: about "))
        return int(note.split()[2].replace(",", "")), note

    before, note = cacheable()
    assert "tokens of each prompt are the same for every row" in note and before > 300
    template = app.text_area(key="judges.1.template")
    template.set_value("{output}\n" + template.value).run()  # an item variable first: only the system prompt
    after, note = cacheable()
    assert after < 100 and "pay full price" in note
