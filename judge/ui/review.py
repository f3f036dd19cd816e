"""The Review page's widgets: one row per item with the judge's verdict pre-filled, in one form."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from judge.ui.item_view import show_item

SCORES = ["1", "2", "3", "4", "5"]


def review_form(batch: pd.DataFrame, *, pass_fail: bool) -> pd.DataFrame | None:
    """Draws the batch as a form; returns the reviewed rows when the person saves, else None."""
    with st.form("review.form", border=False):
        rows = []
        for index, row in batch.iterrows():
            with st.container(border=True):
                st.markdown(f"**{index + 1}. Item `{row['item_id']}`** · {row['reason']}")
                show_item({"input": row["input"], "output": row["output"]})
                verdict = "pass" if row["judge_passed"] else "fail"
                score_text = "" if pass_fail or pd.isna(row["judge_score"]) else f"score {int(row['judge_score'])}, "
                st.caption(f"Judge: {score_text}{verdict}")
                st.text(str(row["judge_reasoning"] or ""))
                cols = st.columns([1, 1, 3])
                score = None
                if not pass_fail:
                    judged = None if pd.isna(row["judge_score"]) else str(int(row["judge_score"]))
                    score = cols[0].selectbox("Score", SCORES, index=SCORES.index(judged) if judged else None,
                                              key=f"review.{row['item_uid']}.score")
                passed = cols[1].selectbox("Pass/fail", ["pass", "fail"], index=0 if row["judge_passed"] else 1,
                                           key=f"review.{row['item_uid']}.passed")
                critique = cols[2].text_input("Critique (needed when you correct the judge)",
                                              key=f"review.{row['item_uid']}.critique")
                rows.append({**row.to_dict(), "score": score, "passed": passed, "critique": critique})
        if st.form_submit_button("Save review", icon=":material/save:", type="primary"):
            return pd.DataFrame(rows)
    return None
