"""A CPU yardstick: shadergrad's recipes in PyTorch with Keras' semantics, for bench/peer.ts.

Run with Debian's Python and PyTorch (optional, not installed by scripts/setup.sh:
`apt-get install -y python3-torch`):
    /usr/bin/python3 bench/peer_torch.py --data ../shared/data/imdb.npz --recipe tutorial
Prints one JSON line: seconds per phase, per-epoch seconds, the history and the test loss/accuracy.

Keras' semantics, copied rather than PyTorch's defaults:
- data: keras.datasets.imdb.load_data's steps on numpy (scripts/keras_imdb.py), pad_sequences;
  n-grams as Keras' examples/imdb_fasttext.py (test/fixtures/ngrams/keras_fasttext.py);
- initialisers: Embedding uniform(-0.05, 0.05) (keras/src/layers/core/embedding.py), Dense kernels
  Glorot uniform, biases zero (keras/src/layers/core/dense.py);
- GlobalAveragePooling1D without a mask: the mean over every padded position, padding included
  (so not EmbeddingBag over the unpadded tokens);
- Dense(1, sigmoid) + binary_crossentropy computed as BCE from the logit;
- Adam as keras/src/optimizers/adam.py updates: m, v, then
  w -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + epsilon), epsilon 1e-7 (PyTorch's
  Adam adds epsilon to the bias-corrected sqrt(v) instead); dense, every row every step, as Keras;
  `--lazy-embedding` instead updates only the rows a batch touched (PyTorch's SparseAdam, as
  TensorFlow's LazyAdam), for the bigram table;
- fit: shuffled every epoch, the last batch smaller; the tutorial validates on its first 10,000
  training reviews every epoch; evaluate on the test set at the end.
"""
import argparse, json, math, os, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
sys.path.insert(0, os.path.join(HERE, "..", "test", "fixtures", "ngrams"))
import numpy as np  # noqa: E402
import torch  # noqa: E402
from keras_imdb import load_data, pad_sequences  # noqa: E402
from keras_fasttext import add_ngram, ngram_index  # noqa: E402

RECIPES = {
    "tutorial": dict(num_words=10000, ngram_range=1, maxlen=256, padding="post", validation=10000,
                     dim=16, hidden=16, epochs=40, batch_size=512),
    "fasttext-unigram": dict(num_words=20000, ngram_range=1, maxlen=400, padding="pre", validation=0,
                             dim=50, hidden=0, epochs=5, batch_size=32),
    "fasttext-bigram": dict(num_words=20000, ngram_range=2, maxlen=400, padding="pre", validation=0,
                            dim=50, hidden=0, epochs=5, batch_size=32),
}


def glorot_uniform(fan_in, fan_out, generator):
    limit = math.sqrt(6 / (fan_in + fan_out))
    # torch.nn.Linear keeps its weight as [out, in]: the transpose of Keras' kernel.
    return (torch.rand(fan_out, fan_in, generator=generator) * 2 - 1) * limit


class Model(torch.nn.Module):
    def __init__(self, rows, dim, hidden, generator, sparse):
        super().__init__()
        self.embedding = torch.nn.Embedding(rows, dim, sparse=sparse)
        with torch.no_grad():
            self.embedding.weight.copy_(torch.rand(rows, dim, generator=generator) * 0.1 - 0.05)
        widths = [dim] + ([hidden] if hidden else []) + [1]
        self.dense = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
        with torch.no_grad():
            for layer in self.dense:
                layer.weight.copy_(glorot_uniform(layer.in_features, layer.out_features, generator))
                layer.bias.zero_()

    def forward(self, ids):
        x = self.embedding(ids).mean(dim=1)  # GlobalAveragePooling1D: padding counts
        for layer in self.dense[:-1]:
            x = torch.relu(layer(x))
        return self.dense[-1](x).squeeze(1)  # the logit; sigmoid lives in the loss


class KerasAdam:
    """keras/src/optimizers/adam.py's update (dense: every element's moments decay every step)."""

    def __init__(self, params, lr=0.001, beta1=0.9, beta2=0.999, epsilon=1e-7):
        self.params = [p for p in params]
        self.lr, self.beta1, self.beta2, self.epsilon = lr, beta1, beta2, epsilon
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    @torch.no_grad()
    def step(self):
        self.t += 1
        alpha = self.lr * math.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad
            m.mul_(self.beta1).add_(g, alpha=1 - self.beta1)
            v.mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
            p.addcdiv_(m, v.sqrt().add_(self.epsilon), value=-alpha)

    def zero_grad(self):
        for p in self.params:
            p.grad = None


