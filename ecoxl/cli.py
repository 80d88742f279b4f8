"""The `ecoxl` command: a thin layer over the library, one subcommand per stage.

Library exceptions (`exceptions.EcoxlError`) become one line on stderr and their
exit code; anything unexpected becomes one line too, with the traceback only
under `--debug`.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import traceback
from pathlib import Path

import click
from xlsxwriter.exceptions import FileCreateError

from . import __version__
from .exceptions import EcoxlError
from .texts import os_reason, say
from .workspace import Workspace


class _ChineseHelp:
    """`-h/--help` described in Chinese, like every other option, and usage errors (a missing
    argument, an unknown option) reported in Chinese as one line and a hint."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = "显示本帮助后退出。"
        return option

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            path = f"{parent.command_path} {info_name}" if parent else info_name
            raise UsageError(exc, path) from exc


class EcoxlCommand(_ChineseHelp, click.Command):
    """A subcommand."""


class EcoxlGroup(_ChineseHelp, click.Group):
    """Runs a subcommand and turns its errors into one line and an exit code."""

    command_class = EcoxlCommand

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except EcoxlError as exc:
            _fail(ctx, str(exc), exc.exit_code)
        except UsageError:
            raise
        except click.UsageError as exc:  # an unknown command
            raise UsageError(exc, ctx.command_path) from exc
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except (OSError, FileCreateError) as exc:  # a folder not writable, a disk full …
            _fail(ctx, _os_message(exc), 1)
        except sqlite3.DatabaseError as exc:
            _fail(ctx, say("cli.ledger_damaged", reason=exc), 2)
        except Exception as exc:  # the last line of defence: never a bare traceback
            _fail(ctx, say("cli.internal", error=f"{type(exc).__name__}: {exc}"), 3)


class UsageError(click.UsageError):
    """A usage error as one Chinese line (`错误：缺少 PLAN`) and where to read the usage."""

    def __init__(self, original: click.UsageError, command: str):
        super().__init__(_usage_message(original), original.ctx)
        self.command = command

    def show(self, file=None) -> None:
        click.echo(say("cli.error", message=self.message), err=True)
        click.echo(say("cli.usage.hint", command=self.command), err=True)


def _usage_message(exc: click.UsageError) -> str:
    """Click's English message, said in Chinese for the kinds a clerk meets."""
    param = getattr(exc, "param", None)
    name = ""
    if isinstance(param, click.Argument):
        name = (param.name or "").upper()
    elif param is not None:
        name = max(param.opts, key=len)
    if isinstance(exc, click.MissingParameter) and param is not None:
        kind = "missing_argument" if isinstance(param, click.Argument) else "missing_option"
        return say(f"cli.usage.{kind}", name=name)
    if isinstance(exc, click.NoSuchOption | click.exceptions.NoSuchCommand):
        maybe = (
            say("cli.usage.maybe", names="、".join(exc.possibilities)) if exc.possibilities else ""
        )
        if isinstance(exc, click.NoSuchOption):
            return say("cli.usage.no_option", name=exc.option_name) + maybe
        group = exc.ctx.command if exc.ctx else None
        commands = "、".join(sorted(getattr(group, "commands", {})))
        return say("cli.usage.no_command", name=exc.command_name, commands=commands) + maybe
    if isinstance(exc, click.BadParameter) and param is not None:
        if isinstance(param.type, click.Choice):
            return say("cli.usage.choice", name=name, choices="、".join(param.type.choices))
        missing = re.search(r"'(.+)' does not exist", exc.message)
        if missing:
            return say("cli.usage.no_path", name=name, path=missing[1])
    if isinstance(exc, click.BadOptionUsage) and "requires an argument" in exc.message:
        return say("cli.usage.needs_value", name=exc.option_name)
    extra = re.match(r"Got unexpected extra arguments? \((.*)\)", exc.message)
    if extra:
        return say("cli.usage.extra", args=extra[1])
    return say(
        "cli.usage.other", name=name or say("cli.usage.command"), detail=exc.format_message()
    )


def _os_message(exc: OSError | FileCreateError) -> str:
    """One line for a file the system would not read or write (xlsxwriter wraps its OSError)."""
    if isinstance(exc, FileCreateError):
        if not (exc.args and isinstance(exc.args[0], OSError)):
            return say("cli.os_error.nopath", reason=exc)
        exc = exc.args[0]
    if exc.filename:
        return say("cli.os_error", path=exc.filename, reason=os_reason(exc))
    return say("cli.os_error.nopath", reason=os_reason(exc))


