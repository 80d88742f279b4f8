"""`ecoxl init`: a new workspace for one plan (the layout is described in workspace.py).

The notice is parsed once; what comes out belongs to the office from then on:
ecoxl.toml (every setting explained, docs/CONFIG.md), plan.xlsx, contacts.xlsx,
the folders later stages use, and a copy of ecoxl's templates the office may
reword (a workspace's copy wins over the one shipped with ecoxl).
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from .atomic import atomic_target
from .config import Imap, Limits, Office, Scoring, Smtp, option_deadline, settings_from_dict
from .contacts import write_contacts
from .exceptions import WorkspaceError
from .model import Registry
from .notice import read_notice
from .period import Period
from .registry import NOTICE_SUFFIXES, load_registry, save_registry
from .templating import packaged_templates, render
from .texts import say
from .workspace import CONFIG_NAME, Workspace

SETTINGS_TEMPLATE = "ecoxl.toml"  # rendered into the workspace, not copied
FOLDERS = ("forms", "inbox", "archive", "outbox")

# 领导小组下设办公室,办公地点设在市发展改革委,刘红军兼任办公室主任
_OFFICE_PLACE = re.compile(
    r"领导小组(?:下设|设立)办公室[,，]?(?:办公(?:地点|室)?)?设在([^,，。;；\s]+)"
)
_OFFICE_HEAD = re.compile(r"([^,，。;；、\s]{2,4})(?:同志)?兼任办公室主任")
_GROUP_NAME = re.compile(r"([^\s,，。:：;；、“”《》]{2,60}?领导小组)(?:组成人员|成员)")


@dataclass
class InitResult:
    """What `init_workspace` did, for the command to print."""

    root: Path
    registry: Registry
    period: str
    created: list[Path] = field(default_factory=list)
    replaced: list[Path] = field(default_factory=list)
    templates: list[Path] = field(default_factory=list)  # copied into the workspace
    kept: list[Path] = field(default_factory=list)  # templates the office already had

    def summary(self) -> str:
        """What was created, the plan in one line, and what to do next."""
        plan = self.registry.plan
        units, groups = self.registry.unit_counts()
        lines = [
            *(say("init.created", path=p) for p in self.created),
            *(say("init.replaced", path=p) for p in self.replaced),
            *self._templates_lines(),
            say(
                "init.summary",
                title=plan.title,
                doc_number=plan.doc_number,
                tasks=len(self.registry.tasks),
                indicators=len(self.registry.all_indicators()),
                units=units,
                groups=groups,
                reporting=len(self.registry.reporting_units()),
            ),
            say("init.next", period=self.period or f"{plan.year or date.today().year}-Q3"),
        ]
        return "\n".join(lines)

    def _templates_lines(self) -> list[str]:
        folder = self.root / "templates"
        return [
            say(key, path=folder, count=len(paths))
            for key, paths in (("init.templates", self.templates), ("init.kept", self.kept))
            if paths
        ]


def init_workspace(
    root: Path,
    notice: Path,
    *,
    period: str = "",
    deadline: str = "",
    office: Office | None = None,
    sender: str = "",
    leaders: tuple[str, ...] = (),
    force: bool = False,
) -> InitResult:
    """Create the workspace `root` from `notice` (.txt, .docx, or an existing plan.json/plan.xlsx).

    `office` fields left empty are taken from the notice where it says who the
    office is, else the defaults. An existing non-empty folder is refused unless
    `force`, which rewrites ecoxl.toml, plan.xlsx and contacts.xlsx and nothing else.
    """
    _check_folder(root, force)
    chosen = Period.parse(period) if period else None
    period = chosen.code if chosen else ""
    deadline = option_deadline(deadline, chosen).isoformat() if deadline else ""
    registry = load_registry(notice)
    office = _office(office or Office(name=""), notice)
    result = InitResult(root, registry, period)
    root.mkdir(parents=True, exist_ok=True)
    workspace = Workspace(root)

    text = _settings_text(registry, notice, period, deadline, office, sender, leaders)
    _write(result, workspace.config_path, lambda p: _write_text(p, text))
    _write(result, workspace.registry_path, lambda p: save_registry(registry, p))
    _write(result, workspace.contacts_path, lambda p: write_contacts(registry, p))
    for name in FOLDERS:
        folder = root / name
        if not folder.is_dir():
            folder.mkdir()
            result.created.append(folder)
    _copy_templates(result, workspace.templates_dir)
    return result


def _check_folder(root: Path, force: bool) -> None:
    if root.exists() and not root.is_dir():
        raise WorkspaceError(say("init.not_folder", path=root))
    if root.is_dir() and any(root.iterdir()) and not force:
        raise WorkspaceError(say("init.not_empty", path=root))


def _write(result: InitResult, path: Path, write: Callable[[Path], None]) -> None:
    """Write one file, noting whether it was new or replaced."""
    existed = path.exists()
    write(path)
    (result.replaced if existed else result.created).append(path)


def _write_text(path: Path, text: str) -> None:
    with atomic_target(path) as temp:
        temp.write_text(text, encoding="utf-8")


def _copy_templates(result: InitResult, target: Path) -> None:
    """Copy ecoxl's templates for the office to edit; a copy already there is the office's, kept."""
    source = packaged_templates()
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source)
        if relative.as_posix() == SETTINGS_TEMPLATE:
            continue
        copy = target / relative
        if copy.exists():
            result.kept.append(copy)
            continue
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
        result.templates.append(copy)


# -- the settings file ------------------------------------------------------------


def _settings_text(
    registry: Registry,
    notice: Path,
    period: str,
    deadline: str,
    office: Office,
    sender: str,
    leaders: tuple[str, ...],
) -> str:
    """ecoxl.toml rendered from its template, checked to load before it is written."""
    year = registry.plan.year or date.today().year
    example = Period.parse(f"{year}-Q3")
    text = render(
        SETTINGS_TEMPLATE,
        plan_title=registry.plan.title,
        notice=notice.name,
        toml=_quote,
        period=period,
        deadline=deadline,
        example_period=example.code,
        example_deadline=(example.end + timedelta(days=10)).isoformat(),
        office=office,
        sender=sender,
        leaders=leaders,
        scoring=Scoring(),
        limits=Limits(),
        smtp=Smtp(host=""),
        imap=Imap(host=""),
    )
    settings_from_dict(tomllib.loads(text), CONFIG_NAME)
    return text


def _quote(value: str) -> str:
    """A TOML basic string: JSON's string escapes are TOML's."""
    return json.dumps(value, ensure_ascii=False)


# -- the office, from the notice ----------------------------------------------------


def _office(given: Office, notice: Path) -> Office:
    """The given office fields, the rest from the notice, the rest the defaults."""
    is_notice = notice.suffix.lower() in NOTICE_SUFFIXES
    found = office_from_text(read_notice(notice)) if is_notice else Office()
    return Office(
        name=given.name or found.name,
        person=given.person or found.person,
        phone=given.phone or found.phone,
        email=given.email or found.email,
    )


def office_from_text(text: str) -> Office:
    """The leading group's office as the notice names it: …领导小组办公室(设在市发展改革委)."""
    default = Office()
    place = _OFFICE_PLACE.search(text)
    if not place:
        return default
    group = _GROUP_NAME.search(text)
    name = f"{group[1] if group else '领导小组'}办公室（设在{place[1]}）"
    head = _OFFICE_HEAD.search(text, place.end())
    return Office(name=name, person="".join(head[1].split()) if head else "")
