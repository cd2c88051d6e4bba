"""The public release in the asset graph: every published mart and the findings page released
together, with each public table's disclosure and governance checks."""
