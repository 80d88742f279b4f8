"""Settings from a workspace's `ecoxl.toml`, typed, with the defaults documented in docs/CONFIG.md.

Every setting can also be given on the command line; the CLI passes `--set table.key=value`
overrides to `load_settings`. Every value is checked when the settings are read, and a
message about one names where it was written: the file's table, or the `--set` it came
from (`Origin`). Passwords are never settings: only the name of the environment variable
that holds one.
"""

from __future__ import annotations

import codecs
import json
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime, time, timedelta
from pathlib import Path

from .exceptions import ConfigError
from .period import Period
from .texts import STATUSES, say

DEFAULT_STATUS_SCORES: dict[str, float] = {
    "已完成": 1.0,
    "超进度": 1.0,
    "达进度": 0.9,
    "欠进度": 0.6,
    "未启动": 0.0,
}

SECURITY = ("ssl", "starttls", "none")
LIGHTS = ("green", "amber", "red")
MAX_MAIL_TIMEOUT = 86400.0  # a day; far longer overflows the socket's clock


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
    """Scoring rules (docs/SCORING.md); `[scoring]` in ecoxl.toml, checked by `_check_scoring`."""

    cap: float = 1.0  # completion rates stop here (1.2 rewards doing more than the target)
    lead_weight: float = 0.7
    responsible_weight: float = 0.3
    status_scores: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_STATUS_SCORES))
    status_lights: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_STATUS_LIGHTS))
    amber_margin: float = 0.1  # up to this far below 序时进度 is amber, further is red

    def __post_init__(self) -> None:
        """Statuses a table leaves out keep their defaults."""
        scores = {**DEFAULT_STATUS_SCORES, **self.status_scores}
        object.__setattr__(self, "status_scores", scores)
        object.__setattr__(self, "status_lights", {**DEFAULT_STATUS_LIGHTS, **self.status_lights})


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


# -- where a setting was written ------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_key(key: str) -> str:
    """A key as TOML writes it: bare when it can be (`port`), else quoted (`"欠进度"`)."""
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: object) -> str:
    """A value as TOML writes it, for messages: `true`, `"465"`, `["2015-Q3"]`, `inf`;
    never a Python repr (`True`, `['2015-Q3']`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # TOML's basic string escapes are JSON's
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        pairs = (f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{ " + ", ".join(pairs) + " }" if value else "{}"
    return str(value)


def _shown_override(text: str) -> str:
    """A `--set` as the message repeats it; a password's value is never repeated."""
    name, _, _ = text.partition("=")
    if name.strip().rpartition(".")[2].strip().strip("\"'") == "password":
        return f"{name.strip()}=…"
    return text.strip()


@dataclass(frozen=True)
class Origin:
    """Where each setting was written: the settings file, or a `--set` on the command line.

    `data` is every table as read, the overrides merged in; `given` maps the path of each
    setting (`("smtp", "port")`) or table a `--set` wrote to that `--set`'s text.
    """

    file: str = "ecoxl.toml"
    data: Mapping[str, object] = field(default_factory=dict)
    given: Mapping[tuple[str, ...], str] = field(default_factory=dict)

    def override(self, *path: str) -> str | None:
        """The `--set` that wrote `path` or a table around it, else None (from the file)."""
        for n in range(len(path), 0, -1):
            text = self.given.get(path[:n])
            if text is not None:
                return text
        return None

    def cli_text(self, *path: str) -> str | None:
        """What followed `=` in the `--set` that wrote exactly `path`."""
        text = self.given.get(path)
        if text is None or tuple(_override_path(text)) != path:
            return None
        return text.partition("=")[2].strip()

    def file_place(self, table: str) -> str:
        """`ecoxl.toml`, or `命令行 --set nosuch.key=1` for a table only the command line names."""
        text = self.override(table)
        return say("config.where.set", text=_shown_override(text)) if text else self.file

    def place(self, *path: str) -> str:
        """Where the setting `path` (tables…, key) was written, for a message about the key:
        `ecoxl.toml 的 [scoring]`, or `命令行 --set scoring.cpa=1`."""
        text = self.override(*path)
        if text is not None:
            return say("config.where.set", text=_shown_override(text))
        table = ".".join(toml_key(p) for p in path[:-1])
        return say("config.where.file", file=self.file, table=table)

    def setting(self, *path: str) -> str:
        """Where the setting `path` was written, with its value as written there, for a
        message about the value: `ecoxl.toml 的 [smtp] 中 port = "465"`, or
        `命令行 --set smtp.port=abc`."""
        text = self.override(*path)
        if text is not None:
            return say("config.where.set", text=_shown_override(text))
        place, key = self.place(*path), toml_key(path[-1])
        found: object = self.data
        for part in path:
            if not isinstance(found, Mapping) or part not in found:
                return say("config.where.key", place=place, key=key)
            found = found[part]
        return say("config.where.value", place=place, key=key, value=toml_value(found))


