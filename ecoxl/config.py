"""Settings from a workspace's `ecoxl.toml`, typed, with the defaults documented in docs/CONFIG.md.

Every setting can also be given on the command line; the CLI passes overrides
to `Settings.with_overrides`. Passwords are never settings: only the name of
the environment variable that holds one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from pathlib import Path

from .exceptions import ConfigError
from .period import Period
from .texts import say

DEFAULT_STATUS_SCORES: dict[str, float] = {
    "已完成": 1.0,
    "超进度": 1.0,
    "达进度": 0.9,
    "欠进度": 0.6,
    "未启动": 0.0,
}


@dataclass(frozen=True)
class Office:
    """The leading group's office, named in forms and e-mails as the contact."""

    name: str = "领导小组办公室"
    person: str = ""
    phone: str = ""
    email: str = ""


# The colour a row scored only from its 进展状态 shows against 序时进度 (docs/SCORING.md).
DEFAULT_STATUS_LIGHTS: dict[str, str] = {
    "已完成": "green",
    "超进度": "green",
    "达进度": "green",
    "欠进度": "amber",
    "未启动": "red",
}


@dataclass(frozen=True)
class Scoring:
    """Scoring rules (docs/SCORING.md); `[scoring]` in ecoxl.toml."""

    cap: float = 1.0  # completion rates stop here (1.2 rewards doing more than the target)
    lead_weight: float = 0.7
    responsible_weight: float = 0.3
    status_scores: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_STATUS_SCORES))
    status_lights: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_STATUS_LIGHTS))
    amber_margin: float = 0.1  # up to this far below 序时进度 is amber, further is red

    def __post_init__(self) -> None:
        """Statuses a table leaves out keep their defaults; settings the rules cannot use
        are refused, naming the setting."""
        scores = {**DEFAULT_STATUS_SCORES, **self.status_scores}
        object.__setattr__(self, "status_scores", scores)
        object.__setattr__(self, "status_lights", {**DEFAULT_STATUS_LIGHTS, **self.status_lights})
        numbers = {
            "cap": self.cap,
            "lead_weight": self.lead_weight,
            "responsible_weight": self.responsible_weight,
            "amber_margin": self.amber_margin,
            **{f"status_scores.{k}": v for k, v in self.status_scores.items()},
        }
        for key, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigError(say("config.scoring_number", key=key, value=value))
        if self.cap < 1:
            raise ConfigError(say("config.scoring_cap", value=self.cap))
        if self.lead_weight == 0 or self.responsible_weight == 0:
            raise ConfigError(say("config.scoring_weight"))
        for status in self.status_scores:
            light = self.status_lights.get(status)
            if light not in ("green", "amber", "red"):
                raise ConfigError(say("config.scoring_light", status=status, value=light))


@dataclass(frozen=True)
class Limits:
    """Limits on untrusted returned files (collect)."""

    max_file_mb: float = 20.0
    max_unzipped_mb: float = 200.0
    memory_mb: int = 1024
    timeout_seconds: float = 60.0


@dataclass(frozen=True)
class Smtp:
    """Outgoing mail server; absent means messages go to the outbox folder."""

    host: str
    port: int = 465
    security: str = "ssl"  # ssl | starttls | none
    username: str = ""
    password_env: str = ""
    sender: str = ""
    cafile: str = ""
    timeout: float = 30.0


@dataclass(frozen=True)
class Imap:
    """Mailbox that returned forms arrive in; absent means no IMAP intake."""

    host: str
    port: int = 993
    security: str = "ssl"
    username: str = ""
    password_env: str = ""
    folder: str = "INBOX"
    cafile: str = ""
    timeout: float = 30.0


@dataclass(frozen=True)
class Settings:
    """Everything `ecoxl.toml` can say."""

    period: str = ""
    deadline: str = ""  # ISO date; empty means 10 days after the period ends
    registry: str = "plan.xlsx"
    contacts: str = "contacts.xlsx"
    office: Office = field(default_factory=Office)
    sender: str = ""
    leaders: tuple[str, ...] = ()
    scoring: Scoring = field(default_factory=Scoring)
    limits: Limits = field(default_factory=Limits)
    smtp: Smtp | None = None
    imap: Imap | None = None

    def period_obj(self, override: str | None = None) -> Period:
        """The reporting period, from the command line or the settings."""
        text = override or self.period
        if not text:
            raise ConfigError(say("config.no_period"))
        return Period.parse(text)

    def deadline_for(self, period: Period, override: str | None = None) -> date:
        text = override or (self.deadline if period.code == self.period else "")
        if not text:
            return period.end + timedelta(days=10)
        try:
            return date.fromisoformat(str(text))
        except ValueError as exc:
            raise ConfigError(say("config.bad_date", text=text)) from exc

    def with_overrides(self, **values: object) -> Settings:
        """A copy with the command line's non-empty values in place."""
        return replace(self, **{k: v for k, v in values.items() if v not in (None, "", ())})


