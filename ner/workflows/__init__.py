"""workflows of the ner toolkit."""
