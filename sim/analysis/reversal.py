"""Where the answer reverses: the drawn parameter that most changes a paired difference, and the
value at which the difference crosses zero.

In an experiment over a posterior, replication r of every scenario uses draw k = r // M of the
parameters (M replications per draw; the runs table holds the values in one column
``parameter.<dotted path>`` each). For an option, an outcome and a drawn parameter X, the mean
paired difference of draw k, D_k (option - reference over its M replications), is regressed on
X_k by least squares over the K draws: D = a + b X. The draw, not the replication, is the unit:
replications of a draw share their parameters, so only the K draw means are independent. The
parameter that most changes the difference is the one whose line fits best (largest |r|, the
same as the largest |t| of the slope, for every parameter has the same K).

The line crosses 0 at x0 = -a / b. Its interval is Fieller's: the values of X at which the
line's confidence band covers 0, at level ``alpha`` after a Bonferroni correction for every line
the search tried (``tests``: parameters times option-outcome pairs). That interval is bounded
exactly when the slope passes the same corrected test. Each searched pair gets a ``status``:

- ``reverses``: the slope passes the corrected test, x0 lies within the drawn values of X (the
  posterior's range, as sampled), and so does the end of the interval on the far side of x0:
  between that end and the edge of the range the band excludes 0 with the other sign. And the
  draws themselves agree, so that a line forced through an effect that bends cannot make the
  claim alone: the draws beyond x0 have a mean difference of the other sign, its 1 - ``alpha``
  t-interval excluding 0. At the edge of the posterior the option does the opposite of the
  answer, not merely as well;
- ``fades``: the slope passes and x0 lies within the range, but either test above fails: the
  difference goes to nothing there, a reversal is not shown (a difference bounded at 0, such as
  the strikes of an option that never strikes, does this);
- ``holds``: otherwise; the answer holds over the drawn range of every parameter, as far as K
  draws and a straight line can tell.

A straight line is a summary: an effect that bends can cross 0 where the line does not, or the
other way round, and the section that reports these numbers says so.

Every function here is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.compare import each_pair
from sim.design.posterior import PARAMETER_PREFIX

ALPHA = 0.05
MIN_DRAWS = 4  # fewer draws leave too few degrees of freedom for a line and its interval

REVERSES, FADES, HOLDS = "reverses", "fades", "holds"

REVERSAL_COLUMNS = [
    "scenario",
    "outcome",
    "mean_diff",
    "parameter",
    "draws",
    "tests",
    "correlation",
    "slope",
    "p_slope",
    "p_corrected",
    "low",
    "high",
    "fitted_at_low",
    "fitted_at_high",
    "crossing",
    "crossing_low",
    "crossing_high",
    "side",
    "share_beyond",
    "status",
]


@dataclass(frozen=True)
class Line:
    """A least-squares line D = a + b X over K points, and where it crosses 0.

    ``p`` is the two-sided p-value of the slope; ``crossing`` is -a / b (NaN for b = 0);
    ``crossing_low`` and ``crossing_high`` bound Fieller's interval for it at the level asked
    (NaN when the interval is unbounded: the slope does not differ from 0 at that level).
    """

    intercept: float
    slope: float
    correlation: float
    p: float
    crossing: float
    crossing_low: float
    crossing_high: float

    def at(self, x: float) -> float:
        """The fitted difference at ``x``."""
        return self.intercept + self.slope * x


def fit_line(x: np.ndarray, y: np.ndarray, alpha: float = ALPHA) -> Line:
    """Least squares of ``y`` on ``x`` with the slope's test and Fieller's interval for the zero
    crossing at level 1 - ``alpha`` (two-sided).

    Parameters
    ----------
    x, y : ndarray
        K >= 3 points; ``x`` not constant.
    alpha : float
        The (already corrected) level of the slope's test and of the crossing's interval.

    Returns
    -------
    Line

    Raises
    ------
    ValueError
        With fewer than 3 points or a constant ``x``.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    k = len(x)
    if k < 3 or len(y) != k:
        raise ValueError(f"a line needs at least 3 points of x and y, got {len(x)} and {len(y)}")
    mx, my = float(x.mean()), float(y.mean())
    sxx, syy = float(((x - mx) ** 2).sum()), float(((y - my) ** 2).sum())
    if sxx <= 0:
        raise ValueError("x is constant: no line can be fitted")
    b = float(((x - mx) * (y - my)).sum() / sxx)
    a = my - b * mx
    residual = max(0.0, syy - b * b * sxx)
    s2 = residual / (k - 2)
    correlation = b * math.sqrt(sxx / syy) if syy > 0 else 0.0
    if s2 == 0:  # a perfect fit: the slope is known exactly
        p = 0.0 if b != 0 else 1.0
    else:
        p = float(2 * stats.t.sf(abs(b) / math.sqrt(s2 / sxx), k - 2))
    crossing = mx - my / b if b != 0 else np.nan
    low, high = fieller(my, b, s2, sxx, k, alpha, mx)
    return Line(a, b, float(correlation), p, float(crossing), low, high)


