"""Shared fixtures: the bundled sample, the real-world files, LibreOffice."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ecoxl.libreoffice import find_soffice

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
SAMPLE_NOTICE = EXAMPLES / "xinzheng-2015.txt"
SHARED = Path(os.environ.get("ECOXL_SHARED", REPO.parent / "shared"))
REALWORLD = SHARED / "realworld" / "calamine-tests"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden files in tests/golden/ from the current output (tests/golden.py)",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True under `pytest --update-golden`: golden tests rewrite their file instead of comparing."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def sample_notice() -> Path:
    return SAMPLE_NOTICE


@pytest.fixture(scope="session")
def soffice() -> str:
    """LibreOffice must be there: scripts/test.sh installs it, and CI must never skip these."""
    path = find_soffice()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is not installed: run scripts/test.sh, which installs it")
        pytest.skip("LibreOffice is not installed (scripts/test.sh installs it)")
    return path


@pytest.fixture(scope="session")
def realworld() -> Path:
    if not REALWORLD.is_dir():
        pytest.fail(f"the real-world spreadsheets are missing: {REALWORLD}")
    return REALWORLD
