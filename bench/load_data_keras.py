"""One timed run of the Python path that bench/load-data.ts compares against:
np.load plus Keras' load_data steps (scripts/keras_imdb.py) and pad_sequences
to 256 ('post', as the tutorial pads). Prints JSON: seconds and peak RSS.
"""
import json, os, resource, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import numpy as np  # noqa: E402
from keras_imdb import load_data, pad_sequences  # noqa: E402

path = sys.argv[1]
start = time.perf_counter()
(x_train, y_train), (x_test, y_test) = load_data(path, num_words=10000)
train = pad_sequences(x_train, maxlen=256, padding="post")
test = pad_sequences(x_test, maxlen=256, padding="post")
seconds = time.perf_counter() - start
assert train.shape == (25000, 256) and test.shape == (25000, 256)
print(json.dumps(dict(seconds=seconds, peakRssMB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      numpy=np.__version__, python=sys.version.split()[0])))
