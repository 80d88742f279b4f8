"""The scoring rules on hand-checked examples: every expected number is worked out by hand
from docs/SCORING.md (the worked example there is `example_registry` + `example_returns`).

The builders here are shared with the scorecard tests, which write the same example to a
real ledger file and a real workbook.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from ecoxl.config import Scoring, settings_from_dict
from ecoxl.exceptions import ConfigError
from ecoxl.ledger import ReportedRow
from ecoxl.model import Category, Group, Indicator, PlanInfo, Registry, Task, Unit
from ecoxl.period import Period
from ecoxl.scoring import UnitReturn, compute
from ecoxl.scoring_rules import (
    RATE_STEP,
    SCORE_STEP,
    orders,
    ranks,
    rate_kind,
    sort_keys,
    value_rate,
)

Q3 = Period.parse("2015-Q3")  # 序时进度 9/12 = 75%
DEADLINE = date(2015, 10, 10)


def example_registry() -> Registry:
    """Three tasks, five units (two townships through a group): docs/SCORING.md."""
    return Registry(
        plan=PlanInfo("示例方案", doc_number="示例〔2015〕1号", year=2015),
        categories=[Category(1, "科学谋划空间开发格局"), Category(2, "调整优化产业结构")],
        tasks=[
            Task(
                1,
                1,
                "生态廊道建设",
                "",
                ["市林业局"],
                ["市水务局", "各乡镇"],
                [
                    Indicator("1-1", "森林覆盖率", 30, "%"),
                    Indicator("1-2", "新增造林面积", 2, "万亩", combine="sum"),
                ],
            ),
            Task(
                2,
                1,
                "大气污染防治",
                "",
                ["市环保局"],
                ["市林业局"],
                [
                    Indicator("2-1", "PM2.5平均浓度", 100, "微克/立方米", "down", requirement="≤"),
                    Indicator("2-2", "生态示范点", 1, "个", target_max=3, requirement="区间"),
                ],
                weight=2,
            ),
            Task(3, 2, "节约用水", "", ["市水务局"], ["市环保局"]),
        ],
        units=[
            Unit("市林业局"),
            Unit("市水务局"),
            Unit("市环保局"),
            Unit("城关乡", kind="township"),
            Unit("辛店镇", kind="township"),
        ],
        groups=[Group("各乡镇", ["城关乡", "辛店镇"])],
    )


def row(key: str, value: float | None, status: str, **text: str) -> ReportedRow:
    task = int(key.split("-")[0])
    indicator = None if key.endswith("-0") else key
    return ReportedRow(
        key, 7 + int(key.split("-")[1]), task, indicator, "", None, value, "", status, **text
    )


def example_rows() -> dict[str, list[ReportedRow]]:
    """What each unit that returned its form reported (辛店镇 sent nothing)."""
    return {
        "市林业局": [
            row("1-1", 27, "达进度", progress="=1+1"),
            row("1-2", 1.0, "达进度", progress="http://x.cn"),
            row("2-1", None, "欠进度", problems="@SUM(A1)"),
            row("2-2", None, "达进度", remark="+86 123"),
        ],
        "市环保局": [
            row("2-1", 110, "欠进度"),
            row("2-2", 2, "达进度"),
            row("3-0", None, "已完成"),
        ],
        "市水务局": [
            row("1-1", 25, "达进度"),
            row("1-2", 0.5, "欠进度"),
            row("3-0", None, "欠进度"),
        ],
        "城关乡": [row("1-1", None, "达进度"), row("1-2", 0.3, "达进度")],
    }


RECEIVED = {
    "市林业局": "2015-10-08T09:00:00",
    "市环保局": "2015-10-12T16:30:00",  # after the deadline: late
    "市水务局": "2015-10-09T10:00:00",
    "城关乡": "2015-10-10T23:59:00",  # on the deadline's day: on time
    "辛店镇": "2015-10-09T11:00:00",  # when a test has it return its form
}


def example_returns() -> dict[str, UnitReturn]:
    rows = example_rows()
    return {
        unit: UnitReturn(
            unit,
            "late" if unit == "市环保局" else "received",
            RECEIVED[unit],
            f"{unit}.xlsx",
            rows=tuple(rows[unit]),
        )
        for unit in rows
    }


def card(returns=None, scoring=None, registry=None):
    return compute(
        registry or example_registry(),
        Q3,
        DEADLINE,
        scoring or Scoring(),
        example_returns() if returns is None else returns,
    )


def by_name(items, attr="name"):
    return {getattr(i, attr): i for i in items}


# -- one rule at a time ------------------------------------------------------------


def ind(target, requirement="≥", direction="up", target_max=None) -> Indicator:
    return Indicator(
        "9-1", "x", target, "", direction, requirement=requirement, target_max=target_max
    )


@pytest.mark.parametrize(
    ("indicator", "value", "cap", "expected"),
    [
        (ind(30), 27, 1.0, 0.9),  # ≥ under the target: 27 ÷ 30
        (ind(30), 36, 1.0, 1.0),  # ≥ over the target: capped at 100%
        (ind(30), 36, 1.2, 1.2),  # … or at a cap of 120%
        (ind(30), 45, 1.2, 1.2),
        (ind(10), -2, 1.0, 0.0),  # a fall where growth was wanted counts 0, not less
        (ind(0), 0, 1.0, 1.0),  # a zero target is met at or above it
        (ind(0), -1, 1.0, 0.0),
        (ind(100, "≤", "down"), 90, 1.0, 1.0),  # ≤ met
        (ind(100, "≤", "down"), 100, 1.0, 1.0),
        (ind(100, "≤", "down"), 125, 1.0, 0.8),  # ≤ missed: 100 ÷ 125
        (ind(100, "≤", "down"), 125, 1.2, 0.8),  # a met ceiling never earns more than 100%
        (ind(1, "区间", target_max=3), 2, 1.0, 1.0),  # inside 1—3
        (ind(1, "区间", target_max=3), 5, 1.0, 1.0),  # above a higher-is-better range
        (ind(4, "区间", target_max=8), 2, 1.0, 0.5),  # below its minimum: 2 ÷ 4
        (ind(1, "区间", "down", 3), 4, 1.0, 0.75),  # above a lower-is-better range: 3 ÷ 4
        (ind(1, "区间", "down", 3), 0.5, 1.0, 1.0),
        (ind(23, "约"), 20.7, 1.0, 0.9),  # 约 23 万吨 (up): 20.7 ÷ 23
        (ind(23, "约"), 25, 1.0, 1.0),
        (ind(190, "约", "down"), 200, 1.0, 0.95),  # 约 190 (down, a consumption): 190 ÷ 200
    ],
)
def test_completion_rate_rules(indicator, value, cap, expected):
    assert value_rate(rate_kind(indicator), indicator, value, cap) == pytest.approx(expected)


def test_rows_without_a_numeric_target_have_no_rate_rule():
    assert rate_kind(None) is None
    assert rate_kind(Indicator("1-3", "三次产业比重", None, "", requirement="约")) is None


def test_ranks_share_ties_and_skip_after_them():
    assert ranks([90.0, 95.0, 90.0, 0.0, 0.0]) == [2, 1, 2, 4, 4]


def test_sums_that_differ_only_in_the_last_bit_are_ties():
    assert 0.1 + 0.2 != 0.3
    assert ranks([0.1 + 0.2, 0.3]) == [1, 1]  # as a spreadsheet compares them
    keys = sort_keys([0.1 + 0.2, 0.3, 0.2], RATE_STEP, descending=False)
    assert orders(keys, descending=False) == [2, 3, 1]  # unique, equal ones in row order
    keys = sort_keys([50.0, 90.0, 90.0, 0.0], SCORE_STEP, descending=True)
    assert orders(keys, descending=True) == [3, 1, 2, 4]


# -- the worked example (docs/SCORING.md) -------------------------------------------


def test_indicator_rates_of_the_worked_example():
    rows = by_name(card().rows, "key")
    assert rows["1-1"].reporter == "市林业局" and rows["1-1"].value == 27
    assert rows["1-1"].rate == pytest.approx(0.9)  # lead's 27 ÷ 30; 市水务局's 25 is not used
    assert rows["1-2"].value == pytest.approx(1.8)  # sum: 1.0 + 0.5 + 0.3
    assert rows["1-2"].rate == pytest.approx(0.9)
    assert rows["2-1"].rate == pytest.approx(100 / 110)  # 110 over a ceiling of 100
    assert rows["2-2"].rate == 1.0  # 2 inside 1—3
    assert rows["3-0"].rate == 0.6  # no indicator: lead 市水务局's 欠进度
    assert [r.light for r in card().rows] == ["green", "green", "green", "green", "amber"]


def test_task_rates_are_the_average_of_their_rows():
    tasks = by_name(card().tasks, "number")
    assert tasks[1].rate == pytest.approx(0.9)
    assert tasks[2].rate == pytest.approx((100 / 110 + 1) / 2)  # 95.45%
    assert tasks[3].rate == 0.6
    assert tasks[1].responsible_reported == ("市水务局", "城关乡")
    assert tasks[1].responsible == ("市水务局", "城关乡", "辛店镇")


def test_unit_scores_and_ranks_of_the_worked_example():
    units = by_name(card().units)
    # 市林业局 leads task 1 (90%) and supports task 2 (weight 2): its own 欠进度 0.6 and 达进度 0.9
    assert units["市林业局"].lead_part == pytest.approx(0.9)
    assert units["市林业局"].support_part == pytest.approx(0.75)
    assert units["市林业局"].score == pytest.approx(100 * (0.7 * 0.9 + 0.3 * 2 * 0.75) / 1.3)
    assert units["市水务局"].score == pytest.approx(100 * (0.7 * 0.6 + 0.3 * 0.75))  # 64.5
    t2 = (100 / 110 + 1) / 2
    assert units["市环保局"].score == pytest.approx(100 * (0.7 * 2 * t2 + 0.3 * 1.0) / 1.7)
    assert units["城关乡"].score == pytest.approx(90.0)  # supports only: 达进度 twice
    assert units["辛店镇"].score == 0.0 and units["辛店镇"].state == "missing"
    assert [units[u].rank for u in ("市环保局", "城关乡", "市林业局", "市水务局", "辛店镇")] == [
        1,
        2,
        3,
        4,
        5,
    ]


def test_headline_and_categories_of_the_worked_example():
    result = card()
    t2 = (100 / 110 + 1) / 2
    h = result.headline
    assert (h.units, h.returned, h.late, h.rejected, h.missing) == (5, 4, 1, 0, 1)
    assert h.overall == pytest.approx((0.9 + 2 * t2 + 0.6) / 4)  # weighted by task weight
    assert [c.rate for c in result.categories] == pytest.approx([(0.9 + 2 * t2) / 3, 0.6])
    assert h.lights == {"green": 2, "amber": 1, "red": 0, "grey": 0}


# -- variations ------------------------------------------------------------------------


def test_a_rejected_return_scores_zero_and_its_rows_do_not_count():
    returns = example_returns()
    returns["市环保局"] = UnitReturn("市环保局", "rejected", RECEIVED["市环保局"], "x.xlsx")
    result = card(returns)
    units, rows, tasks = (
        by_name(result.units),
        by_name(result.rows, "key"),
        by_name(result.tasks, "number"),
    )
    assert units["市环保局"].score == 0.0 and units["市环保局"].state == "rejected"
    assert rows["2-1"].reporter == "" and rows["2-1"].rate == 0.0 and rows["2-1"].light == "grey"
    assert tasks[2].rate == 0.0 and tasks[2].light == "grey"
    assert result.headline.rejected == 1


def test_units_with_equal_scores_share_a_rank():
    returns = example_returns()
    same = returns["城关乡"]
    returns["辛店镇"] = replace(same, unit="辛店镇")
    units = by_name(card(returns).units)
    assert units["辛店镇"].score == units["城关乡"].score == pytest.approx(90.0)
    assert units["城关乡"].rank == units["辛店镇"].rank == 2
    assert units["市林业局"].rank == 4
    assert units["城关乡"].order == 2 and units["辛店镇"].order == 3  # unique, in unit order


def test_sum_and_lead_differ_only_in_how_units_combine():
    registry = example_registry()
    registry.tasks[0].indicators[1].combine = "lead"
    rows = by_name(card(registry=registry).rows, "key")
    assert rows["1-2"].value == 1.0 and rows["1-2"].rate == 0.5  # 市林业局's own 1.0 ÷ 2


def test_the_first_lead_unit_that_reported_gives_the_value():
    registry = example_registry()
    registry.tasks[1].lead_units = ["市水务局", "市环保局"]  # 市水务局 has no row for task 2
    rows = by_name(card(registry=registry).rows, "key")
    assert rows["2-1"].reporter == "市环保局" and rows["2-1"].value == 110


def test_a_value_left_blank_is_scored_from_its_status():
    returns = example_returns()
    rows = list(returns["市林业局"].rows)
    rows[0] = row("1-1", None, "欠进度")
    returns["市林业局"] = replace(returns["市林业局"], rows=tuple(rows))
    result = by_name(card(returns).rows, "key")["1-1"]
    assert (result.value, result.rate, result.light) == (None, 0.6, "amber")


def test_a_higher_cap_rewards_more_than_the_target():
    returns = example_returns()
    rows = list(returns["市林业局"].rows)
    rows[0] = row("1-1", 36, "超进度")
    returns["市林业局"] = replace(returns["市林业局"], rows=tuple(rows))
    assert by_name(card(returns).rows, "key")["1-1"].rate == 1.0
    capped = card(returns, Scoring(cap=1.2))
    assert by_name(capped.rows, "key")["1-1"].rate == pytest.approx(1.2)


def test_rates_below_elapsed_turn_amber_then_red():
    returns = example_returns()
    rows = list(returns["市林业局"].rows)
    rows[0] = row("1-1", 20, "欠进度")  # 66.7%: within 10 points below 75%
    rows[1] = row("1-2", 0.0, "未启动")  # 1-2 sums to 0.8: 40%
    returns["市林业局"] = replace(returns["市林业局"], rows=tuple(rows))
    result = card(returns)
    lights = {r.key: r.light for r in result.rows}
    assert (lights["1-1"], lights["1-2"]) == ("amber", "red")
    assert by_name(result.tasks, "number")[1].light == "red"  # the furthest-behind row


def test_the_json_form_carries_every_indicator_task_and_unit():
    data = card().to_dict()
    assert data["period"] == "2015-Q3" and data["elapsed"] == 0.75
    assert [i["row_key"] for i in data["indicators"]] == ["1-1", "1-2", "2-1", "2-2", "3-0"]
    assert data["units"][0] == {
        "name": "市林业局",
        "state": "received",
        "received_at": "2015-10-08T09:00:00",
        "led": [1],
        "supported": [2],
        "lead_part": pytest.approx(0.9),
        "support_part": pytest.approx(0.75),
        "score": pytest.approx(1080 / 13),
        "rank": 3,
    }
    assert data["headline"]["missing"] == 1


# -- settings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"cap": 0.9},
        {"lead_weight": 0},
        {"amber_margin": -0.1},
        {"status_scores": {"达进度": "高"}},
        {"status_scores": {"新状态": 0.5}},  # a status without a colour
    ],
)
def test_unusable_scoring_settings_are_refused(values):
    with pytest.raises(ConfigError):
        settings_from_dict({"scoring": values})


def test_scoring_settings_from_ecoxl_toml():
    settings = settings_from_dict({"scoring": {"cap": 1.2, "lead_weight": 0.6}})
    assert settings.scoring.cap == 1.2 and settings.scoring.responsible_weight == 0.3


def test_a_status_table_changes_only_the_statuses_it_lists():
    scoring = settings_from_dict({"scoring": {"status_scores": {"欠进度": 0.5}}}).scoring
    assert scoring.status_scores["欠进度"] == 0.5 and scoring.status_scores["达进度"] == 0.9
    assert list(scoring.status_scores) == ["已完成", "超进度", "达进度", "欠进度", "未启动"]
