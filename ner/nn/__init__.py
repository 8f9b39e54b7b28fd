"""nn of the ner toolkit."""
