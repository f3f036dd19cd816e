"""Offline judges stay offline and finish (issue 10, items 4 and 9).

A json_schema check whose `$ref` pointed at a URL made the runner fetch it (a request forgery from the
server); a regex_present "^(a+)+$" on "a"*34 + "!" did not finish in 60 s. A local HTTP server records
every request it gets: it must get none.
"""

from __future__ import annotations

import csv
import http.server
import threading
import time

import pytest

from judge.errors import InvalidSpec
from judge.importing import import_file
from judge.offline import score_offline, validate_checks
from judge.runner import execute_run, start_run
from judge.specs import JudgeSpec

RUBRIC = {str(n): f"anchor {n}" for n in range(1, 6)}


@pytest.fixture
def listener():
    """A local HTTP server that answers every GET with a permissive schema and records the paths asked for."""
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server API)
            asked.append(self.path)
            body = b'{"type": "object"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/schema+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


def _schema_spec(schema: dict) -> JudgeSpec:
    return JudgeSpec(name="shape", kind="assertion", rubric=RUBRIC,
                     checks=[{"type": "json_schema", "schema": schema}])


@pytest.mark.parametrize("make_schema", [
    lambda url: {"$ref": f"{url}/s.json"},
    lambda url: {"type": "object", "properties": {"a": {"$ref": f"{url}/a.json#/$defs/x"}}},
    lambda url: {"$id": f"{url}/root.json", "$ref": "other.json"},  # relative to $id: still remote
    lambda url: {"allOf": [{"$dynamicRef": f"{url}/d.json"}]},
])
def test_a_schema_referring_outside_itself_is_refused_at_validation_and_nothing_is_fetched(
        listener, store, tmp_path, make_schema):
    url, asked = listener
    with pytest.raises(InvalidSpec, match="refers outside itself.*never open a connection"):
        _schema_spec(make_schema(url)).validate()
    rows = tmp_path / "rows.csv"
    rows.write_text('id,input,output\nr1,q,"{""a"": 1}"\n')
    import_file(store, rows, dataset="d")
    with pytest.raises(InvalidSpec, match="refers outside itself"):
        start_run(store, dataset="d", spec=_schema_spec(make_schema(url)))
    assert asked == []


def test_local_refs_and_a_declared_id_resolve_without_a_request(listener):
    url, asked = listener
    schema = {"$id": f"{url}/root.json", "$schema": "https://json-schema.org/draft/2020-12/schema",
              "$defs": {"n": {"type": "integer"}},
              "type": "object", "properties": {"a": {"$ref": "#/$defs/n"},
                                               "b": {"$ref": f"{url}/root.json#/$defs/n"}}}
    spec = _schema_spec(schema).validate()
    assert score_offline(spec, {"output": '{"a": 1, "b": 2}'}).passed
    failed = score_offline(spec, {"output": '{"a": 1, "b": "two"}'})
    assert not failed.passed and "$.b" in failed.reasoning
    with pytest.raises(InvalidSpec, match="unknown \\$schema"):
        _schema_spec({"$schema": f"{url}/meta.json", "type": "object"}).validate()
    assert asked == []


def test_a_catastrophic_regex_finishes_at_once_in_a_run(store, tmp_path):
    path = tmp_path / "rows.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "input", "output"])
        for i in range(200):
            writer.writerow([f"r{i}", "q", "a" * (34 + i) + "!"])
        writer.writerow(["match", "q", "aaaa"])
    import_file(store, path, dataset="d")
    spec = JudgeSpec(name="redos", kind="assertion", rubric=RUBRIC,
                     checks=[{"type": "regex_present", "pattern": "^(a+)+$"}])
    started = time.monotonic()
    summary = execute_run(store, start_run(store, dataset="d", spec=spec))
    assert time.monotonic() - started < 20, "a backtracking engine would not finish"
    verdicts = store.verdicts(summary.run_id).set_index("item_id")
    assert summary.done == 201 and verdicts["error"].isna().all()
    assert verdicts.loc["match", "passed"] and not verdicts.drop("match")["passed"].any()
    assert "pattern not found" in verdicts.loc["r0", "reasoning"]


@pytest.mark.parametrize("pattern", [r"(?=refund)\w+", r"(?<!not )allowed", r"(\w+) \1"])
def test_a_pattern_that_needs_backtracking_is_refused_with_what_to_do_instead(pattern):
    with pytest.raises(InvalidSpec, match="Lookahead, lookbehind and backreferences are not supported"):
        validate_checks([{"type": "regex_present", "pattern": pattern}])
