"""Profiles (YAML), the config, cache and state directories, environment overrides.

The config file lives at $YCE_CONFIG, else $XDG_CONFIG_HOME/yce/config.yaml
(~/.config/yce/config.yaml). It holds several named profiles and the name of the
default one:

    default_profile: work
    profiles:
      work:
        client_id: ...
        client_secret: ...      # Base64 X.509 public key from the API key dialog
        api_key: ...            # v2 (ring and earring try-on)

Scripts and CI need no file at all: YCE_CLIENT_ID/YCE_CLIENT_SECRET (v1) or
YCE_API_KEY (v2) are enough. PyYAML is imported only when a file is read or written,
so `yce --help` never pays for it.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ycecli.errors import ConfigError
from ycecli.files import write_atomic
from ycecli.shell import shell_command

DEFAULT_API_BASE = "https://yce-api-01.perfectcorp.com"  # 003:230
DEFAULT_API_BASE_V2 = "https://yce-api-01.makeupar.com"  # 000:177, 001:164
DEFAULT_PROFILE_NAME = "default"

SECRET_FIELDS = ("client_secret", "api_key")

ENV_PROFILE = "YCE_PROFILE"
ENV_OVERRIDES = {
    "YCE_API_KEY": "api_key",
    "YCE_CLIENT_ID": "client_id",
    "YCE_CLIENT_SECRET": "client_secret",
    "YCE_API_BASE": "api_base",
    "YCE_API_BASE_V2": "api_base_v2",
}


@dataclass(frozen=True)
class Profile:
    """Everything yce needs to talk to one account."""

    name: str = DEFAULT_PROFILE_NAME
    client_id: str | None = None
    client_secret: str | None = None
    api_key: str | None = None
    api_base: str = DEFAULT_API_BASE
    api_base_v2: str = DEFAULT_API_BASE_V2
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    # 003:238: 100 requests per 5 minutes per IP, 100 per minute per access token.
    rate_limit_ip: int = 100
    rate_limit_ip_window: float = 300.0
    rate_limit_token: int = 100
    rate_limit_token_window: float = 60.0
    # 003 says both "no polling in 10 seconds" and "within the polling_interval";
    # we never let a gap exceed the shorter of this window and polling_interval.
    polling_window: float = 10.0
    task_timeout: float = 900.0
    max_retries: int = 5  # retries of a failed request (connection, 5xx, 429)
    # 001 gives the ring try-on task path as below; 002's sample uses
    # /s2s/v2.0/task/ring. Which one a server takes is a setting, not a guess.
    ring_task_path: str = "/s2s/v2.0/task/2d-vto/ring"
    # Where the values came from, for `profile show` and error messages.
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def has_v1(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def has_v2(self) -> bool:
        return bool(self.api_key)

    def redacted(self) -> dict[str, Any]:
        data = {}
        for f in fields(self):
            if f.name == "sources":
                continue
            value = getattr(self, f.name)
            data[f.name] = redact(value) if f.name in SECRET_FIELDS and value else value
        return data


PROFILE_FIELDS = {f.name: f for f in fields(Profile) if f.name not in ("name", "sources")}
_FIELD_TYPES = {
    name: (float if isinstance(f.default, float) else int if isinstance(f.default, int) else str)
    for name, f in PROFILE_FIELDS.items()
}


def redact(secret: str) -> str:
    """Enough to tell two keys apart, never enough to use one."""
    if len(secret) <= 8:
        return "****"
    return f"****{secret[-4:]} ({len(secret)} chars)"


@dataclass(frozen=True)
class Paths:
    config_file: Path
    cache_dir: Path
    state_dir: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Paths:
        env = os.environ if env is None else env
        home = Path(env.get("HOME") or Path.home())

        def xdg(var: str, fallback: str) -> Path:
            value = env.get(var)
            return Path(value) if value and os.path.isabs(value) else home / fallback

        config = env.get("YCE_CONFIG")
        config_file = (
            Path(config) if config else xdg("XDG_CONFIG_HOME", ".config") / "yce" / "config.yaml"
        )
        return cls(
            config_file=config_file,
            cache_dir=xdg("XDG_CACHE_HOME", ".cache") / "yce",
            state_dir=xdg("XDG_STATE_HOME", ".local/state") / "yce",
        )


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (0700) if needed; tighten it if yce owns it and it is wider."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    return path


def refuse_if_shared(path: Path, mode: int, error: type[ConfigError], what: str) -> None:
    """Refuse a secret in a file other users may open, as ssh refuses such a key: the
    secret may already have been read, so the owner should know, not find it quietly
    fixed."""
    if os.name == "posix" and mode & 0o077:
        raise error(
            f"{what} {path} holds a secret but is open to other users (mode {mode & 0o777:04o})",
            hint=f"Run `{shell_command('chmod', '600', path)}`: yce does not use it while "
            "others can read it (if someone may have, replace the secret too).",
        )


def write_private_file(path: Path, data: bytes) -> None:
    """Write atomically with mode 0600 from the first byte (never world-readable)."""
    ensure_private_dir(path.parent)
    write_atomic(path, data, private=True)


class ConfigFile:
    """The YAML file of profiles, read and written whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.default_profile: str | None = None
        self.profiles: dict[str, dict[str, Any]] = {}
        self.exists = False

    @classmethod
    def load(cls, path: Path) -> ConfigFile:
        cfg = cls(path)
        try:
            with open(path, "rb") as fh:
                mode = os.fstat(fh.fileno()).st_mode
                text = fh.read().decode("utf-8")
        except FileNotFoundError:
            return cfg
        except OSError as exc:
            raise ConfigError(
                f"cannot read config file {path}: {exc.strerror}",
                hint="Check the file's permissions, or point YCE_CONFIG elsewhere.",
            ) from None
        except UnicodeDecodeError:
            raise ConfigError(
                f"config file {path} is not UTF-8 text",
                hint="Fix or remove it, then run `yce profile add`.",
            ) from None
        cfg.exists = True
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
            raise ConfigError(
                f"config file {path} is not valid YAML ({where}): {exc.problem}",
                hint="Fix that line, or remove the file and run `yce profile add`.",
            ) from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
        if data is None:
            return cfg
        if not isinstance(data, dict):
            raise ConfigError(
                f"config file {path} must be a mapping with `profiles:`",
                hint="See README.md, section Configuration.",
            )
        unknown = set(data) - {"default_profile", "profiles"}
        if unknown:
            raise ConfigError(
                f"config file {path}: unknown top-level key(s) {', '.join(sorted(unknown))}",
                hint="Only `default_profile` and `profiles` belong at the top level.",
            )
        default = data.get("default_profile")
        if default is not None and not isinstance(default, str):
            raise ConfigError(f"config file {path}: default_profile must be a profile name")
        cfg.default_profile = default
        profiles = data.get("profiles") or {}
        if not isinstance(profiles, dict):
            raise ConfigError(f"config file {path}: `profiles` must be a mapping of name -> fields")
        for name, values in profiles.items():
            values = values or {}
            if not isinstance(values, dict):
                raise ConfigError(f"config file {path}: profile {name!r} must be a mapping")
            for key, value in values.items():
                _check_field(path, str(name), key, value)
            cfg.profiles[str(name)] = dict(values)
        if any(values.get(key) for values in cfg.profiles.values() for key in SECRET_FIELDS):
            refuse_if_shared(path, mode, ConfigError, "config file")
        return cfg

    def save(self) -> None:
        import yaml

        data: dict[str, Any] = {}
        if self.default_profile:
            data["default_profile"] = self.default_profile
        data["profiles"] = self.profiles
        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
        write_private_file(self.path, text.encode("utf-8"))
        self.exists = True


