"""A workspace: one folder per plan, holding its settings, registry, forms, ledger and outputs.

ecoxl.toml            settings (config.py)
plan.xlsx             the registry workbook the office edits (registry.py)
contacts.xlsx         who fills in each unit's form, with e-mail and phone
forms/<period>/       the forms written for a period (forms.py)
inbox/                where returned files may be dropped (collect's default path)
archive/              every returned file's original bytes, by SHA-256 (collect.py)
ledger.sqlite         submissions, problems and sent mail (ledger.py)
problems/             problem lists per period, for forwarding
scorecards/           the scorecard workbooks (scorecard.py)
outbox/<period>/      e-mails written as .eml files when no SMTP is set (transport.py)
templates/            optional copies of the e-mail/instruction templates, edited by the office
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .config import Settings, load_settings
from .exceptions import WorkspaceError
from .texts import say

CONFIG_NAME = "ecoxl.toml"


@dataclass(frozen=True)
class Workspace:
    """Paths inside one workspace folder; nothing here reads or writes beyond the settings."""

    root: Path
    overrides: tuple[str, ...] = ()  # `table.key=value` settings from the command line

    @classmethod
    def find(cls, start: Path | None = None, overrides: Sequence[str] = ()) -> Workspace:
        """The workspace containing `start` (default: the current folder)."""
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / CONFIG_NAME).exists():
                return cls(folder, tuple(overrides))
        raise WorkspaceError(say("workspace.missing", path=here))

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.config_path, self.overrides)

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def registry_path(self) -> Path:
        return self.root / self.settings.registry

    @property
    def contacts_path(self) -> Path:
        return self.root / self.settings.contacts

    def forms_dir(self, period: str) -> Path:
        return self.root / "forms" / period

    @property
    def inbox_dir(self) -> Path:
        return self.root / "inbox"

    @property
    def archive_dir(self) -> Path:
        return self.root / "archive"

    @property
    def ledger_path(self) -> Path:
        return self.root / "ledger.sqlite"

    def problems_path(self, period: str) -> Path:
        return self.root / "problems" / f"{period}_问题清单.xlsx"

    def scorecard_path(self, period: str) -> Path:
        return self.root / "scorecards" / f"{period}_考核汇总.xlsx"

    def outbox_dir(self, period: str) -> Path:
        return self.root / "outbox" / period

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"
