"""The command line itself: help in Chinese for every command and option."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ecoxl.cli import main

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("name", [None, *sorted(main.commands)])
def test_every_command_and_option_is_described_in_chinese(name):
    args = [name, "--help"] if name else ["--help"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0
    assert "Show this message" not in result.output and "显示本帮助后退出。" in result.output
    command = main.commands[name] if name else main
    assert CHINESE.search(command.help or "")
    for param in command.params:
        if isinstance(param, click.Option):
            assert CHINESE.search(param.help or ""), (name, param.name)


def test_help_uses_full_width_punctuation_beside_chinese():
    texts = [main.help or ""]
    for command in main.commands.values():
        texts.append(command.help or "")
        texts += [p.help or "" for p in command.params if isinstance(p, click.Option)]
    half_width = re.compile(r"[\u4e00-\u9fff][,;:()]|[,;(][\u4e00-\u9fff]")
    assert [t for t in texts if half_width.search(t)] == []


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["check"], "PLAN"),
        (["send", "bogus"], "forms"),
        (["--bogus"], "--bogus"),
        (["colect"], "collect"),
        (["collect", "/nonexistent/x"], "/nonexistent/x"),
        (["forms", "--period"], "--period"),
        (["status", "extra"], "extra"),
    ],
)
def test_usage_errors_are_one_chinese_line_and_a_hint(args, named):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("错误：") and named in lines[0]
    assert lines[1].endswith("--help")
    assert "Usage" not in result.stderr and "Error" not in result.stderr


def test_a_file_the_system_refuses_is_one_chinese_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    notice = Path(__file__).parents[1] / "examples" / "xinzheng-2015.txt"
    result = CliRunner().invoke(main, ["init", str(blocker / "ws"), "--notice", str(notice)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"错误：无法读写“{blocker / 'ws'}”：路径中有一项是文件而不是文件夹"
    ]


def test_a_damaged_ledger_is_named_not_an_internal_error(tmp_path, monkeypatch):
    notice = Path(__file__).parents[1] / "examples" / "xinzheng-2015.txt"
    ws = tmp_path / "ws"
    assert CliRunner().invoke(main, ["init", str(ws), "--notice", str(notice)]).exit_code == 0
    (ws / "ledger.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x00garbage" * 2000)
    monkeypatch.chdir(ws)
    result = CliRunner().invoke(main, ["scorecard", "--period", "2015-Q3"])
    assert result.exit_code == 2
    assert "ledger.sqlite" in result.stderr or "台账" in result.stderr
    assert "内部错误" not in result.stderr


def test_the_wheel_ships_every_doc_the_help_names(tmp_path):
    root = Path(__file__).parents[1]
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(root), "--no-deps", "-q", "-w", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("ecoxl-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    helps = [main.help or "", *(c.help or "" for c in main.commands.values())]
    helps += [p.help or "" for c in main.commands.values() for p in c.params if p.help]
    named = {m for text in helps for m in re.findall(r"docs/(\w+\.md)", text)}
    assert named and {f"ecoxl/docs/{m}" for m in named} <= names
    assert {"ecoxl/templates/ecoxl.toml", "ecoxl/examples/xinzheng-2015.txt"} <= names


def test_debug_adds_the_traceback_to_the_one_line(tmp_path):
    empty = tmp_path / "空白.txt"
    empty.write_bytes(b"")
    plain = CliRunner().invoke(main, ["parse", str(empty)])
    debug = CliRunner().invoke(main, ["--debug", "parse", str(empty)])
    assert plain.exit_code == debug.exit_code == 2
    assert "Traceback" not in plain.stderr and "Traceback" in debug.stderr
    assert plain.stderr.strip() == debug.stderr.strip().splitlines()[-1]
