"""Settings (`ecoxl.toml` and `--set`): every unusable value is refused when the settings are
read, with one line naming where it was written, and exit code 2 from the command.

Messages are checked through their keys (`say`), never their wording; a value must appear as
TOML writes it (`port = "465"`, `amber_margin = true`), never as a Python repr.
"""

from __future__ import annotations

import codecs
import tomllib
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures import small_registry
from mailserver import PERIOD, make_workspace

from ecoxl.cli import main
from ecoxl.config import load_settings, settings_from_dict
from ecoxl.exceptions import ConfigError
from ecoxl.forms import forms_run
from ecoxl.init import init_workspace
from ecoxl.period import Period
from ecoxl.registry import save_registry
from ecoxl.scorecard import make_scorecard
from ecoxl.texts import say
from ecoxl.workspace import Workspace

Q3 = Period.parse("2015-Q3")
Q4 = Period.parse("2015-Q4")


def refused(text: str = "", overrides: tuple[str, ...] = (), tmp_path: Path | None = None) -> str:
    """The message refusing `text` as ecoxl.toml (in `tmp_path`) with `overrides`."""
    if tmp_path is None:
        with pytest.raises(ConfigError) as caught:
            settings_from_dict(tomllib.loads(text))
    else:
        path = tmp_path / "ecoxl.toml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_settings(path, overrides)
    message = str(caught.value)
    assert "\n" not in message
    return message


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def one_line_exit_2(result) -> str:
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "Error" not in result.output and "内部错误" not in result.output
    return result.output


# -- 1. limits and mail servers: positive, finite, in range ---------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("[limits]\nmax_unzipped_mb = 0", "max_unzipped_mb = 0"),
        ("[limits]\nmax_file_mb = -5", "max_file_mb = -5"),
        ("[limits]\nmemory_mb = -100", "memory_mb = -100"),
        ("[limits]\nmemory_mb = 0", "memory_mb = 0"),
        ("[limits]\nmemory_mb = 512.5", "memory_mb = 512.5"),
        ("[limits]\ntimeout_seconds = -1", "timeout_seconds = -1"),
        ("[limits]\ntimeout_seconds = 1e400", "timeout_seconds = inf"),
        ("[limits]\ntimeout_seconds = nan", "timeout_seconds = nan"),
        ('[smtp]\nhost = "h"\nport = 0', "port = 0"),
        ('[smtp]\nhost = "h"\nport = 70000', "port = 70000"),
        ('[imap]\nhost = "h"\nport = -1', "port = -1"),
        ('[smtp]\nhost = "h"\ntimeout = -5', "timeout = -5"),
        ('[imap]\nhost = "h"\ntimeout = 0', "timeout = 0"),
        ('[smtp]\nhost = "h"\ntimeout = inf', "timeout = inf"),
        ('[imap]\nhost = "h"\ntimeout = 1e10', "timeout = 10000000000.0"),
        ('[smtp]\nhost = "h"\nsecurity = "tls"', 'security = "tls"'),
        ('[imap]\nhost = "h"\nsecurity = "SSL"', 'security = "SSL"'),
    ],
)
def test_limits_and_servers_refuse_values_they_cannot_use(text: str, shown: str) -> None:
    message = refused(text)
    assert shown in message


def test_usable_limits_and_servers_are_kept() -> None:
    text = (
        "[limits]\nmax_file_mb = 0.5\nmemory_mb = 1\ntimeout_seconds = 2\n"
        '[smtp]\nhost = "h"\nport = 65535\nsecurity = "none"\ntimeout = 0.5\n'
        '[imap]\nhost = "h"\nport = 1\nsecurity = "starttls"\n'
    )
    settings = settings_from_dict(tomllib.loads(text))
    assert (settings.limits.max_file_mb, settings.limits.memory_mb) == (0.5, 1)
    assert (settings.smtp.port, settings.smtp.security, settings.smtp.timeout) == (
        65535,
        "none",
        0.5,
    )
    assert (settings.imap.port, settings.imap.security) == (1, "starttls")


@pytest.fixture
def ws(tmp_path, monkeypatch):
    workspace = make_workspace(tmp_path / "ws")
    monkeypatch.chdir(workspace.root)
    return workspace


