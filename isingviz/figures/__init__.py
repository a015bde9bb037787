"""Plotly figures, pure functions: data or a results document in, a figure out.

``graphs`` (lattices, instances, probability and entropy matrices), ``curves`` (training histories, coverage and
accuracy against S_c), ``sweeps`` (every sweep document) and ``general`` (the general sweep), sharing ``style``.
Imports the core and may read constants of ``experiments`` (the paper's reference points); never ``jobs`` or
``cli``.
"""
