import pytest
import torch

from ner.data_processing.batch import Batch
from ner.models.ner_predictor import NERPredictor
from ner.nn.embeddings.embedding import TokenEmbedding
from ner.nn.models.ffnn import FFNN
from ner.nn.models.rnn import RNN
from ner.nn.module import Module
from ner.utils.errors import DataFormatError


def test_embedding_shape_and_zero_padding_row():
    emb = TokenEmbedding(vocab_size=7, embedding_dim=10, padding_idx=0)
    assert emb(torch.randint(0, 7, (4, 6))).shape == (4, 6, 10)
    assert emb.embedding.weight[0].abs().sum() == 0


def test_ffnn_parameter_names_and_count_match_the_notebook():
    ffnn = FFNN(embedding_dim=10, hidden_dim=5, output_dim=2, num_layers=5)
    names = [n for n, _ in ffnn.named_parameters()]
    assert names[:2] == ["input_hidden.weight", "input_hidden.bias"]
    assert "hidden_layers.3.weight" in names and "hidden_layers.4.weight" not in names
    assert ffnn.num_params() == 187
    assert ffnn(torch.randn(3, 4, 10)).shape == (3, 4, 2)


def test_rnn_parameter_names_and_count_match_the_notebook():
    rnn = RNN(embedding_dim=10, hidden_dim=5, output_dim=2, bias=True, nonlinearity="tanh", num_layers=5)
    names = [n for n, _ in rnn.named_parameters()]
    assert names[0] == "input_hidden.weight" and names[-1] == "hidden_output.bias"
    assert {"recur_layers.3.weight", "hidden_hidden.weight", "hidden_layers.3.bias"} <= set(names)
    assert rnn.num_params() == 337


def test_print_params_table(capsys):
    FFNN(10, 5, 2, num_layers=5).print_params()
    out = capsys.readouterr().out
    assert "hidden_layers.3.weight" in out and "total trainable params: 187" in out


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_fused_rnn_matches_step_by_step(nonlinearity, num_layers):
    torch.manual_seed(num_layers)
    rnn = RNN(8, 6, 4, num_layers=num_layers, nonlinearity=nonlinearity)
    x = torch.randn(5, 9, 8)
    fused = rnn.fused_hidden(x)
    loop = rnn.loop_hidden(x)
    assert torch.allclose(fused, loop, atol=1e-5)
    rnn.fused = True
    a = rnn(x)
    rnn.fused = False
    assert torch.allclose(a, rnn(x), atol=1e-5)


def test_fused_rnn_gradients_reach_the_notebooks_parameters():
    rnn = RNN(4, 3, 2, num_layers=2)
    rnn(torch.randn(2, 5, 4)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in rnn.parameters())
    assert len(list(rnn.parameters())) == 10


def test_prelu_falls_back_to_the_loop():
    rnn = RNN(4, 3, 2, nonlinearity="prelu")
    assert not rnn.can_fuse and rnn(torch.randn(2, 5, 4)).shape == (2, 5, 2)


def test_initial_hidden_states():
    rnn = RNN(10, 5, 2, num_layers=2)
    zeros = rnn._initial_hidden_states(batch_size=1, init_zeros=True)
    assert len(zeros) == 2 and zeros[0].shape == (5,) and zeros[0].abs().sum() == 0
    assert rnn._initial_hidden_states(batch_size=3)[1].shape == (3, 5)


def test_predictor_parameter_names_follow_the_notebook():
    model = NERPredictor(
        vocab_size=20, embedding_dim=6, padding_idx=0, hidden_dim=4, output_dim=9, model="rnn", num_layers=2
    )
    names = [n for n, _ in model.named_parameters()]
    assert names[0] == "embedding.embedding.weight" and "model.recur_layers.0.weight" in names
    ids = torch.randint(0, 20, (2, 7))
    assert model(Batch(ids, torch.zeros_like(ids))).shape == (2, 7, 9)


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_save_and_load_pretrained(tmp_path, suffix):
    model = NERPredictor(
        vocab_size=20, embedding_dim=6, padding_idx=0, hidden_dim=4, output_dim=9, model="ffnn"
    )
    path = tmp_path / f"model{suffix}"
    model.save_pretrained(path)
    loaded = NERPredictor.from_pretrained(path)
    ids = torch.randint(0, 20, (2, 5))
    x = Batch(ids, torch.zeros_like(ids))
    assert torch.equal(model(x), loaded(x))


def test_mismatched_weights_are_refused_before_use(tmp_path):
    small = NERPredictor(vocab_size=20, embedding_dim=6, padding_idx=0, hidden_dim=4, output_dim=9)
    big = NERPredictor(vocab_size=30, embedding_dim=6, padding_idx=0, hidden_dim=4, output_dim=9)
    with pytest.raises(DataFormatError, match="shape"):
        big.load_weights(small.state_dict(), "small.pt")


