"""`ecoxl demo [DIR]`: the whole pipeline on the bundled sample notice, in one command.

It makes a workspace in DIR (2015-Q3, a fictional office and demo addresses in the
reserved `.example` domain), writes the forms and sends them to the outbox, then plays
the units: most return on time with plausible values, some late, one renamed, one
re-saved as .xls by LibreOffice (skipped, and said so, when LibreOffice is missing), one
with its rows sorted, one with mistakes, a few not at all; some come as .eml messages.
Then it collects them, builds the scorecard, writes reminders, receipts and the
scorecard e-mail, and says where everything is. Every stage is the real one (the same
functions the commands call); only the units are simulated (`simulate.py`). The same
command gives the same values: every choice comes from generators seeded per unit.
"""

from __future__ import annotations

import hashlib
import io
import random
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import python_calamine
from xlsxwriter.utility import xl_rowcol_to_cell

from . import simulate
from .atomic import atomic_target
from .collect import CollectResult, collect
from .config import Office
from .contacts import CONTACTS
from .exceptions import InputError, WorkspaceError
from .forms import form_file_name, forms_run, safe_file_name
from .init import init_workspace
from .layout import expected_rows
from .ledger import ReturnState
from .libreoffice import convert, find_soffice
from .model import Indicator, Registry
from .period import Period
from .registry import load_registry
from .scorecard import Scorecard, make_scorecard
from .status import StatusReport, status
from .texts import display_width, say
from .transport import SendReport, send
from .workspace import CONFIG_NAME, Workspace

MARKER = "ecoxl-demo.txt"  # marks the folder as the demo's; holds its summary once done
SAMPLE = "xinzheng-2015.txt"
_PACKAGED = Path(__file__).parent / "examples"  # inside an installed wheel
_SOURCE = Path(__file__).parent.parent / "examples"  # in a source checkout

SEED = 2015
PERIOD = "2015-Q3"
DEADLINE = date(2015, 10, 10)
WORK_HOURS = (8, 17)
ON_TIME_DAYS = (2, 6)  # days before the deadline
LATE_DAYS = (2, 4)  # days after it

