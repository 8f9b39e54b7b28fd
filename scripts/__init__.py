"""The notebook's four scripts, thin wrappers over the `ner` workflows."""
