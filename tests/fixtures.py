"""Registries built by hand, for tests that should not depend on the parser.

`small_registry()` has a little of everything the sample notice has: goals,
categories, tasks with lead and responsible units, a group expanded to
townships, a group with no members yet, aliases, leading-group contacts, a
range, a words-only target, change figures with and without a baseline, a
"down" target, a summed indicator and a task without indicators.
"""

from __future__ import annotations

from ecoxl.model import (
    Category,
    Change,
    Contact,
    Group,
    Indicator,
    PlanInfo,
    Registry,
    Task,
    Unit,
)

TOWNSHIPS_GROUP = "各乡镇(街道、管委会)"
PARKS_GROUP = "各产业聚集区和专业园区"


def small_registry() -> Registry:
    """A four-task plan: 3 departments, 2 townships in a group, one empty group."""
    return Registry(
        plan=PlanInfo(
            title="新郑市国家生态文明先行示范区建设2015年工作方案",
            issuer="新郑市人民政府办公室",
            doc_number="新政办〔2015〕12号",
            date="2015-08-18",
            year=2015,
        ),
        goals=[
            Indicator("G-1", "森林覆盖率", 30.94, "%", text="森林覆盖率达到30.94%"),
            Indicator(
                "G-2",
                "环境空气中细颗粒物(Pm2.5)平均浓度",
                105.0,
                "微克/立方米",
                direction="down",
                text="环境空气中细颗粒物(Pm2.5)平均浓度控制在105微克/立方米以下",
                requirement="≤",
            ),
            Indicator(
                "G-3",
                "三次产业比重",
                None,
                "",
                text="三次产业比重调整为2:54:44",
                requirement="约",
            ),
        ],
        categories=[Category(1, "科学谋划空间开发格局"), Category(2, "调整优化产业结构")],
        tasks=[
            Task(
                number=1,
                category=1,
                title="构建协调发展的新型城镇化格局",
                text="新建改建自来水管道130公里、供热管网1.5公里。",
                lead_units=["市发展改革委"],
                responsible_units=["市住建局", TOWNSHIPS_GROUP],
                indicators=[
                    Indicator(
                        "1-1", "新建改建自来水管道", 130.0, "公里", text="新建改建自来水管道130公里"
                    ),
                    Indicator(
                        "1-2",
                        "新建改建供热管网",
                        1.5,
                        "公里",
                        text="供热管网1.5公里",
                        combine="sum",
                    ),
                ],
            ),
            Task(
                number=2,
                category=1,
                title="构建低碳高效生态产业发展格局",
                text="规模以上工业企业增加值45亿元,增长10%以上。",
                lead_units=["市发展改革委"],
                responsible_units=["市文广新局", PARKS_GROUP],
                indicators=[
                    Indicator(
                        "2-1",
                        "规模以上工业企业增加值",
                        45.0,
                        "亿元",
                        text="规模以上工业企业增加值45亿元,增长10%以上",
                        changes=[Change("increase", 10.0, "%")],
                    ),
                    Indicator(
                        "2-2",
                        "单位地区生产总值二氧化碳排放下降幅度",
                        13.0,
                        "%",
                        text="单位地区生产总值二氧化碳排放比2013年下降13%",
                        changes=[Change("decrease", 13.0, "%", 2013)],
                    ),
                ],
                weight=2.0,
            ),
            Task(
                number=3,
                category=2,
                title="建立生态循环农业示范点",
                text="建立生态循环农业示范点1—3个,节水器具普及率提高到９８.５%。",
                lead_units=["市住建局"],
                responsible_units=[TOWNSHIPS_GROUP],
                indicators=[
                    Indicator(
                        "3-1",
                        "生态循环农业示范点",
                        1.0,
                        "个",
                        text="建立生态循环农业示范点1—3个",
                        target_max=3.0,
                        requirement="区间",
                    ),
                    Indicator(
                        "3-2",
                        "农业灌溉水有效利用系数",
                        0.652,
                        "",
                        text="农业灌溉水有效利用系数达到0.652,提高1.4百分点",
                        changes=[Change("increase", 1.4, "百分点")],
                    ),
                ],
            ),
            Task(
                number=4,
                category=2,
                title="培育特色生态文化",
                text="重点加强裴李岗、郑韩故城等遗址保护。",
                lead_units=["市文广新局"],
                responsible_units=[TOWNSHIPS_GROUP],
            ),
        ],
        units=[
            Unit(
                "市发展改革委",
                aliases=["市发展和改革委员会"],
                contact=Contact("刘红军", "市发展和改革委员会主任"),
            ),
            Unit("市住建局", contact=Contact("齐光辉", "市住建局局长")),
            Unit("市文广新局", aliases=["文广新局"], contact=Contact("刘学敏", "市文广新局局长")),
            Unit("市财政局", contact=Contact("貊海森", "市财政局局长")),
            Unit("城关乡", kind="township", contact=Contact("马东亮", "城关乡乡长")),
            Unit("新建路街道", aliases=["新建路街道办事处"], kind="township"),
            Unit(TOWNSHIPS_GROUP, kind="group"),
            Unit(PARKS_GROUP, kind="group"),
        ],
        groups=[
            Group(TOWNSHIPS_GROUP, ["城关乡", "新建路街道"]),
            Group(PARKS_GROUP, []),
        ],
    )
