"""Labelled evaluation sets the hub did not generate, adapted to the standard identity schema.

Offline only: nothing here is imported by the pipeline. Each set is an ``EvalSet``: the files
``hub link`` would be given (one frame per source, standard columns) and, kept apart, the truth
(record_id -> entity id).
"""