@pytest.mark.parametrize(
    "overrides",
    [
        ["limits.max_unzipped_mb=0"],
        ["smtp.host=127.0.0.1", "smtp.timeout=-5"],
        ["smtp.host=127.0.0.1", "smtp.security=tls"],
    ],
)
def test_a_server_setting_is_refused_even_on_a_dry_run(ws, overrides: list[str]) -> None:
    args = [arg for override in overrides for arg in ("--set", override)]
    output = one_line_exit_2(run(*args, "send", "forms", "--dry-run"))
    assert say("config.where.set", text=overrides[-1]) in output


def test_an_imap_timeout_of_0_is_refused_before_connecting(ws) -> None:
    output = one_line_exit_2(
        run("--set", "imap.host=127.0.0.1", "--set", "imap.timeout=0", "fetch")
    )
    assert say("config.where.set", text="imap.timeout=0") in output


# -- 2. mail.leaders: text or a list of texts --------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("[mail]\nleaders = 5", "leaders = 5"),
        ('[mail]\nleaders = ["a@xz.gov.cn", 5]', 'leaders = ["a@xz.gov.cn", 5]'),
        ("[mail]\nleaders = true", "leaders = true"),
        ("[mail]\nsender = 5", "sender = 5"),
        ("[plan]\nregistry = 5", "registry = 5"),
    ],
)
def test_mail_and_plan_settings_are_type_checked(text: str, shown: str) -> None:
    assert shown in refused(text)


def test_leaders_given_as_a_number_on_the_command_line_are_one_line(ws) -> None:
    make_scorecard(ws, PERIOD)
    output = one_line_exit_2(run("--set", "mail.leaders=5", "send", "scorecard", "--dry-run"))
    assert say("config.where.set", text="mail.leaders=5") in output


# -- 3. the file as Windows Notepad saves it; a file that cannot be read -----------------

