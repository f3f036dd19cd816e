"""`judge improve` (score candidate prompts on held-out labels, promote the winner) and `judge distill`
(a classifier judge trained on the labels, no API key needed)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from judge.errors import InvalidSpec, JudgeError
from judge.improve import Leaderboard, automatic_candidates, base_run, promote, score_candidates
from judge.specs import JudgeSpec, load_spec


def register(sub: argparse._SubParsersAction) -> None:
    improve = sub.add_parser(
        "improve", help="score candidate judge prompts on held-out human labels",
        description="Run the current judge and candidates on the held-out labeled items only, rank them by "
                    "the criterion's primary figure (quadratic kappa, or pass/fail kappa for a pass/fail "
                    "criterion), and say whether the best is really better.")
    improve.add_argument("--dataset", required=True)
    improve.add_argument("--judge", required=True, help="the current judge: saved name, built-in name or .json")
    improve.add_argument("--candidates", nargs="*", default=[], metavar="FILE.json",
                         help="edited variants: files holding a spec or a list of specs")
    improve.add_argument("--model", help="provider/model for every candidate (default: each spec's own)")
    improve.add_argument("--fewshot", type=int, default=3, metavar="K",
                         help="add the automatic candidates (K few-shot examples from corrections, and guidelines "
                              "from the critiques); 0 skips them")
    improve.add_argument("--run", help="the run whose corrections feed the automatic candidates "
                                       "(default: the current judge on the tuning items)")
    improve.add_argument("--criterion", help="criterion whose labels score the candidates (default: the one the "
                                             "judge grades, else the dataset's only one)")
    improve.add_argument("--seed", type=int, default=0, help="seed of the held-out split and the bootstrap")
    improve.add_argument("--concurrency", type=int, default=16)
    improve.add_argument("--promote", action="store_true", help="save the winner when it is clearly better")
    improve.add_argument("--json", action="store_true", help="print the leaderboard as JSON")
    improve.set_defaults(handler=_improve)

    dist = sub.add_parser("distill", help="train a classifier judge on the human labels (offline)",
                          description="TF-IDF + logistic regression on a dataset's human labels of one criterion "
                                      "(1-5 scores, or pass/fail for a pass/fail criterion), stored as a run "
                                      "(labeled items scored out-of-fold, so its agreement is honest).")
    dist.add_argument("--dataset", required=True)
    dist.add_argument("--criterion", help="the criterion to learn (default: the dataset's only one)")
    dist.add_argument("--name", help="judge name of the run (default: distilled:<dataset>)")
    dist.add_argument("--folds", type=int, default=5)
    dist.add_argument("--seed", type=int, default=0)
    dist.add_argument("--no-review-labels", dest="include_review", action="store_false",
                      help="train without the labels of judge-first reviews (by default they teach it too)")
    dist.set_defaults(handler=_distill)


def _candidate_files(paths: list[str]) -> list[tuple[str, JudgeSpec]]:
    out = []
    for path in map(Path, paths):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise JudgeError(f"Cannot read the candidate file {path}: {exc.strerror}.") from exc
        except json.JSONDecodeError as exc:
            raise InvalidSpec(f"{path} is not valid JSON: {exc}.") from exc
        bodies = data if isinstance(data, list) else [data]
        for number, body in enumerate(bodies, 1):
            label = path.stem if len(bodies) == 1 else f"{path.stem} #{number}"
            out.append((label, JudgeSpec.from_dict(body).validate()))
    return out


def _improve(store, args) -> int:
    current = load_spec(store, args.judge)
    candidates = [("current", current), *_candidate_files(args.candidates)]
    if args.fewshot > 0:
        run_id = args.run or base_run(store, args.dataset, current, model=args.model, seed=args.seed,
                                      concurrency=args.concurrency, criterion=args.criterion)
        candidates += automatic_candidates(store, current, run_id, fewshot=args.fewshot, seed=args.seed)
    labels = [label for label, _ in candidates]
    if len(set(labels)) != len(labels):
        raise JudgeError(f"Two candidates share a label ({', '.join(labels)}): rename a candidate file.")
    board = score_candidates(store, args.dataset, [spec for _, spec in candidates], labels=labels, seed=args.seed,
                             concurrency=args.concurrency, model=args.model, criterion=args.criterion,
                             on_run=lambda label, run_id: print(f"scoring {label}: run {run_id}", file=sys.stderr))
    if args.json:
        print(json.dumps(board.to_dict(), indent=2, default=str))
    else:
        print(format_leaderboard(board))
    if args.promote:
        if not board.better_than_current:
            print("not promoted: no candidate is clearly better than the current spec", file=sys.stderr)
            return 1
        version = promote(store, board.best_spec)
        print(f"promoted '{board.best['label']}' as {board.best_spec.name} v{version}")
    return 0


def format_leaderboard(board: Leaderboard) -> str:
    def show(fig: dict) -> str:
        if fig["value"] is None:
            return "n/a"
        ci = fig.get("ci")
        return f"{fig['value']:.3f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")

    pass_fail = board.figure == "pass_fail_kappa"
    lead, other = ("pass/fail k (95% CI)", "quadratic k") if pass_fail else ("kappa (95% CI)", "pass/fail k")
    lines = [f"{board.heldout_items} held-out items of '{board.dataset}', criterion {board.criterion} "
             f"(seed {board.seed}), ranked by {board.figure.replace('_', ' ')}",
             f"{'#':>2}  {'candidate':<24} {lead:<22} {'exact':<7} {other:<12} "
             f"{'vs current':<22} {'n':>5}"]
    for row in board.rows:
        gain = "—" if row["current"] else show(row["vs_current"])
        exact = row["exact_agreement"]["value"]
        second = row["quadratic_kappa" if pass_fail else "pass_fail_kappa"]["value"]
        lines.append(f"{row['rank']:>2}  {row['label'][:24]:<24} {show(row[board.figure]):<22} "
                     f"{'n/a' if exact is None else f'{exact:.1%}':<7} "
                     f"{'n/a' if second is None else f'{second:.3f}':<12} {gain:<22} {row['n']:>5}")
    lines.append(board.verdict())
    return "\n".join(lines)


def _distill(store, args) -> int:
    from judge.distill import distill_judge  # scikit-learn's text models load only for this command

    result = distill_judge(store, args.dataset, name=args.name, seed=args.seed, folds=args.folds,
                           criterion=args.criterion, include_review=args.include_review)
    print(result.describe(), file=sys.stderr)
    print(result.run_id)
    return 0
