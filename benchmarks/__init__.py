"""The wxpay_chain benchmark suite (not part of the pytest suite).

Run it with ``.venv/bin/python -m benchmarks.run`` from the repository root; see benchmarks/README.md.
"""
