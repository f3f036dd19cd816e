"""Who may see what: the annotator's link token, the owner's secret or sign-in, and the start-up check.

The rules live in `judge.team`; this module only reads them from Streamlit (query parameters, session state,
st.secrets, st.user, server options) and draws the prompts.
"""

from __future__ import annotations

import math
from typing import Any, Mapping
from urllib.parse import urlsplit

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from judge import team
from judge.owner_guard import SignInThrottle

TOKEN_PARAM = "token"
TOKEN_KEY = "annotate.token"
OWNER_KEY = "auth.owner"
OWNER_NAME = "owner"


def _secrets() -> Mapping[str, Any]:
    """st.secrets as a plain mapping; empty when there is no secrets.toml (Streamlit raises then)."""
    try:
        return st.secrets.to_dict()
    except Exception:  # StreamlitSecretNotFoundError or an unreadable file: no secrets configured
        return {}


def _oidc_configured() -> bool:
    return "auth" in _secrets()


def _oidc_owners() -> set[str]:
    return team.owner_emails(_secrets()) if _oidc_configured() else set()


def signed_in_email() -> str | None:
    """The OIDC-verified email of this browser, when st.login is configured and the person signed in."""
    if not _oidc_configured() or not st.user.get("is_logged_in"):
        return None
    return st.user.get("email") or None


def route_through_app(*, annotate_page: bool = False) -> None:
    """Apply app.py's routing to a run that skipped it.

    Because a `pages/` folder sits next to app.py, the first script run after the server starts uses
    Streamlit's legacy folder navigation: a request for /upload runs pages/upload.py directly, without
    app.py's token routing or owner sign-in, and the sidebar lists every file. This leaves that mode for
    every later run (as `st.navigation` does) and reruns through app.py unless this run is one app.py would
    have allowed anyway: the owner on an owner page. `get_store()` calls it, so no page shows data first.
    """
    if not PagesManager.uses_pages_directory:
        return
    PagesManager.uses_pages_directory = False
    refuse_unsafe_binding()
    if annotate_page or annotator_token() or signed_in_owner() is None:
        st.rerun()


# -- annotators ---------------------------------------------------------------------------------------
def annotator_token() -> str | None:
    """The labeling token this session arrived with (?token=...), kept for the session's later reruns.

    Once a session has seen a token it stays an annotator session: app.py then offers the annotate page only.
    """
    raw = st.query_params.get(TOKEN_PARAM)
    if raw:
        st.session_state[TOKEN_KEY] = raw[:256]
    return st.session_state.get(TOKEN_KEY)


def to_annotate_page() -> None:
    """An annotator session's landing page: Streamlit serves the default page at "/" only, so links point to
    /annotate and any other address of such a session lands there."""
    st.switch_page("pages/annotate.py")


# -- the owner ----------------------------------------------------------------------------------------
def refuse_unsafe_binding() -> None:
    """Stop the app with an explanation when it is served beyond localhost and the owner pages are unprotected."""
    problem = team.serving_problem(
        st.get_option("server.address"), secret=team.owner_secret(_secrets()), oidc_owners=_oidc_owners()
    )
    if problem:
        PagesManager.uses_pages_directory = False  # no later run may start a page without app.py
        st.error(problem, icon=":material/lock_open:")
        st.stop()


def owner_login_required() -> bool:
    """Open on a loopback address with nothing configured; otherwise the owner must prove who they are.

    A configured secret is required even on 127.0.0.1, because a reverse proxy on the same host makes a
    loopback-bound server reachable from the network.
    """
    address = st.get_option("server.address")
    return not team.is_loopback(address) or team.owner_secret(_secrets()) is not None or bool(_oidc_owners())


@st.cache_resource(show_spinner=False)
def _throttle() -> SignInThrottle:
    """Wrong owner secrets per client, for every session of this server (see judge.owner_guard)."""
    return SignInThrottle()


def _client() -> str:
    """Who is trying a secret: the peer address or, behind a reverse proxy on this machine, the address the
    proxy appended last to X-Forwarded-For (earlier entries are the client's own claims)."""
    address = st.context.ip_address
    address = address if isinstance(address, str) and address else "local"  # None for a localhost browser
    forwarded = st.context.headers.get("X-Forwarded-For")
    if isinstance(forwarded, str) and forwarded and (address == "local" or team.is_loopback(address)):
        address = forwarded.split(",")[-1].strip() or address
    return address


def signed_in_owner() -> str | None:
    """The owner's name if this session may use the owner pages (remembered in the session only), else None."""
    if not owner_login_required():
        return OWNER_NAME
    if st.session_state.get(OWNER_KEY):
        return st.session_state[OWNER_KEY]
    email = signed_in_email()
    if email and email.lower() in _oidc_owners():
        st.session_state[OWNER_KEY] = email
        return email
    return None


def owner_sign_in() -> None:
    """The sign-in page: the owner secret (compared in constant time) and, if configured, OIDC login."""
    st.title("Judge Workbench")
    secret = team.owner_secret(_secrets())
    if secret:
        with st.form("auth.owner_form", width=440):
            st.markdown("**Owner sign-in**")
            st.caption("This dashboard is shared on a network: its owner pages need the owner secret. "
                       "Annotators: open the labeling link you were given instead.")
            given = st.text_input("Owner secret", type="password", key="auth.secret")
            if st.form_submit_button("Sign in", type="primary"):
                client, throttle = _client(), _throttle()
                wait = throttle.wait(client)
                if wait > 0:
                    st.error(f"Too many wrong secrets from this address: try again in {math.ceil(wait)} s.",
                             icon=":material/timer:")
                elif team.secret_matches(given, secret):
                    throttle.succeeded(client)
                    st.session_state[OWNER_KEY] = OWNER_NAME
                    st.rerun()
                else:
                    throttle.failed(client)
                    st.error("That is not the owner secret.", icon=":material/lock:")
    if _oidc_configured():
        email = signed_in_email()
        if email:
            st.warning(f"{email} is not an owner of this workbench.", icon=":material/person_off:")
        st.button("Sign in with your organization", on_click=st.login, icon=":material/login:")


def require_owner() -> str:
    """For owner pages: the owner's name, or the sign-in prompt and st.stop()."""
    owner = signed_in_owner()
    if owner is None:
        owner_sign_in()
        st.stop()
    return owner


def public_base_url() -> str:
    """The URL annotators should use: $JUDGE_BASE_URL, else this browser's address plus server.baseUrlPath."""
    configured = team.configured_base_url()
    if configured:
        return configured.rstrip("/")
    here = urlsplit(st.context.url or "http://localhost:8501")
    path = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{here.scheme}://{here.netloc}" + (f"/{path}" if path else "")
