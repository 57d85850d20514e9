"""The durability-tiers page's counts are drawn from docs/assets/durability.json at build time,
by the same hook (and the same marker-block mechanism) as the Performance page's figures."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from mkdocs.exceptions import PluginError

from tests.docs.conftest import DOCS
from tests.docs.test_docs_performance_hook import hook

PAGE = (DOCS / "guide" / "durability-tiers.md").read_text("utf-8")


def results() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DOCS / "assets" / "durability.json").read_text("utf-8"))
    return data


def test_the_page_gets_a_row_per_measured_tier_with_its_counts_and_the_command() -> None:
    data = results()
    page = hook.render_durability(PAGE, data)
    block = page.split(hook.DURABILITY_START, 1)[1].split(hook.DURABILITY_END, 1)[0]
    for row in data["tiers"]:
        line = next(line for line in block.splitlines() if line.startswith(f"| {row['label']} |"))
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[1:6] == [
            f"{row[key]:,}" for key in ("kills", "acknowledged", "done_once", "rerun", "lost")
        ]
    assert f"`{data['command']}`" in block
    assert str(data["load_average_at_end"]) in block


def test_the_journal_tier_measured_lost_nothing_a_client_got_a_2xx_for() -> None:
    rows = {row["tier"]: row for row in results()["tiers"]}
    assert rows["journal"]["acknowledged"] > 0 and rows["journal"]["lost"] == 0


def test_new_counts_in_the_json_show_up_without_an_edit_of_the_page() -> None:
    data = copy.deepcopy(results())
    data["tiers"][0]["lost"] = 987654
    assert "987,654" in hook.render_durability(PAGE, data)


def test_a_page_without_its_block_or_a_json_missing_a_field_fails_the_build_saying_which() -> None:
    with pytest.raises(PluginError, match="lost its <!-- durability:results:start -->"):
        hook.render_durability("# no block", results())
    broken = copy.deepcopy(results())
    del broken["machine"]
    with pytest.raises(PluginError, match=re.escape("cannot render assets/durability.json")):
        hook.render_durability(PAGE, broken)
