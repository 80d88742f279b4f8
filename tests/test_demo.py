"""`ecoxl demo`: the whole pipeline on the bundled sample, run once, checked on the real
artefacts it leaves (forms, returns, ledger, problem list, scorecard, outbox)."""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
from datetime import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import SAMPLE_NOTICE
from python_calamine import CalamineWorkbook
from test_scorecard_libreoffice import disagreements, errors, recalculate
from xlsxwriter.utility import xl_rowcol_to_cell

from ecoxl import demo, layout, simulate
from ecoxl.cli import main
from ecoxl.contacts import load_contacts
from ecoxl.forms import form_file_name
from ecoxl.init import init_workspace
from ecoxl.layout import expected_rows
from ecoxl.ledger import Ledger
from ecoxl.period import Period
from ecoxl.problems import COLUMNS, HEADER_ROW
from ecoxl.registry import load_registry
from ecoxl.scorecard import forms_sent, make_scorecard, read_returns
from ecoxl.scoring import compute
from ecoxl.scoring_rules import rate_kind, value_rate
from ecoxl.status import status
from ecoxl.texts import STATUSES, say
from ecoxl.workspace import Workspace

Q3 = Period.parse(demo.PERIOD)
MISTAKE_CODES = {"value.not_number", "status.invalid", "problems.missing"}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> demo.DemoResult:
    return demo.run_demo(tmp_path_factory.mktemp("demo") / "ecoxl-demo")


@pytest.fixture(scope="module")
def ws(run) -> Workspace:
    return Workspace(run.root)


@pytest.fixture(scope="module")
def registry():
    """The sample, parsed here from the notice: what the demo must have covered."""
    return load_registry(SAMPLE_NOTICE)


def planned(run: demo.DemoResult, **flags: bool) -> list[demo.Planned]:
    return [p for p in run.plan if all(getattr(p, k) == v for k, v in flags.items())]


def mails(folder: Path, pattern: str = "*.eml") -> list:
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(path.read_bytes()) for path in sorted(folder.glob(pattern))]


# -- the plan ---------------------------------------------------------------------------------


def test_every_variant_is_played_by_a_reporting_unit_of_the_sample(registry):
    units = set(registry.reporting_units())
    chosen = {
        *demo.NO_ADDRESS, *demo.MISSING, *demo.RENAMED, *demo.RESAVED_AS_XLS, *demo.SORTED,
        *demo.WITH_MISTAKES, *demo.BY_MAIL, *demo.LATE_BY_MAIL, *demo.LATE,
    }  # fmt: skip
    assert chosen <= units
    assert set(demo.NO_ADDRESS) <= set(demo.MISSING)
    assert set(units) <= set(demo.MAILBOXES)
    assert all(address.endswith(".example>") for address in (demo.SENDER, *demo.LEADERS))


def test_without_libreoffice_the_xls_unit_sends_nothing(registry):
    with_xls = {p.unit: p for p in demo.plan_returns(registry, Q3)}
    without = {p.unit: p for p in demo.plan_returns(registry, Q3, xls=False)}
    for unit in demo.RESAVED_AS_XLS:
        assert with_xls[unit].xls and with_xls[unit].outcome == "received"
        assert without[unit].outcome == "missing"
    assert {u: p for u, p in without.items() if u not in demo.RESAVED_AS_XLS} == {
        u: p for u, p in with_xls.items() if u not in demo.RESAVED_AS_XLS
    }


@pytest.mark.parametrize("pace", [0.6, 1.0, 1.3])
def test_clerks_answer_plausibly(registry, pace):
    """Every lead row with a target gets a value whose status says where it stands against
    序时进度; percentages stay within 100, counts are whole, ranges within reach."""
    indicators = {i.id: i for i in registry.all_indicators()}
    clerk = simulate.Clerk("张丽", "0371-62691234", pace)
    for unit in ("市住建局", "市农委", "市水务局", "城关乡"):
        rows = expected_rows(registry, unit)
        given = simulate.answers(rows, indicators, Q3, clerk, random.Random(unit))
        for row in rows:
            answer = given.get(row.key, {})
            if row.role != "lead":
                assert "value" not in answer
                continue
            assert answer["status"] in STATUSES
            assert ("problems" in answer) == (answer["status"] == "欠进度")
            indicator = indicators.get(row.indicator_id or "")
            kind = rate_kind(indicator)
            if kind is None:
                continue
            value = answer["value"]
            assert value >= 0
            assert row.measure != "%" or value <= 100
            assert row.measure not in simulate.COUNTED or value == int(value)
            rate = value_rate(kind, indicator, value, 1.0)
            assert answer["status"] == simulate.status_for(rate, Q3.elapsed)