# The fictional office and people; every address is in a domain reserved for examples.
DOMAIN = "xinzheng.example"
OFFICE = Office(name="", person="王晓明", phone="0371-62690000", email=f"shengtaiban@{DOMAIN}")
SENDER = f"新郑市生态文明办 <shengtaiban@{DOMAIN}>"
LEADERS = (f"张市长 <mayor@{DOMAIN}>", f"李副市长 <vice.mayor@{DOMAIN}>")
MAILBOXES = {  # the sample's units (`mailbox` makes one up for any other)
    "市发展改革委": "fgw",
    "市规划城管局": "guihua",
    "市国土资源局": "guotu",
    "市交运局": "jiaoyun",
    "市住建局": "zhujian",
    "市城市管理行政执法局": "zhifa",
    "市林业局": "lingye",
    "市园林中心": "yuanlin",
    "市科工信委": "kegongxin",
    "市环保局": "huanbao",
    "市水务局": "shuiwu",
    "市商务局": "shangwu",
    "市文广新局": "wenguangxin",
    "市旅游文物局": "lvyou",
    "市卫生局": "weisheng",
    "市人口计生委": "jisheng",
    "市金融工作办公室": "jinrong",
    "市农委": "nongwei",
    "市畜牧局": "xumu",
    "市供销社": "gongxiao",
    "市公安局": "gongan",
    "市南水北调办公室": "nanshui",
    "市气象局": "qixiang",
    "市政府应急办": "yingji",
    "市绩效考核办公室": "jixiao",
    "市财政局": "caizheng",
    "市统计局": "tongji",
    "市审计局": "shenji",
    "市爱卫办": "aiwei",
    "城关乡": "chengguan",
    "辛店镇": "xindian",
    "观音寺镇": "guanyinsi",
    "梨河镇": "lihe",
    "和庄镇": "hezhuang",
    "八千乡": "baqian",
    "薛店镇": "xuedian",
    "孟庄镇": "mengzhuang",
    "龙湖镇": "longhu",
    "郭店镇": "guodian",
    "新村镇": "xincun",
    "新建路街道办事处": "xinjianlu",
    "新华路街道办事处": "xinhualu",
    "新烟街道办事处": "xinyan",
    "中心城区新区建设管委会": "xinqu",
    "具茨山管委会": "jucishan",
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN_NAMES = ("丽", "伟", "芳", "敏", "静", "强", "磊", "洋", "艳", "军", "杰", "娟")

# Who does what: the sample's units, chosen so that every variant is a unit it suits.
NO_ADDRESS = ("市气象局", "具茨山管委会")  # contacts.xlsx leaves their e-mail empty
MISSING = ("市气象局", "具茨山管委会", "市审计局", "郭店镇")
RENAMED = {"市林业局": "林业局报表(最终版).xlsx"}
RESAVED_AS_XLS = {"城关乡": "城关乡三季度报表.xls"}
SORTED = ("市环保局",)  # sorted its rows (last task first) before sending
WITH_MISTAKES = ("市水务局",)
UNSIGNED = ("市统计局",)  # forgot 填报人: a warning, the return is still accepted
BY_MAIL = ("市交运局", "市住建局", "薛店镇")  # on time, as .eml messages
LATE_BY_MAIL = ("市商务局", "辛店镇")
LATE = ("市农委",)  # late, as a file whose modification time is after the deadline

# Everything the demo writes in its folder, removed by `--force` before it runs again.
ARTEFACTS = (
    "ecoxl.toml",
    "plan.xlsx",
    "contacts.xlsx",
    "ledger.sqlite",
    "ledger.sqlite-wal",
    "ledger.sqlite-shm",
    "forms",
    "inbox",
    "archive",
    "outbox",
    "problems",
    "scorecards",
    "templates",
    MARKER,
)

Outcome = ReturnState  # what each simulated unit will turn out to be
Step = Callable[[str], None]


def sample_notice() -> Path:
    """The bundled sample notice (新郑市 2015), from the wheel or the source checkout."""
    for folder in (_PACKAGED, _SOURCE):
        if (folder / SAMPLE).is_file():
            return folder / SAMPLE
    raise InputError(say("demo.no_sample", name=SAMPLE))


# -- the plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """What one unit does with its form in the demo."""

    unit: str
    outcome: Outcome
    file_name: str = ""  # the name the unit gives its file ("" when it sends nothing)
    received: datetime | None = None  # when it arrives (the mail's Date, or the file's time)
    by_mail: bool = False
    xls: bool = False
    sorted_rows: bool = False
    mistakes: bool = False
    renamed: bool = False
    unsigned: bool = False


def plan_returns(registry: Registry, period: Period, *, xls: bool = True) -> list[Planned]:
    """Every reporting unit's part, in registry order; without `xls` (no LibreOffice) the
    unit that would re-save its form as .xls sends nothing."""
    plan = []
    for unit in registry.reporting_units():
        rng = random.Random(f"{SEED}/{unit}/arrival")
        if unit in MISSING or (unit in RESAVED_AS_XLS and not xls):
            plan.append(Planned(unit, "missing"))
            continue
        late = unit in LATE or unit in LATE_BY_MAIL
        days = rng.randint(*LATE_DAYS) if late else -rng.randint(*ON_TIME_DAYS)
        moment = time(rng.randint(*WORK_HOURS), rng.randint(0, 59))
        # office hours in this computer's zone, as the mail client or file system records them
        received = datetime.combine(DEADLINE + timedelta(days=days), moment).astimezone()
        name = RENAMED.get(unit) or RESAVED_AS_XLS.get(unit) or form_file_name(period, unit)
        outcome: Outcome = "late" if late else "received"
        plan.append(
            Planned(
                unit,
                "rejected" if unit in WITH_MISTAKES else outcome,
                name,
                received,
                by_mail=unit in BY_MAIL or unit in LATE_BY_MAIL,
                xls=unit in RESAVED_AS_XLS,
                sorted_rows=unit in SORTED,
                mistakes=unit in WITH_MISTAKES,
                renamed=unit in RENAMED,
                unsigned=unit in UNSIGNED,
            )
        )
    return plan


def mailbox(unit: str) -> str:
    """A unit's demo address: `lingye@xinzheng.example` (`unit-<hash>@` for a unit the table
    does not know)."""
    local = MAILBOXES.get(unit) or f"unit-{hashlib.sha256(unit.encode()).hexdigest()[:8]}"
    return f"{local}@{DOMAIN}"


def clerk(unit: str) -> simulate.Clerk:
    """The clerk who fills in `unit`'s form, and how far along the unit is."""
    rng = random.Random(f"{SEED}/{unit}/clerk")
    name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN_NAMES, rng.randint(1, 2)))
    return simulate.Clerk(name, f"0371-6{rng.randint(2000000, 9999999)}", rng.uniform(0.6, 1.3))