# -- the settings ----------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Everything `ecoxl.toml` can say."""

    period: str = ""  # the period's code (2015-Q3), checked when read
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
    origin: Origin = field(default_factory=Origin, compare=False, repr=False)

    def period_obj(self, override: str | None = None) -> Period:
        """The reporting period, from the command line or the settings."""
        text = override or self.period
        if not text:
            raise ConfigError(say("config.no_period"))
        return Period.parse(text)

    def deadline_for(self, period: Period, override: str | None = None) -> date:
        """The deadline for `period`: `override` (`--deadline`), else `[period] deadline` when
        it was given for this period (in the file, for the file's period) or on the command
        line, else 10 days after the period ends."""
        if override:
            return option_deadline(override, period)
        given = self.origin.override("period", "deadline") is not None
        if self.deadline and (given or period.code == self.period):
            return parse_deadline(self.deadline, period, self.origin.setting("period", "deadline"))
        return period.end + timedelta(days=10)


def parse_deadline(value: object, period: Period | None, setting: str) -> date:
    """`value` (text or a TOML date) as a deadline for `period`. Refused, naming `setting`,
    when it is not a date or falls before the period's first day (a deadline before the
    period ends is fine: a quarter's report may be due before the quarter is over)."""
    day = value if isinstance(value, date) and not isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            day = None
    if day is None:
        raise ConfigError(say("config.bad_date", setting=setting))
    if period is not None and day < period.start:
        raise ConfigError(
            say(
                "config.early_deadline",
                setting=setting,
                period=period.label,
                start=period.start.isoformat(),
            )
        )
    return day


def option_deadline(text: str, period: Period | None) -> date:
    """A deadline given with `--deadline` (`ecoxl forms`, `ecoxl init`)."""
    return parse_deadline(text, period, say("config.where.option", option="--deadline", text=text))


# -- reading ecoxl.toml and the command line ----------------------------------------------


def load_settings(path: Path, overrides: Sequence[str] = ()) -> Settings:
    """Read `ecoxl.toml` (a missing file means all defaults), then apply `overrides`:
    `table.key=value` from the command line (`ecoxl --set smtp.port=587 …`)."""
    data = _read(path)
    report = data.get("period")
    file_period = report.get("current") if isinstance(report, dict) else None
    given: dict[tuple[str, ...], str] = {}
    for override in overrides:
        _apply_override(data, override, given)
    _drop_other_periods_deadline(data, given, file_period)
    return settings_from_dict(data, path.name, given)


def _read(path: Path) -> dict:
    """The file's tables (none when there is no file), read as Windows Notepad saves it
    too: UTF-8 with a BOM, UTF-16, ANSI (GBK)."""
    if path.is_dir():
        raise ConfigError(say("config.not_file", path=path))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except PermissionError as exc:
        raise ConfigError(say("config.no_permission", path=path)) from exc
    except OSError as exc:
        raise ConfigError(say("config.unreadable", path=path, reason=exc.strerror or exc)) from exc
    try:
        return tomllib.loads(_decode(data, path.name))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(say("config.bad_toml", file=path.name, reason=exc)) from exc


