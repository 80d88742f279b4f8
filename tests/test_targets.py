"""Numeric targets read from task texts: the whole sample, value by value, and other styles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ecoxl.measures import match_measure, normalise
from ecoxl.model import Change, Indicator
from ecoxl.targets import (
    Extraction,
    clauses,
    direction_of,
    extract_indicators,
    list_names,
    nesting,
    read_name,
    with_context,
)

UP, DOWN = "up", "down"
INC, DEC = "increase", "decrease"

# Every numeric target of the sample notice, in order:
# (name, target or (low, high), measure unit, direction, requirement, changes).
SAMPLE: dict[str, list[tuple]] = {
    "G": [
        ("三次产业比重", None, "", UP, "约", []),
        ("都市核心区新增供水能力", 10, "万吨/日", UP, "≥", []),
        ("都市核心区新增污水处理能力", 7.5, "万吨/日", UP, "≥", []),
        ("城市燃气普及率", 95.8, "%", UP, "≥", []),
        ("集中供热管网覆盖面积", 123, "万平方米", UP, "≥", []),
        ("环境空气中细颗粒物(Pm2.5)平均浓度", 105, "微克/立方米", DOWN, "≤", []),
        ("人均公共绿地面积", 12, "平方米", UP, "≥", []),
        ("森林覆盖率", 30.94, "%", UP, "≥", []),
        ("城镇当年新建建筑中节能标准执行率和实施率", 100, "%", UP, "≥", []),
    ],
    "1": [
        ("新建改建自来水管道", 130, "公里", UP, "≥", []),
        ("新建改建供热管网", 1.5, "公里", UP, "≥", []),
    ],
    "2": [
        ("产业聚集区(工业专业园区)规模以上工业企业增加值", 45, "亿元", UP, "≥",
         [(INC, 10, "%", None)]),
        ("固定资产投资", 95, "亿元", UP, "≥", [(INC, 20, "%", None)]),
        ("污水集中处理率", 85, "%", UP, "≥", []),
        ("规模以上工业单位产值能耗下降幅度", 4, "百分点", UP, "≥", [(DEC, 4, "百分点", None)]),
        ("基础设施投资", 3, "亿元", UP, "≥", []),
    ],
    "3": [
        ("新建、提升林业生态廊道", 67.8, "公里", UP, "≥", []),
        ("规划绿化面积", 250, "万平方米", UP, "≥", []),
        ("营造林总规模", 2.2, "万亩", UP, "≥", []),
        ("建设森林公园", 1, "个", UP, "≥", []),
        ("森林覆盖率", 30.94, "%", UP, "≥", []),
    ],
    "4": [],
    "5": [
        ("电子信息产业销售收入", 35, "亿元", UP, "≥", []),
        ("生物及医药产业销售收入", 40, "亿元", UP, "≥", []),
    ],
    "6": [
        ("电子商务交易额", 1, "亿元", UP, "≥", []),
        ("华南城特色商业区销售收入", 50, "亿元", UP, "≥", []),
    ],
    "7": [
        ("粮食产量", 23, "万吨", UP, "约", []),
        ("蔬菜产量", 42, "万吨", UP, "≥", []),
        ("肉自给率", 60, "%", UP, "≥", []),
        ("蛋自给率", 65, "%", UP, "≥", []),
        ("奶自给率", 58, "%", UP, "≥", []),
        ("认证无公害农产品、绿色食品、有机农产品", 8, "个", UP, "≥", []),
    ],
    "8": [
        ("气化人口", 20, "万人", UP, "≥", []),
        ("居民气化率", 95.6, "%", UP, "≥", []),
        ("天然气管道总长度", 240, "公里", UP, "≥", []),
        ("天然气管道覆盖率", 85, "%", UP, "≥", []),
        ("集中供热管网覆盖面积", 3, "万平方米", UP, "≥", []),
        ("集中供热入网覆盖率", 45, "%", UP, "≥", []),
        ("实际集中供热普及率", 15, "%", UP, "≥", []),
        ("实际集中供热面积", 119, "万平方米", UP, "≥", []),
        ("非化石能源占一次能源消费比重", 10, "%", UP, "≥", []),
    ],
    "9": [
        ("打造居住区", 1, "个", UP, "≥", []),
        ("二级及以上能效家电产品市场占有率", 56, "%", UP, "≥", []),
    ],
    "10": [
        ("工业固体废弃物综合利用率", 85, "%", UP, "≥", []),
        ("建立生态循环农业示范点", (1, 3), "个", UP, "区间", []),
        ("秸秆综合利用率", 94.9, "%", UP, "≥", []),
        ("规模化畜禽养殖废弃物循环化利用率", 75, "%", UP, "≥", []),
    ],
    "11": [
        ("能源消费总量", 190, "万吨标准煤", DOWN, "≤", []),
        ("万元GDP能耗", 0.579, "吨标准煤", DOWN, "≤", []),
        ("全市煤炭占能源消费总量比重", 60, "%", DOWN, "≤", []),
        ("单位地区生产总值二氧化碳排放下降幅度", 13, "%", UP, "≥", [(DEC, 13, "%", 2013)]),
    ],
    "12": [
        ("耕地保有量", 50758.6, "公顷", UP, "≥", []),
        ("单位建设用地生产总值", 3.91, "亿元/平方公里", UP, "≥", []),
    ],
    "13": [
        ("农业灌溉水有效利用系数", 0.652, "", UP, "≥", [(INC, 1.4, "百分点", None)]),
        ("万元工业增加值用水量", 20, "吨", DOWN, "≤", [(DEC, 8, "%", None)]),
        ("节水器具普及率", 98.5, "%", UP, "≥", []),
        ("再生水回用率", 25, "%", UP, "≥", []),
        ("非常规水资源利用率", 21, "%", UP, "≥", [(INC, 1.5, "百分点", None)]),
    ],
    "14": [
        ("矿产资源三率(开采回采、选矿回收、综合利用)", 76, "%", UP, "≥", []),
        ("绿色矿山比例", 20, "%", UP, "≥", []),
    ],
    "15": [
        ("城区居住小区生活垃圾分类达标率", 25, "%", UP, "≥", []),
        ("主要再生资源回收利用率", 85, "%", UP, "≥", [(INC, 10, "百分点", None)]),
    ],
    "16": [
        ("市区禁燃区面积占建成区面积比例", 60, "%", UP, "≥", []),
        ("淘汰社会黄标车和老旧车辆", 3200, "辆", UP, "≥", []),
        ("城市环卫机械化清扫率", 65, "%", UP, "≥", []),
        ("全市渣土清运车辆密闭改装率", 90, "%", UP, "≥", []),
        ("城镇气化率", 85, "%", UP, "≥", []),
    ],
    "17": [
        ("城市道路生态廊道建设", 4, "条", UP, "≥", []),
        ("城市新建绿地", 40, "万平方米", UP, "≥", []),
        ("新建公园", 2, "个", UP, "≥", []),
        ("人均公共绿地面积", 12, "平方米", UP, "≥", []),
    ],
    "18": [
        ("城区河道集中整治", 4, "条", UP, "≥", []),
    ],
    "19": [
        ("生活垃圾无害化处理率", 15, "%", UP, "≥", []),
        ("城市医疗废物无害化处置率", 100, "%", UP, "≥", []),
        ("病死畜禽无害化处理率", 100, "%", UP, "≥", []),
    ],
    "20": [],
    "21": [
        ("生态文明建设占党政绩效考核的比重", 17, "%", UP, "≥", []),
    ],
    "22": [],
    "23": [
        ("党政干部参加生态文明培训的比例", 95, "%", UP, "≥", []),
        ("生态文明知识普及率", 60, "%", UP, "≥", []),
    ],
    "24": [
        ("政府绿色采购率", 65, "%", UP, "≥", []),
        ("节水器具普及率", 95, "%", UP, "≥", []),
        ("公共交通出行比例", 34, "%", UP, "≥", []),
        ("城区居住小区生活垃圾分类达标率", 20, "%", UP, "≥", []),
    ],
    "25": [],
    "26": [],
    "27": [],
    "28": [],
    "29": [],
    "30": [],
    "31": [
        ("环境信息公开率", 100, "%", UP, "≥", []),
    ],
    "32": [],
}  # fmt: skip


def _sample_texts(notice: Path) -> dict[str, str]:
    """The 主要目标 paragraph ("G") and each task's full text ("1"…"32"), as in the notice."""
    text = notice.read_text(encoding="utf-8")
    texts = {"G": re.search(r"二、主要目标\s*\n(.+)", text)[1]}
    for whole, number in re.findall(r"^\W*((\d{1,2})\..+?)\n\W*牵头单位", text, flags=re.M | re.S):
        texts[number] = whole
    return texts


