"""The scorecard's computing sheets: 指标, 任务, 单位 — one function each.

明细 holds the reported rows as plain values; 指标, 任务 and 单位 compute from it with
classic formulas (SUMIFS, COUNTIFS, AVERAGEIFS, INDEX/MATCH, IFERROR, RANK,
SUMPRODUCT, IF, MIN, MAX, AND, OR), one formula per indicator, task or unit and
never one per reported row. Every formula is written with the result `scoring.py`
computed for it. Defined names (明细完成值, 任务完成率, 封顶 …) keep formulas readable.
"""

from __future__ import annotations

from .layout import requirement_label
from .model import ROLE_LABELS
from .scorecard_book import (
    FIRST,
    STATE_COLOURS,
    Book,
    Col,
    Table,
    form_header,
    light_labels,
    num,
    state_labels,
    text_constant,
)
from .scoring_results import RowResult, UnitResult
from .scoring_rules import RATE_STEP, SCORE_STEP, range_limit
from .texts import UNIT_KINDS, say

INDICATORS, TASKS, UNITS = "指标", "任务", "单位"


INDICATOR_COLS = (
    Col("seq", "序号", 6, "int"),
    Col("task", form_header("task"), 7, "int"),
    Col("key", form_header("row_key"), 7),
    Col("indicator", form_header("indicator"), 28, "wrap"),
    Col("measure", form_header("measure"), 9),
    Col("leads", "牵头单位", 14, "wrap"),
    Col("requirement", form_header("requirement"), 8),
    Col("target", form_header("target"), 10, "number"),
    Col("combine", "汇总方式", 11),
    Col("reporter", "取值单位", 14),
    Col("detail", "明细行号", 8, "helper_number"),
    Col("value", form_header("value"), 11, "number"),
    Col("status", form_header("status"), 9),
    Col("rate", form_header("rate"), 9, "pct"),
    Col("elapsed", "序时进度", 9, "pct"),
    Col("light", "状态", 14),
)

TASK_COLS = (
    Col("number", form_header("task"), 7, "int"),
    Col("category", "任务类别", 24),
    Col("title", form_header("task_title"), 30, "wrap"),
    Col("leads", "牵头单位", 14, "wrap"),
    Col("weight", "权重", 6, "number"),
    Col("indicators", "指标数", 7, "int"),
    Col("rate", form_header("rate"), 9, "pct"),
    Col("light", "状态", 14),
    Col("lead_status", "牵头单位" + form_header("status"), 11, "wrap"),
    Col("progress", form_header("progress"), 36, "wrap"),
    Col("problems", form_header("problems"), 24, "wrap"),
    Col("responsible", "责任单位报送", 9, "value"),
    Col("reported", "已报送的责任单位", 30, "wrap"),
    Col("key", "排序键", 10, "helper_number"),
    Col("order", "升序", 6, "helper_number"),
)

UNIT_COLS = (
    Col("name", "单位", 20),
    Col("kind", "类型", 9),
    Col("state", "报送状态", 9),
    Col("received", "报送时间", 17),
    Col("led", "牵头任务", 14, "wrap"),
    Col("supported", "责任任务", 20, "wrap"),
    Col("lead_part", "牵头得分", 9, "pct"),
    Col("support_part", "责任得分", 9, "pct"),
    Col("score", "得分", 8, "score"),
    Col("rank", "排名", 6, "int"),
    Col("problems", "问题数", 7, "int"),
    Col("key", "排序键", 10, "helper_number"),
    Col("order", "名次序", 7, "helper_number"),
)


def _sheet_row(detail: int | None) -> int:
    """The Excel row number of a 明细 record (what MATCH over a whole column returns)."""
    return 0 if detail is None else FIRST + detail + 1


def _lights_and_colour(book: Book, table: Table, first: str, last: str, driver: str) -> None:
    book.colour_by_label(
        table.sheet, table.area(first, last), table.cell(0, driver), light_labels()
    )


# -- 指标 ----------------------------------------------------------------------


