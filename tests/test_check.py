"""`ecoxl check`: the plan's lint, on the sample, on other notices and on edited registries."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from ecoxl.cli import main
from ecoxl.lint import check_file, check_plan, report_lines
from ecoxl.model import Unit
from ecoxl.parse import read_text
from ecoxl.registry import save_registry
from ecoxl.texts import say

NOTICES = Path(__file__).parent / "notices"

NO_CONTACT = [
    "市交运局", "市商务局", "市旅游文物局", "市卫生局", "市人口计生委", "市金融工作办公室", "市畜牧局",
    "市供销社", "市公安局", "市政府应急办", "市绩效考核办公室", "市审计局",
]  # fmt: skip


@pytest.fixture(scope="module")
def sample_report(sample_notice):
    return check_file(sample_notice)


def test_the_sample_has_no_errors_and_these_warnings(sample_report):
    assert sample_report.errors == []
    assert sample_report.codes() == [
        *["target.conflict"] * 3,
        *["unit.no_contact"] * len(NO_CONTACT),
        "group.no_members",
    ]
    for finding in sample_report:
        assert (finding.file, finding.sheet, finding.cell) == ("xinzheng-2015.txt", None, None)


def test_the_three_conflicting_targets_name_both_places_and_quote_the_phrases(sample_report):
    conflicts = [f.message for f in sample_report if f.code == "target.conflict"]
    expected = [
        ("集中供热管网覆盖面积", "主要目标", "集中供热管网覆盖面积123万平方米",
         "任务8", "集中供热管网覆盖面积3万平方米"),
        ("节水器具普及率", "任务13", "节水器具普及率提高到98.5%",
         "任务24", "节水器具普及率提高到95%"),
        ("城区居住小区生活垃圾分类达标率", "任务15", "城区居住小区生活垃圾分类达标率达到25%",
         "任务24", "城区居住小区生活垃圾分类达标率达到20%"),
    ]  # fmt: skip
    assert len(conflicts) == len(expected)
    for message, (name, first, first_phrase, second, second_phrase) in zip(
        conflicts, expected, strict=True
    ):
        assert f"“{name}”" in message
        assert message.index(first) < message.index(first_phrase) < message.index(second)
        assert message.index(second) < message.index(second_phrase)


def test_units_outside_the_member_list_and_the_group_without_members(sample_report):
    no_contact = [f.message for f in sample_report if f.code == "unit.no_contact"]
    assert [next(u for u in NO_CONTACT if f"“{u}”" in m) for m in no_contact] == NO_CONTACT
    assert "任务6、任务9、任务10、任务16" in no_contact[1]  # 市商务局
    group = next(f for f in sample_report if f.code == "group.no_members")
    assert "“各产业聚集区和专业园区”" in group.message and "任务5" in group.message


def test_the_same_target_twice_is_no_conflict(sample_report):
    messages = " ".join(f.message for f in sample_report)
    assert "森林覆盖率" not in messages  # 30.94% in the goals and in task 3
    assert "人均公共绿地面积" not in messages  # 12 平方米 in the goals and in task 17


def test_a_task_without_lead_is_an_error():
    report = check_file(NOTICES / "first-is-lead.txt")
    assert [(f.code, f.severity) for f in report.errors] == [("task.no_lead", "error")]
    assert "任务5" in report.errors[0].message and "开展节约型机关创建" in report.errors[0].message


def test_a_phrase_with_a_number_not_understood_is_reported():
    text = (
        (NOTICES / "verb-roles.txt")
        .read_text(encoding="utf-8")
        .replace("定期开展水源地环境状况评估", "推进120应急平台建设")
    )
    parsed = read_text(text, "郑州.txt")
    report = check_plan(parsed.registry, "郑州.txt", parsed.unparsed)
    unparsed = [f for f in report if f.code == "target.unparsed"]
    assert [(f.severity, f.file) for f in unparsed] == [("warning", "郑州.txt")]
    assert "任务2" in unparsed[0].message and "“推进120应急平台建设”" in unparsed[0].message


def test_an_edited_registry_with_an_unknown_unit(tmp_path, sample_notice):
    registry = read_text(sample_notice.read_text(encoding="utf-8"), "x.txt").registry
    registry.task(3).responsible_units.append("市发改局")
    path = tmp_path / "plan.json"
    save_registry(registry, path)
    report = check_file(path)
    assert [(f.code, f.file) for f in report.errors] == [("unit.unknown", "plan.json")]
    assert "任务3" in report.errors[0].message and "“市发改局”" in report.errors[0].message


def test_an_alias_in_a_task_is_known_and_a_similar_listed_name_is_suggested(sample_notice):
    registry = read_text(sample_notice.read_text(encoding="utf-8"), "x.txt").registry
    registry.task(4).lead_units = ["文广新局"]
    registry.units.append(Unit("市国土局"))
    registry.task(12).lead_units = ["市国土局"]
    report = check_plan(registry, "plan.json")
    assert report.errors == []
    hint = next(
        f.message for f in report if f.code == "unit.no_contact" and "“市国土局”" in f.message
    )
    assert "“市国土资源局”" in hint


def test_no_member_list_means_no_contact_warnings():
    report = check_file(NOTICES / "verb-roles.txt")
    assert report.codes() == ["group.no_members"]  # 各区政府


def test_a_clean_plan(sample_notice):
    registry = read_text(sample_notice.read_text(encoding="utf-8"), "x.txt").registry
    registry.tasks = [dataclasses.replace(registry.task(4), responsible_units=[])]
    registry.goals = []
    report = check_plan(registry, "x.txt")
    assert len(report) == 0
    assert report_lines(report) == [say("lint.clean")]


def test_check_command_exit_codes(tmp_path, sample_notice):
    runner = CliRunner()
    sample = runner.invoke(main, ["check", str(sample_notice)])
    assert sample.exit_code == 0
    lines = sample.stdout.splitlines()
    assert len(lines) == 17
    assert lines[0].startswith("[提醒] xinzheng-2015.txt")
    assert lines[-1] == say("lint.summary", errors=0, warnings=16)
    failing = runner.invoke(main, ["check", str(NOTICES / "first-is-lead.txt")])
    assert failing.exit_code == 1
    assert failing.stdout.splitlines()[0].startswith("[错误] first-is-lead.txt：任务5")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert runner.invoke(main, ["check", str(empty)]).exit_code == 2


def test_a_registry_workbook_with_unusable_cells_is_checked_not_refused(tmp_path, sample_notice):
    import openpyxl

    registry = read_text(sample_notice.read_text(encoding="utf-8"), "x.txt").registry
    path = tmp_path / "plan.xlsx"
    save_registry(registry, path)
    book = openpyxl.load_workbook(path)
    book["指标"]["E3"] = "三十"  # text where the target is a number
    book.save(path)
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 1  # a check's error, not a refusal (2)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("[错误] plan.xlsx") and "指标!E3" in lines[0]
