"""Use cases: one function each, validation + one transaction + audit row."""
