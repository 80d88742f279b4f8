"""The scorecard's 总览 (what a leader reads first) and 评分规则 (the parameters formulas use).

总览 is eight columns wide, so it reads without scrolling sideways: the period, the
returns, completion by category with a chart, the tasks and units furthest behind,
and the unit ranking with a chart. Every figure is a formula over the other sheets'
defined names, written with its computed result.
"""

from __future__ import annotations

from xlsxwriter.utility import xl_range, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from .scorecard_book import (
    LINE_HEIGHT,
    MAX_LINES,
    STATE_COLOURS,
    Book,
    light_labels,
    print_setup,
    state_labels,
    text_constant,
    wrapped_lines,
)
from .scoring_results import TaskResult, UnitResult
from .texts import say
from .xlsx import FONT

OVERVIEW, RULES = "总览", "评分规则"

WIDTHS = (30, 12, 12, 12, 14, 12, 12, 12)
LAST_COL = len(WIDTHS) - 1


def _pixels(first: int, last: int = LAST_COL) -> int:
    """The width of columns `first`–`last` in pixels (Excel's 7 px a character, 5 px padding),
    so a chart ends where the printed page does."""
    return sum(round(w * 7) + 5 for w in WIDTHS[first : last + 1])


BEHIND = 5  # how many tasks and units 总览 lists as furthest behind
CHART_UNITS = 60  # the ranking chart shows at most this many units
CHART_ROWS = 16  # rows the category chart covers


def write_overview(book: Book) -> Worksheet:
    """总览: headline figures, completion by category, furthest behind, ranking."""
    card = book.card
    sheet = book.add_sheet(OVERVIEW)
    for i, width in enumerate(WIDTHS):
        sheet.set_column(i, i, width)
    fmt = book.formats
    title = say("scorecard.title", plan=card.title, period=card.period.label)
    sheet.merge_range(0, 0, 0, LAST_COL, title, fmt["title"])
    sheet.set_row(0, 30)
    _period_line(book, sheet, 1)
    overall = _returns(book, sheet, 3)
    row = _categories(book, sheet, 7, overall)
    row = _behind(book, sheet, row + 1)
    _ranking(book, sheet, row + 1)
    print_setup(sheet, repeat=(0, 0))
    sheet.activate()
    return sheet


def _period_line(book: Book, sheet: Worksheet, row: int) -> None:
    card, fmt = book.card, book.formats
    sheet.write_string(row, 0, "填报期次", fmt["label"])
    sheet.write_string(row, 1, f"{card.period.label}", fmt["value"])
    sheet.write_string(row, 2, "截止日期", fmt["label"])
    sheet.write_string(row, 3, card.deadline.isoformat(), fmt["value"])
    sheet.write_string(row, 4, "序时进度", fmt["label"])
    sheet.write_formula(row, 5, "=序时进度", fmt["big_pct"], card.elapsed)
    sheet.write_string(row, 6, "期次代码", fmt["label"])
    sheet.write_string(row, 7, card.period.code, fmt["value"])


def _returns(book: Book, sheet: Worksheet, row: int) -> str:
    """一、报送情况: units, forms sent, returned, late, rejected, missing, rates.

    Returns the address of 总体完成率.
    """
    card, fmt, states = book.card, book.formats, state_labels()
    h = card.headline
    sheet.write_string(row, 0, "一、报送情况", fmt["section"])
    labels = (
        "应报送单位",
        "已发送表格",
        "已报送",
        "其中逾期",
        "被退回",
        "未报送",
        "报送率",
        "总体完成率",
    )
    for col, label in enumerate(labels):
        sheet.write_string(row + 1, col, label, fmt["label"])
    r = row + 2
    cell = {name: xl_rowcol_to_cell(r, col) for col, name in enumerate(labels)}

    def count(*keys: str) -> str:
        return "+".join(f"COUNTIFS(单位报送状态,{text_constant(states[k])})" for k in keys)

    big, pct = fmt["big"], fmt["big_pct"]
    sheet.write_formula(r, 0, f"={cell['已报送']}+{cell['被退回']}+{cell['未报送']}", big, h.units)
    sheet.write_number(r, 1, h.forms_sent, big)
    sheet.write_formula(r, 2, "=" + count("received", "late"), big, h.returned)
    sheet.write_formula(r, 3, "=" + count("late"), big, h.late)
    sheet.write_formula(r, 4, "=" + count("rejected"), big, h.rejected)
    sheet.write_formula(r, 5, "=" + count("missing"), big, h.missing)
    sheet.write_formula(
        r, 6, f"=IFERROR({cell['已报送']}/{cell['应报送单位']},0)", pct, h.return_rate
    )
    sheet.write_formula(
        r, 7, "=IFERROR(SUMPRODUCT(任务权重,任务完成率)/SUMPRODUCT(任务权重),0)", pct, h.overall
    )
    for col, light in ((3, "amber"), (4, "red"), (5, "red")):
        target = xl_rowcol_to_cell(r, col)
        sheet.conditional_format(
            target, {"type": "cell", "criteria": ">", "value": 0, "format": book.fills[light]}
        )
    book.colour_by_elapsed(sheet, cell["总体完成率"], cell["总体完成率"])
    return cell["总体完成率"]


