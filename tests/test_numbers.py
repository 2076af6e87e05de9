"""NaN and infinity are refused for every number option, as a value out of range is:
NaN passes every range comparison, is not JSON, and `--timeout nan` meant no timeout."""

import pytest

from tests.conftest import SAMPLE, run_cli
from ycecli.errors import InvalidInput
from ycecli.features import FEATURES

FLOAT_PARAMS = [
    pytest.param(param, id=f"{feature.command}{param.flag}")
    for feature in FEATURES
    for param in feature.params
    if param.kind == "float"
]
NOT_FINITE = ["nan", "NaN", "inf", "-inf", "Infinity", float("nan"), float("-inf")]


@pytest.mark.parametrize("value", NOT_FINITE, ids=str)
@pytest.mark.parametrize("param", FLOAT_PARAMS)
def test_every_float_parameter_refuses_nan_and_infinity_naming_the_range(param, value):
    with pytest.raises(InvalidInput) as info:
        param.coerce(value)
    assert info.value.message.startswith(f"{param.flag}: ") and "finite" in info.value.message
    assert param.describe_range() in info.value.hint


def test_location_nan_is_refused_before_anything_is_sent(sandbox_env):
    result = run_cli("ring-vto", str(SAMPLE), str(SAMPLE), "--location", "nan")
    assert result.code == 4, result.stderr
    assert "--location" in result.stderr and "0.0..1.0" in result.stderr
    assert sandbox_env.requests == []


@pytest.mark.parametrize("value", ["nan", "inf", "+Infinity"])
def test_timeout_refuses_nan_and_infinity_as_it_refuses_zero(value):
    out_of_range = run_cli("enhance", str(SAMPLE), "--timeout", "0")
    result = run_cli("enhance", str(SAMPLE), "--timeout", value)
    assert result.code == out_of_range.code == 2, result.stderr
    assert "'--timeout'" in result.stderr and "x>=1" in result.stderr
    assert "finite" in result.stderr


def test_sandbox_task_seconds_refuses_nan():
    result = run_cli("sandbox", "serve", "--port", "0", "--task-seconds", "nan", timeout=20)
    assert result.code == 2 and "'--task-seconds'" in result.stderr
