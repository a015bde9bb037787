"""isingviz: reconstruct the coupling topology of a kinetic Ising model from its Glauber dynamics.

Modules: ``lattice`` (graphs), ``dynamics`` (Glauber dynamics), ``data`` (datasets and splits).
"""

__version__ = "0.1.0"
