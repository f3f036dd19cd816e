"""Settings (owner): which provider keys are configured, the prices cost estimates use, the store, and how the
dashboard is served. Secrets are shown as set / not set only."""

import streamlit as st

from judge import settings
from judge.pricing import PRICES_AS_OF
from judge.ui import errors_shown, get_store, read
from judge.ui.auth import owner_login_required, require_owner, route_through_app
from judge.ui.judges import secrets

route_through_app()
require_owner()
st.title("Settings")
st.caption("Keys and the owner secret come from the environment or .streamlit/secrets.toml; restart the "
           "dashboard after changing them. This page only says whether each is set, never its value.")

st.subheader("Provider keys")
st.table(settings.provider_status(secrets()), hide_index=True)

st.subheader("Model prices")
st.caption(f"USD per million tokens, used for cost estimates and run costs. The built-in prices are approximate "
           f"list prices as of {PRICES_AS_OF}; an override for a model wins (the latest one per model). "
           "From a terminal: judge prices set MODEL INPUT_USD OUTPUT_USD.")
prices = st.container()
with st.form("settings.price", clear_on_submit=True, border=True):
    st.markdown("**Override a price**")
    name, input_usd, output_usd = st.columns([2, 1, 1])
    model = name.text_input("Model", max_chars=200, placeholder="openai/gpt-4.1-mini",
                            help="provider/model for one provider, or the bare model name for every provider")
    input_price = input_usd.number_input("Input USD / M tokens", min_value=0.0, step=0.05, format="%.4f")
    output_price = output_usd.number_input("Output USD / M tokens", min_value=0.0, step=0.05, format="%.4f")
    if st.form_submit_button("Save price", icon=":material/save:"):
        with errors_shown():
            get_store().set_model_price(model.strip(), input_price, output_price)
            st.toast(f"Saved the price of {model.strip()}.", icon=":material/check:")
with prices:
    overrides = read("model_price_overrides")
    if overrides:
        st.markdown("**Your overrides**")
        st.dataframe(settings.override_rows(overrides), hide_index=True)
    with st.expander(f"Built-in prices (as of {PRICES_AS_OF})"):
        st.dataframe(settings.builtin_price_rows(overrides), hide_index=True)

st.subheader("Store")
with errors_shown():
    summary = settings.store_summary(get_store())
    st.markdown(f"`{summary['path']}` · {settings.size_text(summary['size_bytes'])}")
    for column, (what, count) in zip(st.columns(len(summary["counts"])), summary["counts"].items()):
        column.metric(what.capitalize(), f"{count:,}", border=True)
    st.caption("Schema migrations applied: " + ", ".join(
        f"{m['name']} ({m['applied_at']:%Y-%m-%d %H:%M})" for m in summary["migrations"]))

st.subheader("Serving")
st.table(settings.serving_rows(st.get_option("server.address"), st.get_option("server.port"),
                              owner_login_required=owner_login_required(), secrets=secrets()),
         hide_index=True, hide_header=True)
