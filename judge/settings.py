"""What the Settings page shows: which keys are configured, the endpoints and prices in effect, the store, and
how the dashboard is served.

Nothing here returns a secret: a key or the owner secret is reported as "set" / "not set" with the name of its
variable, and a URL loses any user:password, query string and fragment before it is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from judge import team
from judge.pricing import BUILTIN_PRICES, cache_prices, model_price
from judge.providers.keys import setting

SET, NOT_SET = "set", "not set"


@dataclass(frozen=True)
class ProviderVariables:
    """The settings one provider reads (see judge/providers/*_provider.py) and where it calls without them."""

    provider: str
    key_variable: str
    base_url_variable: str
    default_base_url: str | None
    key_required: bool = True


PROVIDER_VARIABLES = (
    ProviderVariables("openai", "OPENAI_API_KEY", "OPENAI_BASE_URL", "https://api.openai.com/v1"),
    ProviderVariables("anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
    ProviderVariables("openai-compatible", "OPENAI_COMPATIBLE_API_KEY", "OPENAI_COMPATIBLE_BASE_URL",
                      None, key_required=False),
)


def missing_key(model: str | None, secrets: Mapping | None = None) -> str | None:
    """The key variable a `provider/model` still needs (None when set, optional, offline or unknown)."""
    provider = (model or "").partition("/")[0]
    for p in PROVIDER_VARIABLES:
        if p.provider == provider and p.key_required and not setting(p.key_variable, secrets):
            return p.key_variable
    return None


def shown_url(url: str) -> str:
    """The URL without credentials, query or fragment (a proxy URL may carry a token there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", "")) if parts.scheme else "(not a URL)"


def provider_status(secrets: Mapping | None = None) -> list[dict[str, str]]:
    """Per provider: whether its key is set (environment or `secrets`) and the base URL calls go to."""
    rows = []
    for p in PROVIDER_VARIABLES:
        key = SET if setting(p.key_variable, secrets) else NOT_SET
        if key == NOT_SET and not p.key_required:
            key = "not set (optional)"
        base_url = setting(p.base_url_variable, secrets)
        default = f"{p.default_base_url} (default)" if p.default_base_url else "none: given on the judge spec"
        rows.append({"provider": p.provider, "key variable": p.key_variable, "key": key,
                     "base URL variable": p.base_url_variable,
                     "base URL in effect": shown_url(base_url) if base_url else default})
    return rows


def _priced_model(name: str) -> str:
    return f"{'anthropic' if name.startswith('claude') else 'openai'}/{name}"


def builtin_price_rows(overrides: Mapping[str, tuple[float, float]]) -> list[dict[str, Any]]:
    """The built-in price table (USD per million tokens, as of PRICES_AS_OF) and the price each model really
    gets after the store's overrides, with the prompt-cache rates that follow from it (a batch costs half)."""
    rows = []
    for name, (input_usd, output_usd) in BUILTIN_PRICES.items():
        effective = model_price(_priced_model(name), overrides)
        cached_usd, write_usd = cache_prices(_priced_model(name), effective)
        rows.append({"model": _priced_model(name), "input $/M tokens": input_usd, "output $/M tokens": output_usd,
                     "in effect": "built-in" if effective == (input_usd, output_usd)
                     else f"override: {effective[0]:g} / {effective[1]:g}",
                     "cached input $/M": cached_usd, "cache write $/M": write_usd})
    return rows


def override_rows(overrides: Mapping[str, tuple[float, float]]) -> list[dict[str, Any]]:
    """The store's current price overrides (the latest per model), by model name."""
    return [{"model": model, "input $/M tokens": prices[0], "output $/M tokens": prices[1]}
            for model, prices in sorted(overrides.items())]


def file_size(path: Path) -> int:
    """Bytes on disk: the store file plus its write-ahead log, if any."""
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + ".wal")) if p.exists())


def size_text(size: int) -> str:
    """1,234 bytes, 5.6 MB: binary units, as file managers show them."""
    if size < 1024:
        return f"{size:,} bytes"
    value, unit = float(size), "bytes"
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024:
            break
    return f"{value:,.1f} {unit}"


def store_summary(store) -> dict[str, Any]:
    """The store's path, size on disk, row counts and applied schema migrations, in one store visit."""
    with store.transaction():
        counts = store.store_counts()
        migrations = store.applied_migrations()
    return {"path": str(Path(store.path).resolve()), "size_bytes": file_size(Path(store.path)),
            "counts": counts, "migrations": migrations}


def serving_rows(address: str | None, port: int, *, owner_login_required: bool,
                 secrets: Mapping | None = None) -> list[dict[str, str]]:
    """How the dashboard is reachable and protected. Secret values are reported as set / not set only."""
    reach = "this machine only" if team.is_loopback(address) else "other machines on the network"
    owners = team.owner_emails(secrets)
    link_base = team.configured_base_url()
    return [
        {"setting": "Address", "value": f"{address or 'every interface'}:{port} (reachable from {reach})"},
        {"setting": "Owner pages", "value": "sign-in required" if owner_login_required
         else "open: served on a loopback address with no owner secret"},
        {"setting": f"Owner secret ({team.OWNER_SECRET_ENV})", "value": SET if team.owner_secret(secrets) else NOT_SET},
        {"setting": f"Owner emails for organization sign-in ({team.OWNER_EMAILS_ENV})",
         "value": f"{len(owners)} configured" if owners else NOT_SET},
        {"setting": f"Address in labeling links ({team.BASE_URL_ENV})",
         "value": shown_url(link_base) if link_base else "not set: the address of the owner's browser"},
    ]
