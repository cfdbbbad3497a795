"""A discrete-event simulation of the militia-pressure dynamic in Iraq (2019-2021).

Layers, lowest first (a layer imports only itself and those below it): :mod:`sim.config`
(scenario files -> frozen, validated data), :mod:`sim.model` (the simulated world),
:mod:`sim.policy` (the actors), :mod:`sim.replication` (one run and its outcome row),
:mod:`sim.design` (experiments, sweeps, designs), :mod:`sim.batch` (many runs, resumable, to
files), :mod:`sim.calibration`, :mod:`sim.analysis` (tables, comparisons, reports),
:mod:`sim.api` (the Python API) and :mod:`sim.cli` (the command line).
"""

from sim._version import version as _version

__version__ = _version()
