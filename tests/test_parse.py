"""The sample notice parsed in full: header facts, goals, categories, all 32 tasks with their
units as the notice assigns them, the units with aliases, kinds and contacts, and the groups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecoxl.parse import ParsedNotice, first_sentence, read_plan
from ecoxl.registry import load_registry

TOWNSHIPS = "各乡镇(街道、管委会)"
PARKS = "各产业聚集区和专业园区"
DEPARTMENTS = "市政府各部门"

CATEGORIES = [
    "科学谋划空间开发格局",
    "调整优化产业结构",
    "着力推动绿色循环低碳发展",
    "节约集约利用资源",
    "加大生态系统和环境保护力度",
    "建立生态文化体系",
    "创新体制机制",
    "加强基础能力建设",
]

# number: (category, title, lead units, responsible units), typed from the notice.
TASKS: dict[int, tuple[int, str, list[str], list[str]]] = {
    1: (1, "以人口集聚为重点,构建协调发展的新型城镇化格局", ["市发展改革委"],
        ["市规划城管局", "市国土资源局", "市交运局", "市住建局", "市城市管理行政执法局", "市林业局",
         "市园林中心", TOWNSHIPS]),
    2: (1, "以产业集聚区为依托,构建低碳高效生态产业发展格局", ["市发展改革委"],
        ["市科工信委", "市规划城管局", "市国土资源局", "市城市管理行政执法局", TOWNSHIPS]),
    3: (1, "以生态网络体系为纽带,构建绿色生态安全格局", ["市林业局"],
        ["市园林中心", "市国土资源局", "市环保局", "市规划城管局", "市水务局", TOWNSHIPS]),
    4: (1, "科学规划生态红线,合理进行土地空间开发管制分区", ["市国土资源局"],
        ["市规划城管局", TOWNSHIPS]),
    5: (2, "加快发展战略性新兴产业,培育支柱产业", ["市科工信委"],
        ["市发展改革委", "市环保局", PARKS]),
    6: (2, "大力发展现代服务业,培育成为新的经济增长点", ["市发展改革委"],
        ["市商务局", "市文广新局", "市旅游文物局", "市卫生局", "市人口计生委", "市金融工作办公室"]),
    7: (2, "着力发展现代都市农业,构建富民产业体系", ["市农委"], ["市畜牧局"]),
    8: (2, "优化能源结构,提高可再生能源比重", ["市住建局"], ["市发展改革委"]),
    9: (3, "全面推行绿色生产方式,促进绿色发展", ["市住建局"],
        ["市环保局", "市商务局", "市农委", "市科工信委"]),
    10: (3, "构建循环产业体系,促进循环发展", ["市农委"],
         ["市科工信委", "市畜牧局", "市商务局", "市城市管理行政执法局", "市供销社", TOWNSHIPS]),
    11: (3, "有效降低能耗物耗,促进低碳发展", ["市科工信委"],
         ["市发展改革委", "市水务局", TOWNSHIPS]),
    12: (4, "严守土地资源利用红线,推进土地节约集约利用", ["市国土资源局"],
         ["市规划城管局", TOWNSHIPS]),
    13: (4, "严守水资源利用红线,努力建设节水型社会", ["市水务局"],
         ["市科工信委", "市农委", TOWNSHIPS]),
    14: (4, "推进“绿色矿山”建设,高效利用矿产资源", ["市国土资源局"],
         ["市科工信委", "市环保局", TOWNSHIPS]),
    15: (4, "推进城市废弃物资源化利用,提高节约集约利用水平", ["市城市管理行政执法局"],
         ["市住建局", "市发展改革委", "市环保局", "市供销社", TOWNSHIPS]),
    16: (5, "实施“蓝天工程”,开展区域大气污染综合整治", ["市环保局"],
         ["市住建局", "市农委", "市城市管理行政执法局", "市商务局", "市公安局", "市科工信委",
          TOWNSHIPS]),
    17: (5, "实施“生态建设”工程,提升新郑城市形象", ["市住建局"],
         ["市林业局", "市水务局", "市国土资源局", "市园林中心", "市南水北调办公室"]),
    18: (5, "实施“清洁河流工程”,建设水生态文明试点城市", ["市水务局"],
         ["市发展改革委", "市环保局", "市城市管理行政执法局", "市住建局", TOWNSHIPS]),
    19: (5, "推进城乡环境综合治理,改善人居环境", ["市城市管理行政执法局"],
         ["市环保局", "市住建局", "市畜牧局", "市农委", TOWNSHIPS]),
    20: (5, "加强防灾减灾体系建设,提高适应气候变化能力", ["市气象局"],
         ["市政府应急办", "市住建局", "市水务局", TOWNSHIPS]),
    21: (6, "树立生态文明理念", ["市绩效考核办公室"], ["市发展改革委", TOWNSHIPS]),
    22: (6, "培育特色生态文化", ["市旅游文物局"], ["市文广新局", TOWNSHIPS]),
    23: (6, "加强生态文明宣传", ["市文广新局"], [TOWNSHIPS]),
    24: (6, "倡导绿色消费", ["市财政局"], ["市城市管理行政执法局", "市水务局"]),
    25: (7, "完善考核评价机制", ["市绩效考核办公室"], [DEPARTMENTS, TOWNSHIPS]),
    26: (7, "创建自然资源资产负债表", ["市统计局"],
         ["市环保局", "市财政局", "市国土资源局", "市林业局", "市水务局", "市审计局"]),
    27: (7, "创新生态文明市场化机制", ["市环保局"],
         ["市科工信委", "市林业局", "市水务局", "市财政局"]),
    28: (7, "开展碳交易市场前期工作", ["市科工信委"], ["市统计局", "市财政局", "市环保局"]),
    29: (7, "探索建立市级生态文明先行示范区建设的高层决策机制", ["市发展改革委"], ["市财政局"]),
    30: (8, "建立健全生态文明公共服务基础数据库", ["市统计局"], [TOWNSHIPS]),
    31: (8, "加强生态环境监测预警系统建设", ["市环保局"], ["市财政局", TOWNSHIPS]),
    32: (8, "强化环保和节能执法能力建设", ["市环保局"], [TOWNSHIPS]),
}  # fmt: skip

# Every department, in order of first mention (tasks first, then the attachment).
DEPARTMENT_NAMES = [
    "市发展改革委", "市规划城管局", "市国土资源局", "市交运局", "市住建局", "市城市管理行政执法局",
    "市林业局", "市园林中心", "市科工信委", "市环保局", "市水务局", "市商务局", "市文广新局",
    "市旅游文物局", "市卫生局", "市人口计生委", "市金融工作办公室", "市农委", "市畜牧局", "市供销社",
    "市公安局", "市南水北调办公室", "市气象局", "市政府应急办", "市绩效考核办公室", "市财政局",
    "市统计局", "市审计局", "市爱卫办",
]  # fmt: skip

# The attachment's townships, sub-districts and management committees, with their member.
TOWNSHIP_CONTACTS = {
    "城关乡": ("马东亮", "乡长"),
    "辛店镇": ("师俊杰", "镇长"),
    "观音寺镇": ("贾伟斌", "镇长"),
    "梨河镇": ("陈同周", "镇长"),
    "和庄镇": ("冯军辉", "镇长"),
    "八千乡": ("米海涛", "乡长"),
    "薛店镇": ("安广涛", "镇长"),
    "孟庄镇": ("唐永刚", "镇长"),
    "龙湖镇": ("马绍敏", "镇长"),
    "郭店镇": ("马聪峰", "镇长"),
    "新村镇": ("周伟杰", "镇长"),
    "新建路街道办事处": ("朱郁琦", "主任"),
    "新华路街道办事处": ("薛智强", "主任"),
    "新烟街道办事处": ("刘志刚", "主任"),
    "中心城区新区建设管委会": ("马纯杰", "常务副主任"),
    "具茨山管委会": ("李新成", "党委书记、主任"),
}

DEPARTMENT_CONTACTS = {
    "市国土资源局": ("赵海峰", "局长"),  # 郑州市国土资源局副处级干部,市国土资源局局长
    "市发展改革委": ("刘红军", "主任"),  # the head, not 高军相 纪检书记
    "市财政局": ("貊海森", "局长"),
    "市水务局": ("王国良", "局长"),
    "市住建局": ("齐光辉", "局长"),
    "市环保局": ("贾有怀", "局长"),
    "市爱卫办": ("仪刚", "主任"),  # 仪 刚: the padding blank removed
    "市规划城管局": ("王忠贺", "局长"),
    "市城市管理行政执法局": ("陶永伟", "局长"),
    "市科工信委": ("付建峰", "主任"),
    "市农委": ("李俊岭", "主任"),
    "市文广新局": ("刘学敏", "局长"),
    "市林业局": ("戴金平", "局长"),
    "市统计局": ("刘德智", "局长"),
    "市气象局": ("闫伟杰", "局长"),
    "市园林中心": ("姜彦龙", "主任"),
    "市南水北调办公室": ("时利军", "常务副主任"),
}


@pytest.fixture(scope="module")
def parsed(sample_notice: Path) -> ParsedNotice:
    return read_plan(sample_notice)


def test_header_facts(parsed):
    plan = parsed.registry.plan
    assert plan.title == "新郑市国家生态文明先行示范区建设2015年工作方案"
    assert plan.issuer == "新郑市人民政府办公室"
    assert plan.doc_number == "新政办〔2015〕12号"
    assert plan.date == "2015-08-18"
    assert plan.year == 2015


def test_eight_categories_with_their_titles(parsed):
    categories = parsed.registry.categories
    assert [(c.number, c.title) for c in categories] == list(enumerate(CATEGORIES, start=1))


def test_all_32_tasks_with_category_title_and_units(parsed):
    tasks = parsed.registry.tasks
    found = {t.number: (t.category, t.title, t.lead_units, t.responsible_units) for t in tasks}
    assert found == TASKS


def test_task_text_is_the_whole_task_without_number_or_unit_lines(parsed):
    registry = parsed.registry
    assert registry.task(1).text == (
        "以人口集聚为重点,构建协调发展的新型城镇化格局。优化调整土地资源配置,促进人口和产业向"
        "重点开发区域集聚,积极开展农业转移人口市民化成本分担机制探索,着力推进棚户区改造项目和"
        "“四个优先”区域内村庄拆迁改造,力争年底市辖区内村庄拆迁基本完成。新建改建自来水管道130"
        "公里、供热管网1.5公里。"
    )
    assert registry.task(6).text == (
        "大力发展现代服务业,培育成为新的经济增长点。\n以服务业综合改革试点工作为抓手,"
        "促进电子商务和现代物流融合发展。加快推进电子商务发展,力争电子商务交易额突破亿元。"
        "加快特色商业街区建设,力争华南城特色商业区销售收入达到50亿元。"
    )


def test_task_23_names_its_lead_by_the_canonical_name(parsed):
    registry = parsed.registry
    assert registry.task(23).lead_units == ["市文广新局"]
    assert registry.unit("文广新局").name == "市文广新局"
    assert registry.unit("市文广新局").aliases == ["文广新局"]


def test_every_department_is_a_unit(parsed):
    units = parsed.registry.units
    assert [u.name for u in units if u.kind == "department"] == DEPARTMENT_NAMES


def test_the_attachment_gives_the_16_townships_with_their_contacts(parsed):
    units = parsed.registry.units
    townships = {u.name: (u.contact.person, u.contact.title) for u in units if u.kind == "township"}
    assert townships == TOWNSHIP_CONTACTS
    assert list(townships) == list(TOWNSHIP_CONTACTS)  # in the attachment's order


def test_each_listed_department_has_its_leading_group_member_as_contact(parsed):
    units = parsed.registry.units
    contacts = {u.name: (u.contact.person, u.contact.title) for u in units if u.contact}
    assert {k: v for k, v in contacts.items() if k not in TOWNSHIP_CONTACTS} == DEPARTMENT_CONTACTS


def test_the_attachments_full_name_is_an_alias(parsed):
    registry = parsed.registry
    assert registry.unit("市发展和改革委员会").name == "市发展改革委"
    assert registry.unit("市发展改革委").aliases == ["市发展和改革委员会"]
    aliased = {u.name: u.aliases for u in registry.units if u.aliases}
    assert aliased == {"市发展改革委": ["市发展和改革委员会"], "市文广新局": ["文广新局"]}


def test_city_leaders_are_not_units(parsed):
    people = {u.contact.person for u in parsed.registry.units if u.contact}
    assert people.isdisjoint({"刘建武", "彭立", "关民安", "康红阳", "乔琳", "张富永", "秦洪源"})
    assert "高军相" not in people


def test_groups_and_their_members(parsed):
    registry = parsed.registry
    groups = {g.name: g.members for g in registry.groups}
    assert list(groups) == [TOWNSHIPS, PARKS, DEPARTMENTS]
    assert groups[TOWNSHIPS] == list(TOWNSHIP_CONTACTS)
    assert groups[PARKS] == []  # the notice does not list them: the office fills them in
    assert groups[DEPARTMENTS] == DEPARTMENT_NAMES
    assert [u.name for u in registry.units if u.kind == "group"] == list(groups)


def test_every_target_is_read_and_numbered_per_task(parsed):
    registry = parsed.registry
    assert len(registry.all_indicators()) == 82
    assert [i.id for i in registry.goals] == [f"G-{n}" for n in range(1, 10)]
    for task in registry.tasks:
        assert [i.id for i in task.indicators] == [
            f"{task.number}-{n}" for n in range(1, len(task.indicators) + 1)
        ]
    assert parsed.unparsed == []


def test_the_checked_in_example_is_the_commands_output(parsed, sample_notice):
    example = sample_notice.with_suffix(".json")
    assert json.loads(example.read_text(encoding="utf-8")) == parsed.registry.to_dict()


def test_load_registry_dispatches_a_notice_to_the_parser(parsed, sample_notice):
    assert load_registry(sample_notice) == parsed.registry


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("树立生态文明理念。建立专项考核。", "树立生态文明理念"),
        (
            "大力发展现代服务业,培育成为新的经济增长点。\n以服务业",
            "大力发展现代服务业,培育成为新的经济增长点",
        ),
        ("推进农村改厕\n完成改厕1.2万户", "推进农村改厕"),
        ("加快发展!力争突破", "加快发展"),
    ],
)
def test_a_title_is_the_first_sentence(text, title):
    assert first_sentence(text) == title