def _decode(data: bytes, name: str) -> str:
    """A BOM decides, then UTF-8, then GB18030 (a superset of GBK), in the order
    `notice.decode_text` tries them. That function is not reused: it refuses a blank
    file, which here means all defaults, and its messages speak of a notice."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ConfigError(say("config.encoding", file=name))


def _override_path(override: str) -> list[str]:
    name = override.partition("=")[0]
    return [_unquote(part.strip()) for part in name.split(".")]


def _unquote(key: str) -> str:
    """`"欠进度"` → `欠进度`: a key may be quoted as TOML quotes it."""
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        return key[1:-1]
    return key


def _apply_override(data: dict, override: str, given: dict[tuple[str, ...], str]) -> None:
    """Set `table.key` to `value`, read as a TOML value when it is one (587, true, ["a"]),
    else as text, so `--set period.current=2015-Q3` needs no quotes. A dotted key reaches
    into a sub-table and changes only that entry (`scoring.status_scores.欠进度=0.5`)."""
    _, sep, text = override.partition("=")
    path = _override_path(override)
    if not sep or len(path) < 2 or not all(path):
        raise ConfigError(say("config.bad_override", text=override))
    try:
        value = tomllib.loads(f"value = {text.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        value = text.strip()
    table = data
    for n, part in enumerate(path[:-1], 1):
        if part not in table:
            table[part] = {}
            given.setdefault(tuple(path[:n]), override)  # a table only the command line has
        table = table[part]
        if not isinstance(table, dict):
            name = ".".join(path[:n])
            raise ConfigError(say("config.override_not_table", text=override, name=name))
    table[path[-1]] = value
    given[tuple(path)] = override


def _drop_other_periods_deadline(
    data: dict, given: Mapping[tuple[str, ...], str], file_period: object
) -> None:
    """The file's deadline belongs to the file's period: a period from the command line that
    is another one gets its own default deadline, unless a deadline is given there too."""
    report = data.get("period")
    if (
        ("period", "current") not in given
        or ("period", "deadline") in given
        or not isinstance(report, dict)
        or "deadline" not in report
    ):
        return
    if _period_code(file_period) != _period_code(report.get("current")):
        del report["deadline"]


def _period_code(value: object) -> object:
    try:
        return Period.parse(value).code if isinstance(value, str) else value
    except ConfigError:
        return value


# -- checking every value ------------------------------------------------------------------

# The tables read key by key in `settings_from_dict`, with each key's kind; the others map
# onto a dataclass, whose field types give the kinds.
_PLAIN_TABLES: dict[str, dict[str, str]] = {
    "plan": {"registry": "str", "contacts": "str"},
    "period": {"current": "str", "deadline": "date"},
    "mail": {"sender": "str", "leaders": "addresses"},
}
_CLASSES: dict[str, type] = {
    "office": Office,
    "scoring": Scoring,
    "limits": Limits,
    "smtp": Smtp,
    "imap": Imap,
}
_TABLES = (*_PLAIN_TABLES, *_CLASSES)


def settings_from_dict(
    data: dict,
    source: str = "ecoxl.toml",
    given: Mapping[tuple[str, ...], str] | None = None,
) -> Settings:
    """`Settings` from the tables of `source`, with `given` the paths `--set` wrote
    (`load_settings`); any value it cannot use is a `ConfigError` naming where it was written."""
    origin = Origin(source, data, dict(given or {}))
    _check_tables(origin)
    plain = {
        name: _values(origin, name, kinds, data.get(name, {}))
        for name, kinds in _PLAIN_TABLES.items()
    }
    plan, report, mail = plain["plan"], plain["period"], plain["mail"]
    period = None
    if report.get("current"):
        try:
            period = Period.parse(report["current"])
        except ConfigError:
            raise ConfigError(
                say("config.bad_period", setting=origin.setting("period", "current"))
            ) from None
    deadline = ""
    if report.get("deadline", "") != "":
        setting = origin.setting("period", "deadline")
        deadline = parse_deadline(report["deadline"], period, setting).isoformat()
    leaders = mail.get("leaders", ())
    return Settings(
        period=period.code if period else "",
        deadline=deadline,
        registry=plan.get("registry", "plan.xlsx"),
        contacts=plan.get("contacts", "contacts.xlsx"),
        office=_table(origin, "office"),
        sender=mail.get("sender", ""),
        leaders=(leaders,) if isinstance(leaders, str) else tuple(leaders),
        scoring=_table(origin, "scoring"),
        limits=_table(origin, "limits"),
        smtp=_table(origin, "smtp") if "smtp" in data else None,
        imap=_table(origin, "imap") if "imap" in data else None,
        origin=origin,
    )


def _check_tables(origin: Origin) -> None:
    """A misspelt table is an error that names it, never a silent default."""
    for name, values in origin.data.items():
        if name not in _TABLES or not isinstance(values, dict):
            place = origin.file_place(name)
            raise ConfigError(say("config.unknown_table", place=place, table=toml_key(name)))


def _values(origin: Origin, table: str, kinds: Mapping[str, str], values: dict) -> dict:
    """The table's values, each checked to be of its kind; a misspelt key is an error."""
    if "password" in values:
        place = origin.place(table, "password")
        raise ConfigError(say("config.password_in_file", place=place))
    unknown = [key for key in values if key not in kinds]
    if unknown:
        place = origin.place(table, unknown[0])
        raise ConfigError(say("config.unknown_key", place=place, key=unknown[0]))
    return {key: _typed(origin, (table, key), kinds[key], value) for key, value in values.items()}


