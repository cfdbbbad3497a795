"""A discrete-event simulation of the militia-pressure dynamic in Iraq (2019-2020).

Layers: :mod:`sim.config` (scenario files -> frozen, validated data), the model
(:mod:`sim.world` and the actor modules), :mod:`sim.replication` (one run),
:mod:`sim.runner` (many runs, in parallel, to files) and :mod:`sim.summary` (tables).
"""

__version__ = "0.1.0"