def _fail(ctx: click.Context, message: str, code: int) -> None:
    if ctx.find_root().params.get("debug"):
        traceback.print_exc()
    click.echo(say("cli.error", message=message), err=True)
    ctx.exit(code)


@click.group(cls=EcoxlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="出错时显示完整的调试信息（traceback）。")
@click.option(
    "-s",
    "--set",
    "overrides",
    multiple=True,
    metavar="表.项=值",
    help="临时改用一项设置（本次有效，可写多次），如 --set smtp.port=587；"
    "设置项见 docs/CONFIG.md。",
)
@click.version_option(__version__, prog_name="ecoxl", help="显示版本号后退出。")
def main(debug: bool, overrides: tuple[str, ...]) -> None:
    """ecoxl：工作方案任务分解、表格下发、回收校验与考核汇总。

    \b
    流程：parse（解析通知）→ init（建工作目录）→ forms（生成填报表）
          → send forms（发送）→ collect（回收校验）→ status（回收情况）
          → scorecard（考核汇总）→ send reminders/receipts/scorecard
    先试一试：ecoxl demo
    """


def docs_folder() -> Path:
    """Where the docs/*.md the help names are: in the package when installed from a wheel,
    beside it in a source checkout."""
    installed = Path(__file__).parent / "docs"
    return installed if installed.is_dir() else Path(__file__).parents[1] / "docs"


main.epilog = say("cli.docs", path=docs_folder())


def _out(path: str | None) -> Path | None:
    return Path(path) if path else None


def _workspace() -> Workspace:
    """The workspace around the current folder, with the `--set` overrides of this run."""
    overrides = click.get_current_context().find_root().params.get("overrides", ())
    return Workspace.find(overrides=overrides)


# -- parse, check (parse.py, registry.py, lint.py) -------------------------------


@main.command("parse")
@click.argument("notice", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="输出 .json（登记册 JSON）或 .xlsx（可在 Excel 中修改的登记册）；不写则打印 JSON。",
)
def parse_command(notice: str, output: str | None) -> None:
    """解析通知：把工作方案通知（.txt、.docx）读成方案登记册（docs/REGISTRY.md）。

    也可读入已有的 plan.xlsx / plan.json，转存为另一种格式。"""
    from .registry import load_registry, save_registry

    registry = load_registry(Path(notice))
    if output is None:
        click.echo(registry.to_json(), nl=False)
        return
    save_registry(registry, Path(output))
    indicators = len(registry.all_indicators())
    units, groups = registry.unit_counts()
    click.echo(
        say("parse.done", tasks=len(registry.tasks), indicators=indicators,
            units=units, groups=groups, path=output),
        err=True,
    )  # fmt: skip


@main.command("check")
@click.argument("plan", type=click.Path(dir_okay=False))
@click.pass_context
def check_command(ctx: click.Context, plan: str) -> None:
    """检查方案：列出下发填报表前需要核对的问题（docs/REGISTRY.md）。

    \b
    错误：任务没有牵头单位；任务中的单位不在单位名单中。
    提醒：同一指标在不同位置目标值不一致；含数字的短语未能识别为指标；
          单位不在附件领导小组名单中（没有联系人）；单位类别没有列出成员。
    通知（.txt、.docx）和登记册（plan.xlsx、plan.json）都可检查。
    有错误时退出码为 1，只有提醒或没有问题时为 0。"""
    from .lint import check_file, report_lines

    report = check_file(Path(plan))
    click.echo("\n".join(report_lines(report)))
    ctx.exit(1 if report.errors else 0)


# -- init (init.py) ---------------------------------------------------------------


