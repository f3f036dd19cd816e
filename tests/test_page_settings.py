"""The Settings page in Streamlit's AppTest: key status without the key, price overrides, the store, serving."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from judge.importing import import_file
from judge.providers.anthropic_provider import AnthropicProvider
from judge.providers.openai_provider import OpenAICompatibleProvider, OpenAIProvider
from judge.settings import PROVIDER_VARIABLES, shown_url, size_text
from judge.store import Store

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE = "pages/settings.py"
SECRET_VARIABLES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_COMPATIBLE_API_KEY", "OPENAI_BASE_URL",
                    "ANTHROPIC_BASE_URL", "OPENAI_COMPATIBLE_BASE_URL", "JUDGE_OWNER_SECRET", "JUDGE_OWNER_EMAILS",
                    "JUDGE_BASE_URL")


@pytest.fixture
def store(tmp_path, monkeypatch) -> Store:
    """A store with one small dataset, served on loopback like `make run` (owner pages open without a secret)."""
    for name in SECRET_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "judge.duckdb"
    monkeypatch.setenv("JUDGE_DB", str(path))
    address = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    csv = tmp_path / "qa.csv"
    csv.write_text("id,question,answer,score\n" + "".join(f"q{n},Question {n}?,Answer {n},{1 + n % 5}\n"
                                                       for n in range(1, 6)))
    store = Store(path)
    import_file(store, csv, dataset="qa", annotator="maya")
    yield store
    config.set_option("server.address", address)


def open_settings() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def rendered_bytes(app: AppTest) -> bytes:
    """Every element the page sent to the browser, serialized (dataframes included, as Arrow bytes)."""
    return b"".join(node.proto.SerializeToString() for node in app._tree
                    if getattr(node, "proto", None) is not None)


def table(app: AppTest, first_column: str):
    """The first table or dataframe on the page whose first column is `first_column`."""
    return next(t.value for t in [*app.table, *app.dataframe] if t.value.columns[0] == first_column and len(t.value))


def test_a_configured_key_shows_as_set_and_its_value_appears_nowhere(store, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET123")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://proxyuser:PASSWORD456@llm-proxy.example:8443/v1?token=TOKEN789")
    app = open_settings()
    keys = table(app, "provider").set_index("provider")
    assert keys.loc["openai", "key"] == "set" and keys.loc["openai", "key variable"] == "OPENAI_API_KEY"
    assert keys.loc["anthropic", "key"] == "not set"
    assert keys.loc["openai", "base URL in effect"] == "https://llm-proxy.example:8443/v1"
    everything = rendered_bytes(app)
    assert b"OPENAI_API_KEY" in everything and b"llm-proxy.example" in everything, "the search sees tables"
    for secret in (b"SECRET123", b"sk-test", b"PASSWORD456", b"proxyuser", b"TOKEN789"):
        assert secret not in everything


def test_a_price_override_saved_in_the_form_shows_up_and_wins(store):
    app = open_settings()
    form = next(f for f in app.get("form") if f.proto.form.form_id == "settings.price")
    form.text_input[0].set_value("openai/gpt-4.1-mini")
    form.number_input[0].set_value(0.5)
    form.number_input[1].set_value(2.25)
    form.button[0].click().run()
    assert not app.exception and not app.error, (app.exception, [e.value for e in app.error])
    overrides = table(app, "model")
    assert overrides.iloc[0].to_dict() == {"model": "openai/gpt-4.1-mini", "input $/M tokens": 0.5,
                                           "output $/M tokens": 2.25}
    builtin = next(d.value for d in app.dataframe if "in effect" in d.value.columns).set_index("model")
    assert builtin.loc["openai/gpt-4.1-mini", "in effect"] == "override: 0.5 / 2.25"
    assert builtin.loc["openai/gpt-4.1", "in effect"] == "built-in"
    # the prompt-cache rates follow the price in effect: gpt-4.1 family 0.25x input, no write surcharge
    assert builtin.loc["openai/gpt-4.1-mini", ["cached input $/M", "cache write $/M"]].tolist() == [0.125, 0.5]
    assert store.model_price_overrides() == {"openai/gpt-4.1-mini": (0.5, 2.25)}


def test_an_override_without_a_model_name_is_refused_with_a_message(store):
    app = open_settings()
    next(b for b in app.button if b.label == "Save price").click().run()
    assert any("model name" in e.value for e in app.error)
    assert store.model_price_overrides() == {}


def test_the_store_section_counts_records_and_lists_migrations(store):
    app = open_settings()
    metrics = {m.label: m.value for m in app.metric}
    assert metrics == {"Datasets": "1", "Dataset versions": "1", "Items": "5", "Labels": "5", "Runs": "0",
                       "Verdicts": "0"}
    markdown = " ".join(m.value for m in app.markdown)
    assert str(store.path.resolve()) in markdown
    assert any("0001_initial" in c.value for c in app.caption)


def test_serving_shows_loopback_and_open_owner_pages_without_secrets(store):
    rows = table(open_settings(), "setting").set_index("setting")["value"]
    assert rows["Address"].startswith("127.0.0.1:") and "this machine only" in rows["Address"]
    assert rows["Owner pages"].startswith("open")
    assert rows["Owner secret (JUDGE_OWNER_SECRET)"] == "not set"


def test_with_an_owner_secret_the_page_asks_for_it_and_never_shows_it(store, monkeypatch):
    monkeypatch.setenv("JUDGE_OWNER_SECRET", "owner-SECRET-" + "x" * 24)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET123")
    app = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    assert [t.value for t in app.title] == ["Judge Workbench"], "the sign-in page, not the settings"
    assert not app.dataframe and not app.table
    app.text_input(key="auth.secret").set_value("owner-SECRET-" + "x" * 24)
    app.get("form")[0].button[0].click().run()
    rows = table(app, "setting").set_index("setting")["value"]
    assert rows["Owner pages"] == "sign-in required" and rows["Owner secret (JUDGE_OWNER_SECRET)"] == "set"
    rendered = rendered_bytes(app)
    assert b"owner-SECRET" not in rendered and b"SECRET123" not in rendered


def test_the_listed_variables_are_the_ones_the_providers_read():
    classes = {"openai": OpenAIProvider, "anthropic": AnthropicProvider, "openai-compatible": OpenAICompatibleProvider}
    assert {p.provider: p.key_variable for p in PROVIDER_VARIABLES} == {
        name: cls.key_variable for name, cls in classes.items()}


def test_urls_lose_credentials_and_sizes_read_well():
    assert shown_url("http://u:p@localhost:11434/v1?key=k#f") == "http://localhost:11434/v1"
    assert shown_url("not a url") == "(not a URL)"
    assert [size_text(n) for n in (0, 1023, 1536, 5 * 1024 ** 2)] == ["0 bytes", "1,023 bytes", "1.5 KB", "5.0 MB"]
