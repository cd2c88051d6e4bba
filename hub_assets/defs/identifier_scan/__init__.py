"""The identifier scan in the asset graph: ``governance/identifier_scan`` and its blocking check."""
