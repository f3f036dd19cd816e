"""Judge Workbench dashboard: the navigation over the pages in pages/."""

import streamlit as st

st.set_page_config(page_title="Judge Workbench", page_icon=":material/balance:", layout="wide")

PAGES = {
    "Data": [
        st.Page("pages/home.py", title="Overview", icon=":material/home:", default=True),
        st.Page("pages/upload.py", title="Upload", icon=":material/upload:"),
        st.Page("pages/datasets.py", title="Datasets", icon=":material/table:"),
        st.Page("pages/label.py", title="Label", icon=":material/edit_note:"),
    ],
    "Judge": [
        st.Page("pages/judges.py", title="Judges", icon=":material/gavel:"),
        st.Page("pages/run.py", title="Run", icon=":material/play_circle:"),
    ],
    "Align": [
        st.Page("pages/report.py", title="Report", icon=":material/fact_check:"),
        st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("pages/trends.py", title="Trends", icon=":material/trending_up:"),
    ],
}

st.navigation(PAGES).run()
