"""The benchmark's inputs: the sample plan scaled to N units, and their filled returns.

`synthetic_registry(n)` turns the sample notice (examples/) into a province-sized plan:
its 45 reporting units become one "county" of units, repeated (安平县发展改革委 …,
安平县城关乡 …) until there are `n`, with each county's own township and department
groups; its 32 tasks are kept and cloned once more (tasks 33–64), and every unit is
topped up with extra responsible tasks until it has a drawn 20–60 form rows. Everything
is drawn from `random.Random(seed)`: the same `n` and seed give the same plan.

`fill_returns` answers each unit's form the way a clerk does in Excel: values, statuses,
narrative, signature, with the rate formulas' cached results, edited straight into the
sheet XML inside the zip (one pass over the sheet, new text appended to the shared
strings), never through LibreOffice. Most returns are clean, some carry warnings (a
value typed as `1,234.5` text, no signature) and a few are rejected (欠进度 without
存在问题, 待统计 in 本期完成值), so collection does what it does on a real period.
"""

from __future__ import annotations

import io
import os
import random
import re
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from html import escape
from pathlib import Path

from xlsxwriter.utility import xl_col_to_name

from ecoxl import layout
from ecoxl.layout import FIRST_DATA_ROW, FormRow, expected_rows
from ecoxl.model import Group, Indicator, Registry, Task, Unit
from ecoxl.period import Period
from ecoxl.registry import load_registry, save_registry
from ecoxl.scoring import rate_kind, value_rate

REPO = Path(__file__).resolve().parents[1]
SAMPLE_JSON = REPO / "examples" / "xinzheng-2015.json"
SAMPLE_NOTICE = REPO / "examples" / "xinzheng-2015.txt"

PERIOD = Period.parse("2015-Q3")
DEADLINE = date(2015, 10, 10)
SEED = 2015
MIN_ROWS, MAX_ROWS = 20, 60
SAMPLE_TOWNSHIPS = "各乡镇(街道、管委会)"
SAMPLE_DEPARTMENTS = "市政府各部门"
EMPTY_GROUP = "各产业聚集区和专业园区"

SETTINGS = f"""[plan]
registry = "plan.json"

[period]
current = "{PERIOD.code}"
deadline = "{DEADLINE.isoformat()}"
"""

_SYLLABLES = "安平阳新永和宁东西南北长丰兴德泰福昌明清华云山川江河湖海林石桥水广城金鹤凤龙"


# -- the plan --------------------------------------------------------------------------


