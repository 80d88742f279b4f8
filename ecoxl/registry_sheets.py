"""The registry workbook's sheets and columns, defined once for writing and reading.

docs/REGISTRY_WORKBOOK.md describes them for the office. Choice columns show
Chinese words (越高越好) and the registry keeps codes (up); the maps between them
and the text form of change figures (增长10%;比2013年下降13%) live here too.
"""

from __future__ import annotations

import re

from .model import Change
from .sheet_table import TableColumn, TableSpec, format_number, name_key
from .texts import COMBINE_RULES, DIRECTIONS, UNIT_KINDS

GUIDE_SHEET = "说明"
GOALS = "主要目标"  # what 所属任务 says for an indicator of the 主要目标
REQUIREMENTS = ("≥", "≤", "约", "区间")

PLAN = TableSpec(
    "方案信息",
    (
        TableColumn("item", "项目", 12, required=True, note="固定的项目名称，请勿修改"),
        TableColumn("value", "内容", 70, "long", note="可以修改"),
    ),
    note="通知的基本信息。改动方案名称或文号会改变方案编号，已下发的填报表将无法识别，请在下发前修改。",
)
# The plan facts, one row each: field of `PlanInfo` and the label in 项目.
PLAN_FACTS: tuple[tuple[str, str], ...] = (
    ("title", "方案名称"),
    ("issuer", "发文机关"),
    ("doc_number", "文号"),
    ("date", "印发日期"),
    ("year", "年度"),
)

CATEGORIES = TableSpec(
    "任务类别",
    (
        TableColumn(
            "number", "类别编号", 10, "int", required=True, note="1 至 8 对应（一）至（八）"
        ),
        TableColumn("title", "类别名称", 40, required=True, note="可以修改"),
    ),
    note="重点任务的类别。",
)

TASKS = TableSpec(
    "重点任务",
    (
        TableColumn("number", "编号", 8, "int", required=True, note="任务序号；表格下发后请勿修改"),
        TableColumn(
            "category",
            "类别",
            8,
            "int",
            source=CATEGORIES.range_of("number"),
            note="任务类别的编号",
        ),
        TableColumn("title", "标题", 40, "long", required=True, note="可以修改"),
        TableColumn(
            "lead_units",
            "牵头单位",
            24,
            "long",
            note="单位名称或单位类别，多个用“、”分隔；须是“单位”表或“单位类别”表中已有的名称",
        ),
        TableColumn("responsible_units", "责任单位", 40, "long", note="同“牵头单位”"),
        TableColumn("weight", "权重", 8, "number", note="考核时任务的权重，默认 1"),
        TableColumn(
            "text", "全文", 60, "long", note="通知原文，仅供参考（编辑栏中显示全文）", grow=False
        ),
    ),
    note="每行一项重点任务。",
)

INDICATORS = TableSpec(
    "指标",
    (
        TableColumn(
            "id", "指标编号", 10, required=True, note="如 7-3；下发后请勿修改；新增指标请用新的编号"
        ),
        TableColumn(
            "task", "所属任务", 10, required=True, note=f"任务编号；主要目标的指标填“{GOALS}”"
        ),
        TableColumn("name", "指标名称", 30, "long", required=True, note="可以修改"),
        TableColumn("target", "目标值", 10, "number", note="只填数字；只有文字要求的目标留空"),
        TableColumn(
            "target_max", "目标上限", 10, "number", note="区间目标（如 1—3 个）的上限，否则留空"
        ),
        TableColumn("unit", "计量单位", 16, note="如 %、万吨、公里"),
        TableColumn(
            "direction",
            "方向",
            10,
            "choice",
            choices=tuple(DIRECTIONS.values()),
            note="越低越好用于能耗、排放、浓度等指标；留空为越高越好",
        ),
        TableColumn(
            "requirement",
            "要求",
            8,
            "choice",
            choices=REQUIREMENTS,
            note="≥ 不低于，≤ 不高于，约 左右，区间 在目标值和目标上限之间",
        ),
        TableColumn(
            "combine",
            "多单位汇总方式",
            16,
            "choice",
            choices=tuple(COMBINE_RULES.values()),
            note="几个单位填报同一指标时，取牵头单位的数值还是各单位合计",
        ),
        TableColumn("changes", "变化情况", 24, note="如“增长10%；比2013年下降13%”，多项用分号分隔"),
        TableColumn("text", "原文", 50, "long", note="通知中的原话，仅供参考"),
    ),
    note="每行一个指标（一个数值目标）。",
)

UNITS = TableSpec(
    "单位",
    (
        TableColumn("name", "单位名称", 30, required=True, note="规范名称，任务和联系人表都用它"),
        TableColumn("aliases", "别名", 30, "long", note="通知中的其他写法，多个用“、”分隔"),
        TableColumn(
            "kind",
            "类型",
            10,
            "choice",
            choices=tuple(UNIT_KINDS.values()),
            note="单位类别指“各乡镇（街道、管委会）”这类集合名称，其成员在“单位类别”表",
        ),
        TableColumn("person", "领导小组成员", 14, note="附件名单中的成员"),
        TableColumn("title", "职务", 30, "long", note="领导小组成员的职务"),
    ),
    note="每行一个单位。",
)

GROUPS = TableSpec(
    "单位类别",
    (
        TableColumn("group", "单位类别", 30, required=True, note="如“各乡镇（街道、管委会）”"),
        TableColumn(
            "member",
            "成员",
            30,
            source=UNITS.range_of("name"),
            note="每行一个成员单位，须是“单位”表中的名称；尚无成员的类别保留一行，成员留空",
        ),
    ),
    note="任务中的集合名称及其成员单位，每行一个成员；下发表格时每个成员各得一份。",
)

TABLES = (PLAN, CATEGORIES, TASKS, INDICATORS, UNITS, GROUPS)


def codes_of(labels: dict[str, str]) -> dict[str, str]:
    """What a choice cell may say, mapped to the code: the Chinese word or the code itself."""
    return {**{code: code for code in labels}, **{label: code for code, label in labels.items()}}


# -- change figures as text -----------------------------------------------------

_VERBS = {"增长": "increase", "下降": "decrease"}
_SYNONYMS = {"提高": "增长", "增加": "增长", "上升": "增长", "降低": "下降", "减少": "下降"}
_CHANGE = re.compile(
    r"^(?:(?:比|较)(?P<baseline>\d{4})年?)?(?P<verb>增长|下降|提高|增加|上升|降低|减少)"
    r"(?P<value>[-+]?\d+(?:[.．]\d+)?)(?P<unit>.*)$"
)


def format_changes(changes: list[Change]) -> str:
    """增长10%；比2013年下降13%: one figure per change, read back by `parse_changes`."""
    verbs = {kind: verb for verb, kind in _VERBS.items()}
    return "；".join(
        (f"比{c.baseline}年" if c.baseline else "")
        + f"{verbs[c.kind]}{format_number(c.value)}{c.unit}"
        for c in changes
    )


def parse_changes(text: str) -> list[Change]:
    """The change figures in a 变化情况 cell; ValueError names the part that is not one."""
    changes = []
    for part in re.split(r"[;；、\n]", text):
        part = "".join(part.split())  # 增长 10 % as typed
        if not part:
            continue
        match = _CHANGE.match(part)
        if not match:
            raise ValueError(part)
        verb = _SYNONYMS.get(match["verb"], match["verb"])
        baseline = int(name_key(match["baseline"])) if match["baseline"] else None
        value = float(name_key(match["value"]))
        changes.append(Change(_VERBS[verb], value, match["unit"], baseline))
    return changes