def _prefix(key: str) -> str:
    return f"{key}-"


def _row(indicator: Indicator) -> tuple:
    """An indicator in the form of the SAMPLE table."""
    target = indicator.target
    if indicator.target_max is not None:
        target = (indicator.target, indicator.target_max)
    changes = [(c.kind, c.value, c.unit, c.baseline) for c in indicator.changes]
    return (
        indicator.name,
        target,
        indicator.unit,
        indicator.direction,
        indicator.requirement,
        changes,
    )


@pytest.fixture(scope="module")
def sample_texts(sample_notice) -> dict[str, str]:
    return _sample_texts(sample_notice)


@pytest.fixture(scope="module")
def sample(sample_texts) -> dict[str, list[Indicator]]:
    result = {}
    for key, text in sample_texts.items():
        extraction = extract_indicators(text, _prefix(key))
        assert extraction.unparsed == [], key
        result[key] = extraction.indicators
    return result


def test_the_sample_has_the_goals_paragraph_and_32_tasks(sample_texts):
    assert set(sample_texts) == set(SAMPLE)
    assert sample_texts["1"].startswith("1.以人口集聚为重点")
    assert sample_texts["G"].startswith("\ue004 初步形成")  # the notice's indent, kept


@pytest.mark.parametrize("key", list(SAMPLE))
def test_every_target_of_the_sample_value_by_value(sample, key):
    indicators = sample[key]
    assert [_row(i) for i in indicators] == SAMPLE[key]
    assert [i.id for i in indicators] == [f"{key}-{n}" for n in range(1, len(indicators) + 1)]


