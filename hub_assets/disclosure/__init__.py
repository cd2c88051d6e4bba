"""Disclosure control: what makes every public number safe to publish.

Every public number passes through ``suppression`` (and ``rounding``); ``protect`` protects a
whole release together and ``release_audit`` attacks it (``attack``, ``recovery``); the table
rules (``table_checks``) prove each published table safe; ``release`` writes the release;
``k_anonymity`` generalises quasi-identifiers for the analyst export.
"""
