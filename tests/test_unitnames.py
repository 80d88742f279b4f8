"""The rules behind unit names, the member list, header facts and the outline, one by one."""

from __future__ import annotations

import pytest

from ecoxl.header import iso_date, plan_info
from ecoxl.members import Member, is_head, leading_group, split_post
from ecoxl.outline import chinese_number, heading
from ecoxl.roles import label_role, labelled, read_task
from ecoxl.unitnames import (
    Spelling,
    abbreviates,
    canonical_names,
    group_members,
    has_prefix,
    kind_of,
    role_note,
    split_units,
    with_prefix,
)

# -- splitting lists -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("市规划城管局、市国土资源局,各乡镇(街道、管委会)",
         ["市规划城管局", "市国土资源局", "各乡镇(街道、管委会)"]),
        ("市财政局;各县(市、区)政府、市环保局", ["市财政局", "各县(市、区)政府", "市环保局"]),
        ("市质监局,各区、县级市", ["市质监局", "各区、县级市"]),
        ("各镇人民政府、街道办事处,市财政局", ["各镇人民政府、街道办事处", "市财政局"]),
        ("各乡(镇)人民政府、区管委会", ["各乡(镇)人民政府、区管委会"]),
        ("〔市工信委、市 环保局〕", ["〔市工信委、市环保局〕"]),
        ("市林业局、市水务局等单位。", ["市林业局", "市水务局"]),
        ("由市水务局", ["市水务局"]),
        ("城关镇、白杨镇", ["城关镇", "白杨镇"]),
    ],
)  # fmt: skip
def test_split_units_keeps_group_phrases_whole(text, names):
    assert split_units(text) == names


def test_a_role_written_after_a_unit():
    assert role_note("市城市管理局(牵头)") == ("市城市管理局", True)
    assert role_note("各乡镇(街道、管委会)") == ("各乡镇(街道、管委会)", False)


# -- kinds and prefixes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("市发展改革委", "department"),
        ("市场监管局", "department"),
        ("市政府应急办", "department"),
        ("城关乡", "township"),
        ("观音寺镇", "township"),
        ("新建路街道办事处", "township"),
        ("中心城区新区建设管委会", "township"),
        ("各乡镇(街道、管委会)", "group"),
        ("各产业聚集区和专业园区", "group"),
        ("市政府各部门", "group"),
        ("各区、县级市", "group"),
        ("有关单位", "group"),
    ],
)
def test_kind_of_a_unit(name, kind):
    assert kind_of(name) == kind


def test_the_city_prefix_is_not_the_start_of_market():
    assert has_prefix("市文广新局", "市")
    assert not has_prefix("市场监管局", "市")
    assert has_prefix("市市场监管局", "市")
    assert has_prefix("县财政局", "县")


@pytest.mark.parametrize(
    ("name", "prefix", "city", "canonical"),
    [
        ("文广新局", "市", "新郑市", "市文广新局"),
        ("市文广新局", "市", "新郑市", "市文广新局"),
        ("市场监管局", "市", "许昌市", "市市场监管局"),
        ("新郑市公安局", "市", "新郑市", "市公安局"),
        ("郑州市国土资源局", "市", "新郑市", "郑州市国土资源局"),
        ("财政局", "县", "宜阳县", "县财政局"),
        ("城关镇", "市", "新郑市", "城关镇"),
        ("各乡镇(街道、管委会)", "市", "新郑市", "各乡镇(街道、管委会)"),
        ("财政局", "", "", "财政局"),
    ],
)
def test_with_prefix(name, prefix, city, canonical):
    assert with_prefix(name, prefix, city) == canonical


@pytest.mark.parametrize(
    ("short", "long", "expected"),
    [
        ("市发展改革委", "市发展和改革委员会", True),
        ("市住建局", "市住房和城乡建设局", True),
        ("县城管局", "县城市管理局", True),
        ("市卫生计生委", "市卫生和计划生育委员会", True),
        ("市南水北调办", "市南水北调办公室", True),
        ("市卫生局", "市卫生和计划生育委员会", False),
        ("市农委", "市人口计生委", False),
        ("市统计局", "市审计局", False),
    ],
)
def test_abbreviates(short, long, expected):
    assert abbreviates(short, long) is expected


