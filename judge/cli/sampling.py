"""`judge label-next`: which items to label next under a strategy, each with why and its inclusion probability.

Label a suggested item with `judge label ... --design DESIGN` (the design JSON printed here), so the report
weights it by its inclusion probability.
"""

from __future__ import annotations

import argparse
import json

from judge.label_next import DEFAULT_BATCH, STRATEGIES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("label-next", help="suggest the next items to label on a criterion, and why")
    p.add_argument("--dataset", required=True)
    p.add_argument("--criterion", help="the criterion to label (default: the dataset's only one)")
    p.add_argument("--n", type=int, default=DEFAULT_BATCH, help=f"how many items (default {DEFAULT_BATCH})")
    p.add_argument("--strategy", choices=STRATEGIES, default="random",
                   help="random (unbiased), suspicion, uncertain, disagreement or stratified")
    p.add_argument("--seed", type=int, default=0, help="the design's seed: the same seed gives the same queue")
    p.add_argument("--run", action="append", dest="runs",
                   help="a run the strategy reads (repeatable; default: every run on the criterion)")
    p.add_argument("--json", action="store_true", help="print the suggestions as JSON")
    p.set_defaults(handler=_label_next)


def _label_next(store, args) -> int:
    from judge.label_next import suggest

    suggestions = suggest(store, args.dataset, args.criterion, n=args.n, strategy=args.strategy, seed=args.seed,
                          runs=args.runs)
    if args.json:
        print(json.dumps([s.to_dict() for s in suggestions], indent=2))
        return 0
    if not suggestions:
        print("every item of this dataset version is labeled on this criterion")
        return 0
    width = max(len(s.item_id) for s in suggestions)
    print(f"{len(suggestions)} items to label next ({args.strategy}); 'p' is the inclusion probability a label "
          "will be weighted by:")
    for s in suggestions:
        print(f"  {s.item_id:<{width}}  p={s.inclusion_probability:.3f}  {s.reason}")
    print(f"record each with: judge label --dataset {args.dataset} --item ID ... --design '{suggestions[0].design}'")
    return 0
