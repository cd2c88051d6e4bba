"""Reference data the hub and its synthetic city share: Baltimore's Community Statistical
Areas (CSAs) with their ZIPs and rough youth demographics, street names per CSA, first names
and surnames with heavy-tailed frequencies, and formal-name/nickname pairs.

Everything here is public-fact approximation, good enough for neighbourhood derivation and a
realistic synthetic city; it is not an official gazetteer.
"""

from pathlib import Path

REFERENCE_DIR = Path(__file__).parent
