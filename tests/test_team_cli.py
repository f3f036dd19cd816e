"""`judge task`, `judge link` and `judge serve-check` from the command line."""

from __future__ import annotations

import re

from judge import team
from judge.cli import main
from tests.test_team import seed_dataset


def test_task_and_link_lifecycle_from_the_cli(store, capsys):
    seed_dataset(store, n=8)
    db = ["--db", str(store.path)]
    assert main([*db, "task", "create", "--name", "review", "--dataset", "support", "--overlap", "2",
                 "--sample", "3", "--filter", "lang=en", "--due", "2030-01-31"]) == 0
    assert "task 1: 3 items" in capsys.readouterr().out
    assert main([*db, "link", "create", "1", "--annotator", "ana", "--base-url", "https://lab.example/judge"]) == 0
    url = re.search(r"https://lab\.example/judge/annotate\?token=(\S+)", capsys.readouterr().out)
    token = url.group(1)
    assert team.open_link(store, token).annotator == "ana"
    assert main([*db, "link", "list", "--task", "1"]) == 0
    assert token not in capsys.readouterr().out
    assert main([*db, "link", "revoke", "1"]) == 0
    assert main([*db, "link", "revoke", "42"]) == 2
    assert "No link with id 42" in capsys.readouterr().err
    assert main([*db, "task", "show", "1"]) == 0
    assert '"undefined": "no labels"' in capsys.readouterr().out


def test_serve_check_refuses_an_exposed_address_without_a_secret(store, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JUDGE_OWNER_SECRET", raising=False)
    db = ["--db", str(store.path)]
    assert main([*db, "serve-check", "--address", "127.0.0.1"]) == 0
    assert main([*db, "serve-check", "--address", "0.0.0.0"]) == 2
    assert "JUDGE_OWNER_SECRET" in capsys.readouterr().err
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text('JUDGE_OWNER_SECRET = "a-long-random-owner-secret"\n')
    assert main([*db, "serve-check", "--address", "0.0.0.0"]) == 0
