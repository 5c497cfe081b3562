"""Deterministic demo data: the Xiamen Red Cross tree, staff and public accounts.

Loaded by `rendao manage load_demo` (and `rendao demo`); refused in production.
"""
