"""The spine in the asset graph: ``spine/person_crosswalk``, ``spine/person_spine`` and
``spine/person_key_history``, with their checks."""