def test_an_attachment_only_full_name_merges_into_the_task_name():
    spellings = [
        Spelling("市发展改革委", 3),
        Spelling("文广新局", 1),
        Spelling("市文广新局", 1),
        Spelling("市发展和改革委员会", 0),
        Spelling("市爱卫办", 0),
    ]
    assert canonical_names(spellings, "市", "新郑市") == {
        "市发展改革委": "市发展改革委",
        "文广新局": "市文广新局",
        "市文广新局": "市文广新局",
        "市发展和改革委员会": "市发展改革委",
        "市爱卫办": "市爱卫办",
    }


def test_two_names_the_tasks_both_use_stay_two_units():
    spellings = [Spelling("市农业局", 2), Spelling("市农业机械管理局", 1)]
    mapping = canonical_names(spellings, "市", "")
    assert mapping == {"市农业局": "市农业局", "市农业机械管理局": "市农业机械管理局"}


# -- groups --------------------------------------------------------------------------

TOWNS = ["城关乡", "辛店镇", "新建路街道办事处", "具茨山管委会"]
DEPTS = ["市财政局", "市水务局"]


@pytest.mark.parametrize(
    ("group", "members"),
    [
        ("各乡镇(街道、管委会)", TOWNS),
        ("各乡镇人民政府", ["城关乡", "辛店镇"]),
        ("各镇人民政府、街道办事处", ["辛店镇", "新建路街道办事处"]),
        ("各乡(镇)人民政府、区管委会", ["城关乡", "辛店镇", "具茨山管委会"]),
        ("市政府各部门", DEPTS),
        ("市直各单位", DEPTS),
        ("各有关单位", []),
        ("各产业聚集区和专业园区", []),
        ("各县(市、区)政府", []),
    ],
)
def test_group_members(group, members):
    assert group_members(group, TOWNS, DEPTS) == members


# -- the member list -------------------------------------------------------------------

ATTACHMENT = [
    "附件",
    "新郑市国家生态文明先行示范区建设领导小组组成人员名单",
    "组 长: 刘建武 市委副书记、市长",
    "常务副组长: 彭 立 市委常委、常务副市长",
    "副 组 长:关民安 副市长",
    "乔 琳 副市长",
    "成 员:赵海峰 郑州市国土资源局副处级干部,市国土资源局局长",
    "刘红军 市发展和改革委员会主任",
    "仪 刚 市爱卫办主任",
    "李新成 具茨山管委会党委书记、主任",
    "领导小组下设办公室,办公地点设在市发展改革委,刘红军兼任办公室主任。",
    "主办:市发展改革委。",
]


def test_leading_group_reads_names_without_padding_and_the_label_above():
    assert leading_group(ATTACHMENT) == [
        Member("刘建武", "市委副书记、市长", "组长"),
        Member("彭立", "市委常委、常务副市长", "常务副组长"),
        Member("关民安", "副市长", "副组长"),
        Member("乔琳", "副市长", "副组长"),
        Member("赵海峰", "郑州市国土资源局副处级干部,市国土资源局局长", "成员"),
        Member("刘红军", "市发展和改革委员会主任", "成员"),
        Member("仪刚", "市爱卫办主任", "成员"),
        Member("李新成", "具茨山管委会党委书记、主任", "成员"),
    ]
    assert [m.is_leader for m in leading_group(ATTACHMENT)[:5]] == [True] * 4 + [False]


def test_no_member_list_gives_no_members():
    assert leading_group(["附件", "1.某某项目清单"]) == []


@pytest.mark.parametrize(
    ("post", "unit_and_title"),
    [
        ("郑州市国土资源局副处级干部,市国土资源局局长", ("市国土资源局", "局长")),
        ("市发展和改革委员会主任", ("市发展和改革委员会", "主任")),
        ("市发展改革委纪检书记", ("市发展改革委", "纪检书记")),
        ("具茨山管委会党委书记、主任", ("具茨山管委会", "党委书记、主任")),
        ("新建路街道办事处主任", ("新建路街道办事处", "主任")),
        ("中心城区新区建设管委会常务副主任", ("中心城区新区建设管委会", "常务副主任")),
        ("市南水北调办公室常务副主任", ("市南水北调办公室", "常务副主任")),
        ("城关乡乡长", ("城关乡", "乡长")),
        ("副市长", None),
    ],
)
def test_split_post(post, unit_and_title):
    assert split_post(post, lambda unit: unit == "市国土资源局") == unit_and_title


