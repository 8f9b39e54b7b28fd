"""data processing of the ner toolkit."""