def _categories(book: Book, sheet: Worksheet, row: int, overall: str) -> int:
    """二、分类完成情况: one line per category, a total, and the chart. Returns the next row."""
    card, fmt, labels = book.card, book.formats, light_labels()
    sheet.write_string(row, 0, "二、分类完成情况", fmt["section"])
    order = ("green", "amber", "red", "grey")
    headers = ("任务类别", "任务数", "完成率", "序时进度", *(labels[k] for k in order))
    for col, header in enumerate(headers):
        sheet.write_string(row + 1, col, header, fmt["header"])
    first = row + 2
    for i, cat in enumerate(card.categories):
        r = first + i
        a = xl_rowcol_to_cell(r, 0, col_abs=True)
        sheet.write_string(r, 0, cat.label, fmt["wrap"])
        sheet.write_formula(r, 1, f"=COUNTIFS(任务类别,{a})", fmt["int"], cat.tasks)
        share = f"SUMPRODUCT((任务类别={a})*任务权重"
        sheet.write_formula(r, 2, f"=IFERROR({share}*任务完成率)/{share}),0)", fmt["pct"], cat.rate)
        sheet.write_formula(r, 3, "=序时进度", fmt["pct"], card.elapsed)
        for col, light in enumerate(order, start=4):
            sheet.write_formula(
                r,
                col,
                f"=COUNTIFS(任务类别,{a},任务状态,{text_constant(labels[light])})",
                fmt["int"],
                cat.lights[light],
            )
    total = first + len(card.categories)
    h = card.headline
    sheet.write_string(total, 0, "合计", fmt["label"])
    last = total - 1
    sheet.write_formula(
        total, 1, f"=SUMPRODUCT({_column(first, last, 1)})", fmt["int"], len(card.tasks)
    )
    sheet.write_formula(total, 2, f"={overall}", fmt["pct"], h.overall)
    sheet.write_formula(total, 3, "=序时进度", fmt["pct"], card.elapsed)
    for col, light in enumerate(order, start=4):
        sheet.write_formula(
            total, col, f"=SUMPRODUCT({_column(first, last, col)})", fmt["int"], h.lights[light]
        )
    book.colour_by_elapsed(sheet, _area(first, total, 2), _driver(first, 2))
    chart_row = total + 2
    sheet.insert_chart(chart_row, 0, _category_chart(book, first, last))
    return chart_row + CHART_ROWS


def _column(first: int, last: int, col: int) -> str:
    return xl_range(first, col, last, col)


def _area(first: int, last: int, col: int, last_col: int | None = None) -> str:
    return xl_range(first, col, last, col if last_col is None else last_col)


def _driver(row: int, col: int) -> str:
    """The first cell of a coloured area, column fixed: conditional formats follow its row."""
    return xl_rowcol_to_cell(row, col, col_abs=True)


def _category_chart(book: Book, first: int, last: int):
    """Completion by category against 序时进度.

    Each series carries its points (`*_data`): xlsxwriter fills a chart's cache from the
    cells, which it no longer holds once their rows are written (`Book`), and a preview
    that never recalculates draws a chart from that cache."""
    card = book.card
    labels = [cat.label for cat in card.categories]
    columns = book.workbook.add_chart({"type": "column"})
    columns.add_series(
        {
            "name": "完成率",
            "categories": [OVERVIEW, first, 0, last, 0],
            "values": [OVERVIEW, first, 2, last, 2],
            "categories_data": labels,
            "values_data": [cat.rate for cat in card.categories],
            "fill": {"color": "#5B9BD5"},
            "data_labels": {
                "value": True,
                "num_format": "0%",
                "position": "inside_base",  # clear of the 序时进度 line
                "font": {"name": FONT, "color": "#1F3864", "bold": True},  # read on a 0 % bar too
            },
        }
    )
    line = book.workbook.add_chart({"type": "line"})
    line.add_series(
        {
            "name": "序时进度",
            "categories": [OVERVIEW, first, 0, last, 0],
            "values": [OVERVIEW, first, 3, last, 3],
            "categories_data": labels,
            "values_data": [card.elapsed] * len(labels),
            "line": {"color": "#C00000", "dash_type": "dash", "width": 1.5},
            "marker": {"type": "none"},
        }
    )
    columns.combine(line)
    font = {"name": FONT, "size": 9}
    columns.set_title({"name": "各类别完成率", "name_font": {"name": FONT, "size": 12}})
    columns.set_x_axis({"num_font": {**font, "rotation": 0}})
    top = max(1.0, card.scoring.cap)
    columns.set_y_axis({"num_format": "0%", "min": 0, "max": top, "num_font": font})
    columns.set_legend({"position": "bottom", "font": font})
    columns.set_size({"width": _pixels(0), "height": 20 * CHART_ROWS})
    return columns