def test_the_sample_has_82_targets(sample):
    assert sum(len(found) for found in sample.values()) == 82


def test_raw_phrases_are_kept_as_written(sample):
    by_name = {(key, i.name): i.text for key, found in sample.items() for i in found}
    assert by_name["G", "三次产业比重"] == "三次产业比重调整为2:54:44"
    assert by_name["2", "固定资产投资"] == "完成固定资产投资95亿元,增长20%左右"
    assert by_name["13", "万元工业增加值用水量"] == "万元工业增加值用水量20吨水,下降8%"
    assert by_name["7", "蛋自给率"] == "肉、蛋、奶自给率分别保持在60%、65%、58%以上"
    assert by_name["6", "电子商务交易额"] == "力争电子商务交易额突破亿元"
    assert by_name["18", "城区河道集中整治"] == (
        "对黄水河、双洎河、莲河、十七里河等4条城区河道进行集中整治"
    )


def test_years_names_and_project_numbers_are_no_targets(sample):
    targets = {i.target for found in sample.values() for i in found}
    assert not targets & {2013, 2015, 136, 2.5, 5.0}
    assert all(i.unit != "年" for found in sample.values() for i in found)


def test_the_conflicting_duplicates_carry_the_same_name(sample):
    targets: dict[str, set[float | None]] = {}
    for found in sample.values():
        for indicator in found:
            targets.setdefault(indicator.name, set()).add(indicator.target)
    conflicts = {name: values for name, values in targets.items() if len(values) > 1}
    assert conflicts == {
        "集中供热管网覆盖面积": {123, 3},
        "节水器具普及率": {98.5, 95},
        "城区居住小区生活垃圾分类达标率": {25, 20},
    }


# -- other cities' wording ----------------------------------------------------

