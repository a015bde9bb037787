"""Streamlit-side helpers shared by the pages (session state, cached loaders). Only the UI imports this."""
