"""Heads: the output projection, the loss and the decoding of a tagger, chosen by `model.head`."""

from ner.nn.heads.crf import CRFHead
from ner.nn.heads.softmax import SoftmaxHead

HEADS = {
    "softmax": SoftmaxHead,
    "crf": CRFHead,
}
