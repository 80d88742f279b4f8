"""`ecoxl init`: a workspace with settings, registry, contacts, folders and editable templates."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures import small_registry

from ecoxl.cli import main
from ecoxl.config import Imap, Limits, Office, Scoring, Smtp, settings_from_dict
from ecoxl.contacts import load_contacts
from ecoxl.exceptions import ConfigError, WorkspaceError
from ecoxl.init import FOLDERS, init_workspace, office_from_text
from ecoxl.registry import load_registry, save_registry
from ecoxl.templating import packaged_templates
from ecoxl.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]

# Each table of ecoxl.toml and the settings it holds.
TABLES = {
    "plan": ("registry", "contacts"),
    "period": ("current", "deadline"),
    "office": tuple(f.name for f in fields(Office)),
    "mail": ("sender", "leaders"),
    "scoring": tuple(f.name for f in fields(Scoring)),
    "limits": tuple(f.name for f in fields(Limits)),
    "smtp": tuple(f.name for f in fields(Smtp)),
    "imap": tuple(f.name for f in fields(Imap)),
}


@pytest.fixture
def plan_json(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    save_registry(small_registry(), path)
    return path


def test_init_creates_a_workspace_later_stages_can_use(tmp_path: Path, plan_json: Path) -> None:
    root = tmp_path / "xinzheng"
    result = init_workspace(
        root,
        plan_json,
        period="2015-q3",
        deadline="2015-10-12",
        office=Office(name="", phone="0371-1"),
    )
    workspace = Workspace.find(root / "inbox")
    assert workspace.root == root
    settings = workspace.settings
    assert settings.period == "2015-Q3"
    assert settings.deadline_for(settings.period_obj()).isoformat() == "2015-10-12"
    assert settings.office == Office(name="领导小组办公室", phone="0371-1")
    registry = load_registry(workspace.registry_path)
    assert registry.to_dict() == small_registry().to_dict()
    assert len(load_contacts(workspace.contacts_path, registry)) == 6
    assert all((root / name).is_dir() for name in FOLDERS)
    copies = {
        p.relative_to(root / "templates") for p in (root / "templates").rglob("*") if p.is_file()
    }
    shipped = {
        p.relative_to(packaged_templates()) for p in packaged_templates().rglob("*") if p.is_file()
    }
    assert copies == shipped - {Path("ecoxl.toml")}
    assert {p.relative_to(root / "templates") for p in result.templates} == copies
    assert set(result.created) >= {
        workspace.config_path,
        workspace.registry_path,
        workspace.contacts_path,
    }
    assert result.replaced == []


def test_init_from_the_sample_notice(tmp_path: Path, sample_notice: Path) -> None:
    root = tmp_path / "xinzheng"
    init_workspace(root, sample_notice, period="2015-Q3")
    workspace = Workspace(root)
    office = workspace.settings.office
    assert office.name == "新郑市国家生态文明先行示范区建设领导小组办公室（设在市发展改革委）"
    assert office.person == "刘红军"
    registry = load_registry(workspace.registry_path)
    assert registry.to_dict() == load_registry(sample_notice).to_dict()
    contacts = load_contacts(workspace.contacts_path, registry)
    assert contacts.findings == []
    assert set(registry.reporting_units()) <= {c.unit for c in contacts}
    assert contacts.get("城关乡").person == "马东亮"


def test_the_summary_names_what_was_created(tmp_path: Path, plan_json: Path) -> None:
    text = init_workspace(tmp_path / "ws", plan_json).summary()
    assert str(tmp_path / "ws" / "plan.xlsx") in text
    assert "新政办〔2015〕12号" in text
    assert "2015-Q3" in text  # the next step suggests a period of the plan's year


def test_unit_groups_are_counted_apart_from_the_units(plan_json: Path) -> None:
    # a 单位类别 (各乡镇（街道、管委会） …) is listed among the units too, and counts once
    registry = load_registry(plan_json)
    assert [u.kind for u in registry.units].count("group") == len(registry.groups) == 2
    assert registry.unit_counts() == (len(registry.units) - 2, 2)


def test_a_non_empty_folder_is_refused_without_force(tmp_path: Path, plan_json: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "notes.txt").write_text("office notes", encoding="utf-8")
    with pytest.raises(WorkspaceError):
        init_workspace(root, plan_json)
    assert sorted(p.name for p in root.iterdir()) == ["notes.txt"]


def test_force_rewrites_the_three_files_and_keeps_the_office_templates(
    tmp_path: Path, plan_json: Path
) -> None:
    root = tmp_path / "ws"
    init_workspace(root, plan_json)
    edited = next(p for p in (root / "templates").rglob("*") if p.is_file())
    edited.write_text("办公室改过的措辞", encoding="utf-8")
    (root / "ledger.sqlite").write_bytes(b"kept")
    result = init_workspace(root, plan_json, period="2015-Q4", force=True)
    assert Workspace(root).settings.period == "2015-Q4"
    assert {p.name for p in result.replaced} == {"ecoxl.toml", "plan.xlsx", "contacts.xlsx"}
    assert edited in result.kept
    assert edited.read_text(encoding="utf-8") == "办公室改过的措辞"
    assert (root / "ledger.sqlite").read_bytes() == b"kept"


@pytest.mark.parametrize(("option", "value"), [("period", "2015-Q5"), ("deadline", "2015/10/10")])
def test_a_bad_period_or_deadline_writes_nothing(
    tmp_path: Path, plan_json: Path, option: str, value: str
) -> None:
    with pytest.raises(ConfigError):
        init_workspace(tmp_path / "ws", plan_json, **{option: value})
    assert not (tmp_path / "ws").exists()


def test_office_is_found_where_the_notice_says(tmp_path: Path) -> None:
    text = (
        "附件:新郑市国家生态文明先行示范区建设领导小组组成人员名单\n"
        " 领导小组下设办公室,办公地点设在市发展改革委,刘红军兼任办公室主任,高军相兼任办公室副主任。\n"
    )
    office = office_from_text(text)
    assert office.name == "新郑市国家生态文明先行示范区建设领导小组办公室（设在市发展改革委）"
    assert office.person == "刘红军"
    assert office_from_text("没有办公室的通知") == Office()


def test_the_office_name_on_the_command_line_wins(tmp_path: Path, plan_json: Path) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text("领导小组下设办公室,办公地点设在市环保局。", encoding="gb18030")
    save_registry(small_registry(), notice.with_suffix(".json"))
    office = Office(name="生态办", person="", phone="", email="stb@xz.gov.cn")
    init_workspace(tmp_path / "ws", notice.with_suffix(".json"), office=office)
    assert Workspace(tmp_path / "ws").settings.office == Office("生态办", "", "", "stb@xz.gov.cn")


# -- the settings file ----------------------------------------------------------------


def test_every_setting_is_in_the_settings_file_and_documented(
    tmp_path: Path, plan_json: Path
) -> None:
    init_workspace(tmp_path / "ws", plan_json)
    text = (tmp_path / "ws" / "ecoxl.toml").read_text(encoding="utf-8")
    doc = (REPO / "docs" / "CONFIG.md").read_text(encoding="utf-8")
    for table, keys in TABLES.items():
        assert f"[{table}]" in text
        for key in keys:
            pattern = rf"^(# )?({key} = |\[{table}\.{key}\]$)"
            assert re.search(pattern, text, re.M), f"{table}.{key} missing from ecoxl.toml"
            assert f"`{table}.{key}`" in doc, f"{table}.{key} missing from docs/CONFIG.md"


def test_every_commented_setting_shows_its_default(tmp_path: Path, plan_json: Path) -> None:
    """Uncommenting every setting line gives the defaults: the comments do not lie."""
    init_workspace(tmp_path / "ws", plan_json)
    text = (tmp_path / "ws" / "ecoxl.toml").read_text(encoding="utf-8")
    setting = re.compile(r'^# (\[[\w.]+\]|"?\w+"? = .*)$', re.M)
    settings = settings_from_dict(tomllib.loads(setting.sub(r"\1", text)))
    assert settings.scoring == Scoring()
    assert settings.limits == Limits()
    assert settings.smtp == Smtp(
        host="smtp.example.gov.cn",
        username="shengtai@example.gov.cn",
        password_env="ECOXL_SMTP_PASSWORD",
    )
    assert settings.imap == Imap(
        host="imap.example.gov.cn",
        username="shengtai@example.gov.cn",
        password_env="ECOXL_IMAP_PASSWORD",
    )
    assert settings.period == "2015-Q3"


def test_quotes_in_values_stay_valid_toml(tmp_path: Path, plan_json: Path) -> None:
    sender = '"生态办" <stb@xz.gov.cn>'
    init_workspace(tmp_path / "ws", plan_json, office=Office(name='办公室\\"A"'), sender=sender)
    settings = Workspace(tmp_path / "ws").settings
    assert settings.sender == sender
    assert settings.office.name == '办公室\\"A"'


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('[perod]\ncurrent = "2015-Q3"', "perod"),
        ('[period]\ncurent = "2015-Q3"', "curent"),
        ('[smtp]\nhost = "smtp.xz.gov.cn"\nport = "465"', "port"),
        ("[office]\nname = 3", "name"),
        ("[limits]\nmemory_mb = true", "memory_mb"),
    ],
)
def test_a_misspelt_or_mistyped_setting_is_named(text: str, names: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(tomllib.loads(text))
    assert names in str(caught.value)


def test_one_leader_may_be_written_without_brackets() -> None:
    settings = settings_from_dict(tomllib.loads('[mail]\nleaders = "leader@xz.gov.cn"'))
    assert settings.leaders == ("leader@xz.gov.cn",)


# -- the command ---------------------------------------------------------------------


def test_the_command_prints_what_it_created(tmp_path: Path, plan_json: Path) -> None:
    root = tmp_path / "ws"
    runner = CliRunner()
    args = [
        "init",
        str(root),
        "--notice",
        str(plan_json),
        "--period",
        "2015-Q3",
        "--office-email",
        "stb@xz.gov.cn",
    ]
    done = runner.invoke(main, args)
    assert done.exit_code == 0, done.output
    assert f"{root / 'contacts.xlsx'}" in done.output
    assert Workspace(root).settings.office.email == "stb@xz.gov.cn"
    again = runner.invoke(main, args)
    assert again.exit_code == 2
    assert again.stderr.count("\n") == 1
    assert "--force" in again.stderr


def test_leaders_given_at_init_receive_the_scorecard(tmp_path: Path, plan_json: Path) -> None:
    leaders = ("张市长 <mayor@example.gov.cn>", 'deputy"@example.gov.cn')
    args = ["init", str(tmp_path / "ws"), "--notice", str(plan_json)]
    for leader in leaders:
        args += ["--leader", leader]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    assert Workspace(tmp_path / "ws").settings.leaders == leaders


def test_any_setting_can_be_given_on_the_command_line(tmp_path: Path, plan_json: Path) -> None:
    init_workspace(tmp_path / "ws", plan_json, period="2015-Q3")
    ws = Workspace.find(
        tmp_path / "ws",
        overrides=["period.current=2015-Q4", "smtp.host=mail.xz.gov.cn", "smtp.port=587"],
    )
    assert ws.settings.period == "2015-Q4"
    assert (ws.settings.smtp.host, ws.settings.smtp.port) == ("mail.xz.gov.cn", 587)


@pytest.mark.parametrize(
    ("override", "code"),
    [("period", 2), ("smtp.password=secret", 2), ("nosuch.key=1", 2), ("scoring.cap=high", 2)],
)
def test_a_bad_command_line_setting_is_one_line(
    tmp_path: Path, plan_json: Path, monkeypatch: pytest.MonkeyPatch, override: str, code: int
) -> None:
    init_workspace(tmp_path / "ws", plan_json, period="2015-Q3")
    monkeypatch.chdir(tmp_path / "ws")
    done = CliRunner().invoke(main, ["--set", override, "status"])
    assert done.exit_code == code
    assert len(done.output.strip().splitlines()) == 1 and "secret" not in done.output
