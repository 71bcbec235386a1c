"""One timed run of the Python side of bench/vectorize.ts: Keras' text pipeline for the
newer TensorFlow tutorial, restated in plain Python and numpy (TensorFlow is not needed):

- keras/src/utils/dataset_utils.py `index_directory`: class folders sorted, each walked
  sorted, '.txt' files; train shuffled by np.random.RandomState(42) (paths and labels);
- tf.io.read_file: the bytes of each file;
- the tutorial's custom_standardization on bytes: tf.strings.lower (ASCII, = bytes.lower),
  '<br />' -> ' ', Keras' punctuation pattern removed;
- tf.strings.split(): bytes.split() (runs of ASCII whitespace);
- index_lookup.py `finalize_state`: counts, np.lexsort((tokens, counts))[::-1], the first
  10000 - 2 tokens after '' and '[UNK]';
- TextVectorization.call: ids ('[UNK]' = 1), cut and padded with 0 to 250.

Usage: python3 bench/vectorize_keras.py EXTRACTED_aclImdb
Prints JSON: seconds per phase, CPU seconds, peak RSS, sha256 of the vocabulary and the ids.
"""
import hashlib
import json
import os
import re
import resource
import sys
import time
from collections import Counter

import numpy as np

PUNCTUATION = re.compile(rb'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
MAX_TOKENS = 10000
LENGTH = 250


def index_directory(directory, shuffle, seed):
    classes = [d for d in sorted(os.listdir(directory)) if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
    paths, labels = [], []
    for label, cls in enumerate(classes):
        for root, _, files in sorted(os.walk(os.path.join(directory, cls)), key=lambda x: x[0]):
            for name in sorted(files):
                if name.lower().endswith(".txt"):
                    paths.append(os.path.join(root, name))
                    labels.append(label)
    labels = np.array(labels, dtype="int32")
    if shuffle:
        np.random.RandomState(seed).shuffle(paths)
        np.random.RandomState(seed).shuffle(labels)
    return paths, labels


def read(paths):
    out = []
    for p in paths:
        with open(p, "rb") as f:
            out.append(f.read())
    return out


def standardize(b):
    return PUNCTUATION.sub(b"", b.lower().replace(b"<br />", b" "))


def main():
    root = sys.argv[1]
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    train_paths, _ = index_directory(os.path.join(root, "train"), True, 42)
    test_paths, _ = index_directory(os.path.join(root, "test"), False, None)
    train = read(train_paths)
    test = read(test_paths)
    t1 = time.perf_counter()
    counts = Counter()
    for text in train:
        counts.update(standardize(text).split())
    counts.pop(b"", None)
    counts.pop(b"[UNK]", None)
    tokens = np.array(list(counts.keys()), dtype=object)
    freq = np.array(list(counts.values()), dtype=np.int64)
    order = np.lexsort((tokens, freq))[::-1][: MAX_TOKENS - 2]
    vocabulary = [b"", b"[UNK]"] + [tokens[i] for i in order]
    t2 = time.perf_counter()
    index = {t: i for i, t in enumerate(vocabulary)}
    ids = np.zeros((len(train) + len(test), LENGTH), dtype=np.int32)
    for row, text in enumerate(train + test):
        seq = [index.get(t, 1) for t in standardize(text).split()[:LENGTH]]
        ids[row, : len(seq)] = seq
    t3 = time.perf_counter()
    print(json.dumps(dict(
        seconds=t3 - t0, loadSeconds=t1 - t0, adaptSeconds=t2 - t1, vectorizeSeconds=t3 - t2,
        cpuSeconds=time.process_time() - cpu0,
        peakRssMB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        vocabularySha256=hashlib.sha256(b"\n".join(vocabulary)).hexdigest(),
        idsSha256=hashlib.sha256(ids.astype("<i4").tobytes()).hexdigest(),
        numpy=np.__version__, python=sys.version.split()[0],
    )))


if __name__ == "__main__":
    main()
