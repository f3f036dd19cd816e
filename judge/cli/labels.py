"""`judge label`, `judge history`, `judge fewshot`, `judge rubric ...` and `judge spec ...`.

What a person does on the Label, Report and Judges pages, from a terminal: every command appends (a label,
a few-shot mark, a rubric or spec version), so nothing is overwritten.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from judge.errors import JudgeError, NotFound


def register(sub: argparse._SubParsersAction) -> None:
    label = sub.add_parser("label", help="label one item (an edit adds a new label; history is kept)")
    _item_arguments(label)
    label.add_argument("--annotator", required=True)
    label.add_argument("--score", type=int, choices=range(1, 6), metavar="1-5")
    verdict = label.add_mutually_exclusive_group()
    verdict.add_argument("--pass", dest="passed", action="store_true", default=None)
    verdict.add_argument("--fail", dest="passed", action="store_false")
    label.add_argument("--critique")
    label.add_argument("--criterion", help="the criterion graded (default: the dataset's only one)")
    label.add_argument("--final", action="store_true",
                       help="record the owner's final (adjudicated) label for the item")
    label.add_argument("--design", help="the design JSON `judge label-next` printed: the item was drawn by it, "
                                        "and the report weights the label by its inclusion probability")
    label.set_defaults(handler=_label)

    history = sub.add_parser("history", help="every label an item was given, newest first")
    _item_arguments(history)
    history.set_defaults(handler=_history)

    fewshot = sub.add_parser("fewshot", help="mark an item as a few-shot example of a judge (left out of its agreement)")
    _item_arguments(fewshot)
    fewshot.add_argument("--judge", required=True)
    fewshot.add_argument("--remove", action="store_true", help="retract the mark")
    fewshot.set_defaults(handler=_fewshot)

    rubric = sub.add_parser("rubric", help="grading rubrics (versioned)").add_subparsers(
        dest="rubric_command", required=True)
    save = rubric.add_parser("save", help="save a new version of a rubric from a JSON file")
    save.add_argument("file", type=Path, help='{"name", "criteria", "anchors": {"1": ..., "5": ...}, "pass_threshold"}')
    save.set_defaults(handler=_rubric_save)
    show = rubric.add_parser("show", help="print a rubric's latest version as JSON")
    show.add_argument("name")
    show.set_defaults(handler=_rubric_show)

    spec = sub.add_parser("spec", help="judge specs (versioned)").add_subparsers(dest="spec_command", required=True)
    save = spec.add_parser("save", help="save a judge spec from a JSON file as a new version")
    save.add_argument("file", type=Path)
    save.set_defaults(handler=_spec_save)
    export = spec.add_parser("export", help="print a saved or built-in spec as JSON")
    export.add_argument("name")
    export.add_argument("--version", type=int)
    export.set_defaults(handler=_spec_export)
    history = spec.add_parser("history", help="every saved version of a spec")
    history.add_argument("name")
    history.set_defaults(handler=_spec_history)


def _item_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--item", required=True, help="the item's id as in the imported file")


def _item_uid(store, args) -> str:
    dataset = store.dataset(args.dataset)
    uid = store.item_uids(int(dataset["id"])).get(args.item)
    if uid is None:
        raise NotFound(f"No item '{args.item}' in dataset {dataset['name']} v{dataset['version']}.")
    return uid


def _label(store, args) -> int:
    kind = "adjudication" if args.final else "label"
    uid = _item_uid(store, args)
    drawn = {}
    if args.design:
        from judge.label_next import drawn_under

        drawn = drawn_under(store, args.design, uid)
    label_id = store.add_grades(uid, args.annotator, {args.criterion: {"score": args.score, "passed": args.passed,
                                                                       "critique": args.critique}},
                                source="cli", kind=kind, **drawn)[0]
    criterion = store.item_criterion(uid, args.criterion).name
    print(f"label {label_id} saved ({kind} by {args.annotator} on item {args.item}, criterion {criterion})")
    return 0


def _history(store, args) -> int:
    table = store.label_history(_item_uid(store, args))
    print(table.to_string(index=False) if len(table) else f"item {args.item} has no labels yet")
    return 0


def _fewshot(store, args) -> int:
    store.mark_fewshot(args.judge, _item_uid(store, args), active=not args.remove)
    print(f"item {args.item} {'is no longer' if args.remove else 'is now'} a few-shot example of {args.judge}")
    return 0


def _read_json(path: Path) -> dict:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise JudgeError(f"{path}: not a readable JSON file ({exc}).") from None
    if not isinstance(body, dict):
        raise JudgeError(f"{path}: expected a JSON object.")
    return body


def _rubric_save(store, args) -> int:
    body = _read_json(args.file)
    missing = {"name", "criteria", "anchors"} - set(body)
    if missing:
        raise JudgeError(f"{args.file}: missing {', '.join(sorted(missing))}.")
    rubric_id = store.save_rubric(body["name"], body["criteria"], body["anchors"], body.get("pass_threshold", 4))
    print(f"rubric {body['name']} v{store.rubric(rubric_id=rubric_id)['version']}")
    return 0


def _rubric_show(store, args) -> int:
    rubric = store.rubric(args.name)
    print(json.dumps({k: rubric[k] for k in ("name", "version", "criteria", "anchors", "pass_threshold")},
                     indent=2, ensure_ascii=False))
    return 0


def _spec_save(store, args) -> int:
    from judge.specs import save_spec

    version = save_spec(store, _read_json(args.file))
    print(f"saved version {version}")
    return 0


def _spec_export(store, args) -> int:
    from judge.specs import JudgeSpec, load_spec

    spec = (JudgeSpec.from_dict(store.spec_body(args.name, args.version)) if args.version
            else load_spec(store, args.name))
    print(spec.to_json())
    return 0


def _spec_history(store, args) -> int:
    table = store.spec_history(args.name)
    if table.empty:
        raise NotFound(f"No saved spec named '{args.name}' (built-in specs have no history until saved).")
    print(table.drop(columns=[c for c in ("body",) if c in table]).to_string(index=False))
    return 0