def fieller(
    mean_y: float, slope: float, s2: float, sxx: float, k: int, alpha: float, mean_x: float
) -> tuple[float, float]:
    """Fieller's interval for the x at which the line crosses 0: every x whose fitted value's
    1 - ``alpha`` band covers 0, (mean_y + b u)^2 <= q^2 s^2 (1/k + u^2 / sxx) with u = x - mean_x.
    NaN, NaN when that set is unbounded (the slope does not differ from 0 at this level)."""
    q2 = float(stats.t.ppf(1 - alpha / 2, k - 2)) ** 2
    a2 = slope * slope - q2 * s2 / sxx
    if a2 <= 0:
        return (np.nan, np.nan)
    b1 = 2 * mean_y * slope
    c0 = mean_y * mean_y - q2 * s2 / k
    root = math.sqrt(max(0.0, b1 * b1 - 4 * a2 * c0))
    u1, u2 = (-b1 - root) / (2 * a2), (-b1 + root) / (2 * a2)
    return (mean_x + min(u1, u2), mean_x + max(u1, u2))


def draw_means(
    runs: pd.DataFrame, reference: str, pairs: Sequence[tuple[str, str]], per_draw: int
) -> tuple[pd.DataFrame, dict[tuple[str, str], pd.Series]]:
    """The drawn parameters of each draw, and per (option, outcome) the mean paired difference of
    each draw (draws without a pair left out).

    Returns
    -------
    parameters : DataFrame
        Indexed by draw (replication // ``per_draw``), one column per dotted parameter path.
    means : dict
        (option, outcome) -> Series of draw means, indexed by draw.
    """
    columns = [c for c in runs.columns if c.startswith(PARAMETER_PREFIX)]
    reference_rows = runs[runs["scenario"] == reference]
    parameters = (
        reference_rows.assign(_draw=reference_rows["replication"] // per_draw).groupby("_draw")[columns].first()
    )
    parameters.columns = [c[len(PARAMETER_PREFIX) :] for c in columns]
    wanted = set(pairs)
    means = {}
    for scenario, outcome, x, y, replications in each_pair(runs, reference, sorted({o for _, o in pairs})):
        if (scenario, outcome) in wanted:
            means[(scenario, outcome)] = pd.Series(y - x).groupby(replications // per_draw).mean()
    return parameters, means


def find_reversals(
    runs: pd.DataFrame, decisions: pd.DataFrame, reference: str, per_draw: int, alpha: float = ALPHA
) -> pd.DataFrame:
    """For every option and outcome the decision view calls better or worse, the drawn parameter
    that most changes the paired difference and where its line crosses 0 (module docstring).

    Parameters
    ----------
    runs : DataFrame
        The runs of an experiment over a posterior (with ``parameter.<path>`` columns).
    decisions : DataFrame
        :func:`sim.analysis.decision.decision_table` of ``runs``; its rows whose verdict is
        ``better`` or ``worse`` are searched.
    reference : str
        The reference scenario.
    per_draw : int
        Replications per draw (the manifest's ``replications_per_draw``).
    alpha : float
        Family-wise level of the search, Bonferroni-corrected over every line tried.

    Returns
    -------
    DataFrame
        One row per searched (option, outcome), columns ``REVERSAL_COLUMNS``: the parameter, the
        number of draws, the number of lines the correction counts (``tests``), the line's
        correlation, slope and p-values (raw and corrected), the drawn range ``low``-``high``
        with the fitted difference at its ends, the crossing with its interval, the ``side`` of
        the crossing where the fitted difference has the other sign than the answer (``">"`` or
        ``"<"``; empty when the line does not cross 0 within the range), the share of draws on
        that side and the ``status`` (``reverses``, ``fades`` or ``holds``). Empty without drawn
        parameters or with fewer than ``MIN_DRAWS`` draws.
    """
    decisive = decisions[decisions["verdict"].isin(["better", "worse"])]
    pairs = list(zip(decisive["scenario"], decisive["outcome"]))
    if not pairs or not any(c.startswith(PARAMETER_PREFIX) for c in runs.columns):
        return pd.DataFrame(columns=REVERSAL_COLUMNS)
    parameters, means = draw_means(runs, reference, pairs, per_draw)
    varied = [p for p in parameters.columns if parameters[p].nunique() > 1]
    usable = {pair: m for pair, m in means.items() if len(m) >= MIN_DRAWS}
    tests = len(varied) * len(usable)
    rows = []
    for _, r in decisive.iterrows():
        key = (r["scenario"], r["outcome"])
        if key in usable and varied:
            rows.append(
                {
                    "scenario": key[0],
                    "outcome": key[1],
                    "mean_diff": r["mean_diff"],
                    **best_line(usable[key], parameters[varied], tests, alpha, r["mean_diff"]),
                }
            )
    return pd.DataFrame(rows, columns=REVERSAL_COLUMNS)


def best_line(means: pd.Series, parameters: pd.DataFrame, tests: int, alpha: float, mean_diff: float) -> dict:
    """The row of :func:`find_reversals` for one option and outcome: the parameter whose line
    fits the draw means best, and its crossing."""
    values = parameters.loc[means.index]
    y = means.to_numpy(float)
    fits = {}
    for name in values.columns:
        x = values[name].to_numpy(float)
        if np.ptp(x) > 0:
            fits[name] = fit_line(x, y, alpha / tests)
    if not fits:  # every parameter constant over the draws with a pair
        return {"parameter": "", "draws": len(y), "tests": tests, "side": "", "status": HOLDS}
    name = max(fits, key=lambda n: abs(fits[n].correlation))  # on a tie, the first
    line, x = fits[name], values[name].to_numpy(float)
    low, high = float(x.min()), float(x.max())
    p_corrected = min(1.0, line.p * tests)
    beyond = x > line.crossing if reversed_side(line.slope, mean_diff) == ">" else x < line.crossing
    status, side = classify(line, low, high, mean_diff, p_corrected < alpha, draws_agree(y[beyond], mean_diff, alpha))
    share = float(beyond.mean()) if side else np.nan
    return {
        "parameter": name,
        "draws": len(y),
        "tests": tests,
        "correlation": line.correlation,
        "slope": line.slope,
        "p_slope": line.p,
        "p_corrected": p_corrected,
        "low": low,
        "high": high,
        "fitted_at_low": line.at(low),
        "fitted_at_high": line.at(high),
        "crossing": line.crossing,
        "crossing_low": line.crossing_low,
        "crossing_high": line.crossing_high,
        "side": side,
        "share_beyond": share,
        "status": status,
    }


def reversed_side(slope: float, mean_diff: float) -> str:
    """The side of a line's crossing where its fitted difference has the other sign than the
    answer ``mean_diff``: ``">"`` (above) or ``"<"`` (below)."""
    return ">" if np.sign(slope) != np.sign(mean_diff) else "<"


def draws_agree(beyond: np.ndarray, mean_diff: float, alpha: float) -> bool:
    """Whether the draw means ``beyond`` the crossing have a mean of the other sign than
    ``mean_diff`` whose two-sided 1 - ``alpha`` t-interval excludes 0 (at least 2 draws)."""
    if len(beyond) < 2:
        return False
    mean, sd = float(beyond.mean()), float(beyond.std(ddof=1))
    half = float(stats.t.ppf(1 - alpha / 2, len(beyond) - 1)) * sd / math.sqrt(len(beyond))
    return bool(np.sign(mean) == -np.sign(mean_diff) and abs(mean) > half)


def classify(
    line: Line, low: float, high: float, mean_diff: float, significant: bool, draws_agree: bool = True
) -> tuple[str, str]:
    """The ``status`` of the module docstring, and the side of the crossing where the fitted
    difference has the other sign than ``mean_diff`` (``">"`` or ``"<"``; ``""`` when the line
    does not cross 0 within ``low``-``high``).

    Parameters
    ----------
    line : Line
        The fit, its crossing interval at the corrected level.
    low, high : float
        The drawn range of the parameter.
    mean_diff : float
        The answer: the mean paired difference over the posterior (its sign).
    significant : bool
        Whether the slope passes the corrected test.
    draws_agree : bool
        Whether the draws beyond the crossing show the reversal themselves (:func:`draws_agree`).
    """
    if not (np.isfinite(line.crossing) and low <= line.crossing <= high):
        return HOLDS, ""
    side = reversed_side(line.slope, mean_diff)
    if not significant:
        return HOLDS, side
    far_end = line.crossing_high if side == ">" else line.crossing_low
    return (REVERSES if low <= far_end <= high and draws_agree else FADES), side
