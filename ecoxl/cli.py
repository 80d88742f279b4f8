"""The `ecoxl` command: a thin layer over the library, one subcommand per stage.

Library exceptions (`exceptions.EcoxlError`) become one line on stderr and their
exit code; anything unexpected becomes one line too, with the traceback only
under `--debug`.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

from . import __version__
from .exceptions import EcoxlError
from .texts import say


class EcoxlGroup(click.Group):
    """Runs a subcommand and turns its errors into one line and an exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except EcoxlError as exc:
            _fail(ctx, str(exc), exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # the last line of defence: never a bare traceback
            _fail(ctx, say("cli.internal", error=f"{type(exc).__name__}: {exc}"), 3)


def _fail(ctx: click.Context, message: str, code: int) -> None:
    if ctx.find_root().params.get("debug"):
        traceback.print_exc()
    click.echo(say("cli.error", message=message), err=True)
    ctx.exit(code)


@click.group(cls=EcoxlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="出错时显示完整的调试信息(traceback)。")
@click.version_option(__version__, prog_name="ecoxl")
def main(debug: bool) -> None:
    """ecoxl:工作方案任务分解、表格下发、回收校验与考核汇总。

    \b
    流程:parse(解析通知)→ init(建工作目录)→ forms(生成填报表)
          → send forms(发送)→ collect(回收校验)→ status(回收情况)
          → scorecard(考核汇总)→ send reminders/receipts/scorecard
    先试一试:ecoxl demo
    """


def _out(path: str | None) -> Path | None:
    return Path(path) if path else None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
