"""Judge Workbench dashboard: the navigation over the pages in pages/."""

import streamlit as st

from judge.ui.auth import (
    annotator_token, owner_sign_in, refuse_unsafe_binding, signed_in_owner, to_annotate_page,
)

st.set_page_config(page_title="Judge Workbench", page_icon=":material/balance:", layout="wide")

PAGES = {
    "Data": [
        st.Page("pages/home.py", title="Overview", icon=":material/home:", default=True),
        st.Page("pages/upload.py", title="Upload", icon=":material/upload:"),
        st.Page("pages/datasets.py", title="Datasets", icon=":material/table:"),
        st.Page("pages/label.py", title="Label", icon=":material/edit_note:"),
        st.Page("pages/pairwise.py", title="Pairwise", icon=":material/compare:"),
    ],
    "Team": [
        st.Page("pages/team.py", title="Team labeling", icon=":material/groups:"),
    ],
    "Judge": [
        st.Page("pages/judges.py", title="Judges", icon=":material/gavel:"),
        st.Page("pages/run.py", title="Run", icon=":material/play_circle:"),
        st.Page("pages/funnel.py", title="Funnel", icon=":material/filter_alt:"),
        st.Page("pages/pairwise_judge.py", title="Pairwise judge", icon=":material/join_inner:"),
    ],
    "Align": [
        st.Page("pages/report.py", title="Report", icon=":material/fact_check:"),
        st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("pages/trends.py", title="Trends", icon=":material/trending_up:"),
        st.Page("pages/rankings.py", title="Rankings", icon=":material/leaderboard:"),
        st.Page("pages/improve.py", title="Improve", icon=":material/tune:"),
        st.Page("pages/review.py", title="Review", icon=":material/rate_review:"),
        st.Page("pages/distill.py", title="Distill", icon=":material/school:"),
    ],
    "Settings": [
        st.Page("pages/settings.py", title="Settings", icon=":material/settings:"),
    ],
}

# A labeling link's session sees the annotate page and nothing else; other sessions see the owner's pages
# once signed in (always, when served on 127.0.0.1 without a secret), else only the sign-in page.
ANNOTATE = st.Page("pages/annotate.py", title="Annotate", icon=":material/rate_review:", url_path="annotate")
SIGN_IN = st.Page(owner_sign_in, title="Sign in", icon=":material/lock:", url_path="sign-in")
LINK_ENTRY = st.Page(to_annotate_page, title="Labeling link", url_path="link")

refuse_unsafe_binding()
if annotator_token():
    st.navigation([LINK_ENTRY, ANNOTATE], position="hidden").run()
elif signed_in_owner():
    st.navigation(PAGES).run()
else:
    st.navigation([SIGN_IN, ANNOTATE], position="hidden").run()