def write_indicators(book: Book) -> Table:
    """One line per form row of the plan: the value used, its completion rate and status."""
    rows = book.card.rows
    table = Table(book, INDICATORS, "指标完成情况", INDICATOR_COLS, len(rows), freeze=4)
    labels = light_labels()
    for i, r in enumerate(rows):
        ind = r.indicator
        table.number(i, "seq", r.seq)
        table.number(i, "task", r.task)
        table.text(i, "key", r.key)
        table.text(i, "indicator", ind.name if ind else say("scorecard.no_indicator"))
        table.text(i, "measure", ind.unit if ind else "")
        table.text(i, "leads", "、".join(r.lead_units))
        label = requirement_label(ind.requirement, ind.target, ind.target_max) if ind else ""
        table.text(i, "requirement", label)
        table.number(i, "target", ind.target if ind else None)
        table.text(i, "combine", say(f"scorecard.combine.{r.combine}"))
        table.text(i, "reporter", r.reporter)
        c = {k: table.cell(i, k) for k in table.index}
        table.formula(
            i,
            "detail",
            f'=IFERROR(MATCH({c["reporter"]}&"|"&{c["key"]},明细定位键,0),0)',
            _sheet_row(r.detail),
        )
        table.formula(i, "value", _value_formula(r, c), r.value)
        table.formula(
            i, "status", f'=IF({c["detail"]}=0,"",INDEX(明细进展状态,{c["detail"]})&"")', r.status
        )
        table.formula(i, "rate", _rate_formula(r, c), r.rate)
        table.formula(i, "elapsed", "=序时进度", book.card.elapsed)
        table.formula(i, "light", _light_formula(r, c, labels), labels[r.light])
    for name, key in (("指标任务编号", "task"), ("指标完成率", "rate"), ("指标状态", "light")):
        table.define(name, key)
    _lights_and_colour(book, table, "rate", "light", "light")
    return table


def _value_formula(r: RowResult, c: dict[str, str]) -> str:
    """The lead unit's value (its 明细 row), or the sum over every unit's row (合计)."""
    if r.combine == "sum":
        return (
            f'=IF(COUNTIFS(明细指标序号,{c["seq"]},明细完成值,"<>")=0,"",'
            f"SUMIFS(明细完成值,明细指标序号,{c['seq']}))"
        )
    d = c["detail"]
    return f'=IF({d}=0,"",IF(INDEX(明细完成值,{d})="","",INDEX(明细完成值,{d})))'


def _rate_formula(r: RowResult, c: dict[str, str]) -> str:
    by_status = f"IFERROR(INDEX(状态分,MATCH({c['status']},状态,0)),0)"
    if r.kind is None:
        return f"={by_status}"
    v, t = c["value"], c["target"]
    target = r.indicator.target
    if r.kind == "up":
        rate = f"MAX(0,MIN(封顶,{v}/{t}))" if target > 0 else f"IF({v}>={t},1,0)"
    elif r.kind == "range_up":
        rate = f"IF({v}>={t},1,MAX(0,{v}/{t}))" if target > 0 else f"IF({v}>={t},1,0)"
    else:
        limit = t if r.kind == "down" else num(range_limit(r.indicator))
        rate = f"IF({v}<={limit},1,IFERROR(MAX(0,{limit}/{v}),0))"
    return f'=IF({v}="",{by_status},{rate})'


def _light_formula(r: RowResult, c: dict[str, str], labels: dict[str, str]) -> str:
    said = {light: text_constant(label) for light, label in labels.items()}
    by_status = f"IFERROR(INDEX(状态灯,MATCH({c['status']},状态,0)),{said['grey']})"
    if r.kind is None:
        return f"={by_status}"
    rate, elapsed = c["rate"], c["elapsed"]
    return (
        f'=IF({c["value"]}="",{by_status},IF({rate}>={elapsed},{said["green"]},'
        f"IF({rate}>={elapsed}-黄色区间,{said['amber']},{said['red']})))"
    )


# -- 任务 ----------------------------------------------------------------------


def write_tasks(book: Book) -> Table:
    """One line per task: average completion of its rows, the lead unit's own words."""
    tasks = book.card.tasks
    table = Table(book, TASKS, "重点任务完成情况", TASK_COLS, len(tasks), freeze=3)
    labels = light_labels()
    for i, t in enumerate(tasks):
        table.number(i, "number", t.number)
        table.text(i, "category", t.category)
        table.text(i, "title", t.title)
        table.text(i, "leads", "、".join(t.lead_units))
        table.number(i, "weight", t.weight)
        table.number(i, "indicators", t.indicators)
        c = {k: table.cell(i, k) for k in table.index}
        table.formula(i, "rate", f"=AVERAGEIFS(指标完成率,指标任务编号,{c['number']})", t.rate)
        table.formula(i, "light", _worst_formula(c["number"], labels), labels[t.light])
        table.text(i, "lead_status", t.lead_status)
        table.text(i, "progress", t.progress)
        table.text(i, "problems", t.problems)
        table.text(i, "responsible", f"{len(t.responsible_reported)}/{len(t.responsible)}")
        table.text(i, "reported", "、".join(t.responsible_reported))
        table.formula(i, "key", f"={c['rate']}+{i}*{RATE_STEP:.0E}", t.key)
        table.formula(i, "order", f"=RANK({c['key']},任务排序键,1)", t.order)
    names = {
        "任务编号": "number",
        "任务类别": "category",
        "任务名称": "title",
        "任务牵头单位": "leads",
        "任务权重": "weight",
        "任务完成率": "rate",
        "任务状态": "light",
        "任务排序键": "key",
        "任务升序": "order",
    }
    for name, key in names.items():
        table.define(name, key)
    _lights_and_colour(book, table, "rate", "light", "light")
    return table


