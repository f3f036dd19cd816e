"""`judge serve`: the dashboard on a given store, refusing unsafe addresses before anything starts."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

from judge.cli import main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_the_dashboard_on_the_given_store(tmp_path):
    port, db = _free_port(), tmp_path / "served.duckdb"
    proc = subprocess.Popen([sys.executable, "-m", "judge", "--db", str(db), "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, health = time.monotonic() + 60, None
        while time.monotonic() < deadline and health != b"ok":
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read()
            except OSError:
                time.sleep(0.3)
        assert health == b"ok"
        assert db.exists(), "the store given with --db is the one served"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_refuses_a_network_address_without_an_owner_secret(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("JUDGE_OWNER_SECRET", raising=False)
    monkeypatch.chdir(tmp_path)  # no .streamlit/secrets.toml here
    assert main(["--db", str(tmp_path / "s.duckdb"), "serve", "--address", "0.0.0.0", "--port", "1"]) == 2
    assert "without an owner secret" in capsys.readouterr().err
