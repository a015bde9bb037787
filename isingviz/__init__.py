"""isingviz: reconstruct the coupling topology of a kinetic Ising model from its Glauber dynamics.

The core, which everything uses and which imports no subpackage: ``lattice`` (graphs), ``dynamics`` (Glauber
dynamics), ``data`` (instances and splits), ``metrics`` (accuracy, entropy, coverage), ``config`` (typed configs,
folders), ``limits`` (the size-and-type gate for everything from outside), ``safejson`` (strict JSON), ``files``
(atomic writes, the safe ``.npz`` reader), ``recordings`` (a user's own trajectories). The subpackages, each
depending only on the ones before it: ``learn`` (networks, training, model files), ``methods`` (every
reconstruction method behind one contract), ``experiments`` (the sweeps), ``figures`` (plotly), ``jobs``
(background work for the app), ``cli`` (``python -m isingviz``). docs/architecture.md draws the layers.
"""

__version__ = "0.1.0"
