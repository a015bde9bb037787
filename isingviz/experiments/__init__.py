"""Experiments: the paper's figures and the method comparisons as sweeps of independent, pure tasks.

``runner`` (stages, the process pool, JSON/CSV writing), ``common`` (helpers every sweep shares), one module per
sweep (``fig2``, ``fig34``, ``baselines``, ``general``), ``unseen`` (the evaluation grid on lattices never seen in
training, with calibration) and ``sweeps`` (the registry ``SWEEPS`` and ``run_sweep``). A new sweep is a module
with plan / task / rows / summary functions, registered in ``sweeps.SWEEPS``. Imports the core, ``learn`` and
``methods``; never ``figures``, ``jobs`` or ``cli``.
"""
