"""Where a counted total lands over a warehouse location and the places below it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.stock_split import recount

D = Decimal


@pytest.mark.parametrize(
    ("wanted", "main", "below", "expected"),
    [
        (D(15), D(10), [("shelf", D(5))], (None, [])),
        (D(18), D(10), [("shelf", D(5))], (D(13), [])),
        (D(3), D(10), [("shelf", D(5))], (D(0), [("shelf", D(3))])),
        (D(7), D(0), [("a", D(8)), ("b", D(2))], (None, [("a", D(5))])),
        (D(1), D(2), [("a", D(3)), ("b", D(4))], (D(0), [("b", D(0)), ("a", D(1))])),
        (D(-3), D(2), [("a", D(4))], (D(-3), [("a", D(0))])),
        (D(-3), D(0), [], (D(-3), [])),
    ],
)
def test_the_total_becomes_the_one_wanted_the_split_kept_where_it_can(
    wanted: Decimal,
    main: Decimal,
    below: list[tuple[str, Decimal]],
    expected: tuple[Decimal | None, list[tuple[str, Decimal]]],
) -> None:
    at_main, changed = recount(wanted, main, below)
    assert (at_main, changed) == expected
    after = dict(below) | dict(changed)
    assert (main if at_main is None else at_main) + sum(after.values(), D(0)) == wanted
