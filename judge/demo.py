"""The demo data `make run` loads: every data/demo_<name>.{jsonl,csv} as dataset <name>, with its labels.

An items file's label columns belong to the demo's first annotator (maya); the matching
demo_<name>_labels.csv holds a second annotator's labels in long form. Each demo dataset has criteria with
real rubrics (DEMO_CRITERIA), so the labeling page has something to grade against from the start: the support
answers are graded on two criteria, helpfulness (1-5, the `score` columns) and resolved (pass/fail, the
`passed` columns: would this answer settle the customer's question?).

A freshly loaded demo also gets judge runs by offline judges (no key, no network, a few seconds), so the
Report, Compare, Trends and Improve pages have real content on the first `make run`.

Pairs: every data/demo_pairs/<name>.jsonl is pair dataset <name> (two app versions' answers to the same
inputs, system names in system_a / system_b, the first annotator's preference inline),
<name>_preferences.csv holds the other annotators' preferences (pair_id, annotator, preference), and
<name>_judge.csv a pre-recorded pairwise judge run in both orders (pair_id, choice_ab, choice_ba), imported
like `judge import-pairwise-run`, so the Pairwise, Pairwise judge, Rankings and Report pages have content too.
"""

from __future__ import annotations

from pathlib import Path

from judge.importing import import_file, import_labels, read_table
from judge.pairs import DEFAULT_PREFERENCE_CRITERION, coerce_choice, import_pairs

DEMO_DIR = Path(__file__).resolve().parent.parent / "data"
DEMO_ANNOTATOR = "maya"

DEMO_RUBRICS: dict[str, tuple[str, dict[str, str]]] = {
    "helpfulness": (
        "Does the answer resolve the customer's question correctly, using only what the help-center "
        "context supports, in a courteous and safe way?",
        {
            "1": "Wrong or harmful: invents policy, contradicts the context, is rude, or exposes another "
                 "user's data.",
            "2": "Mostly unhelpful: answers a different question, or the key fact (price, limit, step) is wrong.",
            "3": "Partly right: on topic and not harmful, but vague, incomplete, or mixes a correct step with "
                 "a wrong one.",
            "4": "Correct and grounded in the context; small gaps in completeness or tone.",
            "5": "Correct, complete, grounded in the context, and clear; the customer can act on it at once.",
        },
    ),
    "resolved": (
        "Would this answer settle the customer's question, so that they need not write again?",
        {
            "pass": "Settles it: correct for their case, and they can act on it at once.",
            "fail": "Does not: wrong, incomplete, off-topic, or it sends them back with more questions.",
        },
    ),
    "tree-correctness": (
        "Does the generated query tree select exactly the records the request asks for? Key and argument "
        "order do not matter; fields, operators, values and their types do.",
        {
            "1": "Not valid JSON, or a tree that answers a different request.",
            "2": "Valid tree with a major error: a wrong field or operator, or a missing main condition.",
            "3": "Right shape with one substantive slip: a wrong value or value type, or an extra condition.",
            "4": "Equivalent to the reference except for a harmless difference (e.g. a redundant clause).",
            "5": "Equivalent to the reference: the same conditions, possibly in another order.",
        },
    ),
}


# Per dataset: its criteria as (name, label column in the items file and the long-form labels file); each
# criterion's rubric is DEMO_RUBRICS[name] (pass/fail criteria have 'pass' and 'fail' anchors).
DEMO_CRITERIA: dict[str, tuple[tuple[str, str], ...]] = {
    "support": (("helpfulness", "score"), ("resolved", "passed")),
    "query-trees": (("tree-correctness", "score"),),
}

# Which offline judges the demo runs on which demo dataset and criterion (see run_demo_judges).
DEMO_JUDGES: dict[str, tuple[tuple[str, str], ...]] = {
    "query-trees": (("json_tree_match", "tree-correctness"),),
    "support": (("reference_rouge", "helpfulness"), ("reference_f1", "helpfulness"),
                ("reference_f1", "resolved")),
}
DEMO_TREND_JUDGE = "json_tree_match"
DEMO_TREND_DATASETS = ("query-trees",)
ALL_VERSIONS = "all versions"
DEMO_DISTILLED = (("support", "helpfulness"), ("support", "resolved"))
DEMO_PAIRS_DIR = "demo_pairs"
DEMO_PAIRWISE_RUN_NAME = "demo: pairwise judge, both orders (pre-recorded)"


def _dataset_name(items_file: Path) -> str:
    return items_file.stem.removeprefix("demo_").replace("_", "-")


def demo_files(directory: Path = DEMO_DIR) -> list[Path]:
    """The demo items files (not the *_labels.csv files), in name order."""
    files = [*directory.glob("demo_*.jsonl"), *directory.glob("demo_*.csv")]
    return sorted(f for f in files if not f.stem.endswith("_labels"))