def test_the_head_of_a_unit():
    assert [is_head(t) for t in ("主任", "党委书记、主任", "局长", "乡长")] == [True] * 4
    assert [is_head(t) for t in ("纪检书记", "常务副主任", "副局长", "副处级干部")] == [False] * 4


# -- header facts and the outline ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("2015年8月18日", "2015-08-18"),
        ("二〇一五年八月十八日", "2015-08-18"),
        ("二○一六年十二月三十一日", "2016-12-31"),
        ("2015-08-18", "2015-08-18"),
        ("2015年13月1日", ""),
        ("到2015年底", ""),
    ],
)
def test_iso_date(text, date):
    assert iso_date(text) == date


@pytest.mark.parametrize(
    "line", ["新政办〔2015〕12号", "新政办(2015)12号", "新政办[2015]12号", "新政办【2015】12号"]
)
def test_the_document_number_is_written_with_the_standard_brackets(line):
    info = plan_info(["某某方案", line, "2015年8月18日", "一、总则"], 3)
    assert (info.doc_number, info.date, info.title) == (
        "新政办〔2015〕12号",
        "2015-08-18",
        "某某方案",
    )


def test_issuer_on_the_line_above_and_title_over_two_lines():
    lines = [
        "巩义市人民政府办公室文件",
        "巩义市人民政府办公室关于印发巩义市2016年",
        "节能减排工作方案的通知",
        "一、主要目标",
    ]
    info = plan_info(lines, 3)
    assert (info.title, info.issuer, info.year) == (
        "巩义市2016年节能减排工作方案",
        "巩义市人民政府办公室",
        2016,
    )
    split = plan_info(
        ["宜阳县人民政府办公室", "关于印发《宜阳县蓝天工程方案》的通知", "一、目标"], 2
    )
    assert (split.title, split.issuer) == ("宜阳县蓝天工程方案", "宜阳县人民政府办公室")


@pytest.mark.parametrize(
    ("line", "level", "marker", "number"),
    [
        ("一、指导思想", 1, "一、", 1),
        ("十二、附则", 1, "十二、", 12),
        ("(八)加强基础能力建设", 2, "(八)", 8),
        ("32.强化环保和节能执法能力建设。", 3, "32.", 32),
        ("1、加快燃煤锅炉拆改", 3, "1、", 1),
        ("(12)严格考核", 4, "(12)", 12),
        ("③开展评估", 5, "③", 3),
    ],
)
def test_headings(line, level, marker, number):
    found = heading(line)
    assert (found.level, found.marker, found.number) == (level, marker, number)


@pytest.mark.parametrize("line", ["1.5公里管网", "2015年8月18日", "一把手负总责", "12号文件"])
def test_plain_lines_are_no_headings(line):
    assert heading(line) is None


def test_chinese_numbers():
    assert [chinese_number(t) for t in ("一", "十", "十二", "二十", "三十二")] == [
        1,
        10,
        12,
        20,
        32,
    ]


# -- roles -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "role"),
    [
        ("牵头单位", "lead"),
        ("牵头责任单位", "lead"),
        ("牵头部门", "lead"),
        ("牵头", "lead"),
        ("相关责任单位", "responsible"),
        ("配合单位", "responsible"),
        ("参与单位", "responsible"),
        ("责任单位", "plain"),
    ],
)
def test_label_roles(label, role):
    assert label_role(label) == role


def test_labelled_parts():
    assert labelled("牵头单位:市水务局;配合单位:市环保局、市农委") == [
        ("lead", "市水务局"),
        ("responsible", "市环保局、市农委"),
    ]


def test_read_task_takes_labels_inline_after_the_text():
    found = read_task(["推进绿色矿山建设。牵头单位:市国土资源局;责任单位:市环保局"])
    assert (found.text, found.lead, found.responsible) == (
        "推进绿色矿山建设。",
        ["市国土资源局"],
        ["市环保局"],
    )


def test_a_sentence_that_only_mentions_participation_is_text():
    found = read_task(["建立市场主导、政府推动、全社会参与的生态补偿机制。"])
    assert (found.lead, found.responsible) == ([], [])
    assert found.text == "建立市场主导、政府推动、全社会参与的生态补偿机制。"
