"""Posterior samples as inputs of a batch: the file format, and the draw each replication uses.

A posterior file is Parquet: one row per particle of a calibration, a column ``weight`` (its
importance weight; they need not sum to one) and one float column per parameter, named by its
dotted path (``threats.rocket.base_rate_per_day``). Its key-value metadata (``posterior``, JSON)
records what produced it: the calibration file, the record, the seed, the generations. The
format is declared here once; ``calibrate`` writes it and experiments, sweeps, runs and
validations read it.

A batch that takes ``parameters_from`` draws K = ceil(R / M) rows from the posterior with
probability proportional to their weights (multinomial resampling from a stream of the root
seed), and replication r of every scenario uses draw r // M (M replications per draw). The
draws depend only on the file, the root seed and M, and draw k is the same whatever the number
of replications, so replication r of every scenario shares both its random streams and its
parameters: paired differences integrate over the posterior under common random numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.config.errors import ConfigError
from sim.config.limits import MB, POSTERIOR_BYTES, POSTERIOR_COLUMNS, POSTERIOR_ROWS
from sim.config.loader import with_values
from sim.config.scenario import Scenario
from sim.project import shown_path

WEIGHT = "weight"
METADATA_KEY = b"posterior"
PARAMETER_PREFIX = "parameter."  # the columns of a runs table that hold a replication's drawn values
DRAW = "draw"  # the column of a runs table that holds the posterior row a replication used
CALIBRATION_MANIFEST = "manifest.json"  # beside a posterior that a calibration wrote into its folder
MANIFEST_BYTES = 10 * MB
_STREAM = 0x706F7374  # the resampling stream of a root seed, apart from the model's streams


@dataclass(frozen=True)
class Posterior:
    """A posterior file, read and checked."""

    path: Path
    values: pd.DataFrame  # one row per particle, one column per dotted parameter path
    weights: np.ndarray  # normalised to sum to one
    metadata: dict
    digest: str  # sha256 of the file's bytes

    @property
    def parameters(self) -> list[str]:
        return list(self.values.columns)

    def effective_sample_size(self) -> float:
        return float(1.0 / np.sum(self.weights**2))


def write_posterior(path: Path, values: pd.DataFrame, weights: np.ndarray, metadata: Mapping[str, Any]) -> None:
    """Write ``values`` (one column per dotted path) and ``weights`` as a posterior file.
    The caller writes to a temporary name and renames it (see :func:`sim.batch.folder.write_atomic`)."""
    table = pa.Table.from_pandas(
        pd.DataFrame(
            {WEIGHT: np.asarray(weights, dtype=float), **{c: values[c].to_numpy(float) for c in values.columns}}
        ),
        preserve_index=False,
    )
    table = table.replace_schema_metadata(
        {METADATA_KEY: json.dumps(dict(metadata), sort_keys=True, default=str).encode()}
    )
    pq.write_table(table, path)


def read_posterior(path: str | Path, key: str, origin: str) -> Posterior:
    """Read and check a posterior file named by ``key`` in ``origin`` (for error messages):
    it must be a Parquet file with a ``weight`` column of finite, non-negative weights with a
    positive sum and float parameter columns of finite values."""
    path = Path(path)
    shown = str(path)
    if not path.is_file():
        raise ConfigError(key, shown, "names no posterior file", origin)
    if path.stat().st_size > POSTERIOR_BYTES.most:
        raise ConfigError(
            key,
            shown,
            f"holds {path.stat().st_size} bytes, more than {POSTERIOR_BYTES.most // MB} MB ({POSTERIOR_BYTES.reason})",
            origin,
        )
    _check_shape(path, key, origin)  # from the Parquet footer: a few MB may hold hundreds of millions of rows
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise ConfigError(key, shown, f"is not a readable posterior file (Parquet): {exc}", origin) from None
    frame = table.to_pandas()
    if WEIGHT not in frame.columns:
        raise ConfigError(key, shown, "has no 'weight' column: not a posterior file", origin)
    parameters = [c for c in frame.columns if c != WEIGHT]
    if not parameters or len(frame) == 0:
        raise ConfigError(key, shown, "holds no parameters or no draws", origin)
    for column in [WEIGHT, *parameters]:
        values = frame[column]
        if not pd.api.types.is_float_dtype(values) or not np.isfinite(values.to_numpy(float)).all():
            raise ConfigError(key, shown, f"column {column!r} must hold finite numbers", origin)
    weights = frame[WEIGHT].to_numpy(float)
    if (weights < 0).any() or weights.sum() <= 0:
        raise ConfigError(key, shown, "weights must be >= 0 with a positive sum", origin)
    raw = (table.schema.metadata or {}).get(METADATA_KEY, b"{}")
    try:
        metadata = json.loads(raw)
    except ValueError:
        metadata = {}
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    _check_against_calibration(path, digest, key, origin)
    return Posterior(path, frame[parameters].reset_index(drop=True), weights / weights.sum(), metadata, digest)


def _check_shape(path: Path, key: str, origin: str) -> None:
    """Refuse, from its metadata alone (before a row is read), a posterior file of more rows or
    columns than the bounds of :mod:`sim.config.limits`."""
    shown = str(path)
    try:
        with pq.ParquetFile(path) as parquet:
            rows, columns = parquet.metadata.num_rows, parquet.metadata.num_columns
    except (pa.ArrowException, OSError) as exc:
        raise ConfigError(key, shown, f"is not a readable posterior file (Parquet): {exc}", origin) from None
    if rows > POSTERIOR_ROWS.most:
        raise ConfigError(
            key, shown, f"holds {rows:,} rows, more than {POSTERIOR_ROWS.most:,} ({POSTERIOR_ROWS.reason})", origin
        )
    if columns > POSTERIOR_COLUMNS.most + 1:  # the parameters and the weight
        raise ConfigError(
            key,
            shown,
            f"holds {columns:,} columns, more than {POSTERIOR_COLUMNS.most:,} parameters and "
            f"the weight ({POSTERIOR_COLUMNS.reason})",
            origin,
        )


def _check_against_calibration(path: Path, digest: str, key: str, origin: str) -> None:
    """A posterior inside a calibration's folder is read only as its calibration finished it:
    the file whose SHA-256 the manifest records once the posterior is written (before the
    calibration's own predictive check reads it)."""
    manifest_path = path.parent / CALIBRATION_MANIFEST
    try:
        if not manifest_path.is_file() or manifest_path.stat().st_size > MANIFEST_BYTES:
            return
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(manifest, dict) or manifest.get("kind") != "calibration":
        return
    recorded = manifest.get("posterior_sha256")
    if recorded is None:
        raise ConfigError(
            key,
            str(path),
            f"is in a calibration folder whose posterior is not finished (status "
            f"{manifest.get('status')!r}): run its calibrate command again with the same --out",
            origin,
        )
    if recorded != digest:
        raise ConfigError(
            key,
            str(path),
            "does not match the SHA-256 its calibration's manifest records: the file was "
            "changed or damaged since the calibration wrote it",
            origin,
        )


@dataclass(frozen=True)
class Draws:
    """The parameters each replication of a batch uses: draw r // per_draw for replication r."""

    file: str  # the posterior file, as shown to users
    digest: str
    paths: tuple[str, ...]
    rows: tuple[int, ...]  # the posterior row of each draw
    values: tuple[tuple[float, ...], ...]  # its values, in the order of ``paths``
    per_draw: int

    def row_of(self, replication: int) -> int:
        return self.rows[replication // self.per_draw]

    def values_of(self, replication: int) -> dict[str, float]:
        return dict(zip(self.paths, self.values[replication // self.per_draw]))

    def scenario_for(self, scenario: Scenario, replication: int) -> Scenario:
        """``scenario`` with replication ``replication``'s drawn values."""
        return with_values(scenario, self.values_of(replication), self.file)

    def without(self, paths: set[str]) -> Draws:
        """These draws, leaving ``paths`` to the scenarios (a sweep's varied parameters)."""
        keep = [i for i, p in enumerate(self.paths) if p not in paths]
        return Draws(
            self.file,
            self.digest,
            tuple(self.paths[i] for i in keep),
            self.rows,
            tuple(tuple(v[i] for i in keep) for v in self.values),
            self.per_draw,
        )

    def columns(self) -> list[str]:
        return [DRAW, *(PARAMETER_PREFIX + p for p in self.paths)]

    def describe(self) -> dict[str, Any]:
        """What the manifest records (and the fingerprint hashes)."""
        return {
            "file": self.file,
            "sha256": self.digest,
            "parameters": list(self.paths),
            "draws": len(self.rows),
            "replications_per_draw": self.per_draw,
        }


def draw(posterior: Posterior, replications: int, per_draw: int, root_seed: int) -> Draws:
    """Resample ceil(replications / per_draw) posterior rows in proportion to their weights.

    Draw k takes the k-th uniform of the resampling stream of ``root_seed``, so the first k
    draws are the same whatever the number of replications."""
    count = math.ceil(replications / per_draw)
    uniforms = np.random.default_rng(np.random.SeedSequence([root_seed, _STREAM])).random(count)
    cumulative = np.cumsum(posterior.weights)
    rows = np.minimum(np.searchsorted(cumulative / cumulative[-1], uniforms, side="right"), len(cumulative) - 1)
    table = posterior.values.to_numpy(float)
    return Draws(
        shown_path(posterior.path),
        posterior.digest,
        tuple(posterior.parameters),
        tuple(int(r) for r in rows),
        tuple(tuple(float(v) for v in table[r]) for r in rows),
        per_draw,
    )


def posterior_draws(path: str | Path, replications: int, per_draw: int, root_seed: int, key: str, origin: str) -> Draws:
    """The draws of a batch that takes ``parameters_from = path`` (see the module docstring)."""
    return draw(read_posterior(path, key, origin), replications, per_draw, root_seed)


def draws_for(
    file: str,
    per_draw: int,
    folder: Path,
    replications: int,
    root_seed: int,
    scenarios,
    origin: str,
    exempt: set[str] = frozenset(),
) -> Draws | None:
    """The draws of an experiment or sweep file that names a posterior in ``parameters_from``
    (relative to the file's ``folder``), less the ``exempt`` parameters (a sweep's varied
    ones), checked against each of its ``scenarios``; None without one."""
    if not file:
        return None
    draws = posterior_draws(folder / file, replications, per_draw, root_seed, "parameters_from", origin).without(
        set(exempt)
    )
    for _, scenario in scenarios:
        check_draws_apply(draws, scenario, "parameters_from", origin)
    return draws


def value_at(scenario: Scenario, path: str) -> Any:
    """The value of the parameter at dotted ``path``."""
    node: Any = scenario
    for part in path.split("."):
        node = node[part] if isinstance(node, Mapping) else getattr(node, part)
    return node


def check_draws_apply(draws: Draws, scenario: Scenario, key: str, origin: str) -> None:
    """Every drawn parameter must be one the scenario has, and every draw valid for it (a
    posterior from another model, or a value its rules refuse, stops before anything runs)."""
    for k in range(len(draws.rows)):
        try:
            draws.scenario_for(scenario, k * draws.per_draw)
        except ConfigError as exc:
            raise ConfigError(
                key, draws.file, f"row {draws.rows[k]} does not fit the scenario: {exc}", origin
            ) from None