OTHER_STYLES = [
    (
        "全市森林覆盖率达到３０．９４％，城市建成区绿化覆盖率达到４０％以上。",
        [
            ("全市森林覆盖率", 30.94, "%", UP, "≥", []),
            ("城市建成区绿化覆盖率", 40, "%", UP, "≥", []),
        ],
    ),
    (
        "完成招商引资1,200万元,实际利用外资3,500万美元。",
        [("招商引资", 1200, "万元", UP, "≥", []), ("实际利用外资", 3500, "万美元", UP, "≥", [])],
    ),
    (
        "二氧化硫排放总量不超过1.2万吨,城镇登记失业率控制在4.5%以内。",
        [
            ("二氧化硫排放总量", 1.2, "万吨", DOWN, "≤", []),
            ("城镇登记失业率", 4.5, "%", DOWN, "≤", []),
        ],
    ),
    (
        "城镇化率提高到55%,单位GDP能耗降低至0.6吨标准煤/万元。",
        [
            ("城镇化率", 55, "%", UP, "≥", []),
            ("单位GDP能耗", 0.6, "吨标准煤/万元", DOWN, "≤", []),
        ],
    ),
    (
        "城市、县城污水处理率分别达到95%和85%。",
        [("城市污水处理率", 95, "%", UP, "≥", []), ("县城污水处理率", 85, "%", UP, "≥", [])],
    ),
    (
        "城市生活垃圾无害化处理率和污水处理率分别达到100%、90%。",
        [
            ("城市生活垃圾无害化处理率", 100, "%", UP, "≥", []),
            ("污水处理率", 90, "%", UP, "≥", []),
        ],
    ),
    (
        "力争地区生产总值增长8%左右,农民人均纯收入较上年增长10%以上。",
        [
            ("地区生产总值增长幅度", 8, "%", UP, "约", [(INC, 8, "%", None)]),
            ("农民人均纯收入增长幅度", 10, "%", UP, "≥", [(INC, 10, "%", None)]),
        ],
    ),
    (
        "PM10年均浓度下降到80微克/立方米,空气质量优良天数达到200天以上。",
        [
            ("PM10年均浓度", 80, "微克/立方米", DOWN, "≤", []),
            ("空气质量优良天数", 200, "天", UP, "≥", []),
        ],
    ),
    (
        "耕地保有量不低于50万亩,新增城镇就业不少于5000人,外贸出口超过3亿美元。",
        [
            ("耕地保有量", 50, "万亩", UP, "≥", []),
            ("新增城镇就业", 5000, "人", UP, "≥", []),
            ("外贸出口", 3, "亿美元", UP, "≥", []),
        ],
    ),
    (
        "新建污水管网10—15公里、雨水管网1至3公里,建设游园1～3个。",
        [
            ("新建污水管网", (10, 15), "公里", UP, "区间", []),
            ("新建雨水管网", (1, 3), "公里", UP, "区间", []),
            ("建设游园", (1, 3), "个", UP, "区间", []),
        ],
    ),
    (
        "力争全市新增就业过万人,销售收入超百亿元,实现产值2-3千万元。",
        [
            ("全市新增就业", 1, "万人", UP, "≥", []),
            ("销售收入", 100, "亿元", UP, "≥", []),
            ("产值", (2000, 3000), "万元", UP, "区间", []),
        ],
    ),
    (
        "(1)森林覆盖率达到30%;(2)建成区绿地率约为35%;3.主要目标:城镇登记失业率控制在5‰。",
        [
            ("森林覆盖率", 30, "%", UP, "≥", []),
            ("建成区绿地率", 35, "%", UP, "约", []),
            ("城镇登记失业率", 5, "‰", DOWN, "≤", []),
        ],
    ),
    (
        "到2015年底,新建5G基站100个,3A级景区达到3个,建设《2015—2020年规划》项目20个。",
        [
            ("新建5G基站", 100, "个", UP, "≥", []),
            ("3A级景区", 3, "个", UP, "≥", []),
            ("建设《2015—2020年规划》项目", 20, "个", UP, "≥", []),
        ],
    ),
    (
        "单位生产总值能耗、二氧化碳排放分别比2010年下降3.5%、4%。",
        [
            ("单位生产总值能耗下降幅度", 3.5, "%", UP, "≥", [(DEC, 3.5, "%", 2010)]),
            ("二氧化碳排放下降幅度", 4, "%", UP, "≥", [(DEC, 4, "%", 2010)]),
        ],
    ),
    (
        "GDP达到500亿元、增长8%,单位GDP能耗0.5吨标准煤,下降3%。",
        [
            ("GDP", 500, "亿元", UP, "≥", [(INC, 8, "%", None)]),
            ("单位GDP能耗", 0.5, "吨标准煤", DOWN, "≤", [(DEC, 3, "%", None)]),
        ],
    ),
    (
        "于2015年10月底前完成燃煤锅炉改造10台,新建公园2个、城市绿地40万平方米。",
        [
            ("燃煤锅炉改造", 10, "台", UP, "≥", []),
            ("新建公园", 2, "个", UP, "≥", []),
            ("新建城市绿地", 40, "万平方米", UP, "≥", []),
        ],
    ),
    (
        "农业增加值同比增长4%,城镇化率85%-90%,三次产业结构调整为3.5:50.5:46,常住人口约30万人。",
        [
            ("农业增加值增长幅度", 4, "%", UP, "≥", [(INC, 4, "%", None)]),
            ("城镇化率", (85, 90), "%", UP, "区间", []),
            ("三次产业结构", None, "", UP, "约", []),
            ("常住人口", 30, "万人", UP, "约", []),
        ],
    ),
    (
        "工业废水达标排放率达到100%,生产20万吨水泥。",
        [
            ("工业废水达标排放率", 100, "%", UP, "≥", []),
            ("生产水泥", 20, "万吨", UP, "≥", []),
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), OTHER_STYLES, ids=lambda v: str(v)[:12])
def test_other_styles_of_writing_targets(text, expected):
    extraction = extract_indicators(text, "T-")
    assert [_row(i) for i in extraction.indicators] == expected
    assert extraction.unparsed == []


@pytest.mark.parametrize("text", ["", " \n", "\ue004 二、主要目标"])
def test_a_text_without_numbers_gives_nothing(text):
    assert extract_indicators(text, "G-") == Extraction([], [])


def test_raw_phrase_keeps_full_width_digits():
    extraction = extract_indicators("森林覆盖率达到３０．９４％。", "G-")
    assert extraction.indicators[0].text == "森林覆盖率达到３０．９４％"
    assert extraction.indicators[0].target == 30.94


def test_a_change_figure_attaches_only_within_its_sentence():
    extraction = extract_indicators("森林覆盖率达到30%。增长2个百分点。", "1-")
    assert [i.changes for i in extraction.indicators] == [[]]
    assert extraction.unparsed == ["增长2个百分点"]


# -- what is not understood ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unparsed", "names"),
    [
        ("推进120应急平台建设,森林覆盖率达到30%。", ["推进120应急平台建设"], ["森林覆盖率"]),
        ("污水处理率分别达到95%、85%。", ["污水处理率分别达到95%、85%"], []),
        (
            "一般工业固体废物、危险废物处置率分别达到90%、100%。",
            ["一般工业固体废物、危险废物处置率分别达到90%、100%"],
            [],
        ),
        ("比上年下降3.5%。", ["比上年下降3.5%"], []),
        ("分别增长10%、12%。", ["分别增长10%、12%"], []),
        ("达到85%。", ["达到85%"], []),
    ],
)
def test_phrases_with_digits_that_are_not_understood_are_reported(text, unparsed, names):
    extraction = extract_indicators(text, "1-")
    assert extraction.unparsed == unparsed
    assert [i.name for i in extraction.indicators] == names


