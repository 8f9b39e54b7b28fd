from ner.nn.tags.document_consistency import harmonize_documents, majority_types


def harmonize(sentences, documents):
    tokens = [[t for t, _ in s] for s in sentences]
    tags = [[g for _, g in s] for s in sentences]
    return harmonize_documents(tokens, tags, documents)


def test_a_capitalised_mention_left_untagged_gets_the_documents_type():
    headline = [("JAPAN", "O"), ("WIN", "O")]
    body = [("Japan", "B-LOC"), ("won", "O")]
    assert harmonize([headline, body], [0, 0])[0] == ["B-LOC", "O"]


def test_a_minority_type_is_replaced_by_the_majority():
    sentences = [[("Japan", "B-LOC")], [("Japan", "B-LOC")], [("Japan", "B-ORG")]]
    assert harmonize(sentences, [3, 3, 3]) == [["B-LOC"]] * 3


def test_a_tie_changes_nothing():
    sentences = [[("Jordan", "B-PER")], [("Jordan", "B-LOC")], [("Jordan", "O")]]
    assert harmonize(sentences, [0, 0, 0]) == [["B-PER"], ["B-LOC"], ["O"]]


def test_lowercase_mentions_are_not_tagged():
    sentences = [[("May", "B-PER")], [("it", "O"), ("may", "O")]]
    assert harmonize(sentences, [0, 0])[1] == ["O", "O"]


def test_other_documents_and_sentences_without_one_are_untouched():
    sentences = [[("Japan", "B-LOC")], [("Japan", "O")], [("Japan", "O")]]
    assert harmonize(sentences, [0, 1, None]) == [["B-LOC"], ["O"], ["O"]]


def test_the_longest_known_phrase_wins_and_tagged_tokens_are_kept():
    known = [("New", "B-LOC"), ("York", "I-LOC"), ("and", "O"), ("York", "B-PER")]
    missed = [("New", "O"), ("York", "O"), ("met", "O"), ("Peter", "B-PER"), ("York", "I-PER")]
    assert harmonize([known, missed], [0, 0])[1] == ["B-LOC", "I-LOC", "O", "B-PER", "I-PER"]


def test_majority_types_count_each_mention_once_per_span():
    tokens = [["EU", "and", "eu"], ["EU"]]
    tags = [["B-ORG", "O", "B-ORG"], ["B-LOC"]]
    assert majority_types(tokens, tags) == {("eu",): "ORG"}