SETTINGS = '# 设置\n[period]\r\ncurrent = "2015-Q3"\r\n\r\n[office]\r\nname = "生态办"\r\n'


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF8 + SETTINGS.encode("utf-8"),
        SETTINGS.encode("gbk"),
        SETTINGS.encode("gb18030"),
        SETTINGS.encode("utf-16"),  # with its BOM, as Notepad writes "Unicode"
        codecs.BOM_UTF16_BE + SETTINGS.encode("utf-16-be"),
        SETTINGS.encode("utf-8"),
        b"",
    ],
)
def test_notepad_encodings_are_read(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "ecoxl.toml"
    path.write_bytes(data)
    settings = load_settings(path)
    if data:
        assert (settings.period, settings.office.name) == ("2015-Q3", "生态办")
    else:
        assert settings.period == "" and settings.office.name == "领导小组办公室"


def test_a_folder_named_ecoxl_toml_is_one_line(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "ecoxl.toml").mkdir()
    monkeypatch.chdir(tmp_path)
    output = one_line_exit_2(run("status"))
    assert "ecoxl.toml" in output


def test_an_unreadable_file_is_one_line(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "ecoxl.toml"
    path.write_text('[period]\ncurrent = "2015-Q3"\n', encoding="utf-8")

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    monkeypatch.chdir(tmp_path)
    output = one_line_exit_2(run("status"))
    assert "ecoxl.toml" in output and "Permission" not in output


def test_bytes_in_no_known_encoding_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "ecoxl.toml"
    path.write_bytes(b'[office]\nname = "\x80\xff"\n')
    with pytest.raises(ConfigError, match=r"ecoxl\.toml"):
        load_settings(path)


# -- 4. the file's deadline belongs to the file's period -------------------------------------

FILE_DEADLINE = '[period]\ncurrent = "2015-Q3"\ndeadline = "2015-10-10"\n'


def deadline(tmp_path: Path, overrides: tuple[str, ...], period: Period, option=None) -> date:
    path = tmp_path / "ecoxl.toml"
    path.write_text(FILE_DEADLINE, encoding="utf-8")
    settings = load_settings(path, overrides)
    return settings.deadline_for(period, option)


def test_another_period_from_the_command_line_gets_its_own_deadline(tmp_path: Path) -> None:
    assert deadline(tmp_path, ("period.current=2015-Q4",), Q4) == date(2016, 1, 10)
    assert deadline(tmp_path, (), Q4) == date(2016, 1, 10)  # --period 2015-Q4
    both = ("period.current=2015-Q4", "period.deadline=2016-01-05")
    assert deadline(tmp_path, both, Q4) == date(2016, 1, 5)
    assert deadline(tmp_path, ("period.deadline=2016-01-05",), Q4) == date(2016, 1, 5)
    assert deadline(tmp_path, ("period.current=2015-Q4",), Q4, "2016-01-07") == date(2016, 1, 7)


def test_the_same_period_from_the_command_line_keeps_the_files_deadline(tmp_path: Path) -> None:
    assert deadline(tmp_path, ("period.current=2015q3",), Q3) == date(2015, 10, 10)
    assert deadline(tmp_path, (), Q3) == date(2015, 10, 10)


def test_forms_for_another_period_carry_its_deadline(ws) -> None:
    """`ecoxl --set period.current=2015-Q4 forms` in a 2015-Q3 workspace with a deadline."""
    q4 = Workspace.find(ws.root, overrides=("period.current=2015-Q4",))
    assert forms_run(q4).deadline == date(2016, 1, 10)
    assert forms_run(ws).deadline == date(2015, 10, 12)
    assert forms_run(q4, deadline="2016-01-05").deadline == date(2016, 1, 5)


# -- 5. a deadline before the period starts -------------------------------------------------


def test_a_deadline_before_the_period_starts_is_refused_in_the_file(tmp_path: Path) -> None:
    text = '[period]\ncurrent = "2015-Q3"\ndeadline = "2015-01-01"\n'
    assert 'deadline = "2015-01-01"' in refused(text)
    text = '[period]\ncurrent = "2015-Q3"\ndeadline = 2015-06-30\n'  # a TOML date
    assert "deadline = 2015-06-30" in refused(text)
    early = ("period.deadline=2015-06-30",)
    message = refused('[period]\ncurrent = "2015-Q3"\n', early, tmp_path)
    assert say("config.where.set", text=early[0]) in message


def test_a_deadline_before_the_period_ends_is_fine() -> None:
    text = '[period]\ncurrent = "2015-Q3"\ndeadline = "2015-07-01"\n'
    settings = settings_from_dict(tomllib.loads(text))
    assert settings.deadline_for(Q3) == date(2015, 7, 1)


def test_a_deadline_option_before_the_period_starts_is_refused() -> None:
    settings = settings_from_dict(tomllib.loads('[period]\ncurrent = "2015-Q3"\n'))
    with pytest.raises(ConfigError) as caught:
        settings.deadline_for(Q3, "2014-01-01")
    assert say("config.where.option", option="--deadline", text="2014-01-01") in str(caught.value)
    assert settings.deadline_for(Q3, "2015-09-01") == date(2015, 9, 1)


def test_forms_deadline_before_the_period_is_one_line(ws) -> None:
    output = one_line_exit_2(run("forms", "--deadline", "2014-01-01", "-o", "early"))
    assert "2014-01-01" in output
    assert not (ws.root / "early").exists()


def test_init_refuses_a_deadline_before_the_period(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    save_registry(small_registry(), plan)
    with pytest.raises(ConfigError, match="2015-01-01"):
        init_workspace(tmp_path / "ws", plan, period="2015-Q3", deadline="2015-01-01")
    assert not (tmp_path / "ws").exists()
    args = ["init", str(tmp_path / "ws"), "--notice", str(plan), "--period", "2015-Q3"]
    one_line_exit_2(run(*args, "--deadline", "2015-01-01"))


# -- 6. errors name the command line when a --set gave the value; values as written ---------


def test_an_unknown_key_from_the_command_line_names_the_command_line(tmp_path: Path) -> None:
    message = refused("[scoring]\ncap = 1.2\n", ("scoring.cpa=1",), tmp_path)
    assert say("config.where.set", text="scoring.cpa=1") in message
    assert say("config.where.file", file="ecoxl.toml", table="scoring") not in message


def test_a_value_from_the_file_is_shown_as_written() -> None:
    message = refused('[smtp]\nhost = "smtp.xz.gov.cn"\nport = "465"')
    assert 'port = "465"' in message and "[smtp]" in message


def test_text_settings_take_what_the_command_line_wrote(tmp_path: Path) -> None:
    path = tmp_path / "ecoxl.toml"
    overrides = ("office.phone=62600000", "period.current=2015", "office.name=true")
    settings = load_settings(path, overrides)
    assert (settings.office.phone, settings.period, settings.office.name) == (
        "62600000",
        "2015",
        "true",
    )


def test_a_password_on_the_command_line_is_not_repeated(tmp_path: Path) -> None:
    message = refused("", ("smtp.password=s3cret",), tmp_path)
    assert "s3cret" not in message


# -- 7. dotted sub-table keys on the command line -------------------------------------------


def test_a_dotted_key_changes_one_status(tmp_path: Path) -> None:
    path = tmp_path / "ecoxl.toml"
    path.write_text('[scoring.status_scores]\n"达进度" = 0.8\n', encoding="utf-8")
    for override in ("scoring.status_scores.欠进度=0.5", 'scoring.status_scores."欠进度"=0.5'):
        scores = load_settings(path, (override,)).scoring.status_scores
        assert (scores["欠进度"], scores["达进度"], scores["未启动"]) == (0.5, 0.8, 0.0)
    lights = load_settings(path, ("scoring.status_lights.欠进度=red",)).scoring.status_lights
    assert lights["欠进度"] == "red"
    inline = load_settings(path, ('scoring.status_scores={"欠进度"=0.5}',)).scoring.status_scores
    assert (inline["欠进度"], inline["达进度"]) == (0.5, 0.9)  # the table replaces the file's


def test_a_dotted_key_below_a_value_is_refused(tmp_path: Path) -> None:
    message = refused("[scoring]\ncap = 1.2\n", ("scoring.cap.x=1",), tmp_path)
    assert "scoring.cap.x=1" in message


# -- 8. unusable mail settings are settings problems: exit 2 -----------------------------------


def test_send_without_a_sender_exits_2(ws) -> None:
    one_line_exit_2(run("--set", 'mail.sender=""', "send", "forms", "--dry-run"))


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        (["mail.sender=not-an-email"], "mail.sender=not-an-email"),
        (['mail.sender=""', "office.email=@@"], "office.email=@@"),
        (["smtp.host=127.0.0.1", "smtp.sender=@@"], "smtp.sender=@@"),
    ],
)
def test_a_bad_sender_names_the_setting_that_holds_it(ws, overrides, named) -> None:
    args = [arg for override in overrides for arg in ("--set", override)]
    output = one_line_exit_2(run(*args, "send", "forms", "--dry-run"))
    assert say("config.where.set", text=named) in output


def test_a_bad_office_email_in_the_file_names_it(ws) -> None:
    text = ws.config_path.read_text(encoding="utf-8").replace(
        'sender = "office@example.gov.cn"', 'sender = ""\n'
    )
    ws.config_path.write_text(text.replace("[office]", '[office]\nemail = "@@"'), encoding="utf-8")
    output = one_line_exit_2(run("send", "forms", "--dry-run"))
    assert 'email = "@@"' in output and "[office]" in output


def test_send_scorecard_without_leaders_exits_2(ws) -> None:
    make_scorecard(ws, PERIOD)
    one_line_exit_2(run("--set", "mail.leaders=[]", "send", "scorecard", "--dry-run"))
    one_line_exit_2(run("--set", 'mail.leaders=["not an address"]', "send", "scorecard"))


def test_fetch_without_imap_exits_2(ws) -> None:
    one_line_exit_2(run("fetch"))


# -- 9. status tables name the five statuses; values as TOML writes them -------------------


@pytest.mark.parametrize("table", ["status_scores", "status_lights"])
def test_an_unknown_status_is_named_in_its_own_table(table: str) -> None:
    value = "1.0" if table == "status_scores" else '"green"'
    message = refused(f'[scoring.{table}]\n"完成了" = {value}\n')
    assert f"[scoring.{table}]" in message and '"完成了"' in message
    other = "status_lights" if table == "status_scores" else "status_scores"
    assert other not in message
    assert "、".join(["已完成", "超进度", "达进度", "欠进度", "未启动"]) in message


@pytest.mark.parametrize(
    ("text", "shown", "repr_"),
    [
        ("[scoring]\namber_margin = true", "amber_margin = true", "True"),
        ('[period]\ncurrent = ["2015-Q3"]', 'current = ["2015-Q3"]', "['2015-Q3']"),
        ('[period]\ncurrent = "2015-Q5"', 'current = "2015-Q5"', "'2015-Q5'"),
        ('[scoring.status_lights]\n"欠进度" = "yellow"', '"欠进度" = "yellow"', "'yellow'"),
        ('[scoring.status_scores]\n"欠进度" = -1', '"欠进度" = -1', "status_lights"),
        ("[scoring]\nstatus_scores = 5", "status_scores = 5", "TypeError"),
        ("[scoring]\ncap = 0.9", "cap = 0.9", "None"),
        ("[scoring]\nlead_weight = 0", "lead_weight = 0", "None"),
        ("[smtp]\nport = 25", "host", "__init__"),
    ],
)
def test_values_are_shown_as_toml_writes_them(text: str, shown: str, repr_: str) -> None:
    message = refused(text)
    assert shown in message and repr_ not in message
