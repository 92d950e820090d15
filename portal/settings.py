"""One Settings object, read from ``PORTAL_*`` environment variables and an optional TOML file.

Plugins read their own section through ``settings.section(name)`` (the TOML table named after
the plugin, or ``PORTAL_<NAME>_<KEY>`` variables).
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

BUILTIN_PLUGINS = ("webmail", "edoc", "disclosure", "catalog")


def _as_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: str = ""
    # Plugins to enable; None means "what the administrator enabled" (stored in the database).
    plugins: tuple[str, ...] | None = None
    default_locale: str = "zh_CN"
    default_theme: str = "default"
    # Brute-force protection (MAIL-16): this many failures within the window lock for lock_minutes.
    lockout_threshold: int = 5
    lockout_window_minutes: int = 15
    lockout_minutes: int = 15
    # Encrypted login (MAIL-15): the RSA key size, how often a new key is made, and how long the
    # previous key is still accepted afterwards (more than the 20 minutes a login page lasts).
    login_key_bits: int = 3072
    login_key_rotation_hours: int = 24
    login_key_grace_minutes: int = 60
    # Addresses of reverse proxies whose X-Forwarded-For we believe; empty trusts none.
    trusted_proxies: tuple[str, ...] = ()
    secure_cookies: bool = False
    max_request_body: int = 2 * 1024 * 1024
    # Rate limits (MAIL-17), "<count>/<second|minute|hour|day>", "off" for none; a limited request
    # gets 429 with Retry-After. Per address (client_ip, as the lockout) and per account; counted
    # in Redis when redis_url is set, else in memory. An office behind one NAT address shares the
    # per-address limits, hence their room.
    rate_limit_anonymous_ip: str = "300/minute"   # any request of a visitor not logged in
    rate_limit_login_ip: str = "60/minute"        # POSTs of the login steps
    rate_limit_login_account: str = "10/minute"   # second-factor steps of one pending account
    rate_limit_send_ip: str = "120/minute"        # mails sent
    rate_limit_send_account: str = "30/minute"
    rate_limit_search_ip: str = "300/minute"      # mailbox searches
    rate_limit_search_account: str = "60/minute"
    # Forms the public files without an account (a request for disclosure), and look-ups by a
    # number and a secret code (tracking one): per address, against floods and guessing.
    rate_limit_submit_ip: str = "20/hour"
    rate_limit_submit_account: str = "off"
    rate_limit_lookup_ip: str = "60/hour"
    rate_limit_lookup_account: str = "off"
    # The HTTP server of `portal serve` against slow and greedy clients (MAIL-17; portal/server.py):
    server_header_timeout: int = 10        # seconds for a request's line and headers to arrive
    server_body_timeout: int = 30          # longest pause while a request body arrives
    server_keep_alive: int = 10            # seconds an idle connection stays open between requests
    server_max_header_bytes: int = 16384   # request line and headers; a larger head gets 400
    server_limit_concurrency: int = 4000   # connections at once (every open page holds one for /events); more get 503
    password_min_length: int = 10
    totp_issuer: str = "政务门户"
    # "inline": the web process runs the job worker; "off": `portal worker` runs it apart.
    worker: str = "inline"
    # Start the plugins' network services (register_services) with the web application.
    services: bool = True
    # The SMTP listener of the mail plugin, started by `portal serve`; 0 turns it off.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "portal.sqlite3"

    def section(self, name: str) -> dict[str, Any]:
        """Settings of one plugin: its TOML table, overridden by ``PORTAL_<NAME>_<KEY>`` variables."""
        values = dict(self.extra.get(name, {}))
        prefix = f"PORTAL_{name.upper()}_"
        for key, value in os.environ.items():
            if key.startswith(prefix):
                values[key[len(prefix):].lower()] = value
        return values

    def with_changes(self, **changes: Any) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        config_file = env.get("PORTAL_CONFIG")
        extra: dict[str, Any] = {}
        if config_file:
            with open(config_file, "rb") as handle:
                loaded = tomllib.load(handle)
            known = {f.name for f in fields(cls)}
            for key, value in loaded.items():
                if key in known:
                    values[key] = value
                elif isinstance(value, dict):
                    extra[key] = value
        for f in fields(cls):
            raw = env.get(f"PORTAL_{f.name.upper()}")
            if raw is None or f.name == "extra":
                continue
            values[f.name] = raw
        return cls(**_coerce(values), extra=extra)


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    types = {f.name: f.type for f in fields(Settings)}
    out: dict[str, Any] = {}
    for name, value in values.items():
        kind = types[name]
        if name == "data_dir":
            out[name] = Path(value)
        elif name in {"plugins", "trusted_proxies"}:
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            out[name] = tuple(value)
        elif kind in ("int",) and isinstance(value, str):
            out[name] = int(value)
        elif kind == "bool" and isinstance(value, str):
            out[name] = _as_bool(value)
        else:
            out[name] = value
    return out


def ensure_secret_key(settings: Settings) -> Settings:
    """Use the configured key, or one kept in the data directory so sessions survive restarts."""
    if settings.secret_key:
        return settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key_file = settings.data_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return settings.with_changes(secret_key=key_file.read_text().strip())
