"""The findings page asset: the public report, built from the public zone only."""
