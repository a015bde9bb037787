"""Learning: the networks, their training and evaluation, and the model files.

``model_config`` (the ``ModelConfig`` saved in every file), ``cnn`` (the paper-style CNNs and input encodings),
``general/`` (the permutation-equivariant general model: its physics features, network, training and recipe),
``networks`` (``build_model`` for any config), ``train`` (CNN training and fine-tuning), ``evaluate`` (fresh
test and unseen-lattice evaluation of a model file), ``store`` (safetensors files with JSON metadata; it builds
the networks it loads, so it lives here). Imports the core only; never ``methods``, ``experiments``,
``figures``, ``jobs`` or ``cli``.
"""