@pytest.mark.parametrize(
    "text",
    [
        "加快推进现代都市农业示范区“136”工程建设。",
        "到2015年,开展专项整治。",
        "于2015年8月18日印发,2015-08-18施行。",
        "环境空气中细颗粒物(PM2.5)监测全覆盖。",
        "12.严守土地资源利用红线。",
        "第3批示范村全面启动。",
        "编制《新郑市2015—2020年生态规划》。",
        "依据新政办〔2015〕12号文件,执行规划(2015-2020)。",
    ],
)
def test_numbers_that_are_no_targets_give_nothing(text):
    extraction = extract_indicators(text, "1-")
    assert extraction.indicators == []
    assert extraction.unparsed == []


# -- the small steps ----------------------------------------------------------


def test_normalise_keeps_one_character_for_one():
    raw = "\ue004森林覆盖率达到３０．９４％，（Ｐｍ２．５）"
    norm = normalise(raw)
    assert len(norm) == len(raw)
    assert norm == " 森林覆盖率达到30.94%,(Pm2.5)"


@pytest.mark.parametrize(
    ("written", "unit", "used"),
    [
        ("万吨标准煤以下", "万吨标准煤", 5),
        ("万吨/日,", "万吨/日", 4),
        ("亿元/平方公里", "亿元/平方公里", 7),
        ("微克/立方米以下", "微克/立方米", 6),
        ("个百分点", "百分点", 4),
        ("吨水,", "吨", 2),
        ("万吨水泥", "万吨", 2),
        ("个以上居住区", "个", 1),
        ("万平方米", "万平方米", 4),
    ],
)
def test_measure_units_match_longest_first(written, unit, used):
    assert match_measure(written, 0) == (unit, used)


