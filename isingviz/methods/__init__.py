"""Reconstruction methods behind one contract (``base.Reconstructor``): instances in, pair scores out.

One module per family: ``physics`` (inversion of Eq. 1, template matching), ``binary`` (the binary
maximum-likelihood decoder), ``kinetic`` (naive mean-field, TAP, maximum-likelihood kinetic Ising), ``stats``
(VAR(1), correlations), ``trivial`` (the "no edge" guess), ``cnn`` and ``general`` (trained networks of
``learn`` as methods); ``registry`` names them all. A new method is a ``Reconstructor`` subclass in the module
of its family, added to ``registry.METHODS``. Imports the core and ``learn``; never ``experiments``,
``figures``, ``jobs`` or ``cli``.

    from isingviz.methods import reconstruct, METHODS
    rec = reconstruct("binary_ml", X, T=0.4, tau=0.1)
"""

from .registry import *  # noqa: F403 - the public entry re-exports the registry's names
from .registry import __all__ as __all__
