"""The political inputs of the scenarios are the government actions of the two actions files,
mapped to dated events by the one rule of docs/sources.md#political-inputs, and nothing else.

The files are read with tomllib, not with the project's loader: the test checks what the files
say, row by row against the CSV files, whatever the model does with it.
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
BASELINE = CONFIGS / "baseline.toml"
FORECAST = CONFIGS / "scenarios" / "forecast_2020_2021.toml"
HISTORY = CONFIGS / "scenarios" / "history_2020_2021.toml"
ACTIONS = [CONFIGS / "data" / "actions_2019_2020.csv", CONFIGS / "data" / "actions_2020_2021.csv"]

START = date(2020, 1, 1)  # baseline.toml's [scenario] start_date: earlier rows are not in the run
FORECAST_FROM = date(2020, 10, 1)  # rows from this date on are inputs of forecast_2020_2021.toml

# The mapping rule (docs/sources.md#political-inputs): (actor, action) -> event, "*" for any
# actor; None: not an input.
MAPPING: dict[tuple[str, str], str | None] = {
    ("*", "strike"): "us_strike",
    ("*", "raid"): "iraqi_raid",
    ("*", "arrest"): "iraqi_raid",
    ("*", "threat"): "threat",
    ("*", "drawdown"): "withdrawal",
    ("*", "handover"): "withdrawal",
    ("*", "vote"): "withdrawal",
    ("us", "talks"): "talks",
    ("coalition", "talks"): "talks",
    ("iraq", "talks"): "talks",
    ("iran", "talks"): "iranian_direction",
    ("*", "election"): "election",
    ("*", "agreement"): "agreement",
    ("*", "other"): None,
    ("*", "missile_attack"): None,
}
# The rule's named dates: the first threat is the existing ultimatum; a drawdown reached on a day
# the replay already had as a troop reduction, or the end of the combat role, keeps that event.
BY_DATE: dict[tuple[str, str], str] = {
    ("2020-09-20", "threat"): "ultimatum",
    ("2021-01-15", "drawdown"): "troop_reduction",
    ("2021-12-09", "drawdown"): "combat_role_end",
}
# Events of baseline.toml kept from the record (docs/sources.md#policy-2020, from [S1]) that are
# not rows of either actions file.
RECORD_EVENTS = {
    "arrest_2020_09_17": ("2020-09-17", "iraqi_raid"),  # the militia financier's arrest, [S1]
    "drawdown_2020_09": ("2020-09-30", "troop_reduction"),  # the cut to about 3,000 reached, [S1]
}
EVENT_TYPES = {
    "us_strike",
    "iraqi_raid",
    "ultimatum",
    "truce",
    "troop_reduction",
    "embassy_closure",
    "combat_role_end",
    "withdrawal",
    "talks",
    "agreement",
    "threat",
    "election",
    "iranian_direction",
}

TABLE = re.compile(r"^\s*\[([^\]]+)\]\s*(#.*)?$")
HISTORY_LINE = re.compile(r"^\w+ = .*\S\s+# [^;#]+; source: \S.*$")


def mapped(row: dict[str, str]) -> str | None:
    if (row["date"], row["action"]) in BY_DATE:
        return BY_DATE[row["date"], row["action"]]
    key = (row["actor"], row["action"]) if (row["actor"], row["action"]) in MAPPING else ("*", row["action"])
    assert key in MAPPING, f"the rule says nothing of {row['actor']}/{row['action']} ({row['date']})"
    return MAPPING[key]


def rows() -> list[dict[str, str]]:
    found = []
    for path in ACTIONS:
        with path.open(encoding="utf-8", newline="") as f:
            found += [{**row, "file": path.name} for row in csv.DictReader(f)]
    return found


def inputs() -> list[tuple[str, str, str]]:
    """(date, event, file of the scenario it belongs in) of every mapped row from the run's start."""
    found = []
    for row in rows():
        event, day = mapped(row), date.fromisoformat(row["date"])
        if event is not None and day >= START:
            found.append((row["date"], event, "forecast" if day >= FORECAST_FROM else "baseline"))
    return found


def history(path: Path) -> dict[str, dict]:
    return tomllib.loads(path.read_text(encoding="utf-8")).get("history", {})


