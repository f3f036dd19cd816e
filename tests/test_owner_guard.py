"""The owner sign-in back-off counts per client, and serving needs a secret with real entropy (issue 10, item 11).

On main, 20 wrong secrets a minute from anyone locked the owner out of the whole server, and a secret of
12 spaces passed `judge serve-check`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from judge.cli import main
from judge.owner_guard import SignInThrottle, secret_bits, secret_problem
from judge.ui import auth

ROOT = Path(__file__).resolve().parents[1]
SECRET = "correct-horse-battery-staple"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_wrong_secrets_slow_down_only_the_client_that_sent_them():
    clock = Clock()
    throttle = SignInThrottle(clock)
    for _ in range(SignInThrottle.FREE_TRIES):
        assert throttle.wait("10.0.0.66") == 0
        throttle.failed("10.0.0.66")
    waits = []
    for _ in range(4):
        waits.append(throttle.wait("10.0.0.66"))
        clock.now += waits[-1]
        throttle.failed("10.0.0.66")
    assert waits == [2.0, 4.0, 8.0, 16.0]  # exponential back-off
    assert throttle.wait("10.0.0.7") == 0  # the real owner, from another address, is not locked out
    for _ in range(20):
        throttle.failed("10.0.0.66")
    assert throttle.wait("10.0.0.66") == SignInThrottle.MAX_WAIT
    clock.now += SignInThrottle.MAX_WAIT
    throttle.succeeded("10.0.0.66")
    assert throttle.wait("10.0.0.66") == 0


def test_the_throttle_forgets_quiet_clients_and_stays_bounded():
    clock = Clock()
    throttle = SignInThrottle(clock)
    for _ in range(SignInThrottle.FREE_TRIES + 1):
        throttle.failed("a")
    clock.now += SignInThrottle.FORGET_AFTER + 1
    throttle.failed("a")
    assert throttle.wait("a") == 0  # the old failures were forgotten
    for n in range(SignInThrottle.MAX_CLIENTS + 50):
        throttle.failed(f"client-{n}")
    assert len(throttle._clients) == SignInThrottle.MAX_CLIENTS


@pytest.mark.parametrize("secret, problem", [
    (" " * 12, "shorter than 12"), ("\t" * 40, "shorter than 12"), ("a" * 40, "too predictable"),
    ("ab" * 10, "too predictable"), ("password1234", "too predictable"),
])
def test_weak_owner_secrets_are_refused(secret, problem, monkeypatch, capsys):
    assert problem in secret_problem(secret)
    monkeypatch.setenv("JUDGE_OWNER_SECRET", secret)
    code = main(["serve-check", "--address", "0.0.0.0"])
    assert code == 2 and problem in capsys.readouterr().err


def test_random_and_passphrase_secrets_pass(monkeypatch, capsys):
    assert secret_bits("x") == 0 and secret_problem("Zq3-vT9_kL0pWm4yR8sB2nA6") is None
    monkeypatch.setenv("JUDGE_OWNER_SECRET", SECRET)
    assert main(["serve-check", "--address", "0.0.0.0"]) == 0 and "protected" in capsys.readouterr().out


@pytest.fixture
def owner_app(tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGE_DB", str(tmp_path / "judge.duckdb"))
    monkeypatch.setenv("JUDGE_OWNER_SECRET", SECRET)
    address = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    auth._throttle.clear()
    yield
    auth._throttle.clear()
    config.set_option("server.address", address)


def _sign_in(app: AppTest, secret: str) -> AppTest:
    app.text_input(key="auth.secret").set_value(secret)
    app.get("form")[0].button[0].click().run()
    return app


def test_a_signed_in_owner_keeps_working_while_a_guesser_is_held_back(owner_app):
    owner = AppTest.from_file(str(ROOT / "pages/settings.py"), default_timeout=60)
    owner.run()
    _sign_in(owner, SECRET)
    assert "Judge Workbench" not in [t.value for t in owner.title]

    guesser = AppTest.from_file(str(ROOT / "pages/settings.py"), default_timeout=60)
    guesser.run()
    for attempt in range(SignInThrottle.FREE_TRIES):
        _sign_in(guesser, f"guess-{attempt}")
        assert "That is not the owner secret." in [e.value for e in guesser.error]
    _sign_in(guesser, SECRET)  # even the right secret waits out the back-off
    assert any("try again in 2 s" in e.value for e in guesser.error), [e.value for e in guesser.error]
    assert [t.value for t in guesser.title] == ["Judge Workbench"]

    owner.run()  # the owner's session was never asked again
    assert not owner.exception and "Judge Workbench" not in [t.value for t in owner.title]
