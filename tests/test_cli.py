"""The command line itself: help in Chinese for every command and option."""

from __future__ import annotations

import re

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
