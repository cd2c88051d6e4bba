"""Synthetic behaviours of agencies, one module each, registered with ``@program``.

An agency's behaviour is code only where it must be: who the agency serves, when and what it
records. Everything else (formats, identity habits, noise, case habits) is the declaration's.
"""