def prepare(recipe, path, limit):
    r = RECIPES[recipe]
    (x_train, y_train), (x_test, y_test) = load_data(path, num_words=r["num_words"])
    if limit:
        x_train, y_train, x_test, y_test = x_train[:limit], y_train[:limit], x_test[:limit], y_test[:limit]
    loaded = time.perf_counter()
    rows = r["num_words"]
    if r["ngram_range"] > 1:
        index = ngram_index(x_train, r["num_words"], r["ngram_range"])
        x_train = add_ngram(x_train, index, r["ngram_range"])
        x_test = add_ngram(x_test, index, r["ngram_range"])
        rows = r["num_words"] + 1 + len(index)
    pad = dict(maxlen=r["maxlen"], padding=r["padding"])
    train = torch.from_numpy(pad_sequences(x_train, **pad).astype(np.int64))
    test = torch.from_numpy(pad_sequences(x_test, **pad).astype(np.int64))
    y_train = torch.from_numpy(np.asarray(y_train, dtype=np.float32))
    y_test = torch.from_numpy(np.asarray(y_test, dtype=np.float32))
    n = r["validation"]
    val = (train[:n], y_train[:n]) if n else None
    return loaded, rows, (train[n:], y_train[n:]), val, (test, y_test)


@torch.no_grad()
def evaluate(model, x, y, batch_size):
    loss_sum, correct = 0.0, 0
    for i in range(0, len(x), batch_size):
        logits = model(x[i:i + batch_size])
        target = y[i:i + batch_size]
        loss_sum += torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="sum").item()
        correct += int(((logits > 0).float() == target).sum())
    return loss_sum / len(x), correct / len(x)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="tutorial")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--limit", type=int, help="keep the first N training and test reviews")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda for a GPU side by side (the data and model move there once)")
    parser.add_argument("--lazy-embedding", action="store_true",
                        help="row-sparse Adam (SparseAdam) on the embedding, Keras' Adam on the rest")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    r = RECIPES[args.recipe]
    epochs = args.epochs or r["epochs"]

    started = time.perf_counter()
    loaded, rows, (x, y), val, (x_test, y_test) = prepare(args.recipe, args.data, args.limit)
    device = torch.device(args.device)
    x, y, x_test, y_test = (t.to(device) for t in (x, y, x_test, y_test))
    if val is not None:
        val = tuple(t.to(device) for t in val)
    prepared = time.perf_counter()

    generator = torch.Generator().manual_seed(args.seed)
    # Drawn on the CPU (the same weights for every device), then moved.
    model = Model(rows, r["dim"], r["hidden"], generator, sparse=args.lazy_embedding).to(device)
    if args.lazy_embedding:
        # SparseAdam adds epsilon to the bias-corrected sqrt(v), as PyTorch's Adam does.
        lazy = torch.optim.SparseAdam([model.embedding.weight], lr=0.001, betas=(0.9, 0.999), eps=1e-7)
        optimizers = [lazy, KerasAdam(model.dense.parameters())]
    else:
        optimizers = [KerasAdam(model.parameters())]
    shuffle = np.random.RandomState(args.seed)
    history = {"loss": [], "accuracy": []}
    if val is not None:
        history.update(val_loss=[], val_accuracy=[])
    epoch_seconds = []
    for _ in range(epochs):
        epoch_start = time.perf_counter()
        order = torch.from_numpy(shuffle.permutation(len(x))).to(device)
        loss_sum, correct = 0.0, 0
        for i in range(0, len(x), r["batch_size"]):
            batch = order[i:i + r["batch_size"]]
            logits = model(x[batch])
            target = y[batch]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
            for opt in optimizers:
                opt.zero_grad()
            loss.backward()
            for opt in optimizers:
                opt.step()
            loss_sum += loss.item() * len(batch)
            correct += int(((logits.detach() > 0).float() == target).sum())
        history["loss"].append(loss_sum / len(x))
        history["accuracy"].append(correct / len(x))
        if val is not None:
            val_loss, val_accuracy = evaluate(model, val[0], val[1], r["batch_size"])
            history["val_loss"].append(val_loss)
            history["val_accuracy"].append(val_accuracy)
        epoch_seconds.append(time.perf_counter() - epoch_start)
    trained = time.perf_counter()
    test_loss, test_accuracy = evaluate(model, x_test, y_test, r["batch_size"])
    done = time.perf_counter()
    print(json.dumps(dict(
        recipe=args.recipe, epochs=epochs, batchSize=r["batch_size"], embeddingRows=rows, threads=torch.get_num_threads(),
        device=torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        adam="lazy embedding (SparseAdam) + Keras Adam" if args.lazy_embedding else "Keras Adam, dense",
        torch=torch.__version__, python=sys.version.split()[0],
        seconds=dict(load=loaded - started, prepare=prepared - loaded, train=trained - prepared,
                     evaluate=done - trained, total=done - started),
        epochSeconds=epoch_seconds, history=history, test=dict(loss=test_loss, accuracy=test_accuracy),
    )))


if __name__ == "__main__":
    main()