def test_status_follows_progress_against_elapsed():
    elapsed = 0.75
    assert simulate.status_for(1.0, elapsed) == "已完成"
    assert simulate.status_for(0.85, elapsed) == "超进度"
    assert simulate.status_for(0.75, elapsed) == "达进度"
    assert simulate.status_for(0.71, elapsed) == "达进度"
    assert simulate.status_for(0.69, elapsed) == "欠进度"


# -- forms and returns ----------------------------------------------------------------------


def test_a_form_for_every_reporting_unit(run, ws, registry):
    units = registry.reporting_units()
    assert len(units) == 45
    written = sorted(p.name for p in ws.forms_dir(demo.PERIOD).glob("*.xlsx"))
    assert written == sorted(form_file_name(run.period, u) for u in units)
    assert sorted(p.name for p in run.forms) == written


def test_each_sample_form_holds_exactly_the_tasks_the_notice_gives_its_unit(ws, registry):
    """Worked out here from the registry, not by the code that writes the forms: every task a
    unit leads or supports (groups expanded), one row per indicator (one for a task without
    a numeric target), its role on each."""
    task_col, role_col = layout.column_index("task"), layout.column_index("role")
    for unit in registry.reporting_units():
        expected = []
        for task in registry.tasks:
            leads = {m for name in task.lead_units for m in registry.expand(name)}
            supports = {m for name in task.responsible_units for m in registry.expand(name)}
            if unit in leads or unit in supports:
                role = "牵头" if unit in leads else "责任"
                expected += [(task.number, role)] * max(1, len(task.indicators))
        path = ws.forms_dir(demo.PERIOD) / form_file_name(Q3, unit)
        cells = CalamineWorkbook.from_path(path).get_sheet_by_name(layout.FORM_SHEET).to_python()
        rows = [r for r in cells[layout.FIRST_DATA_ROW :] if r[task_col] not in ("", None)]
        assert [(int(r[task_col]), r[role_col]) for r in rows] == expected, unit


def test_contacts_have_demo_addresses_except_two(ws, registry):
    book = load_contacts(ws.contacts_path, registry)
    without = book.without_email()
    assert sorted(without) == sorted(demo.NO_ADDRESS)
    addresses = [a for c in book for a in c.addresses]
    assert len(addresses) == len(registry.reporting_units()) - 2
    assert all(a.endswith("@xinzheng.example") for a in addresses)
    assert book.get("市林业局").email == "lingye@xinzheng.example"


def test_the_returns_folder_holds_the_planned_variants(run, ws):
    inbox = ws.inbox_dir
    files = {p.name for p in inbox.iterdir()}
    sent = [p for p in run.plan if p.outcome != "missing"]
    by_file = [p for p in sent if not p.by_mail]
    assert {p.file_name for p in by_file} <= files
    assert "林业局报表(最终版).xlsx" in files  # renamed
    assert len(files) == len(sent)
    # the mail returns: one .eml each, the Date header is when they were sent
    messages = {m["From"].addresses[0].addr_spec: m for m in mails(inbox)}
    assert len(messages) == len(planned(run, by_mail=True)) == 5
    for p in planned(run, by_mail=True):
        message = messages[demo.mailbox(p.unit)]
        assert message["Date"].datetime == p.received
        (attachment,) = message.iter_attachments()
        assert attachment.get_filename() == p.file_name
    # the late files are dated after the deadline, the others before it
    for p in by_file:
        moment = datetime.fromtimestamp((inbox / p.file_name).stat().st_mtime).date()
        assert (moment > demo.DEADLINE) == (p.outcome == "late")
    # the missing units sent nothing
    for p in run.planned("missing"):
        assert form_file_name(run.period, p.unit) not in files


