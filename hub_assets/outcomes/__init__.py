"""Programme outcomes against a comparison group: the estimator the warehouse calls."""