def test_hooks_attach_and_detach():
    model = FFNN(4, 3, 2)
    seen = []
    name = model.attach_hook(model.input_hidden, lambda m, i, o: seen.append(o.shape), "forward")
    model(torch.randn(1, 2, 4))
    model.detach_hook(name)
    model(torch.randn(1, 2, 4))
    model.attach_hook(model.hidden_output, lambda m, i, o: seen.append("x"))
    model.detach_all_hooks()
    model(torch.randn(1, 2, 4))
    assert seen == [torch.Size([1, 2, 3])]
    assert isinstance(model, Module)


def test_window_sees_neighbours_and_zeros_beyond_the_sentence():
    from ner.nn.models.ffnn import windowed

    x = torch.arange(1, 4, dtype=torch.float).reshape(1, 3, 1)
    out = windowed(x, torch.tensor([[0, 0, 1]]), window=1)
    assert out.squeeze(0).tolist() == [[0.0, 1.0, 2.0], [1.0, 2.0, 0.0], [2.0, 0.0, 0.0]]


def test_window_zero_is_the_notebooks_ffnn():
    assert FFNN(10, 5, 2, num_layers=5, window=0).num_params() == 187
    assert FFNN(10, 5, 2, window=2).input_hidden.in_features == 50


@pytest.mark.parametrize("encoder", ["elman", "lstm", "gru"])
def test_bidirectional_encoder_ignores_padding(encoder):
    torch.manual_seed(0)
    model = NERPredictor(30, 8, 0, 6, 9, model=encoder, bidirectional=True)
    ids = torch.randint(2, 30, (1, 4))
    alone = model(Batch(ids, torch.zeros(1, 4, dtype=torch.long)))
    padded_ids = torch.cat([ids, torch.zeros(1, 3, dtype=torch.long)], dim=1)
    padded = model(Batch(padded_ids, torch.tensor([[0, 0, 0, 0, 1, 1, 1]])))
    assert torch.allclose(alone, padded[:, :4], atol=1e-6)
    left = model(
        Batch(
            torch.cat([torch.zeros(1, 3, dtype=torch.long), ids], dim=1),
            torch.tensor([[1, 1, 1, 0, 0, 0, 0]]),
        )
    )
    assert torch.allclose(alone, left[:, 3:], atol=1e-6)


def test_char_features_and_crf_decoder():
    from ner.data_processing.constants import PAD_TOKEN, UNK_TOKEN
    from ner.data_processing.data_collator import DataCollator
    from ner.data_processing.tokenizer import Tokenizer

    tokenizer = Tokenizer().from_dict({PAD_TOKEN: 0, UNK_TOKEN: 1, "Paris": 2})
    batch = DataCollator(tokenizer, char_max_length=4)([{"text": ["Paris", "é"]}, {"text": ["x"]}])
    # Each distinct word once (row 0 the empty word of padding), and each position's row.
    assert batch["char_index"].tolist() == [[1, 2], [3, 0]] and batch["char_words"].shape == (4, 4)
    assert batch["char_words"][1].tolist() == [ord(c) + 1 for c in "Pari"]
    assert batch["char_words"][2, :2].tolist() == [0xC3 + 1, 0xA9 + 1] and batch["char_words"][0].sum() == 0
    model = NERPredictor(3, 4, 0, 5, 9, model="ffnn", window=1, chars="cnn", char_filters=6, head="crf")
    scores = model(batch)
    assert scores.shape == (2, 2, 9)
    tags = model.decode(scores, batch.mask)
    assert tags.shape == (2, 2) and tags[1, 1] == 0


def test_word_dropout_only_in_training():
    model = NERPredictor(10, 4, 0, 5, 9, word_dropout=0.99999)
    ids = torch.tensor([[2, 3, 0]])
    model.train()
    assert model._drop_words(ids).tolist() == [[1, 1, 0]]
    model.eval()
    assert model._drop_words(ids).tolist() == [[2, 3, 0]]


def test_char_cnn_matrix_product_equals_the_convolution():
    from ner.nn.embeddings.char_cnn import CharCNN

    torch.manual_seed(0)
    cnn = CharCNN(char_dim=6, num_filters=5, kernel_size=3)
    char_ids = torch.tensor(
        [[[5, 6, 7, 0], [5, 6, 7, 0], [0, 0, 0, 0]], [[9, 0, 0, 0], [1, 2, 3, 4], [5, 6, 7, 0]]]
    )
    flat, index = char_ids.reshape(-1, 4), torch.arange(6).reshape(2, 3)
    conv = cnn.conv(cnn.embedding(flat).transpose(1, 2)).masked_fill((flat == 0).unsqueeze(1), float("-inf"))
    expected = conv.max(dim=2).values
    expected = torch.where(torch.isinf(expected), torch.zeros_like(expected), expected).reshape(2, 3, 5)
    assert torch.allclose(cnn(flat, index), expected, atol=1e-6)
    assert cnn(flat, index)[0, 2].abs().sum() == 0
