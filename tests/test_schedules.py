import math

import numpy as np
import pytest

from heavyball import schedules


def test_values():
    assert schedules.constant(0.3)(17) == 0.3
    lin = schedules.linear(0.5, 0.9, 4)
    np.testing.assert_allclose(lin(np.arange(6)), [0.5, 0.6, 0.7, 0.8, 0.9, 0.9])
    cos = schedules.cosine(1.0, 0.0, 10)
    assert cos(0) == 1.0 and cos(5) == pytest.approx(0.5) and cos(10) == pytest.approx(0.0) and cos(50) == 0.0
    dec = schedules.step_decay(0.1, 0.5, 3)
    np.testing.assert_allclose(dec(np.arange(7)), [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])
    warm = schedules.warmup(schedules.cosine(1.0, 0.0, 100), 4)
    assert warm(0) == 0.0 and warm(2) == pytest.approx(0.5 * warm(4)) and warm(50) == pytest.approx(0.5)


@pytest.mark.parametrize("sched", [schedules.constant(0.3), schedules.linear(0.1, 0.9, 7),
                                   schedules.cosine(0.9, 0.1, 9), schedules.step_decay(1.0, 0.3, 4),
                                   schedules.warmup(0.8, 5, start=0.1)])
def test_array_evaluation_equals_scalar_calls(sched):
    ks = np.arange(25)
    np.testing.assert_array_equal(sched(ks), [sched(int(k)) for k in ks])
    assert isinstance(sched(3), float)


def test_evaluate_plain_callables_and_errors():
    np.testing.assert_allclose(schedules.evaluate(lambda k: 1.0 / (k + 1), 3), [1.0, 0.5, 1 / 3])
    with pytest.raises(ValueError, match="lr_schedule"):
        schedules.evaluate(0.1, 3, "lr_schedule")
    with pytest.raises(ValueError, match=r"s\(2\) = nan"):
        schedules.evaluate(lambda k: math.nan if k == 2 else 1.0, 4, "s")
    with pytest.raises(ValueError, match="n_steps"):
        schedules.linear(0.0, 1.0, 0)
