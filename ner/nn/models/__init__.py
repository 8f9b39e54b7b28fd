"""models of the ner toolkit."""