@main.command("init")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option(
    "--notice",
    required=True,
    metavar="通知.txt",
    help="工作方案通知（.txt、.docx），或已有的 plan.xlsx / plan.json。",
)
@click.option("--period", metavar="2015-Q3", help="当前填报期次，写入 ecoxl.toml。")
@click.option("--deadline", metavar="2015-10-10", help="截止日期，写入 ecoxl.toml。")
@click.option("--office-name", help="办公室名称（默认取通知中的领导小组办公室）。")
@click.option("--office-person", help="办公室联系人。")
@click.option("--office-phone", help="办公室联系电话。")
@click.option("--office-email", help="办公室电子邮箱。")
@click.option("--sender", help='发件人地址，如 "生态办 <shengtai@example.gov.cn>"。')
@click.option(
    "--leader",
    "leaders",
    multiple=True,
    metavar="地址",
    help='考核汇总表的收件人（领导），可写多次，如 --leader "张市长 <mayor@example.gov.cn>"。',
)
@click.option(
    "--force",
    is_flag=True,
    help="文件夹不是空的也建立（覆盖 ecoxl.toml、plan.xlsx、contacts.xlsx）。",
)
def init_command(
    folder: str,
    notice: str,
    period: str | None,
    deadline: str | None,
    office_name: str | None,
    office_person: str | None,
    office_phone: str | None,
    office_email: str | None,
    sender: str | None,
    leaders: tuple[str, ...],
    force: bool,
) -> None:
    """建立工作目录：ecoxl.toml、plan.xlsx、contacts.xlsx 和各文件夹（docs/CONFIG.md）。"""
    from .config import Office
    from .init import init_workspace

    office = Office(
        name=office_name or "",
        person=office_person or "",
        phone=office_phone or "",
        email=office_email or "",
    )
    result = init_workspace(
        Path(folder),
        Path(notice),
        period=period or "",
        deadline=deadline or "",
        office=office,
        sender=sender or "",
        leaders=leaders,
        force=force,
    )
    click.echo(result.summary())


# -- forms (forms.py) ------------------------------------------------------------

PROGRESS_MIN_FORMS = 10  # fewer forms than this are written without a progress bar


@main.command("forms")
@click.option(
    "--period", metavar="2015-Q3", help="填报期次（默认取 ecoxl.toml 的 [period] current）。"
)
@click.option(
    "--deadline",
    metavar="2015-10-10",
    help="截止日期（默认取 ecoxl.toml 的 [period] deadline，否则为期末后 10 天）。",
)
@click.option(
    "--unit",
    "units",
    multiple=True,
    metavar="单位",
    help="只生成这个单位的表（可重复；可写简称或单位类别，如 各乡镇（街道、管委会））。",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    help="输出文件夹（默认 forms/<期次>/，发送时从这里取表）。",
)
def forms_command(
    period: str | None, deadline: str | None, units: tuple[str, ...], output: str | None
) -> None:
    """生成填报表：每个有牵头或责任任务的单位一个 .xlsx（docs/FORMS.md）。"""
    from .forms import forms_run

    run = forms_run(
        _workspace(), period=period, deadline=deadline, units=units, out_dir=_out(output)
    )
    if len(run.units) < PROGRESS_MIN_FORMS:
        paths = run.write()
    else:
        label = say("forms.progress")
        with click.progressbar(length=len(run.units), label=label, file=sys.stderr) as bar:
            paths = run.write(progress=bar.update)
    click.echo(say("forms.done", count=len(paths), period=run.period.label, path=run.out_dir))


# -- scorecard (scorecard.py) ----------------------------------------------------


@main.command("scorecard")
@click.option(
    "--period", metavar="2015-Q3", help="填报期次（默认取 ecoxl.toml 的 [period] current）。"
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="输出文件（默认 scorecards/<期次>_考核汇总.xlsx）。",
)
@click.option(
    "--json", "as_json", is_flag=True, help="把计算结果（总览、指标、任务、单位）以 JSON 打印。"
)
def scorecard_command(period: str | None, output: str | None, as_json: bool) -> None:
    """考核汇总：由台账生成带实时公式的考核汇总表（docs/SCORECARD.md）。"""
    from .scorecard import make_scorecard

    result = make_scorecard(_workspace(), period, _out(output))
    click.echo(result.to_json() if as_json else result.summary())


# -- collect, status (collect.py, status.py) -------------------------------------

PROGRESS_MIN_FILES = 10  # fewer files than this are collected without a progress bar