def test_the_xls_return_was_resaved_by_libreoffice(soffice, run, ws):
    (unit, name), *_ = demo.RESAVED_AS_XLS.items()
    data = (ws.inbox_dir / name).read_bytes()
    assert data[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # an OLE2 compound file: BIFF8 .xls
    with Ledger(ws.ledger_path) as ledger:
        record = ledger.current(demo.PERIOD)[unit]
    assert record.current and record.submission.file_name == name
    assert record.submission.identified_by == "identity"


def test_sorted_rows_are_matched_by_key(run, ws):
    unit = demo.SORTED[0]
    with Ledger(ws.ledger_path) as ledger:
        record = ledger.current(demo.PERIOD)[unit]
        rows = ledger.rows(record.id)
        found = ledger.problems(submission_id=record.id)
    keys = [r.key for r in expected_rows(run.registry, unit)]
    assert record.current and not found
    by_sheet_row = [r.row_key for r in sorted(rows, key=lambda r: r.sheet_row)]
    assert by_sheet_row == list(reversed(keys))


# -- collection -------------------------------------------------------------------------------


def test_the_ledger_matches_the_plan(run, ws):
    report = status(ws, demo.PERIOD)
    assert {u.unit: u.state for u in report.units} == {p.unit: p.outcome for p in run.plan}
    assert report.count("late") == len(demo.LATE) + len(demo.LATE_BY_MAIL) == 3
    assert report.count("rejected") == len(demo.WITH_MISTAKES) == 1
    assert report.count("missing") >= len(demo.MISSING) == 4  # 5 without LibreOffice


def test_the_problem_list_names_each_mistake_by_cell(run, ws):
    unit = demo.WITH_MISTAKES[0]
    rows = {r.key: i for i, r in enumerate(expected_rows(run.registry, unit))}
    expected = {
        (
            unit,
            layout.FORM_SHEET,
            xl_rowcol_to_cell(layout.FIRST_DATA_ROW + rows[m.key], layout.column_index(m.column)),
            m.code,
        )
        for m, _ in run.mistakes[unit]
    }
    assert {code for *_, code in expected} == MISTAKE_CODES
    sheet = openpyxl.load_workbook(ws.problems_path(demo.PERIOD), read_only=True).active
    col = {c.key: i for i, c in enumerate(COLUMNS)}
    lines = [
        (
            row[col["severity"]],
            row[col["unit"]],
            row[col["sheet"]],
            row[col["cell"]],
            row[col["code"]],
        )
        for row in sheet.iter_rows(min_row=HEADER_ROW + 2, values_only=True)
    ]
    errors = {line[1:] for line in lines if line[0] == say("problems.severity.error")}
    assert errors == expected
    # the unit that forgot to sign gets a warning at the 填报人 cell, and nothing else does
    signature = layout.SIGNATURE[0]
    warnings = {line[1:] for line in lines if line[0] == say("problems.severity.warning")}
    assert warnings == {
        (
            demo.UNSIGNED[0],
            layout.FORM_SHEET,
            xl_rowcol_to_cell(signature.row, signature.input_col),
            "signature.missing",
        )
    }
    # the scorecard's 问题 sheet is the same list (problems.standing)
    shown = openpyxl.load_workbook(ws.scorecard_path(demo.PERIOD), read_only=True)["问题"]
    headers = next(shown.iter_rows(min_row=2, max_row=2, values_only=True))
    at = {key: headers.index(say(f"problems.col.{key}")) for key in ("unit", "cell", "code")}
    on_scorecard = {
        (row[at["unit"]] or "", row[at["cell"]] or "", row[at["code"]])
        for row in shown.iter_rows(min_row=3, values_only=True)
        if row[at["code"]]
    }
    assert on_scorecard == {(line[1] or "", line[3] or "", line[4]) for line in lines}


# -- scorecard -------------------------------------------------------------------------------


def test_libreoffice_recalculates_the_demo_scorecard_to_its_stored_results(
    run, ws, soffice, tmp_path
):
    """The workbook leaders get from the demo (real returns: late, rejected, missing, an
    .xls, a sorted form) computes in LibreOffice to exactly what ecoxl stored."""
    path = ws.scorecard_path(demo.PERIOD)
    recalculated = recalculate(path, tmp_path)
    count, wrong = disagreements(path, recalculated)
    assert count > 1000 and wrong == []
    assert errors(recalculated) == []


def test_the_overview_headline_matches_scoring(run, ws):
    settings = ws.settings
    period = settings.period_obj()
    deadline = settings.deadline_for(period)
    path = ws.scorecard_path(period.code)
    with Ledger(ws.ledger_path) as ledger:
        returns = read_returns(ledger, run.registry, period, deadline, ws.root, path.parent)
        card = compute(
            run.registry, period, deadline, settings.scoring, returns, forms_sent(ledger, period)
        )
    h = card.headline
    sheet = openpyxl.load_workbook(path, data_only=True)["总览"]
    cells = list(sheet.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(cells) if row[0] == "应报送单位")
    shown = dict(zip(cells[header], cells[header + 1], strict=False))
    assert shown["应报送单位"] == h.units == 45
    assert shown["已发送表格"] == h.forms_sent == 43
    assert shown["已报送"] == h.returned == len(run.planned("received", "late"))
    assert shown["其中逾期"] == h.late == len(run.planned("late"))
    assert shown["被退回"] == h.rejected == 1
    assert shown["未报送"] == h.missing == len(run.planned("missing"))
    assert shown["报送率"] == pytest.approx(h.return_rate)
    assert shown["总体完成率"] == pytest.approx(h.overall)
    lights = {t.light for t in card.tasks}
    assert {"green", "red"} <= lights  # some tasks ahead of 序时进度, some behind


# -- e-mail ---------------------------------------------------------------------------------


def test_the_outbox_holds_every_kind_and_reminders_only_where_due(run, ws, registry):
    outbox = ws.outbox_dir(demo.PERIOD)
    with Ledger(ws.ledger_path) as ledger:
        sent = ledger.db.execute("SELECT kind, unit, recipients FROM sent WHERE status='sent'")
        sent = sent.fetchall()
        submissions = len(ledger.submissions(demo.PERIOD))
    kinds = {}
    for kind, unit, _ in sent:
        kinds.setdefault(kind, []).append(unit)
    assert len(kinds["forms"]) == len(registry.reporting_units()) - len(demo.NO_ADDRESS)
    assert len(kinds["receipts"]) == submissions == len(run.returns)
    assert len(kinds["scorecard"]) == len(demo.LEADERS)
    due = {p.unit for p in run.planned("missing", "rejected")}
    assert set(kinds["reminders"]) == due - set(demo.NO_ADDRESS)
    assert {u.unit for u in run.sent["reminders"].unreachable} == set(demo.NO_ADDRESS)
    # the drafts on disk: one per message, reminders addressed only to the units due one
    assert len(list(outbox.glob("*.eml"))) == len(sent)
    reminders = mails(outbox, f"{say('mail.kind.reminders')}_*.eml")
    reminded = {a.addr_spec for m in reminders for a in m["To"].addresses}
    book = load_contacts(ws.contacts_path, registry)
    assert reminded == {book.get(u).email for u in due - set(demo.NO_ADDRESS)}


def test_forms_mail_carries_the_unit_form(ws):
    unit = "市林业局"
    form = ws.forms_dir(demo.PERIOD) / form_file_name(Q3, unit)
    drafts = [m for m in mails(ws.outbox_dir(demo.PERIOD)) if unit in str(m["To"])]
    attached = {a.get_filename(): a.get_content() for m in drafts for a in m.iter_attachments()}
    assert attached[form.name] == form.read_bytes()


# -- the command ------------------------------------------------------------------------------


def test_a_second_run_without_force_is_refused(run, ws):
    before = hashlib.sha256(ws.ledger_path.read_bytes()).hexdigest()
    result = CliRunner().invoke(main, ["demo", str(run.root)])
    assert result.exit_code == 2
    assert str(run.root) in result.stderr and "--force" in result.stderr
    assert hashlib.sha256(ws.ledger_path.read_bytes()).hexdigest() == before


def test_force_never_touches_a_workspace_the_demo_did_not_make(tmp_path):
    root = tmp_path / "office"
    init_workspace(root, SAMPLE_NOTICE)
    result = CliRunner().invoke(main, ["demo", str(root), "--force"])
    assert result.exit_code == 2 and str(root) in result.stderr
    assert not (root / "forms" / demo.PERIOD).exists()


def test_the_command_prints_every_artefact_and_gives_the_same_values(run, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "ecoxl", "demo", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    root = tmp_path / "out"
    ws = Workspace(root)
    for path in (
        root,
        ws.forms_dir(demo.PERIOD),
        ws.inbox_dir,
        ws.ledger_path,
        ws.problems_path(demo.PERIOD),
        ws.scorecard_path(demo.PERIOD),
        ws.outbox_dir(demo.PERIOD),
    ):
        shown = path.relative_to(tmp_path)
        assert f"{shown}\n" in done.stdout or f"{shown};" in done.stdout, shown
        assert path.exists()
    assert (root / demo.MARKER).read_text(encoding="utf-8").strip() == done.stdout.strip()
    # deterministic: the same returns, byte for byte, and the same scorecard figures
    for path in run.returns:
        if path.suffix != ".xls":  # LibreOffice stamps the time it saved a file
            assert (ws.inbox_dir / path.name).read_bytes() == path.read_bytes(), path.name
    again = make_scorecard(ws, out=tmp_path / "again.xlsx").card
    assert again.headline == run.scorecard.card.headline
    assert again.units == run.scorecard.card.units
