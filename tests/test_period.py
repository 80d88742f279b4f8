from datetime import date

import pytest

from ecoxl.exceptions import ConfigError
from ecoxl.period import Period, chinese_time


@pytest.mark.parametrize(
    ("text", "code", "end", "elapsed"),
    [
        ("2015-Q3", "2015-Q3", date(2015, 9, 30), 0.75),
        ("2015q1", "2015-Q1", date(2015, 3, 31), 0.25),
        ("2015-09", "2015-09", date(2015, 9, 30), 0.75),
        ("2015-2", "2015-02", date(2015, 2, 28), 2 / 12),
        ("2015-H1", "2015-H1", date(2015, 6, 30), 0.5),
        ("2015", "2015", date(2015, 12, 31), 1.0),
    ],
)
def test_period_parses_and_knows_its_end(text, code, end, elapsed):
    period = Period.parse(text)
    assert period.code == code
    assert period.end == end
    assert period.elapsed == pytest.approx(elapsed)


@pytest.mark.parametrize("text", ["2015-13", "Q3", "2015-Q5", "今年"])
def test_bad_period_is_a_config_error(text):
    with pytest.raises(ConfigError):
        Period.parse(text)


def test_a_timestamp_reads_as_a_chinese_date_and_time():
    assert chinese_time("2026-11-29T06:26:41+08:00") == "2026年11月29日 06:26"
    assert chinese_time("2015-10-08T09:30:00") == "2015年10月8日 09:30"
    assert chinese_time("不是时间") == "不是时间"


def test_period_label_is_chinese():
    assert Period.parse("2015-Q3").label == "2015年第3季度"
    assert Period.parse("2015-09").label == "2015年9月"
