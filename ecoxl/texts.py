"""User-visible Chinese text: messages, labels and status words, in one place.

Column headers live with the column definitions (`layout.py` for the form);
longer prose the office may edit (e-mail bodies, form instructions) lives in
`templates/`. Everything a clerk reads in a message comes from here, so the
wording can be reviewed and changed without reading code.

Use `say(key, **values)`; keys are stable and tests never compare wording.
"""

from __future__ import annotations

# 进展状态: the list a unit chooses from in the form, and what each word means.
STATUSES: dict[str, str] = {
    "已完成": "全年目标已经完成",
    "超进度": "完成情况快于序时进度",
    "达进度": "完成情况与序时进度基本一致",
    "欠进度": "完成情况慢于序时进度(须填写“存在问题”)",
    "未启动": "工作尚未开始",
}

UNIT_KINDS: dict[str, str] = {
    "department": "市直部门",
    "township": "乡镇街道",
    "group": "单位类别",
    "other": "其他",
}

MESSAGES: dict[str, str] = {
    # -- command line (cli.py) -----------------------------------------------
    "cli.error": "错误:{message}",
    "cli.internal": "内部错误({error});请用 --debug 重新运行并把输出发给维护人员",
    # -- errors (exceptions.py) ---------------------------------------------
    "config.no_period": "未指定填报期次:请在 ecoxl.toml 的 [period] current 中填写,或用 --period 2015-Q3 指定",
    "config.bad_date": "日期“{text}”格式不对:应写作 2015-10-10",
    "config.bad_toml": "{file} 无法读取:{reason}",
    "config.unknown_key": "{file} 的 [{table}] 中有无法识别的设置项“{key}”",
    "config.missing_key": "{file} 的 [{table}] 设置不完整:{reason}",
    "config.password_in_file": "{file} 的 [{table}] 中不能写密码:请用 password_env 指定存放密码的环境变量名",
    "workspace.missing": "{path} 不是 ecoxl 工作目录(没有 ecoxl.toml):请先运行 ecoxl init",
    "workspace.no_file": "工作目录中缺少 {file}",
    "ledger.unusable": "台账数据库 {path} 无法使用:{reason}",
    "ledger.too_new": "台账数据库 {path} 由更新版本的 ecoxl 创建(版本 {version}),请升级 ecoxl",
    "libreoffice.missing": "未找到 LibreOffice(soffice):请安装 libreoffice-calc-nogui",
    "libreoffice.failed": "LibreOffice 无法把 {file} 另存为 {fmt}:{reason}",
    "period.invalid": "无法识别的填报期次“{text}”:应写作 2015-Q3(季度)、2015-09(月份)、2015-H1(半年)或 2015(全年)",
}


def say(key: str, **values: object) -> str:
    """The message `key` with `values` filled in."""
    return MESSAGES[key].format(**values)
