"""Compact results files and flat memory: ``runs.parquet`` in row groups of a fixed number of
rows (not one per part), the same bytes for any number of workers and after a resume, the
runner holding a bounded number of chunk results and rows at once, and the parts flushed to
disk a group at a time. Everything here counts; nothing times."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import sim.batch.atomic
import sim.batch.folder
from sim.batch.execution import Execution, run_batch
from sim.batch.runner import execute, plan
from sim.config.loader import load_scenario
from sim.design.batch import Batch, Source

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.toml"
REPLICATIONS, CHUNK, ROW_GROUP = 60, 5, 16  # 12 parts of 5 rows, 4 row groups of 16, 16, 16 and 12 rows


def small_batch(replications: int = REPLICATIONS, chunk_size: int = CHUNK) -> Batch:
    scenario = load_scenario(BASELINE, {"scenario.end_date": date(2020, 1, 8)})
    return Batch("files", (("week", scenario),), replications, 7, Source("run", BASELINE), chunk_size=chunk_size)


@pytest.fixture
def small_groups(monkeypatch):
    monkeypatch.setattr(sim.batch.folder, "ROW_GROUP_ROWS", ROW_GROUP)
    monkeypatch.setattr(sim.batch.folder, "COMBINE_EVERY", 2)  # parts combined inside a row group too


def test_runs_parquet_has_row_groups_of_a_fixed_size_not_one_per_part(tmp_path, small_groups):
    result = run_batch(small_batch(), tmp_path / "out", Execution(workers=1))
    metadata = pq.ParquetFile(tmp_path / "out" / "runs.parquet").metadata
    assert len(list((tmp_path / "out" / "parts").glob("*/*.parquet"))) == REPLICATIONS // CHUNK
    assert metadata.num_row_groups == math.ceil(REPLICATIONS / ROW_GROUP)
    sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    assert sizes == [16, 16, 16, 12]
    assert list(result.runs["replication"]) == list(range(REPLICATIONS))


def test_a_batch_smaller_than_a_row_group_is_one_row_group(tmp_path):
    run_batch(small_batch(), tmp_path / "out", Execution(workers=1))
    assert pq.ParquetFile(tmp_path / "out" / "runs.parquet").metadata.num_row_groups == 1


def test_row_groups_are_the_same_bytes_for_any_workers_and_after_a_resume(tmp_path, small_groups):
    batch = small_batch()
    run_batch(batch, tmp_path / "one", Execution(workers=1))
    run_batch(batch, tmp_path / "two", Execution(workers=2))
    reference = (tmp_path / "one" / "runs.parquet").read_bytes()
    assert (tmp_path / "two" / "runs.parquet").read_bytes() == reference
    # a run stopped after some parts: the finished files gone, some parts too
    resumed = tmp_path / "two"
    (resumed / "runs.parquet").unlink()
    for part in sorted(resumed.glob("parts/*/*.parquet"))[3::2]:
        part.unlink()
    run_batch(batch, resumed, Execution(workers=2))
    assert (resumed / "runs.parquet").read_bytes() == reference


def test_assembling_holds_at_most_a_row_group_and_a_part(tmp_path, small_groups):
    """Memory counted, not measured: while runs.parquet is written the folder holds fewer than a
    row group's rows plus one part's, whatever the number of parts."""
    original = sim.batch.folder.ResultsFolder.assemble
    for replications in (60, 300):
        out = tmp_path / f"out{replications}"
        seen: list[int] = []

        def spy(self, chunks, seen=seen):
            answer = original(self, chunks)
            seen.append(self.most_rows_held)
            return answer

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sim.batch.folder.ResultsFolder, "assemble", spy)
            run_batch(small_batch(replications), out, Execution(workers=1))
        assert seen and 0 < seen[0] < ROW_GROUP + CHUNK


def test_the_runner_holds_at_most_in_flight_chunk_results(tmp_path):
    """The main process never holds more chunk results than it keeps in flight: each is handed
    on (written to a part) before another is submitted beyond the bound."""
    batch = small_batch(40, 2)
    chunks = plan(1, batch.replications, batch.chunk_size)
    held = {"now": 0, "most": 0, "done": 0}

    class Counting(ThreadPoolExecutor):
        def submit(self, fn, *args, **kwargs):
            held["now"] += 1
            held["most"] = max(held["most"], held["now"])
            return super().submit(fn, *args, **kwargs)

    def on_done(chunk, result):
        held["now"] -= 1
        held["done"] += 1

    with Counting(max_workers=2) as executor:
        execute(chunks, batch, executor, on_done, in_flight=3)
    assert held["done"] == len(chunks) == 20
    assert held["most"] <= 3


def test_parts_are_flushed_a_group_at_a_time_and_all_before_runs_parquet(tmp_path, monkeypatch):
    """Each part and its record are flushed to disk once, in groups of FLUSH_EVERY parts (their
    folder once a group, not twice a part), and all of them before runs.parquet is written."""
    monkeypatch.setattr(sim.batch.folder, "FLUSH_EVERY", 5)
    flushed: list[Path] = []
    original = sim.batch.atomic._fsync
    monkeypatch.setattr(sim.batch.atomic, "_fsync", lambda path: (flushed.append(Path(path)), original(path)))
    out = tmp_path / "out"
    run_batch(small_batch(), out, Execution(workers=1))
    parts = sorted(out.glob("parts/*/*.parquet"))
    names = [p.name for p in flushed]
    runs_at = next(i for i, p in enumerate(flushed) if p.name.startswith(".runs.parquet"))
    for part in parts:
        assert flushed.count(part) == 1 and flushed.index(part) < runs_at
        assert flushed.count(part.with_suffix(".json")) == 1
    assert flushed.count(parts[0].parent) == math.ceil(len(parts) / 5)  # 3 groups: 5, 5 and 2 parts
    per_part = sum(1 for p in flushed if "parts" in p.parts or p.name == "parts") / len(parts)
    assert per_part < 4, names  # it was 4 a part: the record, the part, and their folder twice
