"""The Label page's "which item next" option: order the queue by a label-next strategy (judge.label_next).

The strategy and its criterion live in the URL (`?strategy=uncertain&criterion=helpfulness`), beside the
seed and size, so a shared link gives a teammate the same suggested queue. Each suggested item shows why it
was suggested, and its label records the design it was drawn under.
"""

from __future__ import annotations

import streamlit as st

from judge.label_next import DEFAULT_BATCH, STRATEGIES, Suggestion, suggest

ORDINARY = "unlabeled first (no strategy)"


def strategy_choice(criteria: list[str]) -> tuple[str | None, str | None]:
    """Draws the strategy picker; returns (strategy or None, the criterion it ranks on)."""
    wanted = st.query_params.get("strategy")
    options = [ORDINARY, *STRATEGIES]
    col_strategy, col_criterion = st.columns(2)
    picked = col_strategy.selectbox(
        "Which item next", options, index=options.index(wanted) if wanted in options else 0, key="label.strategy",
        help="random: an unbiased sample; suspicion, uncertain, disagreement, stratified: the items the judges "
             "make most informative, weighted in reports by 1 / their inclusion probability so figures stay "
             "unbiased.")
    strategy = None if picked == ORDINARY else picked
    criterion = None
    if strategy and len(criteria) > 1:
        named = st.query_params.get("criterion")
        criterion = col_criterion.selectbox("Ranked on criterion", criteria,
                                            index=criteria.index(named) if named in criteria else 0,
                                            key="label.strategy_criterion")
    elif criteria:
        criterion = criteria[0]
    for name, value in (("strategy", strategy), ("criterion", criterion if strategy else None)):
        if value is None:
            st.query_params.pop(name, None)
        else:
            st.query_params[name] = value
    return strategy, criterion


def suggested_queue(store, dataset: str, criterion: str | None, strategy: str, *, seed: int | None,
                    size: int | None) -> dict[str, Suggestion]:
    """The suggested items in queue order, by item uid."""
    batch = suggest(store, dataset, criterion, n=size or DEFAULT_BATCH, strategy=strategy, seed=seed or 0)
    return {s.item_uid: s for s in batch}


def suggestion_note(suggestion: Suggestion | None) -> None:
    if suggestion is not None:
        st.caption(f":material/lightbulb: Suggested: {suggestion.reason} · inclusion probability "
                   f"{suggestion.inclusion_probability:.3f}")


def drawn_under(suggestion: Suggestion | None) -> dict:
    """`add_grades` options that record the design a suggested item was drawn under."""
    if suggestion is None:
        return {}
    return {"sample_design": suggestion.design, "sample_share": suggestion.share}
