"""Regenerate the figures of the README and the docs from the default job.

    python docs/figures.py                 # runs the default job into results/docs-figures/ (resumes)
    python docs/figures.py RESULTS_FOLDER  # or takes an experiment folder the default job wrote

The figure is the forest plot the default job writes (plots/forest_differences.png): every
option's paired difference from continuity, outcome by outcome. It is copied, not redrawn, so the
docs show exactly what a run shows.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JOB = "configs/experiments/policy_comparison.toml"
FIGURES = {"plots/forest_differences.png": "docs/images/policy_comparison_forest.png"}


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if argv:
        folder = Path(argv[0])
    else:
        folder = ROOT / "results" / "docs-figures"
        command = [sys.executable, "run.py", "experiment", DEFAULT_JOB, "--out", str(folder), "--quiet"]
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)  # its tables: in its report
    for source, target in FIGURES.items():
        if not (folder / source).is_file():
            print(f"error: {folder / source} does not exist: not a folder of the default job?", file=sys.stderr)
            return 2
        shutil.copyfile(folder / source, ROOT / target)
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