def test_no_measure_unit_where_none_is_written():
    assert match_measure("工程建设", 0) is None


def test_clauses_do_not_split_thousands_or_brackets():
    text = "完成投资1,200万元,矿产资源三率(开采回采,综合利用)达到76%"
    depth, _ = nesting(text)
    parts = [text[a:b] for a, b in clauses(text, (0, len(text)), depth)]
    assert parts == ["完成投资1,200万元", "矿产资源三率(开采回采,综合利用)达到76%"]


@pytest.mark.parametrize(
    ("pre", "name", "verb", "change", "baseline"),
    [
        ("力争能源消费总量控制在", "能源消费总量", "控制在", None, None),
        ("肉、蛋、奶自给率分别保持在", "肉、蛋、奶自给率", "保持在", None, None),
        (
            "单位地区生产总值二氧化碳排放比2013年下降",
            "单位地区生产总值二氧化碳排放",
            "下降",
            DEC,
            2013,
        ),
        ("节水器具普及率提高到", "节水器具普及率", "提高到", None, None),
        ("增长", "", "增长", INC, None),
        ("力争生物及医药产业实现销售收入", "生物及医药产业销售收入", "", None, None),
    ],
)
def test_read_name_splits_name_verb_and_change(pre, name, verb, change, baseline):
    reading = read_name(pre, "%")
    assert (reading.name, reading.verb, reading.change, reading.baseline) == (
        name,
        verb,
        change,
        baseline,
    )


@pytest.mark.parametrize(
    ("name", "verb", "tail", "direction"),
    [
        ("万元GDP能耗", "控制在", "", DOWN),
        ("耕地保有量", "控制在", "", DOWN),
        ("能源消费总量", "达到", "以下", DOWN),
        ("城镇登记失业率", "", "以内", DOWN),
        ("万元工业增加值用水量", "", "", DOWN),
        ("工业废水达标排放率", "达到", "", UP),
        ("单位GDP能耗", "不低于", "", UP),
        ("森林覆盖率", "达到", "", UP),
    ],
)
def test_direction_rules(name, verb, tail, direction):
    assert direction_of(name, verb, tail) == direction


def test_list_names_share_the_head_of_the_last_part():
    assert list_names("肉、蛋、奶自给率", 3) == ["肉自给率", "蛋自给率", "奶自给率"]
    assert list_names("化学需氧量、氨氮排放量", 2) == ["化学需氧量", "氨氮排放量"]
    assert list_names("肉、蛋、奶自给率", 2) is None


def test_a_bare_rate_takes_the_subject_before_it():
    assert with_context("覆盖率", "天然气管道总长度") == "天然气管道覆盖率"
    assert with_context("覆盖率", "新建公园") == "覆盖率"
    assert with_context("居民气化率", "气化人口") == "居民气化率"


def test_changes_are_model_changes():
    extraction = extract_indicators("主要再生资源回收利用率达到85%,提高10个百分点。", "15-")
    assert extraction.indicators[0].changes == [Change("increase", 10.0, "百分点", None)]