@main.command("collect")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option(
    "--period",
    metavar="2015-Q3",
    help="本次回收的填报期次（默认取 ecoxl.toml 的 [period] current）；其他期次的表被退回。",
)
@click.pass_context
def collect_command(ctx: click.Context, paths: tuple[str, ...], period: str | None) -> None:
    """回收校验：读取文件、文件夹（含子文件夹）和邮件文件（.eml、mbox、Maildir）中的填报表，
    校验后登记到台账并存档原件（docs/COLLECT.md）。默认读取工作目录的 inbox/。

    有文件被退回时退出码为 1。"""
    from .collect import collect, count_files

    ws = _workspace()
    ws.inbox_dir.mkdir(exist_ok=True)  # the default folder: empty rather than an error
    chosen = [Path(p) for p in paths] or [ws.inbox_dir]
    total = count_files(chosen)
    if total < PROGRESS_MIN_FILES:
        result = collect(ws, chosen, period)
    else:
        label = say("collect.progress")
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            result = collect(ws, chosen, period, on_handled=lambda _: bar.update(1))
    click.echo(result.summary())
    ctx.exit(1 if result.rejected else 0)


@main.command("status")
@click.option(
    "--period", metavar="2015-Q3", help="填报期次（默认取 ecoxl.toml 的 [period] current）。"
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="以 JSON 打印（字段见 docs/LEDGER.md，供其他程序使用）。",
)
@click.option("--unit", metavar="单位", help="只看这个单位本期报送过的每一份文件（含已被替代的）。")
def status_command(period: str | None, as_json: bool, unit: str | None) -> None:
    """回收情况：各单位已报送、逾期、被退回（及问题数）或未报送。"""
    from .status import status, unit_history

    report = unit_history(_workspace(), unit, period) if unit else status(_workspace(), period)
    click.echo(report.to_json() if as_json else report.table())


# -- e-mail: send, fetch (mail.py, transport.py, imap.py) ------------------------


@main.command("send")
@click.argument("kind", type=click.Choice(["forms", "reminders", "receipts", "scorecard"]))
@click.option(
    "--period", metavar="2015-Q3", help="填报期次（默认取 ecoxl.toml 的 [period] current）。"
)
@click.option("--dry-run", is_flag=True, help="只列出将要发送的邮件，不发送、不写入、不记录。")
@click.option("--resend", is_flag=True, help="已发送过的邮件也再发一次（例如第二轮催报）。")
@click.pass_context
def send_command(
    ctx: click.Context, kind: str, period: str | None, dry_run: bool, resend: bool
) -> None:
    """发送邮件：forms 填报表、reminders 催报、receipts 回执、scorecard 考核汇总（docs/MAIL.md）。

    \b
    没有 [smtp] 设置时写入 outbox/<期次>/ 的 .eml 草稿，用 Outlook 或 Foxmail 打开后发送；
    有 [smtp] 设置时直接发送。已发送过的不重发。有邮件未发出或有单位无法发送时退出码为 1。"""
    from .transport import send

    report = send(_workspace(), kind, period, dry_run=dry_run, resend=resend)
    click.echo("\n".join(report.lines()))
    ctx.exit(report.exit_code)


@main.command("fetch")
@click.option(
    "--period",
    metavar="2015-Q3",
    help="本次回收的填报期次（默认取 ecoxl.toml 的 [period] current）；其他期次的表被退回。",
)
@click.pass_context
def fetch_command(ctx: click.Context, period: str | None) -> None:
    """收取邮件：从 [imap] 邮箱取未读邮件的附件，回收校验后标为已读（docs/MAIL.md）。

    有文件被退回时退出码为 1。"""
    from .imap import fetch

    report = fetch(_workspace(), period)
    click.echo(report.summary())
    ctx.exit(report.exit_code)


# -- demo (demo.py) ----------------------------------------------------------------


@main.command("demo")
@click.argument("folder", default="ecoxl-demo", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="文件夹不是空的也运行（先删除上一次演示生成的文件）。")
def demo_command(folder: str, force: bool) -> None:
    """演示：用自带的示例通知把全流程走一遍（docs/DEMO.md）。

    \b
    在 FOLDER（默认 ./ecoxl-demo）中建立工作目录，生成填报表并写入发件箱，
    模拟各单位报送（按时、逾期、改名、另存为 .xls、填错、未报送），
    回收校验，生成考核汇总表，写出催报、回执和呈送领导的邮件，最后列出各项结果的位置。"""
    from .demo import run_demo

    run_demo(Path(folder), force=force, on_line=click.echo)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