def _worst_formula(number: str, labels: dict[str, str]) -> str:
    """The furthest-behind status among the task's rows: 滞后, 略低…, 未报送, else 达到…."""
    formula = text_constant(labels["green"])
    for light in ("grey", "amber", "red"):
        label = text_constant(labels[light])
        formula = f"IF(COUNTIFS(指标任务编号,{number},指标状态,{label})>0,{label},{formula})"
    return "=" + formula


# -- 单位 ----------------------------------------------------------------------


def write_units(book: Book, tasks: Table) -> Table:
    """One line per reporting unit: return state, the two parts of its score, score, rank."""
    units = book.card.units
    table = Table(book, UNITS, "单位得分与排名", UNIT_COLS, len(units))
    states = state_labels()
    row_of = {t.number: i for i, t in enumerate(book.card.tasks)}
    error = text_constant(say("scorecard.severity.error"))  # 问题数: its file's errors on 问题
    for i, u in enumerate(units):
        c = {k: table.cell(i, k) for k in table.index}
        table.text(i, "name", u.name)
        table.text(i, "kind", UNIT_KINDS.get(u.kind, u.kind))
        table.text(i, "state", states[u.state])
        table.text(i, "received", u.received_at.replace("T", " ")[:16])
        table.text(i, "led", "、".join(str(n) for n in u.led))
        table.text(i, "supported", "、".join(str(n) for n in u.supported))
        if u.lead_part is None:
            table.number(i, "lead_part", None)
        else:
            table.formula(i, "lead_part", _lead_formula(u, tasks, row_of), u.lead_part)
        if u.support_part is None:
            table.number(i, "support_part", None)
        else:
            table.formula(i, "support_part", _support_formula(u, c), u.support_part)
        received, late = text_constant(states["received"]), text_constant(states["late"])
        counted = f"OR({c['state']}={received},{c['state']}={late})"
        table.formula(i, "score", f"=IF({counted},{_score_formula(u, c)},0)", u.score)
        table.formula(i, "rank", f"=SUMPRODUCT((单位得分>{c['score']})*1)+1", u.rank)
        errors = f"=COUNTIFS(问题单位,{c['name']},问题级别,{error})"
        table.formula(i, "problems", errors, u.problem_count)
        table.formula(i, "key", f"={c['score']}-{i}*{SCORE_STEP:.0E}", u.key)
        table.formula(i, "order", f"=RANK({c['key']},单位排序键)", u.order)
    names = {
        "单位名称": "name",
        "单位报送状态": "state",
        "单位得分": "score",
        "单位排名": "rank",
        "单位排序键": "key",
        "单位名次序": "order",
    }
    for name, key in names.items():
        table.define(name, key)
    book.colour_by_label(
        table.sheet,
        table.area("state"),
        table.cell(0, "state"),
        {STATE_COLOURS[s]: label for s, label in states.items()},
    )
    book.colour_by_elapsed(table.sheet, table.area("lead_part"), table.cell(0, "lead_part"))
    book.colour_by_elapsed(table.sheet, table.area("support_part"), table.cell(0, "support_part"))
    book.colour_by_elapsed(table.sheet, table.area("score"), table.cell(0, "score"), "100*")
    return table


def _lead_formula(u: UnitResult, tasks: Table, row_of: dict[int, int]) -> str:
    """Weighted average of the led tasks' rates, each task named by its cell on 任务."""
    terms = []
    for number, weight in zip(u.led, u.lead_weights, strict=True):
        cell = tasks.absolute(row_of[number], "rate")
        terms.append(cell if weight == 1 else f"{num(weight)}*{cell}")
    return f"=({'+'.join(terms)})/{num(u.lead_weight)}"


def _support_formula(u: UnitResult, c: dict[str, str]) -> str:
    """The unit's own 进展状态 scores on the tasks it supports, weighted by task."""
    role = text_constant(ROLE_LABELS["responsible"])
    return (
        f"=SUMPRODUCT(SUMIFS(明细计分权重,明细填报单位,{c['name']},明细角色,{role},"
        f"明细进展状态,状态)*状态分)/{num(u.support_weight)}"
    )


def _score_formula(u: UnitResult, c: dict[str, str]) -> str:
    if u.support_part is None:
        return f"100*{c['lead_part']}"
    if u.lead_part is None:
        return f"100*{c['support_part']}"
    lead = f"牵头权重*{num(u.lead_weight)}"
    support = f"责任权重*{num(u.support_weight)}"
    return f"100*({lead}*{c['lead_part']}+{support}*{c['support_part']})/({lead}+{support})"