# -- the run -------------------------------------------------------------------------------


@dataclass
class DemoResult:
    """What the demo made and where; `lines` is what it printed, step by step."""

    root: Path
    registry: Registry
    period: Period
    plan: list[Planned]
    on_line: Step | None = None
    without_address: list[str] = field(default_factory=list)
    forms: list[Path] = field(default_factory=list)
    returns: list[Path] = field(default_factory=list)  # the files put in inbox/
    mistakes: dict[str, list[tuple[simulate.Mistake, str]]] = field(default_factory=dict)
    sent: dict[str, SendReport] = field(default_factory=dict)
    collected: CollectResult | None = None
    status: StatusReport | None = None
    scorecard: Scorecard | None = None
    lines: list[str] = field(default_factory=list)

    def planned(self, *outcomes: Outcome) -> list[Planned]:
        return [p for p in self.plan if p.outcome in outcomes]

    def say(self, key: str, **values: object) -> None:
        """Add a line to the summary, and pass it on as soon as it is known."""
        text = say(key, **values)
        self.lines.append(text)
        if self.on_line is not None:
            self.on_line(text)

    def artefact(self, label: str, path: Path, key: str, **values: object) -> None:
        """One artefact: its label and path, then what it holds on an indented line."""
        name = say(f"demo.label.{label}")
        padding = " " * max(1, LABEL_WIDTH - display_width(name))
        what = say(key, **values)
        self.say("demo.artefact", label=name + padding, path=path, indent=INDENT, what=what)

    def summary(self) -> str:
        return "\n".join(self.lines)


LABEL_WIDTH = 12  # terminal columns of the widest label, and a space
INDENT = " " * LABEL_WIDTH


def run_demo(root: Path, *, force: bool = False, on_line: Step | None = None) -> DemoResult:
    """The whole pipeline in `root`; `on_line` hears each summary line as its step ends."""
    _clear(root, force)
    notice = sample_notice()
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text(say("demo.marker"), encoding="utf-8")  # first: a rerun may clear
    init_workspace(
        root, notice, period=PERIOD, deadline=DEADLINE.isoformat(), office=OFFICE,
        sender=SENDER, leaders=LEADERS, force=True,
    )  # fmt: skip
    ws = Workspace(root)
    registry = load_registry(ws.registry_path)
    period = ws.settings.period_obj()
    soffice = find_soffice() is not None
    plan = plan_returns(registry, period, xls=soffice)
    result = DemoResult(root, registry, period, plan, on_line)
    result.say("demo.title", plan=registry.plan.title, period=period.label, deadline=DEADLINE)
    _workspace_step(ws, result)
    _forms_step(ws, result)
    _returns_step(ws, result, soffice)
    _collect_step(ws, result)
    _scorecard_step(ws, result)
    _mail_step(ws, result)
    result.say("demo.next", path=root, scorecard=ws.scorecard_path(period.code))
    (root / MARKER).write_text(result.summary() + "\n", encoding="utf-8")
    return result