def load_settings(path: Path, overrides: Sequence[str] = ()) -> Settings:
    """Read `ecoxl.toml` (a missing file means all defaults), then apply `overrides`:
    `table.key=value` from the command line (`ecoxl --set smtp.port=587 …`)."""
    data: dict = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(say("config.bad_toml", file=path.name, reason=exc)) from exc
    for override in overrides:
        _apply_override(data, override)
    return settings_from_dict(data, path.name)


def _apply_override(data: dict, override: str) -> None:
    """Set `table.key` to `value`, read as a TOML value when it is one (587, true, ["a"]),
    else as text, so `--set period.current=2015-Q3` needs no quotes."""
    name, sep, text = override.partition("=")
    table, dot, key = name.strip().partition(".")
    if not sep or not dot or not table or not key:
        raise ConfigError(say("config.bad_override", text=override))
    try:
        value = tomllib.loads(f"value = {text.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        value = text.strip()
    section = data.setdefault(table, {})
    if not isinstance(section, dict):
        raise ConfigError(say("config.bad_override", text=override))
    section[key] = value


def settings_from_dict(data: dict, source: str = "ecoxl.toml") -> Settings:
    _check_names(data, source)
    plan = data.get("plan", {})
    report = data.get("period", {})
    mail = data.get("mail", {})
    leaders = mail.get("leaders", ())
    return Settings(
        period=str(report.get("current", "")),
        deadline=str(report.get("deadline", "")),
        registry=plan.get("registry", "plan.xlsx"),
        contacts=plan.get("contacts", "contacts.xlsx"),
        office=_table(Office, data.get("office", {}), "office", source),
        sender=mail.get("sender", ""),
        leaders=(leaders,) if isinstance(leaders, str) else tuple(leaders),
        scoring=_table(Scoring, data.get("scoring", {}), "scoring", source),
        limits=_table(Limits, data.get("limits", {}), "limits", source),
        smtp=_table(Smtp, data["smtp"], "smtp", source) if "smtp" in data else None,
        imap=_table(Imap, data["imap"], "imap", source) if "imap" in data else None,
    )


# The tables read key by key in `settings_from_dict`; the others map onto a dataclass.
_PLAIN_TABLES = {
    "plan": ("registry", "contacts"),
    "period": ("current", "deadline"),
    "mail": ("sender", "leaders"),
}
_TABLES = (*_PLAIN_TABLES, "office", "scoring", "limits", "smtp", "imap")
_TYPES: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float)}


def _check_names(data: dict, source: str) -> None:
    """A misspelt table or key is an error that names it, never a silent default."""
    for name, values in data.items():
        if name not in _TABLES or not isinstance(values, dict):
            raise ConfigError(say("config.unknown_table", file=source, table=name))
    for name, keys in _PLAIN_TABLES.items():
        unknown = sorted(set(data.get(name, {})) - set(keys))
        if unknown:
            raise ConfigError(say("config.unknown_key", file=source, table=name, key=unknown[0]))


def _table(cls: type, values: dict, name: str, source: str):
    if "password" in values:
        raise ConfigError(say("config.password_in_file", file=source, table=name))
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(say("config.unknown_key", file=source, table=name, key=unknown[0]))
    for item in fields(cls):
        value, expected = values.get(item.name), _TYPES.get(str(item.type))
        if (
            item.name in values
            and expected
            and (isinstance(value, bool) or not isinstance(value, expected))
        ):
            kind = say(f"config.type.{item.type}")
            raise ConfigError(
                say(
                    "config.bad_value",
                    file=source,
                    table=name,
                    key=item.name,
                    value=value,
                    kind=kind,
                )
            )
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(say("config.missing_key", file=source, table=name, reason=exc)) from exc
