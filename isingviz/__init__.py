"""isingviz: reconstruct the coupling topology of a kinetic Ising model from its Glauber dynamics.

Modules: ``lattice``, ``dynamics``, ``data``, ``model``, ``train``, ``metrics``, ``store``, ``evaluate``,
``baselines``, ``sweeps``, ``figures``, ``cli`` (see README.md for what each holds).
"""

__version__ = "0.1.0"
