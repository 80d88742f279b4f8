"""Other cities' notices, one per way of writing them (tests/notices/), other encodings and
.docx, and input that is no notice at all (through the command line, as a clerk meets it)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner

from ecoxl.cli import main
from ecoxl.model import Registry
from ecoxl.notice import close_gaps, decode_text, normalise
from ecoxl.parse import parse_notice, parse_text
from ecoxl.texts import say

NOTICES = Path(__file__).parent / "notices"


def _tasks(registry: Registry) -> list[tuple]:
    return [
        (t.number, t.category, t.title, t.text, t.lead_units, t.responsible_units)
        for t in registry.tasks
    ]


def _units(registry: Registry) -> list[tuple]:
    return [
        (u.name, u.kind, u.aliases, (u.contact.person, u.contact.title) if u.contact else None)
        for u in registry.units
    ]


def _plan(registry: Registry) -> tuple:
    p = registry.plan
    return (p.title, p.issuer, p.doc_number, p.date, p.year)


# -- labels on lines of their own: 牵头责任单位 / 相关责任单位 / 配合单位 / 参与单位, tasks 1、 ---


def test_labels_on_lines_of_their_own():
    registry = parse_notice(NOTICES / "labels-on-lines.txt")
    assert _plan(registry) == (
        "宜阳县2016年蓝天工程实施方案", "宜阳县人民政府办公室", "宜政办〔2016〕28号", "2016-03-15", 2016
    )  # fmt: skip
    assert [(c.number, c.title) for c in registry.categories] == [
        (1, "调整能源结构"),
        (2, "强化扬尘治理"),
    ]
    assert _tasks(registry) == [
        (1, 1, "加快燃煤锅炉拆改", "加快燃煤锅炉拆改。2016年10月底前完成县城建成区燃煤锅炉拆改40台。",
         ["县发展改革委"], ["县质监局", "县环保局", "各乡镇人民政府"]),
        (2, 1, "推进清洁能源替代", "推进清洁能源替代。加快天然气管网建设,新增天然气用户5000户。",
         ["县住建局"], ["县发展改革委", "县财政局"]),
        (3, 2, "开展建筑工地扬尘整治", "开展建筑工地扬尘整治。建成区建筑工地扬尘治理达标率达到100%。",
         ["县住建局"], ["县城管局", "县国土资源局"]),
        (4, 2, "加强道路扬尘控制", "加强道路扬尘控制。县城主次干道机械化清扫率达到80%。",
         ["县城管局"], ["县交通运输局", "城关镇", "白杨镇"]),
    ]  # fmt: skip
    assert _units(registry) == [
        ("县发展改革委", "department", ["县发展和改革委员会"], ("王强", "主任")),
        ("县质监局", "department", [], None),
        ("县环保局", "department", [], None),
        ("县住建局", "department", ["县住房和城乡建设局"], ("赵丽", "局长")),
        ("县财政局", "department", [], ("郑华", "局长")),  # the 局长, not the 副局长 listed first
        ("县城管局", "department", ["县城市管理局"], ("孙立新", "局长")),
        ("县国土资源局", "department", [], None),
        ("县交通运输局", "department", [], None),
        ("城关镇", "township", [], ("周洋", "镇长")),
        ("白杨镇", "township", [], ("吴海", "镇长")),
        ("各乡镇人民政府", "group", [], None),
    ]
    assert [(g.name, g.members) for g in registry.groups] == [
        ("各乡镇人民政府", ["城关镇", "白杨镇"])
    ]
    assert [(i.id, i.name) for i in registry.goals] == [
        ("G-1", "全县空气质量优良天数"),
        ("G-2", "可吸入颗粒物(PM10)年均浓度"),
    ]


# -- bracket clauses in (), [], 〔〕, 【】, full-width text, (1) restarting per section -----


def test_bracket_clauses_and_numbering_that_restarts():
    registry = parse_notice(NOTICES / "brackets.txt")
    assert _plan(registry) == (
        "洛阳市2017年节能减排工作要点", "洛阳市人民政府办公室", "洛政办〔2017〕6号", "2017-04-06", 2017
    )  # fmt: skip
    assert [c.title for c in registry.categories] == [
        "优化产业结构",
        "推进重点领域节能",
        "强化保障",
    ]
    # renumbered 1…5; each text keeps the number the notice gave it
    assert _tasks(registry) == [
        (1, 1, "严控高耗能行业新增产能", "(1)严控高耗能行业新增产能。全年淘汰落后产能企业10家。",
         ["市发展改革委"], ["市工信委", "市环保局"]),
        (2, 1, "加快发展服务业", "(2)加快发展服务业。服务业增加值占生产总值比重提高到45%。",
         ["市发展改革委"], ["市商务局", "市统计局"]),
        (3, 2, "推进工业节能", "(1)推进工业节能。规模以上工业单位增加值能耗下降5%。",
         ["市工信委"], ["各县(市、区)政府"]),
        (4, 2, "推进建筑节能", "(2)推进建筑节能。城镇新建建筑节能标准执行率达到100%。",
         ["市住建局"], ["市质监局", "各区、县级市"]),
        (5, 3, "严格目标考核,将节能减排目标完成情况纳入政府目标考核体系",
         "(1)严格目标考核,将节能减排目标完成情况纳入政府目标考核体系。",
         ["市统计局"], ["市发展改革委"]),
    ]  # fmt: skip
    assert [(g.name, g.members) for g in registry.groups] == [
        ("各县(市、区)政府", []),
        ("各区、县级市", []),
    ]
    assert [(i.id, i.target, i.unit) for i in registry.task(2).indicators] == [("2-1", 45, "%")]


# -- verb roles: X、Y牵头,Z参与 / 由X负责 / (X牵头,Y配合) ---------------------------------


def test_verb_roles():
    registry = parse_notice(NOTICES / "verb-roles.txt")
    assert _plan(registry) == (
        "郑州市2018年水污染防治攻坚战实施方案", "郑州市人民政府办公厅", "郑政办〔2018〕20号",
        "2018-05-02", 2018,
    )  # fmt: skip
    assert [(c.number, c.title) for c in registry.categories] == [(1, "重点任务")]
    assert _tasks(registry) == [
        (1, 1, "开展黑臭水体整治", "开展黑臭水体整治。完成建成区黑臭水体整治12条。",
         ["市城乡建设委", "市水务局"], ["市环保局", "各区政府"]),
        (2, 1, "保障饮用水安全", "保障饮用水安全。定期开展水源地环境状况评估,依法清理水源保护区内违法建筑。",
         ["市水务局"], []),
        (3, 1, "推进工业污染治理", "推进工业污染治理。完成造纸、印染等重点行业清洁化改造。",
         ["市环保局"], ["市工信委"]),
        (4, 1, "加强农业面源污染防治", "加强农业面源污染防治。推广测土配方施肥面积300万亩。",
         ["市农委"], ["市环保局", "市水务局"]),
    ]  # fmt: skip
    assert len(registry.goals) == 2


# -- 责任单位:A、B、C with no lead label: A leads; names without the 市 prefix --------------


def test_the_first_unit_leads_when_no_lead_is_named():
    registry = parse_notice(NOTICES / "first-is-lead.txt")
    assert _plan(registry) == (
        "许昌市2019年生态文明建设工作方案", "许昌市人民政府", "许政〔2019〕15号", "2019-03-01", 2019
    )  # fmt: skip
    assert [(t.number, t.lead_units, t.responsible_units) for t in registry.tasks] == [
        (1, ["市林业局"], ["市自然资源局", "各县(市、区)政府"]),
        (2, ["市市场监管局"], ["市农业农村局", "市卫生健康委"]),
        (3, ["市生态环境局"], ["市公安局", "市市场监管局"]),
        (4, ["市城市管理局"], ["市住房城乡建设局", "各区、县级市"]),  # 市城市管理局(牵头)
        (5, [], ["市机关事务管理局"]),  # 配合单位 only: no lead (ecoxl check reports it)
    ]
    aliases = {u.name: u.aliases for u in registry.units if u.aliases}
    assert aliases == {
        "市自然资源局": ["自然资源局"],
        "市市场监管局": ["市场监管局"],  # not 市 + 场监管局
        "市卫生健康委": ["卫生健康委"],
        "市公安局": ["公安局"],
    }


# -- a PDF conversion: lines broken inside words, blanks inside names, page numbers --------


def test_a_pdf_conversion_is_rejoined():
    registry = parse_notice(NOTICES / "pdf-wrapped.txt")
    assert _plan(registry) == (
        "巩义市2016年节能减排工作方案", "巩义市人民政府办公室", "巩政办〔2016〕9号", "2016-04-20", 2016
    )  # fmt: skip
    assert [c.title for c in registry.categories] == ["推进工业节能", "推进污染减排"]
    assert _tasks(registry) == [
        (1, 1, "加强重点用能单位管理",
         "(1)加强重点用能单位管理。对年耗能5000吨标准煤以上的重点用能单位开展能源审计,"
         "完成节能技术改造项目20个,形成节能能力5万吨标准煤。",
         ["市发展和改革委员会"],
         ["市工业和信息化委员会", "市统计局", "市质量技术监督局", "各镇人民政府、街道办事处"]),
        (2, 1, "淘汰落后产能",
         "(2)淘汰落后产能。依法关停不符合产业政策的小水泥、小耐材企业,全年淘汰落后产能企业15家。",
         ["市工业和信息化委员会"], ["市发展和改革委员会", "市环境保护局"]),
        (3, 2, "加快城镇污水处理设施建设",
         "(1)加快城镇污水处理设施建设。新建污水管网30公里,城市污水处理率达到90%以上。",
         ["市住房和城乡建设局"], ["市环境保护局", "市财政局"]),
    ]  # fmt: skip
    assert [(i.name, i.target, i.unit) for i in registry.goals] == [
        ("全市万元生产总值能耗下降幅度", 3.5, "%"),
        ("化学需氧量排放总量", 1.2, "万吨"),
        ("二氧化硫排放总量", 3.6, "万吨"),
    ]


def test_a_paragraph_per_line_text_is_never_rejoined(sample_notice):
    text = sample_notice.read_text(encoding="utf-8")
    registry = parse_text(text.replace("市发展改革委", "市发展 改革委"), "x.txt")
    assert registry.task(1).lead_units == ["市发展改革委"]
    assert registry.task(6).text.count("\n") == 1


def test_normalise_and_close_gaps():
    assert normalise("\ue004（一）３０．９４％，牵头单位：市林业局\r\n— 3 —\r\n第2页 共9页\n") == (
        "(一)30.94%,牵头单位:市林业局\n"
    )
    assert close_gaps("牵头单位:市发展 改革委、乔 琳") == "牵头单位:市发展改革委、乔琳"
    assert close_gaps("PM 10 浓度 下降") == "PM 10浓度下降"


# -- encodings ---------------------------------------------------------------------------


def test_a_gb18030_notice_with_a_character_gbk_lacks():
    data = (NOTICES / "gb18030.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    registry = parse_notice(NOTICES / "gb18030.txt")
    assert _plan(registry) == (
        "登封市2017年农村人居环境整治工作方案", "登封市人民政府办公室", "登政办〔2017〕31号",
        "2017-06-08", 2017,
    )  # fmt: skip
    assert _units(registry) == [
        ("市城市管理局", "department", [], ("王䶮", "局长")),
        ("市财政局", "department", [], None),
        ("市环保局", "department", [], None),
        ("市卫生计生委", "department", ["市卫生和计划生育委员会"], ("张宏", "主任")),
        ("市住建局", "department", [], None),
        ("大冶镇", "township", [], ("赵斌", "镇长")),
        ("君召乡", "township", [], ("刘磊", "乡长")),
        ("嵩阳街道办事处", "township", [], ("周平", "主任")),
        ("各乡(镇)人民政府、区管委会", "group", [], None),
    ]
    # the group names 乡, 镇 and 管委会, not 街道
    assert registry.groups[0].members == ["大冶镇", "君召乡"]


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8-sig"),
        lambda text: text.encode("gbk"),
        lambda text: text.replace("\n", "\r\n").encode("gb18030"),
        lambda text: text.encode("utf-16"),
    ],
    ids=["utf-8-bom", "gbk", "gb18030-crlf", "utf-16"],
)
def test_every_usual_encoding_gives_the_same_registry(tmp_path, encode):
    source = NOTICES / "labels-on-lines.txt"
    path = tmp_path / "notice.txt"
    path.write_bytes(encode(source.read_text(encoding="utf-8")))
    assert parse_notice(path) == parse_notice(source)


def test_utf8_is_not_mistaken_for_gb18030():
    assert decode_text("牵头单位:市林业局".encode(), "x.txt") == "牵头单位:市林业局"


# -- .docx --------------------------------------------------------------------------------

_WORD = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
_FULL_WIDTH = str.maketrans(",:;()", "，：；（）")


def _run(text: str) -> str:
    return f'<w:r><w:rPr><w:rFonts w:hint="eastAsia"/></w:rPr><w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def _paragraph(line: str) -> str:
    """Word splits a paragraph into runs anywhere (here: in thirds) and writes ，：；（）."""
    text = line.translate(_FULL_WIDTH)
    third = max(1, len(text) // 3)
    runs = "".join(_run(text[i : i + third]) for i in range(0, len(text), third))
    return f'<w:p><w:pPr><w:ind w:firstLineChars="200"/></w:pPr>{runs}</w:p>'


def _cell(text: str) -> str:
    return f'<w:tc><w:tcPr><w:tcW w:w="2000" w:type="dxa"/></w:tcPr>{_paragraph(text)}</w:tc>'


def _docx(body_lines: list[str], table: list[list[str]]) -> bytes:
    """A minimal .docx: the lines as paragraphs, a deleted revision, the member list as a table."""
    paragraphs = "".join(_paragraph(line) for line in body_lines)
    deleted = '<w:p><w:del w:id="1" w:author="办公室"><w:r><w:delText>已删除的旧文字</w:delText></w:r></w:del></w:p>'
    rows = "".join(f"<w:tr>{''.join(_cell(c) for c in row)}</w:tr>" for row in table)
    xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_WORD}">'
        f"<w:body>{paragraphs}{deleted}<w:tbl>{rows}</w:tbl><w:sectPr/></w:body></w:document>"
    )
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("word/document.xml", xml)
    return out.getvalue()


def test_a_docx_notice_reads_like_its_text(tmp_path):
    source = NOTICES / "labels-on-lines.txt"
    lines = source.read_text(encoding="utf-8").splitlines()
    cut = lines.index("宜阳县蓝天工程领导小组成员名单") + 1
    table = [  # the member list as Word tables usually hold it: label, name, post
        ["组 长", "张 伟", "县长"],
        ["副组长", "李明", "副县长"],
        ["成 员", "王 强", "县发展和改革委员会主任"],
        ["", "赵丽", "县住房和城乡建设局局长"],
        ["", "孙立新", "县城市管理局局长"],
        ["", "钱 进", "县财政局副局长"],
        ["", "郑 华", "县财政局局长"],
        ["", "周 洋", "城关镇镇长"],
        ["", "吴海", "白杨镇镇长"],
    ]
    path = tmp_path / "宜阳县蓝天工程实施方案.docx"
    path.write_bytes(_docx(lines[:cut], table))
    assert parse_notice(path) == parse_notice(source)


# -- input that is no notice: one line, exit 2 ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "key_words"),
    [
        ("empty.txt", b"", "空文件"),
        ("blank.txt", "\u3000\r\n  \r\n".encode(), "空文件"),
        ("binary.txt", bytes(range(256)) * 8, "不是文本文件"),
        (
            "latin.txt",
            "Fran\u00e7ois \u00e9t\u00e9 \u00ff\u00fe".encode("latin-1") * 3,
            "编码无法识别",
        ),
        ("prose.txt", "各单位要高度重视,认真组织实施。".encode(), "没有找到重点任务"),
        ("scan.txt", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        ("old.txt", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "97-2003"),
        ("broken.docx", b"PK\x03\x04" + b"\x00" * 64, "不是有效的 Word 文档"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, name, content, key_words):
    path = tmp_path / name
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["parse", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert (
        lines[0].startswith(say("cli.error", message=""))
        and name in lines[0]
        and key_words in lines[0]
    )


def test_a_missing_file_is_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["parse", str(tmp_path / "无此文件.txt")])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1


def test_parse_as_a_real_process(tmp_path):
    ran = subprocess.run(
        [sys.executable, "-m", "ecoxl", "parse", str(NOTICES / "verb-roles.txt")],
        capture_output=True,
        check=False,
    )
    assert ran.returncode == 0
    data = json.loads(ran.stdout.decode("utf-8"))
    assert data["plan"]["doc_number"] == "郑政办〔2018〕20号"
    assert [t["lead_units"] for t in data["tasks"]] == [
        ["市城乡建设委", "市水务局"],
        ["市水务局"],
        ["市环保局"],
        ["市农委"],
    ]
    empty = tmp_path / "空白通知.txt"
    empty.write_bytes(b"")
    failed = subprocess.run(
        [sys.executable, "-m", "ecoxl", "parse", str(empty)], capture_output=True, check=False
    )
    assert failed.returncode == 2
    assert failed.stdout == b""
    message = failed.stderr.decode("utf-8").splitlines()
    assert len(message) == 1 and "空白通知.txt" in message[0] and "Traceback" not in message[0]


def test_parse_writes_json_and_the_registry_workbook(tmp_path, sample_notice):
    runner = CliRunner()
    out = tmp_path / "plan.json"
    result = runner.invoke(main, ["parse", str(sample_notice), "-o", str(out)])
    assert result.exit_code == 0
    assert Registry.from_json(out.read_text(encoding="utf-8")) == parse_notice(sample_notice)
    book = tmp_path / "plan.xlsx"
    assert runner.invoke(main, ["parse", str(sample_notice), "-o", str(book)]).exit_code == 0
    back = runner.invoke(main, ["parse", str(book)])
    assert back.exit_code == 0
    assert json.loads(back.stdout) == json.loads(out.read_text(encoding="utf-8"))