def _clear(root: Path, force: bool) -> None:
    """A non-empty folder is refused unless `force`; a workspace the demo did not make is
    refused even then. Forcing removes what an earlier demo wrote, and nothing else."""
    if root.exists() and not root.is_dir():
        raise WorkspaceError(say("init.not_folder", path=root))
    if not root.is_dir() or not any(root.iterdir()):
        return
    if not force:
        raise WorkspaceError(say("demo.not_empty", path=root))
    if (root / CONFIG_NAME).exists() and not (root / MARKER).exists():
        raise WorkspaceError(say("demo.not_demo", path=root))
    for name in ARTEFACTS:
        path = root / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


# -- the steps ----------------------------------------------------------------------------


def _workspace_step(ws: Workspace, result: DemoResult) -> None:
    """contacts.xlsx gets a demo address for every unit but `NO_ADDRESS`, typed in as the
    office would do it in Excel."""
    path = ws.contacts_path
    data = path.read_bytes()
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    rows = book.get_sheet_by_name(CONTACTS.sheet).to_python(skip_empty_area=False)
    headers = [str(h) for h in rows[0]]
    unit_col = headers.index(CONTACTS.column("unit").header)
    email_col = headers.index(CONTACTS.column("email").header)
    cells = {}
    for r, row in enumerate(rows[1:], start=1):
        unit = str(row[unit_col])
        if unit in NO_ADDRESS:
            result.without_address.append(unit)
        elif unit:
            cells[xl_rowcol_to_cell(r, email_col)] = mailbox(unit)
    with atomic_target(path) as temp:
        temp.write_bytes(simulate.set_cells(data, cells, CONTACTS.sheet))
    registry = result.registry
    result.artefact(
        "workspace",
        ws.root,
        "demo.workspace",
        tasks=len(registry.tasks),
        indicators=len(registry.all_indicators()),
        units=len(cells) + len(result.without_address),
        domain=DOMAIN,
        without="、".join(result.without_address),
    )


def _forms_step(ws: Workspace, result: DemoResult) -> None:
    run = forms_run(ws)
    result.forms = run.write()
    result.artefact("forms", run.out_dir, "demo.forms", count=len(result.forms))
    report = send(ws, "forms")
    result.sent["forms"] = report
    result.artefact(
        "sent",
        ws.outbox_dir(result.period.code),
        "demo.sent",
        count=report.count("written", "sent"),
        unreachable="、".join(u.unit for u in report.unreachable),
    )


def _returns_step(ws: Workspace, result: DemoResult, soffice: bool) -> None:
    """Each unit's return, made from the form it was sent, into inbox/."""
    indicators = {i.id: i for i in result.registry.all_indicators()}
    for planned in result.plan:
        if planned.outcome != "missing":
            result.returns.append(_make_return(ws, result, planned, indicators))
    sent = [p for p in result.plan if p.outcome != "missing"]

    def units(chosen: list[Planned], files: bool = False) -> str:
        shown = [f"{p.unit}“{p.file_name}”" if files else p.unit for p in chosen]
        return "、".join(shown) or "-"

    result.artefact(
        "returns",
        ws.inbox_dir,
        "demo.returns",
        indent=INDENT,
        count=len(result.returns),
        mails=sum(p.by_mail for p in sent),
        on_time=len(result.planned("received")),
        late=len(result.planned("late")),
        late_units=units(result.planned("late")),
        missing=len(result.planned("missing")),
        missing_units=units(result.planned("missing")),
        renamed=units([p for p in sent if p.renamed], files=True),
        xls=units([p for p in sent if p.xls], files=True),
        sorted=units([p for p in sent if p.sorted_rows]),
        mistakes=units([p for p in sent if p.mistakes]),
        unsigned=units([p for p in sent if p.unsigned]),
    )
    if not soffice:
        result.say("demo.no_soffice", indent=INDENT, unit="、".join(RESAVED_AS_XLS))


