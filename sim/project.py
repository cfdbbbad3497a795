"""Where the project's own files are: the checkout (or installed tree) the package came from.

The package ``sim`` sits in the project folder beside ``configs/``; default inputs and the
project-relative paths printed to users are computed from here, once.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIGS = PROJECT_ROOT / "configs"
DEFAULT_CALIBRATION = CONFIGS / "calibration.toml"  # the project's calibration file
# calibrate --method: ABC-SMC (sim/calibration/abc.py, the project's posterior) or neural posterior
# estimation (sim/calibration/npe.py)
CALIBRATION_METHODS = ("abc", "npe")


def shown_path(path: str | Path) -> str:
    """A path as a reader of the project would write it: relative to the project if inside it."""
    path = Path(path)
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)
