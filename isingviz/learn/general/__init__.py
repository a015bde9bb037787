"""The general model: one set of weights for unseen lattices of any size L and any number of time steps M.

``features`` (physics-informed pair features in float64: weighted ridge inversion, binary-decoder log-odds),
``net`` (``GeneralNet``: a shared symmetric pair network with refinement rounds), ``train`` (fresh lattices every
batch from several families), ``recipe`` (the config <-> command <-> metadata <-> file round trip of a training
run). Imports the core and the rest of ``learn`` only.
"""