def _behind(book: Book, sheet: Worksheet, row: int) -> int:
    """三、完成率最低的任务 (A–D) beside 四、得分最低的单位 (E–H). Returns the next row.

    Each row holds a task and a unit, written together (the book writes row by row)."""
    card, fmt = book.card, book.formats
    labels, states = light_labels(), state_labels()
    sheet.write_string(row, 0, "三、完成率最低的任务", fmt["section"])
    sheet.write_string(row, 4, "四、得分最低的单位", fmt["section"])
    headers = ("重点任务", "牵头单位", "完成率", "状态", "单位", "报送状态", "得分", "排名")
    for col, header in enumerate(headers):
        sheet.write_string(row + 1, col, header, fmt["header"])
    tasks = sorted(card.tasks, key=lambda t: t.order)[:BEHIND]
    units = sorted(card.units, key=lambda u: u.order, reverse=True)[:BEHIND]
    first = row + 2
    for k in range(max(len(tasks), len(units))):
        if k < len(tasks):
            _behind_task(book, sheet, first + k, k, tasks[k])
        if k < len(units):
            _behind_unit(book, sheet, first + k, units[k])
    last = first + max(1, len(tasks)) - 1
    book.colour_by_label(sheet, _area(first, last, 2, 3), _driver(first, 3), labels)
    last = first + max(1, len(units)) - 1
    state_colours = {STATE_COLOURS[s]: label for s, label in states.items()}
    book.colour_by_label(sheet, _area(first, last, 5), _driver(first, 5), state_colours)
    book.colour_by_elapsed(sheet, _area(first, last, 6), _driver(first, 6), "100*")
    return first + max(len(tasks), len(units))


def _behind_task(book: Book, sheet: Worksheet, r: int, k: int, t: TaskResult) -> None:
    """The task `k` places from the bottom (任务升序 = k + 1), in columns A–D."""
    fmt = book.formats
    lines = max(wrapped_lines(f"{t.number}.{t.title}", WIDTHS[0]), 1)
    lines = max(lines, wrapped_lines("、".join(t.lead_units), WIDTHS[1]))
    if lines > 1:
        sheet.set_row(r, LINE_HEIGHT * min(lines, MAX_LINES))
    at = f"MATCH({k + 1},任务升序,0)"
    sheet.write_formula(
        r,
        0,
        f'=INDEX(任务编号,{at})&"."&INDEX(任务名称,{at})',
        fmt["wrap"],
        f"{t.number}.{t.title}",
    )
    sheet.write_formula(r, 1, f"=INDEX(任务牵头单位,{at})", fmt["wrap"], "、".join(t.lead_units))
    sheet.write_formula(r, 2, f"=INDEX(任务完成率,{at})", fmt["pct"], t.rate)
    sheet.write_formula(r, 3, f"=INDEX(任务状态,{at})", fmt["text"], light_labels()[t.light])


def _behind_unit(book: Book, sheet: Worksheet, r: int, u: UnitResult) -> None:
    """A unit among the lowest scores, by its 名次序, in columns E–H."""
    fmt = book.formats
    at = f"MATCH({u.order},单位名次序,0)"
    sheet.write_formula(r, 4, f"=INDEX(单位名称,{at})", fmt["text"], u.name)
    sheet.write_formula(r, 5, f"=INDEX(单位报送状态,{at})", fmt["text"], state_labels()[u.state])
    sheet.write_formula(r, 6, f"=INDEX(单位得分,{at})", fmt["score"], u.score)
    sheet.write_formula(r, 7, f"=INDEX(单位排名,{at})", fmt["int"], u.rank)


