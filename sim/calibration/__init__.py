"""Layer 7, fitting the model to observed counts.

Two kinds of module: those that read and check the inputs (``settings``, ``priors``,
``public_record``, ``event_record``, ``event_statistics``, ``scales``, ``identifiability``),
which the core install runs (``validate`` reads the public record through them); and the
inference (``inference``, ``abc``, ``distance``, ``sampler``, ``pilot``), which needs pyabc, in
the ``calibrate`` extra. The inference is imported only by ``calibrate``
(:func:`sim.api.calibrate`); without pyabc its import stops with one line naming
``pip install -e ".[calibrate]"`` (:func:`sim.config.extras.require`).
"""
