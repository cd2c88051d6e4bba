"""Youth Data Hub: an integrated data system for a city's youth-serving agencies."""