def _ranking(book: Book, sheet: Worksheet, row: int) -> None:
    """五、单位得分排名: every unit by score, with a bar chart beside the table."""
    card, fmt, states = book.card, book.formats, state_labels()
    sheet.write_string(row, 0, "五、单位得分排名", fmt["section"])
    for col, header in enumerate(("单位", "得分", "排名", "报送状态")):
        sheet.write_string(row + 1, col, header, fmt["header"])
    first = row + 2
    ranked = sorted(card.units, key=lambda u: u.order)
    for u in ranked:
        r = first + u.order - 1
        at = f"MATCH({u.order},单位名次序,0)"
        sheet.write_formula(r, 0, f"=INDEX(单位名称,{at})", fmt["text"], u.name)
        sheet.write_formula(r, 1, f"=INDEX(单位得分,{at})", fmt["score"], u.score)
        sheet.write_formula(r, 2, f"=INDEX(单位排名,{at})", fmt["int"], u.rank)
        sheet.write_formula(r, 3, f"=INDEX(单位报送状态,{at})", fmt["text"], states[u.state])
    last = first + max(1, len(card.units)) - 1
    book.colour_by_elapsed(sheet, _area(first, last, 1), _driver(first, 1), "100*")
    state_colours = {STATE_COLOURS[s]: label for s, label in states.items()}
    book.colour_by_label(sheet, _area(first, last, 3), _driver(first, 3), state_colours)
    top = ranked[:CHART_UNITS]
    shown = len(top)
    chart = book.workbook.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": "得分",
            "categories": [OVERVIEW, first, 0, first + shown - 1, 0],
            "values": [OVERVIEW, first, 1, first + shown - 1, 1],
            "categories_data": [u.name for u in top],  # the chart's cache (_category_chart)
            "values_data": [u.score for u in top],
            "fill": {"color": "#5B9BD5"},
            "data_labels": {"value": True, "num_format": "0.0", "font": {"name": FONT, "size": 8}},
        }
    )
    font = {"name": FONT, "size": 9}
    chart.set_title({"name": "单位得分排名", "name_font": {"name": FONT, "size": 12}})
    chart.set_y_axis({"reverse": True, "num_font": font})
    chart.set_x_axis({"min": 0, "max": 100, "num_font": font})
    chart.set_legend({"none": True})
    chart.set_size({"width": _pixels(4), "height": max(300, 20 * shown + 80)})
    sheet.insert_chart(row + 1, 4, chart)


# -- 评分规则 -------------------------------------------------------------------


def write_rules(book: Book) -> Worksheet:
    """评分规则: the parameters formulas name (封顶, 序时进度 …), the status table, the rules."""
    card, fmt = book.card, book.formats
    scoring = card.scoring
    sheet = book.add_sheet(RULES)
    for col, width in enumerate((14, 10, 16, 60)):
        sheet.set_column(col, col, width)
    sheet.write_string(0, 0, say("scorecard.sheet_title", period=card.period.label, what=RULES))
    sheet.set_row(0, 24, fmt["title"])
    for col, header in enumerate(("参数", "取值", "设置项（ecoxl.toml）", "说明")):
        sheet.write_string(1, col, header, fmt["header"])
    params = (
        ("封顶", scoring.cap, "cap", "pct"),
        ("牵头权重", scoring.lead_weight, "lead_weight", "number"),
        ("责任权重", scoring.responsible_weight, "responsible_weight", "number"),
        ("序时进度", card.elapsed, "elapsed", "pct"),
        ("黄色区间", scoring.amber_margin, "amber_margin", "pct"),
    )
    for i, (name, value, key, style) in enumerate(params):
        r = 2 + i
        sheet.write_string(r, 0, name, fmt["text"])
        sheet.write_number(r, 1, value, fmt[style])
        sheet.write_string(r, 2, f"[scoring] {key}" if key != "elapsed" else "", fmt["helper"])
        sheet.write_string(r, 3, say(f"scorecard.param.{key}"), fmt["wrap"])
        book.name(name, RULES, r, 1, r)
    top = 2 + len(params) + 1
    for col, header in enumerate(("进展状态", "得分", "对照序时进度")):
        sheet.write_string(top, col, header, fmt["header"])
    labels = light_labels()
    first = top + 1
    for i, (status, points) in enumerate(scoring.status_scores.items()):
        sheet.write_string(first + i, 0, status, fmt["text"])
        sheet.write_number(first + i, 1, points, fmt["pct"])
        sheet.write_string(first + i, 2, labels[scoring.status_lights[status]], fmt["text"])
    last = first + max(1, len(scoring.status_scores)) - 1
    for col, name in enumerate(("状态", "状态分", "状态灯")):
        book.name(name, RULES, first, col, last)
    book.colour_by_label(sheet, _area(first, last, 2), _driver(first, 2), labels)
    r = last + 2
    sheet.write_string(r, 0, say("scorecard.rules"), fmt["section"])
    rules = ("up", "down", "range", "status", "combine", "task", "unit", "missing", "light")
    for i, key in enumerate(rules, start=1):
        sheet.merge_range(r + i, 0, r + i, 3, say(f"scorecard.rule.{key}"), fmt["wrap"])
        sheet.set_row(r + i, 32)
    print_setup(sheet, repeat=(0, 0))
    return sheet
