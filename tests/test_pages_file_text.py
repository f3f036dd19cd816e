"""Everything that came from a file is shown as text on the owner pages (issue 10, item 7).

On main a column named ``a` ![t](http://127.0.0.1:8799/beacon.png) [click](...) `b`` made the owner's browser
load the image and show the link on the Upload page, in the Label queue filters and in the Team new-task
filters, because Streamlit reads labels and captions as Markdown. AppTest shows what the page handed to
Streamlit: the Markdown must hold the name escaped, never an image or a link.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from judge.importing import import_file
from judge.store import Store
from judge.ui.plain import plain
from test_pages_data import button, db, markdown, open_page, upload  # noqa: F401 (db is a fixture)

HOSTILE_COLUMN = "a` ![t](http://127.0.0.1:8799/beacon.png) [click](http://127.0.0.1:8799/phish) `b"
# An image or a link that Markdown would read: `![...](` or `[...](` with no backslash before the brackets.
_LIVE_MARKDOWN = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\(")


def hostile_csv(tmp_path) -> bytes:
    frame = pd.DataFrame({"id": ["r1", "r2", "r3"], "input": ["q1", "q2", "q3"], "output": ["a", "b", "c"],
                          HOSTILE_COLUMN: ["x", "y", "x"], "**bold** :red[key]": ["1", "2", "1"]})
    path = tmp_path / "hostile.csv"
    frame.to_csv(path, index=False)
    return path.read_bytes()


def _assert_inert(text: str) -> None:
    assert not _LIVE_MARKDOWN.search(text), text
    assert "**bold**" not in text and ":red[" not in text, text


def test_plain_escapes_what_markdown_would_read():
    assert plain(HOSTILE_COLUMN) == r"a\` \!\[t\]\(http\://127\.0\.0\.1\:8799/beacon\.png\) \[click\]\(http\://" \
                                    r"127\.0\.0\.1\:8799/phish\) \`b"
    assert plain("two\nlines") == "two lines"
    _assert_inert(plain(HOSTILE_COLUMN))


def test_upload_page_shows_metadata_column_names_as_text(db, tmp_path):  # noqa: F811
    at = upload(open_page("pages/upload.py"), "hostile.csv", hostile_csv(tmp_path))
    metadata = next(c.value for c in at.caption if str(c.value).startswith("Metadata:"))
    assert metadata == f"Metadata: {plain(HOSTILE_COLUMN)}, {plain('**bold** :red[key]')}"
    _assert_inert(markdown(at))
    for widget in at.selectbox:
        _assert_inert(widget.label)


@pytest.fixture
def hostile_store(db, tmp_path) -> Store:  # noqa: F811
    store = Store(db)
    path = tmp_path / "hostile.csv"
    path.write_bytes(hostile_csv(tmp_path))
    import_file(store, path, dataset="support")
    return store


def test_label_queue_filters_show_metadata_keys_as_text(hostile_store):
    at = open_page("pages/label.py", annotator="bob", dataset="support")
    filters = [s for s in at.selectbox if s.key and s.key.startswith("label.filter.")]
    assert {s.label for s in filters} == {plain(HOSTILE_COLUMN), plain("**bold** :red[key]")}
    for widget in filters:
        _assert_inert(widget.label)
    at.selectbox(key=f"label.filter.{HOSTILE_COLUMN}").select("y").run()
    assert [hostile_store.item(u)["item_id"] for u in at.session_state["label.queue"]] == ["r2"]


def test_team_new_task_filters_show_metadata_keys_as_text(hostile_store):
    at = open_page("pages/team.py")
    filters = [s for s in at.selectbox if s.key and s.key.startswith("team.filter.")]
    assert len(filters) == 2
    for widget in filters:
        assert widget.label.startswith("Only items with ")
        _assert_inert(widget.label)


def test_the_label_page_refuses_an_invisible_annotator_name(hostile_store):
    at = open_page("pages/label.py")
    at.text_input(key="label.who.name").input("bo\u200bb")
    button(at, "Start labeling").click().run()
    assert "zero-width" in markdown(at) and "annotator" not in at.query_params
    assert open_page("pages/label.py", annotator="\u202ebob").text_input(key="label.who.name") is not None