def _make_return(
    ws: Workspace, result: DemoResult, planned: Planned, indicators: dict[str, Indicator]
) -> Path:
    """The unit's clerk fills in the form it was sent; it goes to inbox/ as a file or a mail."""
    unit, period = planned.unit, result.period
    form = (ws.forms_dir(period.code) / form_file_name(period, unit)).read_bytes()
    rows = expected_rows(result.registry, unit)
    person = clerk(unit)
    rng = random.Random(f"{SEED}/{unit}/answers")
    given = simulate.answers(rows, indicators, period, person, rng)
    if planned.mistakes:
        given, mistakes = simulate.with_mistakes(rows, given)
        result.mistakes[unit] = [(m, simulate.cell_of(form, m.key, m.column)) for m in mistakes]
    assert planned.received is not None
    signature = {} if planned.unsigned else person.signature(planned.received.date())
    data = simulate.fill_form(form, given, signature)
    if planned.sorted_rows:
        data = simulate.reorder_rows(data, [r.key for r in reversed(rows)])
    if planned.xls:
        data = _resaved(data, planned.file_name)
    if not planned.by_mail:
        return simulate.drop(ws.inbox_dir, planned.file_name, data, planned.received)
    message = simulate.as_mail(
        data,
        planned.file_name,
        sender=f"{person.name} <{mailbox(unit)}>",
        to=SENDER,
        subject=say("demo.mail.subject", unit=unit, period=period.label),
        body=say("demo.mail.body", unit=unit, period=period.label, name=person.name),
        sent=planned.received,
        message_id=f"<{period.code}.{mailbox(unit)}>",
    )
    name = safe_file_name(say("demo.mail.file", unit=unit))
    return simulate.drop(ws.inbox_dir, name, message, planned.received)


def _resaved(data: bytes, name: str) -> bytes:
    """The filled form opened and saved as `name` (.xls) by LibreOffice, as a unit's Excel
    2003 or WPS would."""
    with tempfile.TemporaryDirectory(prefix="ecoxl-demo-") as folder:
        source = Path(folder, Path(name).stem + ".xlsx")
        source.write_bytes(data)
        return convert(source, Path(name).suffix.lstrip("."), Path(folder, "out")).read_bytes()


def _collect_step(ws: Workspace, result: DemoResult) -> None:
    code = result.period.code
    collected = result.collected = collect(ws, [ws.inbox_dir], code)
    report = result.status = status(ws, code)
    lines = collected.problems.get(code, [])
    result.artefact(
        "ledger",
        ws.ledger_path,
        "demo.ledger",
        files=len(collected.handled),
        accepted=collected.count("accepted"),
        rejected=collected.count("rejected"),
        received=report.count("received"),
        late=report.count("late"),
        missing=report.count("missing"),
    )
    result.artefact(
        "problems",
        ws.problems_path(code),
        "demo.problems",
        errors=sum(1 for line in lines if line.finding.severity == "error"),
        warnings=sum(1 for line in lines if line.finding.severity == "warning"),
        units="、".join(
            f"{unit} {'、'.join(cell for _, cell in found)}"
            for unit, found in result.mistakes.items()
        ),
    )


def _scorecard_step(ws: Workspace, result: DemoResult) -> None:
    card = make_scorecard(ws, result.period.code)
    result.scorecard = card
    h = card.card.headline
    result.artefact(
        "scorecard",
        card.path,
        "demo.scorecard",
        units=h.units,
        returned=h.returned,
        late=h.late,
        rejected=h.rejected,
        missing=h.missing,
        elapsed=result.period.elapsed,
        overall=h.overall,
        green=h.lights.get("green", 0),
        amber=h.lights.get("amber", 0),
        red=h.lights.get("red", 0),
    )


def _mail_step(ws: Workspace, result: DemoResult) -> None:
    for kind in ("reminders", "receipts", "scorecard"):
        result.sent[kind] = send(ws, kind)
    counts = {kind: r.count("written", "sent") for kind, r in result.sent.items()}
    unreachable = result.sent["reminders"].unreachable
    result.artefact(
        "outbox",
        ws.outbox_dir(result.period.code),
        "demo.outbox",
        total=sum(counts.values()),
        unreachable="、".join(u.unit for u in unreachable) or "-",
        **counts,
    )