def _typed(origin: Origin, path: tuple[str, ...], kind: str, value: object) -> object:
    """`value` when it is of `kind`; text from the command line where text belongs
    (`--set office.phone=62600000` is the text 62600000, not a number)."""
    if kind == "str" and not isinstance(value, str | list):
        value = origin.cli_text(*path) or value
    ok = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "table": isinstance(value, dict),
        "date": True,  # parse_deadline checks it
        "addresses": isinstance(value, str)
        or (isinstance(value, list) and all(isinstance(v, str) for v in value)),
    }[kind]
    if not ok:
        kind_text = say(f"config.type.{kind}")
        raise ConfigError(say("config.bad_value", setting=origin.setting(*path), kind=kind_text))
    return value


def _kind(annotation: object) -> str:
    text = str(annotation)
    return "table" if text.startswith("dict[") else text


def _table(origin: Origin, name: str):
    """The dataclass for table `name`, every value checked."""
    cls = _CLASSES[name]
    kinds = {item.name: _kind(item.type) for item in fields(cls)}
    values = _values(origin, name, kinds, origin.data.get(name, {}))
    for item in fields(cls):
        if item.default is MISSING and item.default_factory is MISSING and item.name not in values:
            place = origin.place(name, item.name)
            raise ConfigError(say("config.missing_key", place=place, key=item.name))
    check = _CHECKS.get(name)
    if check is not None:
        check(origin, name, values)
    return cls(**values)


def _refuse(key: str, origin: Origin, *path: str, **extra: object) -> None:
    raise ConfigError(say(key, setting=origin.setting(*path), **extra))


def _check_limits(origin: Origin, table: str, values: dict) -> None:
    """Every limit is a positive, finite number: 0 would refuse every file."""
    for key, value in values.items():
        if not (math.isfinite(value) and value > 0):
            _refuse(f"config.positive.{_kind(Limits.__annotations__[key])}", origin, table, key)


def _check_server(origin: Origin, table: str, values: dict) -> None:
    """`[smtp]` and `[imap]`: a port, a known security, a timeout a socket can wait for."""
    if "port" in values and not 1 <= values["port"] <= 65535:
        _refuse("config.port", origin, table, "port")
    if "security" in values and values["security"] not in SECURITY:
        _refuse("config.security", origin, table, "security")
    timeout = values.get("timeout", 1)
    if not (math.isfinite(timeout) and 0 < timeout <= MAX_MAIL_TIMEOUT):
        _refuse("config.timeout", origin, table, "timeout", most=f"{MAX_MAIL_TIMEOUT:g}")


def _check_scoring(origin: Origin, table: str, values: dict) -> None:
    """Numbers the rules can use; status tables that name the five statuses."""
    for key, value in values.items():
        if key.startswith("status_"):
            continue
        if not (math.isfinite(value) and value >= 0):
            _refuse("config.scoring_number", origin, table, key)
        if key == "cap" and value < 1:
            _refuse("config.scoring_cap", origin, table, key)
        if key in ("lead_weight", "responsible_weight") and value == 0:
            _refuse("config.scoring_weight", origin, table, key)
    statuses = "、".join(STATUSES)
    for key in ("status_scores", "status_lights"):
        for status, value in values.get(key, {}).items():
            path = (table, key, status)
            if status not in STATUSES:
                _refuse("config.scoring_status", origin, *path, status=status, statuses=statuses)
            if key == "status_scores" and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (math.isfinite(value) and value >= 0)
            ):
                _refuse("config.scoring_number", origin, *path)
            if key == "status_lights" and value not in LIGHTS:
                _refuse("config.scoring_light", origin, *path)


_CHECKS = {
    "scoring": _check_scoring,
    "limits": _check_limits,
    "smtp": _check_server,
    "imap": _check_server,
}
