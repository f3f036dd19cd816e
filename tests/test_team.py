"""Team labeling: tasks, links and their tokens, assignment, agreement, adjudication, hostile input."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from judge.reports.agreement import human_agreement_from_labels

from judge import team
from judge.errors import AccessDenied, JudgeError, NotFound
from judge.store import Store


def seed_dataset(store: Store, name: str = "support", n: int = 10, *, texts: list[str] | None = None) -> int:
    """A dataset written straight through SQL, so these tests do not depend on the importer."""
    texts = texts or [f"answer {i}" for i in range(n)]
    with store.db.connect() as con:
        dataset_id = con.execute(
            "INSERT INTO datasets (name, version, content_hash, row_count) VALUES (?, 1, ?, ?) RETURNING id",
            [name, f"hash-{name}", len(texts)],
        ).fetchone()[0]
        for i, text in enumerate(texts):
            uid = f"{name}-{i:03d}"
            con.execute("INSERT INTO items VALUES (?, ?, ?, ?, ?, NULL, NULL)", [uid, name, str(i), f"q{i}", text])
            con.execute("INSERT INTO dataset_items VALUES (?, ?, ?, ?)",
                        [dataset_id, uid, i, '{"lang": "%s"}' % ("en" if i % 2 == 0 else "de")])
    return dataset_id


@pytest.fixture
def task_id(store) -> int:
    seed_dataset(store)
    return team.create_task(store, name="first pass", dataset="support", overlap=2, instructions="Be strict.")


def test_a_task_can_be_a_filtered_seeded_sample(store):
    seed_dataset(store, n=40)
    first = team.create_task(store, name="a", dataset="support", filter={"lang": "en"}, sample_size=5, seed=7)
    again = team.create_task(store, name="b", dataset="support", filter={"lang": "en"}, sample_size=5, seed=7)
    other = team.create_task(store, name="c", dataset="support", filter={"lang": "en"}, sample_size=5, seed=8)
    picked = store.task_items(first)["uid"].tolist()
    assert len(picked) == 5
    assert picked == store.task_items(again)["uid"].tolist()
    assert picked != store.task_items(other)["uid"].tolist()
    assert all(int(uid.split("-")[1]) % 2 == 0 for uid in picked)
    assert store.task(first)["filter"] == {"lang": "en"}


def test_a_task_refuses_bad_settings(store):
    seed_dataset(store)
    with pytest.raises(team.InvalidInput):
        team.create_task(store, name="x", dataset="support", overlap=0)
    with pytest.raises(team.InvalidInput):
        team.create_task(store, name="x", dataset="support", due_date="next friday")
    with pytest.raises(NotFound):
        team.create_task(store, name="x", dataset="nope")
    with pytest.raises(JudgeError):
        team.create_task(store, name="x", dataset="support", filter={"lang": "fr"})


def test_a_token_is_random_and_only_its_hash_is_stored(store, task_id):
    link = team.create_link(store, task_id, annotator="ana")
    assert len(link.token) >= 43  # 32 random bytes, base64url
    assert link.url("http://lab.example:8501/judge/") == f"http://lab.example:8501/judge/annotate?token={link.token}"
    with store.db.connect() as con:
        stored = [v for (v,) in con.execute("SELECT token_hash FROM task_links").fetchall()]
    assert stored == [team.hash_token(link.token)] and link.token not in stored
    assert team.create_link(store, task_id, annotator="ana").token != link.token
    access = team.open_link(store, link.token)
    assert (access.task_id, access.annotator, access.is_open) == (task_id, "ana", False)


@pytest.mark.parametrize("token", [None, "", "x", "a" * 43, "' OR 1=1 --" + "a" * 40, "a" * 500, 12345])
def test_a_wrong_token_is_denied(store, task_id, token):
    team.create_link(store, task_id, annotator="ana")
    with pytest.raises(AccessDenied):
        team.open_link(store, token)
    with pytest.raises(AccessDenied):
        team.submit_label(store, token, "support-000", score=3)
    assert store.task_labels(task_id).empty


def test_revoked_and_expired_links_stop_at_the_next_click(store, task_id):
    link = team.create_link(store, task_id, annotator="ana")
    item = team.next_item(store, link.token)
    team.submit_label(store, link.token, item["uid"], score=4)
    team.revoke_link(store, link.link_id)
    with pytest.raises(AccessDenied):
        team.submit_label(store, link.token, item["uid"], score=5)
    with pytest.raises(AccessDenied):
        team.next_item(store, link.token)

    short = team.create_link(store, task_id, annotator="ben", expires_in=timedelta(milliseconds=50))
    threading.Event().wait(0.1)
    with pytest.raises(AccessDenied):
        team.submit_label(store, short.token, item["uid"], score=2)
    assert store.task_labels(task_id)["score"].tolist() == [4]
    assert store.task_links(task_id)["revoked_at"].notna().tolist() == [True, False]


def test_a_closed_task_takes_no_more_labels(store, task_id):
    link = team.create_link(store, task_id, annotator="ana")
    team.close_task(store, task_id)
    with pytest.raises(AccessDenied, match="closed"):
        team.submit_label(store, link.token, "support-000", score=3)


def test_a_link_only_reaches_its_own_task(store, task_id):
    seed_dataset(store, "secret", n=3, texts=["salary table", "passwords", "roadmap"])
    other_task = team.create_task(store, name="secret", dataset="secret")
    link = team.create_link(store, task_id, annotator="ana")
    with pytest.raises(AccessDenied):
        team.submit_label(store, link.token, "secret-000", score=1)
    with pytest.raises(AccessDenied):
        team.submit_label(store, link.token, ["support-000"], score=1)
    seen = set()
    while (item := team.next_item(store, link.token)) is not None:
        seen.add(item["dataset_name"])
        team.submit_label(store, link.token, item["uid"], score=3)
    assert seen == {"support"}
    assert store.task_labels(other_task).empty


def test_the_queue_puts_items_short_of_overlap_first_and_never_repeats(store, task_id):
    links = {name: team.create_link(store, task_id, annotator=name) for name in ("ana", "ben", "cy")}
    for _ in range(5):
        for name in ("ana", "ben"):
            item = team.next_item(store, links[name].token)
            team.submit_label(store, links[name].token, item["uid"], score=3)
    labels = store.task_labels(task_id)
    assert labels.groupby("annotator")["item_uid"].nunique().to_dict() == {"ana": 5, "ben": 5}
    counts = labels.groupby("item_uid")["annotator"].nunique()
    full = set(counts[counts >= 2].index)
    cy_queue = store.annotator_queue(task_id, "cy", 2)
    assert set(cy_queue[: 10 - len(full)]).isdisjoint(full)
    assert set(cy_queue[10 - len(full):]) == full
    ana_done = set(labels[labels["annotator"] == "ana"]["item_uid"])
    assert ana_done.isdisjoint(store.annotator_queue(task_id, "ana", 2))
    assert team.progress(store, links["ana"].token) == team.Progress(done=5, total=10)


def test_work_resumes_from_the_store_not_the_session(store, task_id):
    link = team.create_link(store, task_id, annotator="ana")
    first = team.next_item(store, link.token)
    assert team.next_item(store, link.token)["uid"] == first["uid"]
    team.submit_label(store, link.token, first["uid"], score=2, critique="vague")
    on_another_device = Store(store.path)
    assert team.next_item(on_another_device, link.token)["uid"] != first["uid"]
    assert team.progress(on_another_device, link.token).done == 1


def test_an_open_link_records_the_typed_name_but_not_a_named_annotators(store, task_id):
    team.create_link(store, task_id, annotator="ana")
    open_link = team.create_link(store, task_id)
    assert team.open_link(store, open_link.token).is_open
    with pytest.raises(team.InvalidInput):
        team.next_item(store, open_link.token)
    with pytest.raises(AccessDenied):
        team.submit_label(store, open_link.token, "support-000", typed_name="ana", score=1)
    item = team.next_item(store, open_link.token, "guest@example.com")
    team.submit_label(store, open_link.token, item["uid"], typed_name="guest@example.com", score=5)
    labels = store.task_labels(task_id)
    assert labels[["annotator", "score", "source"]].values.tolist() == [
        ["guest@example.com", 5, f"link:{open_link.link_id}"]]


@pytest.mark.parametrize("name", ["", "   ", "x" * 121, "bob\x00", "bob\nsmith", "a\u202eb", "\x1b[31mred"])
def test_hostile_names_are_refused(store, task_id, name):
    link = team.create_link(store, task_id)
    with pytest.raises(team.InvalidInput):
        team.submit_label(store, link.token, "support-000", typed_name=name, score=3)
    with pytest.raises(team.InvalidInput):
        team.create_link(store, task_id, annotator=name)


def test_critiques_are_kept_verbatim_within_limits(store, task_id):
    link = team.create_link(store, task_id, annotator="ana")
    html = "<script>alert('x')</script><img src=x onerror=alert(1)> '; DROP TABLE labels; --\nline two"
    team.submit_label(store, link.token, "support-000", score=1, critique=html)
    assert store.task_labels(task_id)["critique"].tolist() == [html]
    with pytest.raises(team.InvalidInput):
        team.submit_label(store, link.token, "support-001", score=1, critique="x" * 5001)
    with pytest.raises(team.InvalidInput):
        team.submit_label(store, link.token, "support-001", score=1, critique="bad\x07bell")
    with pytest.raises(JudgeError):
        team.submit_label(store, link.token, "support-001", score=9)
    assert len(store.task_labels(task_id)) == 1


def test_agreement_pace_and_adjudication(store, task_id):
    scores = {"ana": [1, 2, 3, 4, 5, 1, 2, 3, 4, 5], "ben": [1, 2, 3, 4, 5, 1, 2, 3, 5, 1]}
    for who, row in scores.items():
        link = team.create_link(store, task_id, annotator=who)
        for i, score in enumerate(row):
            team.submit_label(store, link.token, f"support-{i:03d}", score=score, passed=score >= 4)
    (criterion, result), = team.agreement(store, task_id).items()  # one criterion: the dataset's default
    labels = store.task_labels(task_id)
    assert result == {"scale": "1-5", **human_agreement_from_labels(labels, n_boot=500, seed=task_id)}
    assert [a["name"] for a in result["annotators"]] == ["ana", "ben"] and result["items_with_two_or_more"] == 10
    assert 0 < result["krippendorff_alpha"]["value"] < 1 and result["krippendorff_alpha"]["ci"]
    (pair,) = result["pairwise"]
    assert pair["n"] == 10 and pair["exact_agreement"]["value"] == 0.8 and 0 < pair["quadratic_kappa"]["value"] < 1

    stats = {row["annotator"]: row for row in team.annotator_stats(store, task_id)}
    assert stats["ana"]["items"] == 10 and stats["ana"]["labels_per_hour"] > 0

    conflicts = team.disagreements(store, task_id, min_spread=2)
    assert [c["item_uid"] for c in conflicts] == ["support-009"]
    assert {lab["annotator"]: lab["score"] for lab in conflicts[0]["labels"]} == {"ana": 5, "ben": 1}
    team.adjudicate(store, task_id, "support-009", owner="owner", score=4, critique="ben misread it")
    team.adjudicate(store, task_id, "support-009", owner="owner", score=5)
    settled = team.disagreements(store, task_id)[0]["adjudicated"]
    assert settled["score"] == 5
    history = store.label_history("support-009")
    assert history["kind"].tolist() == ["adjudication", "adjudication", "label", "label"]
    with pytest.raises(NotFound):
        team.adjudicate(store, task_id, "nope", owner="owner", score=3)


def test_agreement_is_undefined_with_a_reason_when_nobody_overlaps(store, task_id):
    link = team.create_link(store, task_id, annotator="ana")
    team.submit_label(store, link.token, "support-000", score=3)
    (result,) = team.agreement(store, task_id).values()
    assert result["krippendorff_alpha"]["value"] is None and result["pairwise"] == []
    assert result["krippendorff_alpha"]["undefined"] == "no item was labeled by two annotators"


def test_five_annotators_and_a_judge_run_writing_at_once_lose_nothing(store, task_id):
    links = [team.create_link(store, task_id, annotator=f"annotator{n}") for n in range(5)]
    with store.db.connect() as con:
        con.execute("INSERT INTO runs (id, dataset_id, status) VALUES ('run-1', 1, 'running')")
    errors = []

    def annotate(link):
        try:
            while (item := team.next_item(store, link.token)) is not None:
                team.submit_label(store, link.token, item["uid"], score=3, critique=f"by {link.annotator}")
        except Exception as exc:  # surfaced below: a lost write must fail the test
            errors.append(exc)

    def judge_run():
        try:
            for i in range(10):
                for sample in range(5):
                    with store.db.connect() as con:
                        con.execute("INSERT INTO verdicts (run_id, item_uid, sample, score) VALUES (?, ?, ?, ?)",
                                    ["run-1", f"support-{i:03d}", sample, 1 + (i + sample) % 5])
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=annotate, args=(link,)) for link in links]
    threads.append(threading.Thread(target=judge_run))
    [t.start() for t in threads]
    [t.join(timeout=120) for t in threads]
    assert errors == []
    labels = store.task_labels(task_id)
    assert len(labels) == 50
    assert labels.groupby("annotator")["item_uid"].nunique().tolist() == [10] * 5
    with store.db.connect() as con:
        assert con.execute("SELECT count(*) FROM verdicts WHERE run_id = 'run-1'").fetchone()[0] == 50
        assert con.execute("SELECT count(*) FROM labels").fetchone()[0] == 50


@pytest.mark.parametrize("address, expected", [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
    ("0.0.0.0", False), ("", False), (None, False), ("192.168.1.5", False), ("::", False), ("lab.local", False),
])
def test_only_loopback_addresses_count_as_local(address, expected):
    assert team.is_loopback(address) is expected


def test_serving_beyond_localhost_needs_an_owner_secret_or_oidc_owners():
    assert team.serving_problem("127.0.0.1", secret=None, oidc_owners=set()) is None
    assert "JUDGE_OWNER_SECRET" in team.serving_problem("0.0.0.0", secret=None, oidc_owners=set())
    assert "every network interface" in team.serving_problem(None, secret=None, oidc_owners=set())
    assert team.serving_problem("0.0.0.0", secret="a-long-random-secret", oidc_owners=set()) is None
    assert team.serving_problem("0.0.0.0", secret=None, oidc_owners={"me@example.com"}) is None
    assert "shorter" in team.serving_problem("0.0.0.0", secret="short", oidc_owners=set())


def test_owner_secret_comparison(monkeypatch):
    monkeypatch.setenv("JUDGE_OWNER_SECRET", "from-the-environment")
    assert team.owner_secret({"JUDGE_OWNER_SECRET": "from-secrets"}) == "from-the-environment"
    monkeypatch.delenv("JUDGE_OWNER_SECRET")
    assert team.owner_secret({"JUDGE_OWNER_SECRET": "from-secrets"}) == "from-secrets"
    assert team.owner_secret({}) is None
    assert team.secret_matches("from-secrets", "from-secrets")
    assert not team.secret_matches("from-secret", "from-secrets")
    assert not team.secret_matches("", None) and not team.secret_matches(None, "x")
    assert team.owner_emails({"JUDGE_OWNER_EMAILS": "A@x.com, b@y.org"}) == {"a@x.com", "b@y.org"}
