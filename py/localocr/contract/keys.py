"""The model I/O contract, written down once (see ../shared/ARCHITECTURE.md).

The export scripts in export/ write these keys into each ONNX file's
metadata_props; the pipeline reads them back and refuses a model that does not
match. Values are strings; lists (mean, std) are JSON.

Pixel normalisation, both models: x = (pixel / 255 - mean) / std, per channel.
"""

PREFIX = "localocr."

KIND = PREFIX + "kind"  # "detector" | "recognizer"
VERSION = PREFIX + "version"  # model version string, e.g. "1.0.0"
MEAN = PREFIX + "mean"  # JSON list, one value per input channel, 0..1 scale
STD = PREFIX + "std"  # JSON list, one value per input channel
DOWNSAMPLE = PREFIX + "downsample"  # int: input size / output size (detector: H/H'; recognizer: W/T)

# detector only
GRANULARITY = PREFIX + "granularity"  # "word" | "line"
THRESHOLD = PREFIX + "threshold"  # float: probability threshold the model was trained for
BOX_THRESHOLD = PREFIX + "box_threshold"  # float: minimum mean probability inside a box
UNCLIP_RATIO = PREFIX + "unclip_ratio"  # float: DB expansion ratio (area * r / perimeter)
SHRINK_RATIO = PREFIX + "shrink_ratio"  # float: DB shrink ratio used for the training targets

# recognizer only
ALPHABET = PREFIX + "alphabet"  # the exact string; class i+1 is alphabet[i], class 0 is blank
HEIGHT = PREFIX + "height"  # int: input height in pixels
BLANK = PREFIX + "blank"  # int: always "0"
SPACE_BIAS = PREFIX + "space_bias"  # float, optional (0 when absent): added to the space class
# log-probability before greedy decoding; chosen on training pages
CHANNELS = PREFIX + "channels"  # int, optional (1 when absent): input channels; only 1 (grey)
# is accepted: a model on colour features repeats it inside
ROLE = PREFIX + "role"  # "fast" (default) | "accurate": the tier (see recognition.py)
REREAD_BELOW = PREFIX + "reread_below"  # float, accurate tier only: lines the fast tier read with a
# lower confidence are read again by this model ...
REREAD_MAX = PREFIX + "reread_max"  # int, optional (0: no limit): ... at most this many a page,
# the least confident first (documents have many lines)
PRETRAINED = PREFIX + "pretrained"  # JSON, optional: provenance of pretrained weights inside
# (package, version, file, sha256, licence, attribution)

DETECTOR_INPUT, DETECTOR_OUTPUT = "image", "prob"
RECOGNIZER_INPUT, RECOGNIZER_OUTPUT = "image", "logits"
