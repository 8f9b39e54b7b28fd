"""Special tokens and the notebook's default NER tag encoding."""

PAD_TOKEN = "<|pad|>"
UNK_TOKEN = "<|unk|>"
PAD_NER_TAG = "<|pad|>"
LABEL_IGNORE_IDX = -100
# The example key holding a teacher's label probabilities of each token (distillation).
TEACHER_COLUMN = "teacher"

NER_ENCODING_MAP = {
    PAD_NER_TAG: LABEL_IGNORE_IDX,
    "O": 0,
    "B-ORG": 1,
    "I-ORG": 2,
    "B-PER": 3,
    "I-PER": 4,
    "B-LOC": 5,
    "I-LOC": 6,
    "B-MISC": 7,
    "I-MISC": 8,
}
NER_DECODING_MAP = {idx: tag for tag, idx in NER_ENCODING_MAP.items()}

DEFAULT_LABELS = [tag for idx, tag in sorted(NER_DECODING_MAP.items()) if idx >= 0]
