"""The parts keep to their arrows (docs/architecture.py), no modules import each other in a
circle, and docs/architecture.md says what the code is."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "architecture.py"


@pytest.fixture(scope="module")
def architecture() -> ModuleType:
    spec = importlib.util.spec_from_file_location("architecture", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["architecture"] = module
    spec.loader.exec_module(module)
    return module


def test_every_module_belongs_to_a_part(architecture: ModuleType) -> None:
    for name in architecture.modules():
        architecture.part_of(name)


def test_no_import_runs_against_the_arrows(architecture: ModuleType) -> None:
    assert architecture.forbidden_imports(architecture.modules()) == []


def test_the_arrows_themselves_go_one_way(architecture: ModuleType) -> None:
    allowed = architecture.ALLOWED
    for source in allowed:
        assert not architecture._reaches_back(source), source


def test_no_modules_import_each_other_in_a_circle(architecture: ModuleType) -> None:
    assert architecture.circles(architecture.modules()) == []


def test_the_page_is_up_to_date(architecture: ModuleType) -> None:
    written = architecture.PAGE.read_text(encoding="utf-8")
    assert written == architecture.page(architecture.modules()), "run ./dev architecture"


def test_the_check_sees_an_import_against_the_arrows(architecture: ModuleType) -> None:
    found = architecture.modules()
    canonical = found["canonical.models"]
    wrong = type(canonical)(
        name=canonical.name,
        path=canonical.path,
        summary=canonical.summary,
        imports=canonical.imports | {"engine.store.state"},
    )
    assert architecture.forbidden_imports({**found, canonical.name: wrong}) == [
        "canonical.models (canonical) -> engine.store.state (store)"
    ]


def test_the_check_sees_a_circle(architecture: ModuleType) -> None:
    found = architecture.modules()
    schedule = found["engine.schedule"]
    looped = type(schedule)(
        name=schedule.name,
        path=schedule.path,
        summary=schedule.summary,
        imports=schedule.imports | {"engine.config"},
    )
    assert ["engine.config", "engine.schedule"] in architecture.circles(
        {**found, schedule.name: looped}
    )


def test_an_import_made_only_for_type_checking_closes_a_circle_too(
    architecture: ModuleType, tmp_path: Path
) -> None:
    # The shape the simulators had: a helper naming, for its annotations, the store calling it.
    helper = tmp_path / "helper.py"
    helper.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from adapters.odoo.simulator.store import OdooStore\n"
    )
    found = architecture.modules()
    store = found["adapters.odoo.simulator.store"]
    tree = architecture.ast.parse(helper.read_text())
    named = frozenset(
        architecture._imported(
            tree, "adapters.odoo.simulator", {n: m.path for n, m in found.items()}
        )
    )
    assert named == {"adapters.odoo.simulator.store"}
    helper_module = type(store)(
        name="adapters.odoo.simulator.helper", path=helper, summary="", imports=named
    )
    calling = type(store)(
        name=store.name,
        path=store.path,
        summary=store.summary,
        imports=store.imports | {helper_module.name},
    )
    groups = architecture.circles({**found, store.name: calling, helper_module.name: helper_module})
    assert ["adapters.odoo.simulator.helper", "adapters.odoo.simulator.store"] in groups
