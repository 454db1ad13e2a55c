"""Scripts that measure and print ratios against a baseline measured in the same run.

Run them as modules from the project root (`.venv/bin/python -m benchmarks.intake`): run as
files, `benchmarks/email.py` would shadow the standard library's `email` package.
"""