def load_demo(store, *, if_empty: bool = True, directory: Path | None = None) -> list[str]:
    """Import the demo datasets, their second annotator's labels and rubrics; returns the names loaded.

    With `if_empty`, a store that already holds any dataset is left alone (one quick read), so `make run`
    can call this every time. Loading twice is harmless either way: identical files are no-ops, and only a
    dataset whose items were new gets the demo judge runs (`run_demo_judges`).
    """
    if if_empty and not store.datasets().empty:
        return []
    loaded, created = [], []
    for items_file in demo_files(directory or DEMO_DIR):
        name = _dataset_name(items_file)
        criteria = dict(DEMO_CRITERIA.get(name, ()))
        with store.transaction():
            for criterion in criteria:
                description, anchors = DEMO_RUBRICS[criterion]
                store.save_rubric(criterion, description, anchors)
            columns = set(read_table(items_file).columns)
            criteria = {c: column for c, column in criteria.items() if column in columns}
            first, *others = criteria or [None]  # the plain score/critique columns grade the first criterion
            result = import_file(store, items_file, dataset=name, annotator=DEMO_ANNOTATOR, criterion=first,
                                 criteria={other: criteria[other] for other in others} or None)
            labels_file = items_file.with_name(f"{items_file.stem}_labels.csv")
            for criterion, column in criteria.items() if labels_file.exists() else ():
                other = "passed" if column == "score" else "score"
                import_labels(store, labels_file, dataset=name, criterion=criterion,
                              column_map={column: column, other: None,
                                          "critique": "critique" if column == "score" else None})
        loaded.append(name)
        if result.created:
            created.append(name)
    for name in created:
        run_demo_judges(store, name)
    load_demo_pairs(store, (directory or DEMO_DIR) / DEMO_PAIRS_DIR)
    return loaded


def load_demo_pairs(store, directory: Path) -> list[str]:
    """Import the demo pair datasets with every annotator's preferences and, for a pair dataset that was new,
    its pre-recorded pairwise judge run; returns the pair dataset names (none when the folder is absent)."""
    from judge.pairwise import import_pairwise_run

    loaded = []
    for pairs_file in sorted(directory.glob("*.jsonl")) if directory.is_dir() else ():
        name = pairs_file.stem.replace("_", "-")
        with store.transaction():
            result = import_pairs(store, pairs_file, dataset=name, annotator=DEMO_ANNOTATOR)
            preferences = pairs_file.with_name(f"{pairs_file.stem}_preferences.csv")
            if preferences.exists():
                _add_preferences(store, preferences, name)
            judge_file = pairs_file.with_name(f"{pairs_file.stem}_judge.csv")
            if result.new_pairs and judge_file.exists():
                import_pairwise_run(store, judge_file, dataset=name, name=DEMO_PAIRWISE_RUN_NAME)
        loaded.append(name)
    return loaded


def _add_preferences(store, path: Path, dataset: str) -> None:
    """The other annotators' preferences (pair_id, annotator, preference) on the demo's pairs."""
    import pandas as pd

    uids = store.pairs(dataset).set_index("pair_id")["uid"]
    frame = pd.read_csv(path, dtype=str)
    store.add_preferences(pd.DataFrame({
        "pair_uid": frame["pair_id"].map(uids), "annotator": frame["annotator"],
        "criterion": DEFAULT_PREFERENCE_CRITERION, "choice": [coerce_choice(c) for c in frame["preference"]],
        "shown_order": None, "critique": None}), source="demo")


def run_demo_judges(store, dataset: str) -> list[str]:
    """Run the demo's offline judges on one dataset; returns the run ids, oldest first.

    - the judges DEMO_JUDGES names for the dataset, over all its items (tagged "all versions" when the items
      come from several app versions, so no single version takes credit for them);
    - for DEMO_TREND_DATASETS with several `app_version`s: DEMO_TREND_JUDGE once per version instead, tagged
      with it, the first one pinned as the baseline, so Trends shows one point per app version;
    - with enough human scores: the distilled classifier judge (judge.distill).
    """
    from judge.distill import MIN_LABELS, distill_judge
    from judge.runner import execute_run, start_run
    from judge.specs import builtin_specs

    info = store.dataset(dataset)
    items = store.items(int(info["id"]))
    specs = builtin_specs()
    run_ids = []

    def run(spec_name: str, **options) -> str:
        run_id = start_run(store, dataset=dataset, spec=specs[spec_name], **options)
        execute_run(store, run_id)
        run_ids.append(run_id)
        return run_id

    versions = sorted({str(m["app_version"]) for m in items["metadata"] if m.get("app_version") is not None})
    by_version = dataset in DEMO_TREND_DATASETS and len(versions) > 1
    criteria = {c.name for c in store.criteria(dataset)}
    for spec_name, criterion in DEMO_JUDGES.get(dataset, ()):
        if (by_version and spec_name == DEMO_TREND_JUDGE) or criterion not in criteria:
            continue
        run(spec_name, version_tag=ALL_VERSIONS if len(versions) > 1 else None, name=f"demo: {criterion}",
            criterion=criterion)
    if by_version:
        trend_criterion = dict(DEMO_JUDGES[dataset])[DEMO_TREND_JUDGE]
        for version in versions:
            uids = items.loc[[m.get("app_version") == version for m in items["metadata"]], "uid"]
            run_id = run(DEMO_TREND_JUDGE, item_uids=list(uids), version_tag=version, name=f"demo: {version} only",
                         criterion=trend_criterion)
            if version == versions[0]:
                store.pin_baseline(DEMO_TREND_JUDGE, run_id)
    for name, criterion in DEMO_DISTILLED:
        if name != dataset or criterion not in criteria:
            continue
        humans = store.human_item_labels(int(info["id"]), store.criterion(dataset, criterion).id)
        if humans[["human_score", "human_passed"]].notna().any(axis=1).sum() >= MIN_LABELS:
            run_ids.append(distill_judge(store, dataset, criterion=criterion).run_id)
    return run_ids
