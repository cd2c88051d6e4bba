"""The identifier scan: proof that no identifier left the identity zone (``scan``)."""
