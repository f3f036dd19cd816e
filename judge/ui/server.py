"""Start the Streamlit server in this process, with app.py's navigation in force from the first request."""

from __future__ import annotations

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli as streamlit_cli


def serve(app: Path, *, address: str, port: int, options: list[str]) -> int:
    """Run `streamlit run app` here.

    A `pages/` folder beside app.py makes Streamlit start in its legacy folder navigation, where the first
    request for /upload would run pages/upload.py without app.py's routing and sign-in. Turning that mode off
    before the server starts closes the gap (judge.ui.auth.route_through_app guards plain `streamlit run`).
    """
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(app), "--server.address", address, "--server.port", str(port), *options]
    return streamlit_cli.main()
