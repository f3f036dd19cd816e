"""Pairwise labeling through links: named and open links, the shown order recorded, bad tokens refused, CLI."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pandas as pd
import pytest

from judge.cli import main
from judge.errors import AccessDenied, JudgeError
from judge.pair_links import (
    create_pair_link, create_pair_task, is_pair_link, next_link_pair, open_pair_link, revoke_pair_link,
    submit_link_choice,
)
from judge.pairs import import_pairs


def seed(store, tmp_path, n=3):
    rows = [{"id": f"p{i}", "input": f"Q{i}", "output_a": f"A{i}", "output_b": f"B{i}"} for i in range(n)]
    pd.DataFrame(rows).to_csv(tmp_path / "p.csv", index=False)
    import_pairs(store, tmp_path / "p.csv", dataset="d")
    return create_pair_task(store, name="Which is better", dataset="d", criterion="helpfulness")


def test_a_named_link_labels_pairs_in_the_shown_order(store, tmp_path):
    task = seed(store, tmp_path)
    link = create_pair_link(store, task, annotator="ana")
    assert is_pair_link(store, link.token) and link.url().endswith(f"/annotate?token={link.token}")
    pair, done, total = next_link_pair(store, link.token)
    assert (done, total) == (0, 3) and pair["first"] == (pair["output_a"] if pair["shown"] == "ab" else pair["output_b"])
    assert submit_link_choice(store, link.token, pair["uid"], "first", critique="clearer")
    prefs = store.preferences("d", criterion="helpfulness")
    assert list(prefs["annotator"]) == ["ana"] and prefs.loc[0, "choice"] == pair["shown"][0]
    assert prefs.loc[0, "shown_order"] == pair["shown"] and prefs.loc[0, "critique"] == "clearer"
    assert next_link_pair(store, link.token)[1] == 1


def test_an_open_link_needs_a_name_not_bound_to_a_named_link(store, tmp_path):
    task = seed(store, tmp_path)
    open_link = create_pair_link(store, task)
    assert open_pair_link(store, open_link.token).is_open
    pair, _, _ = next_link_pair(store, open_link.token, "zoe")
    submit_link_choice(store, open_link.token, pair["uid"], "tie", typed_name="zoe")
    assert store.preferences("d", annotator="zoe").loc[0, "choice"] == "tie"
    with pytest.raises(JudgeError, match="Type your name"):
        next_link_pair(store, open_link.token, "")
    create_pair_link(store, task, annotator="ana")
    with pytest.raises(AccessDenied, match="taken by another annotator|belongs to a personal link"):
        submit_link_choice(store, open_link.token, pair["uid"], "first", typed_name="ana")


def test_bad_expired_and_foreign_tokens_are_refused(store, tmp_path):
    task = seed(store, tmp_path)
    expiring = create_pair_link(store, task, annotator="ana", expires_in=timedelta(milliseconds=50))
    time.sleep(0.1)
    with pytest.raises(AccessDenied, match="not valid"):
        open_pair_link(store, expiring.token)
    with pytest.raises(AccessDenied, match="not valid"):
        open_pair_link(store, "x" * 43)
    with pytest.raises(JudgeError, match="expire in the future"):
        create_pair_link(store, task, expires_in=timedelta(0))
    link = create_pair_link(store, task, annotator="ana")
    with pytest.raises(JudgeError, match="no pair"):
        submit_link_choice(store, link.token, "not-a-pair-of-this-task", "first")
    revoke_pair_link(store, link.link_id)
    with pytest.raises(AccessDenied, match="not valid"):
        next_link_pair(store, link.token)


def test_cli_pair_task_and_link(tmp_path, capsys):
    db = str(tmp_path / "cli.duckdb")
    pd.DataFrame([{"input": "q", "output_a": "x", "output_b": "y"}]).to_csv(tmp_path / "p.csv", index=False)
    assert main(["--db", db, "import-pairs", str(tmp_path / "p.csv"), "--dataset", "d"]) == 0
    assert main(["--db", db, "pair-task", "Review", "--dataset", "d"]) == 0
    assert main(["--db", db, "pair-link", "1", "--annotator", "ana"]) == 0
    assert re.search(r"/annotate\?token=[A-Za-z0-9_-]{43}", capsys.readouterr().out)


def test_cli_lists_and_revokes_pair_links(tmp_path, capsys):
    from judge.errors import AccessDenied
    from judge.pair_links import open_pair_link
    from judge.store import Store

    db = str(tmp_path / "cli.duckdb")
    pd.DataFrame([{"input": "q", "output_a": "x", "output_b": "y"}]).to_csv(tmp_path / "p.csv", index=False)
    assert main(["--db", db, "import-pairs", str(tmp_path / "p.csv"), "--dataset", "d"]) == 0
    assert main(["--db", db, "pair-task", "Review", "--dataset", "d"]) == 0
    assert main(["--db", db, "pair-link", "1", "--annotator", "ana", "--base-url", "https://wb.example.com"]) == 0
    out = capsys.readouterr().out
    token = re.search(r"https://wb\.example\.com/annotate\?token=([A-Za-z0-9_-]{43})", out).group(1)
    assert main(["--db", db, "pair-link", "1"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "pair-links", "--task", "1"]) == 0
    listing = capsys.readouterr().out
    assert "task 1 Review\td\tana\texpires" in listing and "(open link)" in listing and token not in listing
    assert main(["--db", db, "pair-links", "--revoke", "1"]) == 0
    assert main(["--db", db, "pair-links"]) == 0
    assert "\tana\trevoked" in capsys.readouterr().out
    with pytest.raises(AccessDenied):
        open_pair_link(Store(db), token)
    assert main(["--db", db, "pair-links", "--revoke", "99"]) == 2
    assert "No pairwise labeling link 99" in capsys.readouterr().err
