"""Jinja2 templates for text the office may edit: e-mail bodies, form instructions.

A workspace's own `templates/` folder wins over the copies shipped with ecoxl,
so the office edits wording without touching the installation.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

_PACKAGED = Path(__file__).parent / "templates"  # inside an installed wheel
_SOURCE = Path(__file__).parent.parent / "templates"  # in a source checkout


def packaged_templates() -> Path:
    """The folder of templates shipped with ecoxl."""
    return _PACKAGED if _PACKAGED.is_dir() else _SOURCE


@cache
def _environment(override: Path | None) -> jinja2.Environment:
    folders = [str(p) for p in (override, packaged_templates()) if p and p.is_dir()]
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders, encoding="utf-8"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, override: Path | None = None, **values: object) -> str:
    """Render template `name` (e.g. `mail/forms.txt`), preferring `override`'s copy."""
    return _environment(override).get_template(name).render(**values)
