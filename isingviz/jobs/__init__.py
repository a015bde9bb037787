"""Background work for the app, without streamlit: a daemon thread with a stop flag and a done flag.

``background`` (the shared lifecycle), ``training`` (CNN training jobs and job queues), ``general`` (general
model training), ``sweep`` (a sweep run live), ``manager`` (the server-wide queue, caps and orphan reaping every
run goes through), ``costs`` (a run's seconds and bytes at this machine's measured rate), ``visitors`` (each
visitor's lattice and models, by token). Imports the core, ``learn``, ``methods`` and ``experiments``;
never ``figures`` or ``cli``.
"""