def _check_field(path: Path, profile: str, key: Any, value: Any) -> None:
    if key not in PROFILE_FIELDS:
        raise ConfigError(
            f"config file {path}: profile {profile!r} has an unknown field {key!r}",
            hint="Known fields: " + ", ".join(PROFILE_FIELDS) + ".",
        )
    expected = _FIELD_TYPES[key]
    if value is None:
        return
    ok = (
        isinstance(value, str)
        if expected is str
        else (isinstance(value, (int, float)) and not isinstance(value, bool))
    )
    if expected is int and isinstance(value, float):
        ok = value.is_integer()
    # NaN passes every comparison, so `value <= 0` alone lets it (and infinity) through.
    if not ok or (expected is not str and not (0 < value < math.inf)):
        raise ConfigError(
            f"config file {path}: profile {profile!r} field {key!r} has an invalid value {value!r}",
            hint=f"{key} must be {'a string' if expected is str else 'a positive number'}.",
        )


def load_profile(
    name: str | None = None,
    *,
    paths: Paths | None = None,
    env: Mapping[str, str] | None = None,
) -> Profile:
    """Resolve the profile to use and its fields.

    Which profile: `name` (the --profile flag), else $YCE_PROFILE, else the file's
    default. Which values: a profile named by the flag must exist, and its fields win
    over the YCE_* variables, which only fill the fields it leaves unset (the user
    asked for that profile by name); otherwise the YCE_* variables win over the file,
    and with the credential variables set no file or profile is needed."""
    env = os.environ if env is None else env
    paths = paths or Paths.from_env(env)
    cfg = ConfigFile.load(paths.config_file)
    chosen = name or env.get(ENV_PROFILE) or cfg.default_profile or DEFAULT_PROFILE_NAME
    overrides = {fld: env[var] for var, fld in ENV_OVERRIDES.items() if env.get(var)}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if chosen in cfg.profiles:
        values.update({k: v for k, v in cfg.profiles[chosen].items() if v is not None})
        sources.update({k: str(paths.config_file) for k in values})
    elif name or (env.get(ENV_PROFILE) and not overrides):
        known = ", ".join(sorted(cfg.profiles)) or "none"
        raise ConfigError(
            f"no profile named {chosen!r} in {paths.config_file} (profiles: {known})",
            hint=f"Create it with `{shell_command('yce', 'profile', 'add', chosen)}`, "
            "or leave out --profile to use the YCE_CLIENT_ID and YCE_CLIENT_SECRET (or "
            "YCE_API_KEY) variables.",
        )
    for fld, value in overrides.items():
        if name and fld in values:
            continue
        values[fld] = value
        sources[fld] = next(var for var, f in ENV_OVERRIDES.items() if f == fld)
    values = {k: _FIELD_TYPES[k](v) if k in _FIELD_TYPES else v for k, v in values.items()}
    for key in ("api_base", "api_base_v2"):
        if key in values:
            values[key] = normalise_base(values[key], sources.get(key, key))
    return Profile(name=chosen, sources=sources, **values)


def normalise_base(url: str, source: str) -> str:
    url = url.strip().rstrip("/")
    if not (url.startswith("http://") or url.startswith("https://")):
        raise ConfigError(
            f"{source}: API base {url!r} must start with http:// or https://",
            hint="For example https://yce-api-01.perfectcorp.com or http://127.0.0.1:8080.",
        )
    return url


def profile_with(profile: Profile, **changes: Any) -> Profile:
    return replace(profile, **changes)