def county_name(index: int) -> str:
    """安平县, 安阳县 …: a distinct two-syllable county name per index (numbered past 1,600)."""
    count = len(_SYLLABLES)
    first, second = _SYLLABLES[index // count % count], _SYLLABLES[index % count]
    lap = index // (count * count)
    return f"{first}{second}{lap + 1 if lap else ''}县"


def load_sample() -> Registry:
    """The sample plan: its JSON when present (fast), else the notice parsed."""
    return load_registry(SAMPLE_JSON if SAMPLE_JSON.is_file() else SAMPLE_NOTICE)


def synthetic_registry(units: int, seed: int = SEED) -> Registry:
    """The sample plan for `units` reporting units, each with 20–60 form rows."""
    sample = load_sample()
    rng = random.Random(seed)
    roles = sample.reporting_units()  # departments first, then townships (the sample's order)
    kinds = {u.name: u.kind for u in sample.units}
    counties = [county_name(i) for i in range(-(-units // len(roles)))]
    members: dict[str, dict[str, str]] = {}  # county → {sample unit: the county's unit}
    for i in range(units):
        county, role = counties[i // len(roles)], roles[i % len(roles)]
        members.setdefault(county, {})[role] = county + role.removeprefix("市")
    groups = _groups(members, kinds)
    tasks = [_scaled_task(t, members) for t in sample.tasks]
    tasks += [_clone(t, len(sample.tasks), members, kinds) for t in sample.tasks]
    registry = Registry(
        plan=replace(sample.plan, title=sample.plan.title.replace("新郑市", "示范省")),
        goals=sample.goals,
        categories=sample.categories,
        tasks=tasks,
        units=[
            *(
                Unit(name, kind=kinds[role])
                for own in members.values()
                for role, name in own.items()
            ),
            *(Unit(g.name, kind="group") for g in groups),
        ],
        groups=groups,
    )
    _top_up(registry, rng)
    return registry


def _groups(members: dict[str, dict[str, str]], kinds: dict[str, str]) -> list[Group]:
    """Each county's 各乡镇 and 政府各部门, and the sample's empty group once."""
    groups = []
    for county, own in members.items():
        for group, kind in ((SAMPLE_TOWNSHIPS, "township"), (SAMPLE_DEPARTMENTS, "department")):
            names = [name for role, name in own.items() if kinds[role] == kind]
            groups.append(Group(county + group.removeprefix("市"), names))
    groups.append(Group(EMPTY_GROUP, []))
    return groups


def _names(name: str, members: dict[str, dict[str, str]]) -> list[str]:
    """A sample task's unit or group name, as every county's own (where it has one)."""
    if name in (SAMPLE_TOWNSHIPS, SAMPLE_DEPARTMENTS):
        return [county + name.removeprefix("市") for county in members]
    if name == EMPTY_GROUP:
        return [name]
    return [own[name] for own in members.values() if name in own]


def _scaled_task(task: Task, members: dict[str, dict[str, str]]) -> Task:
    leads = [n for name in task.lead_units for n in _names(name, members)]
    if not leads:  # a partial county lacks the lead: its first unit leads instead
        leads = [next(iter(own.values())) for own in members.values()]
    responsible = [n for name in task.responsible_units for n in _names(name, members)]
    return replace(task, lead_units=leads, responsible_units=responsible)


def _clone(
    task: Task, offset: int, members: dict[str, dict[str, str]], kinds: dict[str, str]
) -> Task:
    """Task `offset + n` (续): the same indicators under new ids, led by a department of each
    county in turn, with no responsible units yet (`_top_up` gives it some)."""
    number = task.number + offset
    indicators = [
        replace(ind, id=f"{number}-{i}", changes=list(ind.changes))
        for i, ind in enumerate(task.indicators, start=1)
    ]
    leads = []
    for own in members.values():
        departments = [n for role, n in own.items() if kinds[role] == "department"]
        pool = departments or list(own.values())
        leads.append(pool[task.number % len(pool)])
    return Task(
        number=number,
        category=task.category,
        title=f"{task.title}(续)",
        text=task.text,
        lead_units=leads,
        responsible_units=[],
        indicators=indicators,
        weight=task.weight,
    )


def _top_up(registry: Registry, rng: random.Random) -> None:
    """Give each unit extra responsible tasks until it has its drawn number of rows."""
    size = {t.number: max(1, len(t.indicators)) for t in registry.tasks}
    by_number = {t.number: t for t in registry.tasks}
    index = registry.assignment_index()
    for unit in registry.reporting_units():
        assigned = {a.task.number for a in index.get(unit, [])}
        rows = sum(size[n] for n in assigned)
        want = rng.randint(MIN_ROWS, MAX_ROWS)
        free = [n for n in size if n not in assigned]
        rng.shuffle(free)
        for number in free:
            if rows >= want:
                break
            if rows + size[number] <= MAX_ROWS:
                by_number[number].responsible_units.append(unit)
                rows += size[number]


def write_plan(folder: Path, units: int, seed: int = SEED) -> Registry:
    """`plan.json` and `ecoxl.toml` for the synthetic plan: a workspace to collect into."""
    registry = synthetic_registry(units, seed)
    folder.mkdir(parents=True, exist_ok=True)
    save_registry(registry, folder / "plan.json")
    (folder / "ecoxl.toml").write_text(SETTINGS, encoding="utf-8")
    return registry


# -- the returns -----------------------------------------------------------------------

_PROGRESS = (
    "已召开专题推进会议",
    "完成年度实施方案编制",
    "项目前期手续基本办结",
    "主体工程完成总工程量的七成",
    "已拨付专项资金",
    "组织开展了现场督导检查",
    "建立了月调度、季通报工作机制",
    "完成招投标并进场施工",
    "累计完成投资约占年度计划的八成",
    "配套设施同步推进",
    "已纳入年度重点项目库",
    "开展宣传活动三次,发放资料两千余份",
)
_PROBLEMS = (
    "资金未能及时到位",
    "征地拆迁进度滞后",
    "受雨季影响施工进度放缓",
    "部门间协调难度较大",
    "技术力量不足",
)
_NEXT = (
    "加大资金筹措力度",
    "倒排工期、挂图作战",
    "加强督导,确保按期完成",
    "强化部门协作",
    "做好验收准备工作",
)
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
_GIVEN = ("丽", "伟", "芳", "敏", "静", "强", "磊", "洋", "艳", "军", "杰", "娟")
_STATUS_WEIGHTS = {"已完成": 15, "超进度": 15, "达进度": 45, "欠进度": 20, "未启动": 5}
EXCEL_EPOCH = date(1899, 12, 30)
_FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")  # typed with a Chinese IME


@dataclass(frozen=True)
class ReturnPlan:
    """What one unit's return says: cell reference → value (str, float, or `Text`)."""

    unit: str
    cells: dict[str, object]
    rates: dict[int, float]  # sheet row (1-based) → cached 完成率 the clerk's Excel stored
    received: datetime
    kind: str  # clean | warnings | rejected


@dataclass(frozen=True)
class Text:
    """A value typed as text into a number cell (`1,234.5`, `待统计`)."""

    text: str


def _sentence(rng: random.Random, phrases: tuple[str, ...], low: int, high: int) -> str:
    return ",".join(rng.sample(phrases, rng.randint(low, high))) + "。"


def plan_return(
    indicators: dict[str, Indicator], unit: str, rows: list[FormRow], seed: int
) -> ReturnPlan:
    """The answers of `unit`'s clerk, drawn from a generator seeded by the unit's name."""
    rng = random.Random(f"{seed}/{unit}")
    roll = rng.random()
    kind = "clean" if roll < 0.85 else "warnings" if roll < 0.96 else "rejected"
    letters = {key: _letters(layout.column_index(key)) for key in layout.INPUT_KEYS}
    cells: dict[str, object] = {}
    rates: dict[int, float] = {}
    statuses = list(_STATUS_WEIGHTS)
    weights = list(_STATUS_WEIGHTS.values())
    for offset, row in enumerate(rows):
        r = FIRST_DATA_ROW + offset + 1
        if row.role == "responsible" and rng.random() < 0.1:
            continue  # a supporting unit with nothing to report on this row
        status = rng.choices(statuses, weights)[0]
        indicator = indicators.get(row.indicator_id or "")
        if row.target is not None and status != "未启动":
            value = round(row.target * rng.uniform(0.2, 1.2), 2)
            if row.measure == "%":
                value = min(value, 100.0)
            cells[f"{letters['value']}{r}"] = value
            found = rate_kind(indicator)
            if found is not None:
                rates[r] = min(1.0, value_rate(found, indicator, value, 1.0))
        cells[f"{letters['status']}{r}"] = status
        cells[f"{letters['progress']}{r}"] = _sentence(rng, _PROGRESS, 2, 6)
        if status == "欠进度" or rng.random() < 0.2:
            cells[f"{letters['problems']}{r}"] = _sentence(rng, _PROBLEMS, 1, 2)
        if rng.random() < 0.6:
            cells[f"{letters['next_steps']}{r}"] = _sentence(rng, _NEXT, 1, 3)
        if rng.random() < 0.05:
            cells[f"{letters['remark']}{r}"] = "详见附件材料\n(另报纸质版)"
    numbers = [ref for ref in cells if ref.rstrip("0123456789") == letters["value"]]
    if kind == "warnings" and numbers:
        ref = rng.choice(numbers)
        cells[ref] = Text(f"{cells[ref]:g}".translate(_FULL_WIDTH))  # value.full_width
    if kind == "rejected":
        if numbers:
            cells[rng.choice(numbers)] = Text("待统计")  # value.not_number: an error
        else:
            problems = f"{letters['problems']}{FIRST_DATA_ROW + 1}"
            cells[f"{letters['status']}{FIRST_DATA_ROW + 1}"] = "欠进度"
            cells.pop(problems, None)  # 欠进度 without 存在问题: an error
    if not (kind == "warnings" and rng.random() < 0.5):  # some forget to sign
        _sign(cells, rng)
    late = rng.random() < 0.1
    day = date(2015, 10, 12) if late else date(2015, 10, rng.randint(5, 10))
    received = datetime(day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59))
    return ReturnPlan(unit, cells, rates, received, kind)


def _sign(cells: dict[str, object], rng: random.Random) -> None:
    sign = {f.key: f for f in layout.SIGNATURE}
    name = rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.randint(1, 2)))
    day = date(2015, 10, rng.randint(5, 10))
    values = {
        "filled_by": name,
        "phone": f"0371-6{rng.randint(1000000, 9999999)}",
        "fill_date": float((day - EXCEL_EPOCH).days),  # a date cell holds its serial number
    }
    for key, value in values.items():
        f = sign[key]
        cells[f"{_letters(f.input_col)}{f.row + 1}"] = value


def _letters(col: int) -> str:
    return xl_col_to_name(col)


# -- editing the form's XML ------------------------------------------------------------------

_EMPTY_CELL = re.compile(r'<c r="([A-Z]{1,3}[0-9]+)" s="([0-9]+)"/>')
_RATE_CELL = re.compile(r'<c r="([A-Z]{1,3})([0-9]+)" s="([0-9]+)"><f>([^<]*)</f><v></v></c>')
_SI = re.compile(r"<si>(.*?)</si>", re.S)
_PLAIN_T = re.compile(r"<t>([^<]*)</t>")
FORM_PART = "xl/worksheets/sheet1.xml"
STRINGS_PART = "xl/sharedStrings.xml"


class _Strings:
    """The shared-string table, appended to as Excel does: known text reuses its index."""

    def __init__(self, xml: str):
        self.xml = xml
        self.index: dict[str, int] = {}
        items = _SI.findall(xml)
        for i, item in enumerate(items):
            plain = _PLAIN_T.fullmatch(item)
            if plain:
                self.index.setdefault(plain.group(1), i)
        self.count = len(items)
        self.new: list[str] = []
        self.uses = 0

    def add(self, text: str) -> int:
        self.uses += 1
        escaped = escape(text, quote=False)
        if escaped in self.index:
            return self.index[escaped]
        space = ' xml:space="preserve"' if "\n" in text or text != text.strip() else ""
        self.new.append(f"<si><t{space}>{escaped}</t></si>")
        self.index[escaped] = self.count
        self.count += 1
        return self.count - 1

    def result(self) -> str:
        total = int(re.search(r'count="([0-9]+)"', self.xml).group(1)) + self.uses
        xml = self.xml.replace("</sst>", "".join(self.new) + "</sst>")
        xml = re.sub(r'count="[0-9]+"', f'count="{total}"', xml, count=1)
        return re.sub(r'uniqueCount="[0-9]+"', f'uniqueCount="{self.count}"', xml, count=1)


def fill_form_bytes(data: bytes, answers: ReturnPlan) -> bytes:
    """The form `data` with `answers` typed in, as Excel would store them."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        parts = {i.filename: archive.read(i.filename) for i in infos}
    strings = _Strings(parts[STRINGS_PART].decode("utf-8"))

    def typed(match: re.Match[str]) -> str:
        ref, style = match.group(1), match.group(2)
        value = answers.cells.get(ref)
        if value is None:
            return match.group(0)
        if isinstance(value, float):
            return f'<c r="{ref}" s="{style}"><v>{value!r}</v></c>'
        text = value.text if isinstance(value, Text) else value
        return f'<c r="{ref}" s="{style}" t="s"><v>{strings.add(text)}</v></c>'

    def rate(match: re.Match[str]) -> str:
        letters, row, style, formula = match.groups()
        cached = answers.rates.get(int(row))
        if cached is None:
            return f'<c r="{letters}{row}" s="{style}" t="str"><f>{formula}</f><v></v></c>'
        return f'<c r="{letters}{row}" s="{style}"><f>{formula}</f><v>{cached!r}</v></c>'

    sheet = parts[FORM_PART].decode("utf-8")
    sheet = _RATE_CELL.sub(rate, _EMPTY_CELL.sub(typed, sheet))
    parts[FORM_PART] = sheet.encode("utf-8")
    parts[STRINGS_PART] = strings.result().encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in infos:
            archive.writestr(info, parts[info.filename], zipfile.ZIP_DEFLATED)
    return out.getvalue()


# -- all returns, in worker processes --------------------------------------------------------


@dataclass
class Returns:
    """The returns written for a run: their folder and how many of each kind."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)


_context: tuple[Registry, dict, dict, Path, int] | None = None


def _start(registry: Registry, out_dir: Path, seed: int) -> None:
    global _context
    indicators = {i.id: i for i in registry.all_indicators()}
    _context = (registry, indicators, registry.assignment_index(), out_dir, seed)


def _fill_one(job: tuple[str, str]) -> tuple[str, str]:
    assert _context is not None
    registry, indicators, index, out_dir, seed = _context
    unit, form = job
    rows = expected_rows(registry, unit, index.get(unit, []))
    answers = plan_return(indicators, unit, rows, seed)
    path = out_dir / Path(form).name
    path.write_bytes(fill_form_bytes(Path(form).read_bytes(), answers))
    moment = answers.received.timestamp()
    os.utime(path, (moment, moment))
    return str(path), answers.kind


def fill_returns(
    registry: Registry, forms: dict[str, Path], out_dir: Path, seed: int = SEED
) -> Returns:
    """Each unit's form (unit → path) filled in and dropped in `out_dir`, dated as received."""
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(unit, str(path)) for unit, path in forms.items()]
    result = Returns(out_dir)
    workers = min(os.cpu_count() or 1, max(1, len(jobs) // 32))
    with ProcessPoolExecutor(workers, initializer=_start, initargs=(registry, out_dir, seed)) as ex:
        for path, kind in ex.map(_fill_one, jobs, chunksize=max(1, len(jobs) // (workers * 8))):
            result.files.append(Path(path))
            result.kinds[kind] = result.kinds.get(kind, 0) + 1
    return result


def forms_by_unit(registry: Registry, forms: list[Path]) -> dict[str, Path]:
    """`write_forms` returns paths in unit order: pair them with the units."""
    return dict(zip(registry.reporting_units(), forms, strict=True))
