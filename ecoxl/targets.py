"""Numeric targets in a task's text: 森林覆盖率达到30.94% becomes an `Indicator`.

The text is read in small pure steps: normalise the characters, split sentences and
clauses, find the quantities of a clause (number, measure unit, 以上/以下 tail), group
them into statements (a name, its values, a counted noun after them), read each name and
the verb before the number, then, within a sentence, attach change figures (增长10%) to
the target before them and give bare names (覆盖率) their context. The rules are
documented in docs/REGISTRY.md, "How targets are read".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ecoxl.measures import PRIVATE_USE, Quantity, Span, nesting, normalise, read_clause, skip_spaces
from ecoxl.model import Change, Direction, Indicator, Requirement

ChangeKind = Literal["increase", "decrease"]


@dataclass(frozen=True)
class Extraction:
    """The targets of one text, and the phrases with a digit that were not understood."""

    indicators: list[Indicator]
    unparsed: list[str]


@dataclass(frozen=True)
class Statement:
    """Values with the text before them (the name) and a counted noun after them (4条河道)."""

    start: int
    end: int
    pre: str
    values: tuple[Quantity, ...]
    post: str
    listed: bool  # follows another statement after 、


@dataclass(frozen=True)
class Reading:
    """What the words before a number say: the name, the verb, a change and its baseline."""

    name: str
    verb: str = ""
    change: ChangeKind | None = None
    baseline: int | None = None
    approx: bool = False


# -- sentences and clauses ----------------------------------------------------

_THOUSANDS = re.compile(r"\d{3}(?!\d)")


def sentences(text: str, depth: list[int]) -> list[Span]:
    """Sentences end at 。 or a line break, and at ; ! ? outside brackets."""
    spans, start = [], 0
    for i, ch in enumerate(text):
        if ch in "。\n" or (ch in ";!?" and depth[i] == 0):
            spans.append((start, i))
            start = i + 1
    spans.append((start, len(text)))
    return [s for s in spans if text[s[0] : s[1]].strip()]


def clauses(text: str, sentence: Span, depth: list[int]) -> list[Span]:
    """Clauses end at a comma or colon outside brackets, but not inside a number
    (1,200 is a thousands separator, 2:54:44 a ratio)."""
    spans, start = [], sentence[0]
    for i in range(*sentence):
        if text[i] in ",:" and depth[i] == 0 and not _inside_number(text, i):
            spans.append((start, i))
            start = i + 1
    spans.append((start, sentence[1]))
    return spans


def _inside_number(text: str, i: int) -> bool:
    if i == 0 or not text[i - 1].isdigit():
        return False
    if text[i] == ":":
        return text[i + 1 : i + 2].isdigit()
    return bool(_THOUSANDS.match(text, i + 1))


# -- statements ---------------------------------------------------------------

_VALUE_SEPARATOR = re.compile(r"\s*[、和及与]\s*")
_JOINER = re.compile(r"[\s、]*(?:以及|并且|并|及|和|且)?")


def statements(text: str, clause: Span, quantities: list[Quantity]) -> list[Statement]:
    """Group a clause's quantities into statements.

    Values separated only by 、/和 (60%、65%、58%) share one statement; anything else
    starts a new one. Words after the last value up to the next 、 are a counted noun
    (4条城区河道进行集中整治) unless the next value comes first.
    """
    start, end = clause
    groups: list[list[Quantity]] = []
    for q in quantities:
        if groups and _VALUE_SEPARATOR.fullmatch(text, groups[-1][-1].end, q.start):
            groups[-1].append(q)
        else:
            groups.append([q])
    result = []
    begin = skip_spaces(text, start, end)
    for k, group in enumerate(groups):
        listed = False
        if k:
            joiner = _JOINER.match(text, begin, group[0].start)
            listed, begin = "、" in joiner.group(), joiner.end()
        stop = group[-1].end
        limit = groups[k + 1][0].start if k + 1 < len(groups) else end
        comma = text.find("、", stop, end)
        noun_end = end if comma < 0 else comma
        post = text[stop:noun_end] if noun_end <= limit else ""
        pre = text[begin : group[0].start]
        result.append(Statement(begin, stop + len(post), pre, tuple(group), post, listed))
        begin = stop + len(post)
    return result


# -- names and verbs ----------------------------------------------------------

_DOWN_VERBS = (
    "控制在", "控制到", "控制至", "降低到", "降低至", "降到", "降至", "下降到", "下降至",
    "减少到", "减少至", "减至", "压减到", "压减至", "压缩到", "压缩至", "不超过", "不高于",
    "不大于", "低于", "小于", "少于",
)  # fmt: skip
_UP_VERBS = (
    "提高到", "提高至", "提升到", "提升至", "增加到", "增加至", "增长到", "增长至", "增至",
    "扩大到", "扩大至", "上升到", "上升至", "不低于", "不少于", "不小于", "超过", "突破",
    "高于", "大于", "多于",
)  # fmt: skip
_LEVEL_VERBS = (
    "达到", "达", "保持在", "保持", "稳定在", "维持在", "调整为", "调整到", "实现", "完成",
    "为", "在",
)  # fmt: skip
_CHANGE_VERBS: dict[str, ChangeKind] = {
    "增长": "increase", "提高": "increase", "提升": "increase", "增加": "increase",
    "上升": "increase", "扩大": "increase", "下降": "decrease", "降低": "decrease",
    "减少": "decrease", "削减": "decrease", "压减": "decrease", "压缩": "decrease",
}  # fmt: skip
_MODIFIERS = ("约", "分别", "均", "累计", "总计")
_ALL_WORDS = sorted(
    (*_DOWN_VERBS, *_UP_VERBS, *_LEVEL_VERBS, *_CHANGE_VERBS, *_MODIFIERS), key=len, reverse=True
)
_TRAILING_MODIFIER = re.compile(f"(?:{'|'.join(_MODIFIERS)})+$")
_TRAILING_WORD = re.compile(f"(?:{'|'.join(_ALL_WORDS)})$")
_BASELINE = re.compile(r"(?:(?:比|较|与)(?:(\d{4})年|上年|去年)(?:同期)?(?:相比)?|同比)$")
_SHARE_OF = re.compile(r"(.+?)(?:达到|达|为|占)(.+)的$")
_LEADING = re.compile(
    r"^(?:力争|确保|争取|努力|着力|全力|力求|全面|基本|继续|进一步|切实|积极|大力|加快|其中"
    r"|并且|同时|另外|年底前|年内|全年|今年|累计|预计)+"
)
_TIME = re.compile(
    r"(?:^(?:到|至)|截至|截止|于)?(?<![比较与])\d{4}年(?:\d{1,2}月)?(?:底|末|初|前|内|以前)*"
    r"|\d{1,2}月(?:底|末|份)?(?:前|以前)?"
)
_UNQUOTED = re.compile(r'《[^》]*》|“[^”]*”|"[^"]*"|[^《“"]+|.')
_INNER_VERB = re.compile(r"(?:实现|完成)(?!率|值|情况)")
_ENUMERATION_WORDS = re.compile(r".*[、等]")
_APPROX_TAILS = ("左右", "上下")
_DOWN_TAILS = ("以下", "以内", "之内", "及以下")
_UP_TAILS = ("以上", "及以上")


def read_name(pre: str, unit: str) -> Reading:
    """Split the words before a number into the name and the verb, change and baseline.

    Verbs and modifiers are taken off the end one by one (分别保持在, 约为, 比2013年下降);
    the one nearest the number decides: a level verb (达到, 控制在, 提高到) or a change
    verb written straight before the number (增长, 下降).
    """
    if unit == "%" and (share := _SHARE_OF.fullmatch(_squash(pre))):
        subject, base = share.groups()
        return Reading(clean_name(f"{subject}占{base}比例"), verb="达到")
    name, verb, change, approx = _without_times(_squash(pre)).rstrip("的"), "", None, False
    while m := _TRAILING_WORD.search(name):
        word, name = m.group(), name[: m.start()]
        if word in _MODIFIERS:
            approx = approx or word == "约"
        elif not verb:
            verb, change = word, _CHANGE_VERBS.get(word)
    baseline = None
    if change and (b := _BASELINE.search(name)):
        baseline, name = (int(b[1]) if b[1] else None), name[: b.start()]
        name = _TRAILING_MODIFIER.sub("", name)
    return Reading(clean_name(name), verb, change, baseline, approx)


def clean_name(name: str) -> str:
    """The measured thing: no adverbs (力争), times (到2015年) or 实现/完成 inside it,
    while titles and quotations (《…2020年…》, “…”) stay as written."""
    name = _unquoted(lambda part: _INNER_VERB.sub("", _TIME.sub("", part)), _squash(name))
    return _LEADING.sub("", _LEADING.sub("", name).strip(" ,、:;")).strip(" ,、:;的")


def _without_times(text: str) -> str:
    return _unquoted(lambda part: _TIME.sub("", part), text)


def _unquoted(change: Callable[[str], str], text: str) -> str:
    """`change` applied to the text outside titles and quotations (《…》, “…”)."""
    return _UNQUOTED.sub(lambda m: m[0] if m[0][:1] in '《“"' else change(m[0]), text)


def count_name(pre: str, post: str, unit: str) -> str:
    """The name of a count written before its noun: 着力打造1个以上居住区 → 打造居住区.

    Of the words before the number only those after an enumeration (黄水河、…等) count;
    进行 is dropped (城区河道进行集中整治), and a share gets 率 (100%无害化处置).
    """
    verb = read_name(_ENUMERATION_WORDS.sub("", pre), unit).name
    noun = clean_name(post.replace("进行", ""))
    name = verb + noun
    if unit == "%" and not _RATE_END.search(name):
        name += "率"
    return name


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# -- direction and requirement ------------------------------------------------

_LOWER_IS_BETTER = re.compile(
    r"能耗|用水量|耗水|水耗|煤耗|电耗|物耗|排放|浓度|消费总量|消耗|失业率|发生率|死亡率|事故"
)
_STILL_HIGHER = re.compile(r"达标|处理|利用|回收|治理|合格|优良|削减|减排")


def lower_is_better(name: str) -> bool:
    """Consumption, emission and concentration: 能耗, 用水量, 排放, 浓度 (not 达标排放率)."""
    return bool(_LOWER_IS_BETTER.search(name)) and not _STILL_HIGHER.search(name)


def direction_of(name: str, verb: str, tail: str) -> Direction:
    """Down for 控制在/降低到/不超过 and 以下/以内; up for 提高到/不低于 and 以上;
    otherwise down only for what is better lower (万元GDP能耗, 用水量)."""
    if verb in _DOWN_VERBS or tail in _DOWN_TAILS:
        return "down"
    if verb in _UP_VERBS or tail in _UP_TAILS:
        return "up"
    return "down" if lower_is_better(name) else "up"


def requirement_of(direction: Direction, approx: bool, ranged: bool) -> Requirement:
    """区间 for a range, 约 for 约/左右/上下, otherwise what the direction asks."""
    if ranged:
        return "区间"
    if approx:
        return "约"
    return "≤" if direction == "down" else "≥"


# -- names in context ---------------------------------------------------------

_RATE_END = re.compile(r"(?:率|比重|比例|占比)$")
_METRIC_END = re.compile(
    r"(?:率|量|比重|比例|占比|面积|系数|指数|规模|收入|产值|总值|投资|能力|能耗|排放|浓度|额|数)$"
)
_SUBJECT_END = re.compile(
    r"(?:总长度|长度|总里程|里程|总面积|面积|总量|总规模|规模|总数|数量|能力)$"
)
_BUILD_VERB = re.compile(
    r"^(?:(?:新建改建|改扩建|新建|改建|扩建|改造|新增|建设|建成|铺设|淘汰|认证|创建|修建|整治|治理)、?)+"
)
_FILLER_NOUNS = ("", "水平", "目标")


def with_context(name: str, previous: str) -> str:
    """A bare rate takes the subject of the target before it in the sentence:
    天然气管道总长度240公里,覆盖率达到85% → 天然气管道覆盖率."""
    if len(name) > 3 or not _RATE_END.search(name):
        return name
    subject = _SUBJECT_END.sub("", previous)
    return subject + name if subject and subject != previous else name


def with_verb(name: str, first: str) -> str:
    """An item of a 、 list shares the first item's building verb:
    新建改建自来水管道130公里、供热管网1.5公里 → 新建改建供热管网."""
    verb = _BUILD_VERB.match(first)
    if verb is None or _BUILD_VERB.match(name):
        return name
    return verb.group().rstrip("、") + name


def list_names(name: str, count: int) -> list[str] | None:
    """One name per value of a list: 肉、蛋、奶自给率 → 肉自给率, 蛋自给率, 奶自给率.

    The last part carries the shared head; it is what follows a modifier as long as the
    one before it. None when the parts do not match the values or the head is unclear.
    """
    parts = [p for p in re.split(r"[、和及与]", name) if p]
    if len(parts) != count:
        return None
    if all(_METRIC_END.search(p) for p in parts):
        return parts
    last, before = parts[-1], parts[-2]
    if len(before) >= len(last):
        return None
    head = last[len(before) :]
    return [p + head for p in parts[:-1]] + [last]


# -- indicators ---------------------------------------------------------------


def _target(name: str, q: Quantity, reading: Reading, text: str) -> Indicator:
    if q.value is None:
        return Indicator("", name, None, "", text=text, requirement="约")
    direction = direction_of(name, reading.verb, q.tail)
    approx = reading.approx or q.tail in _APPROX_TAILS
    requirement = requirement_of(direction, approx, q.value_max is not None)
    return Indicator(
        "", name, q.value, q.unit, direction, text, q.value_max, requirement=requirement
    )


def _change_target(
    name: str, change: Change, q: Quantity, reading: Reading, text: str
) -> Indicator:
    """A change with no level before it (能耗下降4个百分点) is a target of its own: its
    amount, higher is better, the change kept as written."""
    approx = reading.approx or q.tail in _APPROX_TAILS
    requirement = requirement_of("up", approx, q.value_max is not None)
    return Indicator(
        "", f"{name}{reading.verb}幅度", change.value, q.unit, "up", text, q.value_max,
        [change], requirement,
    )  # fmt: skip


def _build(name: str, q: Quantity, reading: Reading, text: str) -> Indicator:
    """A target, or a change target when the verb before the number is a change."""
    if reading.change is None or q.value is None:
        return _target(name, q, reading, text)
    change = Change(reading.change, q.value, q.unit, reading.baseline)
    return _change_target(name, change, q, reading, text)


def _listed(st: Statement, reading: Reading, text: str) -> list[Indicator] | None:
    """分别保持在60%、65%、58%以上: one target per value; unit and tail from the last."""
    names = list_names(reading.name, len(st.values))
    if names is None or any(q.value is None for q in st.values):
        return None
    last = st.values[-1]
    made = []
    for name, q in zip(names, st.values, strict=True):
        q = Quantity(q.start, q.end, q.value, q.value_max, q.unit or last.unit, q.tail or last.tail)
        made.append(_build(name, q, reading, text))
    return made


Found = list[tuple[Indicator, int]]  # an indicator and where its phrase starts


def _read_statement(st: Statement, raw: str, found: Found, lead: str) -> list[Indicator] | None:
    """The statement's new indicators; [] when it only adds a change figure to the target
    before it; None when it cannot be read."""
    q = st.values[-1]
    reading = read_name(st.pre, q.unit)
    text = _phrase(raw, st.start, st.end)
    if len(st.values) > 1:
        return _listed(st, reading, text)
    counted = clean_name(st.post.replace("进行", "")) not in _FILLER_NOUNS
    name = count_name(st.pre, st.post, q.unit) if counted else reading.name
    if st.listed and lead:
        name = with_verb(name, lead)
    if found:
        name = with_context(name, found[-1][0].name)
    if reading.change and q.value is not None and not name:
        if not found:
            return None
        indicator, start = found[-1]
        indicator.changes.append(Change(reading.change, q.value, q.unit, reading.baseline))
        indicator.text = _phrase(raw, start, st.end)
        return []
    return [_build(name, q, reading, text)] if name else None


def _phrase(raw: str, start: int, end: int) -> str:
    """The raw text between two positions, without surrounding blanks (indents too)."""
    while start < end and (raw[start].isspace() or PRIVATE_USE.match(raw[start])):
        start += 1
    while end > start and (raw[end - 1].isspace() or PRIVATE_USE.match(raw[end - 1])):
        end -= 1
    return raw[start:end]


def _read_sentence(
    raw: str, text: str, sentence: Span, depth: list[int], quoted: list[bool]
) -> tuple[list[Indicator], list[str]]:
    found: Found = []
    unparsed: list[str] = []
    for clause in clauses(text, sentence, depth):
        quantities, floor, unknown = read_clause(text, clause, quoted)
        if unknown:
            unparsed.append(_phrase(raw, *clause))
        lead = ""
        for st in statements(text, (floor, clause[1]), quantities):
            made = _read_statement(st, raw, found, lead if st.listed else "")
            if made is None:
                unparsed.append(_phrase(raw, st.start, st.end))
                continue
            found += [(indicator, st.start) for indicator in made]
            if made and not st.listed:
                lead = made[0].name
    return [indicator for indicator, _ in found], unparsed


def extract_indicators(text: str, id_prefix: str) -> Extraction:
    """Every numeric target of a task's text (or of the 主要目标), ids `id_prefix`1, 2, …"""
    norm = normalise(text)
    depth, quoted = nesting(norm)
    indicators: list[Indicator] = []
    unparsed: list[str] = []
    for sentence in sentences(norm, depth):
        found, missed = _read_sentence(text, norm, sentence, depth, quoted)
        indicators += found
        unparsed += missed
    for number, indicator in enumerate(indicators, start=1):
        indicator.id = f"{id_prefix}{number}"
    return Extraction(indicators, list(dict.fromkeys(unparsed)))
