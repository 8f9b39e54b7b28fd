"""utils of the ner toolkit."""