def events(path: Path) -> Counter:
    return Counter((e["date"].isoformat(), e["event"]) for e in history(path).values())


FILES = {"baseline": BASELINE, "forecast": FORECAST}


@pytest.mark.parametrize("path", [BASELINE, FORECAST, HISTORY], ids=lambda p: p.name)
def test_files_parse(path):
    tomllib.loads(path.read_text(encoding="utf-8"))


def test_the_rule_covers_every_row():
    assert rows(), "no rows read"
    for row in rows():
        mapped(row)


@pytest.mark.parametrize("which", FILES)
def test_every_mapped_row_is_an_event_of_its_file(which):
    have = events(FILES[which])
    missing = [(d, e) for d, e, f in inputs() if f == which and not have[d, e]]
    assert not missing, f"{FILES[which].name} lacks the mapped rows {missing}"


@pytest.mark.parametrize("which", FILES)
def test_every_event_is_a_mapped_row_or_a_record_event(which):
    want = Counter((d, e) for d, e, f in inputs() if f == which)
    record = {name: v for name, v in RECORD_EVENTS.items() if which == "baseline"}
    table = history(FILES[which])
    for name, (day, event) in record.items():
        assert name in table and (table[name]["date"].isoformat(), table[name]["event"]) == (day, event), name
    want.update(record.values())
    have = events(FILES[which])
    assert have == want, (
        f"{FILES[which].name}: extra {sorted((have - want).elements())}, missing {sorted((want - have).elements())}"
    )


def test_the_files_split_at_the_forecast_date():
    assert all(START <= date.fromisoformat(d) < FORECAST_FROM for d, _ in events(BASELINE))
    assert all(FORECAST_FROM <= date.fromisoformat(d) <= date(2021, 12, 31) for d, _ in events(FORECAST))


@pytest.mark.parametrize("path", [BASELINE, FORECAST, HISTORY], ids=lambda p: p.name)
def test_event_types_are_known(path):
    assert {e["event"] for e in history(path).values()} <= EVENT_TYPES


@pytest.mark.parametrize("path", [BASELINE, FORECAST], ids=lambda p: p.name)
def test_no_militia_action_in_the_forecast_inputs(path):
    assert not [name for name, e in history(path).items() if e["event"] == "truce"]


def test_the_conditional_variant_adds_only_the_truce():
    document = tomllib.loads(HISTORY.read_text(encoding="utf-8"))
    assert document["extends"] == "forecast_2020_2021.toml"
    assert set(document) == {"extends", "scenario", "history"}
    assert document["scenario"]["name"] == "history_2020_2021"
    assert {name: (e["date"], e["event"]) for name, e in document["history"].items()} == {
        "truce_2020_10_10": (date(2020, 10, 10), "truce")
    }
    forecast = tomllib.loads(FORECAST.read_text(encoding="utf-8"))
    assert forecast["extends"] == "../calibrated.toml"
    assert forecast["policy"]["us"]["doctrines"]["continuity"]["retaliate_on_lethal"] is False
    assert forecast["policy"]["us"]["ultimatum"]["closure_attacks"] == 0


@pytest.mark.parametrize("path", [BASELINE, FORECAST, HISTORY], ids=lambda p: p.name)
def test_every_agreement_has_a_later_deadline(path):
    for name, e in history(path).items():
        assert ("until" in e) == (e["event"] == "agreement"), name
        if "until" in e:
            assert isinstance(e["until"], date) and e["until"] > e["date"], name
    if path == FORECAST:
        assert [e["until"] for e in history(path).values() if e["event"] == "agreement"] == [date(2021, 12, 31)]


@pytest.mark.parametrize("path", [BASELINE, FORECAST, HISTORY], ids=lambda p: p.name)
def test_every_history_line_names_its_source(path):
    inside, bare, seen = False, [], 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        header = TABLE.match(line)
        if header:
            inside = header.group(1).strip().startswith("history.")
            continue
        if inside and line.strip() and not line.lstrip().startswith("#"):
            seen += 1
            if not HISTORY_LINE.match(line):
                bare.append(f"{path.name}:{number}: {line}")
    assert seen, f"{path.name}: no history lines read"
    assert not bare, "history lines without '# unit; source: ...':\n" + "\n".join(bare)
