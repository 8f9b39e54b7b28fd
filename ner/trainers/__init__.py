"""trainers of the ner toolkit."""
