"""An open-link name is a new identity, and every way a name enters obeys one validator (issue 10, item 6).

On main, a person on an open link could type `maya` (an annotator without a personal link), `imported` or
`owner`, and their grade became that annotator's current label for the whole dataset; `Maria` and a
Cyrillic `mаria` passed beside a personal link's `maria`; CLI imports took names with zero-width and
right-to-left characters that links refused.
"""

from __future__ import annotations

import pytest

from judge import team
from judge.cli import main
from judge.errors import AccessDenied, ImportFailed
from judge.importing import import_file, import_labels
from judge.names import lookalike_of, name_key, name_problem, skeleton
from test_team import seed_dataset


@pytest.fixture
def task_id(store) -> int:
    seed_dataset(store)
    task = team.create_task(store, name="pass", dataset="support", overlap=3)
    store.add_label("support-000", "maya", score=4, source="ui")  # labels on the Label page, no link
    team.create_link(store, task, annotator="maria")  # a personal link
    return task


def _current(store, annotator: str) -> list[tuple]:
    mine = store.latest_labels(store.dataset("support")["id"], annotator=annotator)
    return sorted(zip(mine["item_uid"], mine["score"]))


@pytest.mark.parametrize("typed", [
    "maya", "Maya", "MAYA", " maya ", "ｍａｙａ",  # an existing annotator, any case, full-width
    "imported", "Owner", "оwner",  # the tool's own names (the last with a Cyrillic o)
    "maria", "Maria", "mаria", "MАRІА", "marίa", "rnaria",  # a personal link's name and its look-alikes
])
def test_an_open_link_refuses_names_that_are_someone_elses(store, task_id, typed):
    link = team.create_link(store, task_id)
    before = _current(store, "maya")
    with pytest.raises(AccessDenied, match="reserved|taken"):
        team.submit_label(store, link.token, "support-000", typed_name=typed, score=1)
    with pytest.raises(AccessDenied):
        team.next_item(store, link.token, typed)
    assert _current(store, "maya") == before == [("support-000", 4)]


def test_an_open_link_name_is_a_new_identity_that_can_come_back_only_through_that_link(store, task_id):
    link, other = team.create_link(store, task_id), team.create_link(store, task_id)
    team.submit_label(store, link.token, "support-001", typed_name="Sam", score=2)
    assert team.annotator_name(store, team.open_link(store, link.token), "sam") == "Sam"  # coming back
    team.submit_label(store, link.token, "support-002", typed_name="SAM", score=3)
    assert _current(store, "Sam") == [("support-001", 2), ("support-002", 3)]
    assert team.progress(store, link.token, "sam").done == 2
    with pytest.raises(AccessDenied, match="taken"):
        team.submit_label(store, other.token, "support-003", typed_name="sam", score=5)


@pytest.mark.parametrize("name", ["ma\u200bya", "\u202eayam", "sam\u2066", "a\x07b", "x\u2028y", "\ufeffbob"])
def test_control_zero_width_and_bidi_characters_are_refused_everywhere(store, task_id, tmp_path, name, capsys):
    assert name_problem(name) is not None
    link = team.create_link(store, task_id)
    with pytest.raises(team.InvalidInput):
        team.submit_label(store, link.token, "support-000", typed_name=name, score=1)
    with pytest.raises(team.InvalidInput):
        team.create_link(store, task_id, annotator=name)

    versions = len(store.datasets())
    wide = tmp_path / "wide.csv"
    wide.write_text(f"id,input,output,score:{name}\nr1,q,a,4\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="score:.*control, zero-width or text-direction"):
        import_file(store, wide, dataset="other")
    column = tmp_path / "column.csv"
    column.write_text(f"id,input,output,score,annotator\nr1,q,a,4,ok\nr2,q,b,3,{name}\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="row 3, column 'annotator'"):
        import_file(store, column, dataset="other")
    code = main(["--db", str(store.path), "import", str(column), "--dataset", "other", "--annotator", name])
    assert code == 2 and "text-direction" in capsys.readouterr().err
    long = tmp_path / "long.csv"
    long.write_text(f"item_id,annotator,score\n0,{name},4\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="row 2, column 'annotator'"):
        import_labels(store, long, dataset="support")
    with pytest.raises(Exception, match="control, zero-width"):
        store.add_label("support-000", name, score=2)  # the store refuses too, whatever the caller
    assert len(store.datasets()) == versions and name not in set(store.annotators()["name"])


def test_name_keys_and_skeletons():
    assert name_key("ＭＡＲＩＡ") == name_key(" maria ") == "maria"
    assert skeleton("mаrіа") == skeleton("maria") and skeleton("Ꮇaria") != skeleton("maria")  # not in the map
    assert skeleton("marìa") == "maria" and lookalike_of("rnaria", ["x", "maria"]) == "maria"
    assert lookalike_of("mario", ["maria"]) is None
