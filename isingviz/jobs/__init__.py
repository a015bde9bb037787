"""Background work for the app, without streamlit: a daemon thread with a stop flag and a done flag.

``background`` (the shared lifecycle), ``training`` (CNN training jobs and job queues), ``general`` (general
model training), ``sweep`` (a sweep run live). Imports the core, ``learn``, ``methods`` and ``experiments``;
never ``figures`` or ``cli``.
"""
