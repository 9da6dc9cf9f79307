#!/usr/bin/env python3
"""Writes Keras HDF5 files for the importer's tests, with h5py only (no
Keras here), in the layouts Keras writes:

  make_models.py OUTDIR

  convs.h5       tf.keras 2.x functional model (inbound_nodes as lists),
                 fixed-length string attributes, weight names "kernel:0":
                 every convolution kind, pooling, merges, padding,
                 upsampling, BatchNorm, global pooling, four outputs
  misc.json + misc_weights.h5
                 Keras 2.0 JSON + weights-only file, two inputs, a shared
                 layer, ReLU / LeakyReLU / PReLU variants, Conv1D, Dense on
                 3-D, grouped and dilated Conv2D
  k3.h5          Keras 3 style (batch_shape, inbound_nodes with "args",
                 module / registered_name / build_config keys, weight names
                 without ":0"), channels_first layers
  seq.h5         tf.keras Sequential with an InputLayer, variable-length
                 string attributes and layer_names split into chunks
  x_*.npy        seeded inputs for each model
  err_*          broken files for errors.test
"""
import json
import os
import sys

import h5py
import numpy as np

out = sys.argv[1]
rng = np.random.RandomState(7)


def rand(*shape, scale=0.5):
    return (rng.randn(*shape) * scale).astype(np.float32)


class Model:
    """Collects layers and weights; writes Keras 2 or Keras 3 JSON."""

    def __init__(self, keras3=False):
        self.keras3 = keras3
        self.layers, self.weights, self.inputs = [], {}, []

    def input(self, name, shape):
        key = "batch_shape" if self.keras3 else "batch_input_shape"
        self.layers.append({"class_name": "InputLayer", "name": name,
                            "config": {key: [None] + list(shape), "dtype": "float32",
                                       "sparse": False, "name": name},
                            "inbound_nodes": []})
        self.inputs.append(name)
        return (name, 0)

    def __call__(self, cls, name, inbound, weights=(), **config):
        """inbound: a list of (layer, node); weights: (key, array) pairs"""
        for layer in self.layers:
            if layer["name"] == name:  # a shared layer: one more call
                layer["inbound_nodes"].append(self.node(inbound))
                return (name, len(layer["inbound_nodes"]) - 1)
        config = dict(config, name=name, trainable=True, dtype="float32")
        config.setdefault("kernel_initializer", {"class_name": "GlorotUniform", "config": {}})
        entry = {"class_name": cls, "name": name, "config": config,
                 "inbound_nodes": [self.node(inbound)]}
        if self.keras3:
            entry.update(module="keras.layers", registered_name=None,
                         build_config={"input_shape": None})
        self.layers.append(entry)
        self.weights[name] = list(weights)
        return (name, 0)

    def node(self, inbound):
        if not self.keras3:
            return [[n, i, 0, {}] for n, i in inbound]
        tensors = [{"class_name": "__keras_tensor__",
                    "config": {"shape": None, "dtype": "float32", "keras_history": [n, i, 0]}}
                   for n, i in inbound]
        return {"args": [tensors] if len(tensors) > 1 else tensors, "kwargs": {}}

    def config(self, outputs):
        return {"class_name": "Functional" if self.keras3 else "Model",
                "config": {"name": "model", "layers": self.layers,
                           "input_layers": [[n, 0, 0] for n in self.inputs],
                           "output_layers": [[n, i, 0] for n, i in outputs]}}


def write_weights(group, weights, vlen=False, suffix=":0", chunks=1):
    names = list(weights)
    strs = h5py.special_dtype(vlen=str) if vlen else None

    def strings(values):
        if not values:
            return np.array([], dtype=np.float64)
        if vlen:
            return np.array(values, dtype=strs)
        return np.array([v.encode() for v in values])
    if chunks == 1:
        group.attrs["layer_names"] = strings(names)
    else:  # Keras splits attributes above 64 KiB into NAME0, NAME1, ...
        for i, part in enumerate(np.array_split(np.array(names, dtype=object), chunks)):
            group.attrs[f"layer_names{i}"] = strings(list(part))
    for layer in names:
        g = group.create_group(layer)
        paths = [f"{layer}/{key}{suffix}" for key, _ in weights[layer]]
        g.attrs["weight_names"] = strings(paths)
        for path, (_, data) in zip(paths, weights[layer]):
            g.create_dataset(path, data=data)


def write_model(path, model, outputs, version, **kw):
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps(model.config(outputs))
        f.attrs["keras_version"] = version
        f.attrs["backend"] = "tensorflow"
        g = f.create_group("model_weights")
        g.attrs["keras_version"] = version
        write_weights(g, model.weights, **kw)


def conv_weights(kh, kw, cin, cout, bias=True):
    w = [("kernel", rand(kh, kw, cin, cout))]
    return w + [("bias", rand(cout))] if bias else w


# --- convs.h5 --------------------------------------------------------------
m = Model()
x = m.input("image", [10, 10, 3])
c1 = m("Conv2D", "conv_s2", [x], conv_weights(3, 3, 3, 4), filters=4, kernel_size=[3, 3],
       strides=[2, 2], padding="same", data_format="channels_last", dilation_rate=[1, 1],
       groups=1, activation="relu", use_bias=True, bias_initializer={"class_name": "Zeros"},
       kernel_regularizer=None, activity_regularizer=None, kernel_constraint=None)
d1 = m("DepthwiseConv2D", "dw", [c1], [("depthwise_kernel", rand(3, 3, 4, 2)), ("bias", rand(8))],
       kernel_size=[3, 3], strides=[1, 1], padding="same", depth_multiplier=2,
       data_format="channels_last", dilation_rate=[1, 1], activation="linear", use_bias=True)
s1 = m("SeparableConv2D", "sep", [c1],
       [("depthwise_kernel", rand(3, 3, 4, 1)), ("pointwise_kernel", rand(1, 1, 4, 6)),
        ("bias", rand(6))], filters=6, kernel_size=[3, 3], strides=[1, 1], padding="valid",
       depth_multiplier=1, data_format="channels_last", dilation_rate=[1, 1],
       activation="tanh", use_bias=True)
t1 = m("Conv2DTranspose", "deconv_same", [s1], [("kernel", rand(3, 3, 5, 6)), ("bias", rand(5))],
       filters=5, kernel_size=[3, 3], strides=[2, 2], padding="same", output_padding=None,
       data_format="channels_last", dilation_rate=[1, 1], activation="linear", use_bias=True)
t2 = m("Conv2DTranspose", "deconv_gap", [s1], [("kernel", rand(2, 2, 3, 6))], filters=3,
       kernel_size=[2, 2], strides=[3, 3], padding="valid", output_padding=None,
       data_format="channels_last", dilation_rate=[1, 1], activation="relu", use_bias=False)
t3 = m("Conv2DTranspose", "deconv_outpad", [s1], [("kernel", rand(3, 3, 2, 6)), ("bias", rand(2))],
       filters=2, kernel_size=[3, 3], strides=[2, 2], padding="same", output_padding=[1, 1],
       data_format="channels_last", dilation_rate=[1, 1], activation="linear", use_bias=True)
bn = m("BatchNormalization", "bn", [d1],
       [("gamma", rand(8) + 1), ("moving_mean", rand(8)), ("moving_variance", rand(8) ** 2 + 0.5)],
       axis=[3], momentum=0.99, epsilon=0.001, center=False, scale=True,
       beta_initializer={"class_name": "Zeros"}, renorm=False, fused=None)
p1 = m("MaxPooling2D", "maxpool_same", [bn], pool_size=[2, 2], strides=[2, 2], padding="same",
       data_format="channels_last")
p2 = m("AveragePooling2D", "avgpool_same", [d1], pool_size=[3, 3], strides=[1, 1],
       padding="same", data_format="channels_last")
add = m("Add", "add", [p2, bn])
mul = m("Multiply", "mul", [p2, d1])
cat = m("Concatenate", "cat", [add, mul], axis=-1)
z = m("ZeroPadding2D", "zpad", [cat], padding=[[1, 0], [2, 1]], data_format="channels_last")
u = m("UpSampling2D", "up", [z], size=[2, 1], data_format="channels_last",
      interpolation="nearest")
g1 = m("GlobalAveragePooling2D", "gap", [u], data_format="channels_last", keepdims=False)
g2 = m("GlobalMaxPooling2D", "gmp", [t1], data_format="channels_last")
p3 = m("MaxPooling2D", "maxpool_valid", [p1], pool_size=[2, 2], strides=None, padding="valid",
       data_format="channels_last")
f = m("Flatten", "flat", [t2], data_format="channels_last")
dn = m("Dense", "fc", [f], [("kernel", rand(243, 7, scale=0.1)), ("bias", rand(7))], units=7,
       activation="softmax", use_bias=True)
write_model(f"{out}/convs.h5", m, [g1, g2, dn, t3, p3], "2.4.0")
np.save(f"{out}/x_convs.npy", rand(2, 10, 10, 3, scale=1.0))

# --- misc.json + misc_weights.h5 -----------------------------------------
m = Model()
a = m.input("a", [6, 6, 4])
b = m.input("b", [6, 6, 4])
sub = m("Subtract", "sub", [a, b])
mx = m("Maximum", "max", [a, b])
mn = m("Minimum", "min", [a, b])
av = m("Average", "avg", [a, b, mx])
r6 = m("ReLU", "relu6", [sub], max_value=6.0, negative_slope=0.0, threshold=0.0)
rc = m("ReLU", "relu_capped_leaky", [av], max_value=0.5, negative_slope=0.1, threshold=0.0)
rl = m("ReLU", "relu_leaky", [mn], max_value=None, negative_slope=0.2, threshold=0.0)
rp = m("ReLU", "relu_plain", [mn])
rm = m("ReLU", "relu_max", [mx], max_value=1.5)
lr = m("LeakyReLU", "leaky", [mx], alpha=0.2)
pr1 = m("PReLU", "prelu_channel", [rc], [("alpha", rand(1, 1, 4))], shared_axes=[1, 2])
pr2 = m("PReLU", "prelu_full", [lr], [("alpha", rand(6, 6, 4))], shared_axes=None)
hs = m("Activation", "hsig", [pr2], activation="hard_sigmoid")
sg = m("Activation", "sig", [rm], activation="sigmoid")
sm = m("Softmax", "smax", [r6], axis=-1)
sh0 = m("Conv2D", "shared", [pr1], conv_weights(1, 1, 4, 3, bias=False), filters=3,
        kernel_size=[1, 1], strides=[1, 1], padding="valid", data_format="channels_last",
        dilation_rate=[1, 1], activation="linear", use_bias=False)
sh1 = m("Conv2D", "shared", [hs])
add2 = m("Add", "add_shared", [sh0, sh1])
rs = m("Reshape", "reshape", [add2], target_shape=[12, -1])
c1d = m("Conv1D", "conv1d_causal", [rs], [("kernel", rand(3, 9, 4)), ("bias", rand(4))],
        filters=4, kernel_size=[3], strides=[1], padding="causal", data_format="channels_last",
        dilation_rate=[2], activation="relu", use_bias=True)
c1d2 = m("Conv1D", "conv1d_same", [rs], [("kernel", rand(3, 9, 2))], filters=2, kernel_size=[3],
         strides=[2], padding="same", data_format="channels_last", dilation_rate=[1],
         activation="linear", use_bias=False)
d3 = m("Dense", "dense3d", [c1d], [("kernel", rand(4, 5)), ("bias", rand(5))], units=5,
       activation="sigmoid", use_bias=True)
dr = m("Dropout", "drop", [d3], rate=0.3, noise_shape=None, seed=None)
gc = m("Conv2D", "grouped", [rl], conv_weights(3, 3, 2, 4), filters=4, kernel_size=[3, 3],
       strides=[1, 1], padding="same", data_format="channels_last", dilation_rate=[1, 1],
       groups=2, activation="linear", use_bias=True)
dc = m("Conv2D", "dilated", [rp], conv_weights(3, 3, 4, 2), filters=2, kernel_size=3,
       strides=1, padding="same", data_format="channels_last", dilation_rate=2,
       activation="linear", use_bias=True)
cfg = m.config([dr, c1d2, sm, gc, dc, sg])
cfg["keras_version"] = "2.0.8"
cfg["backend"] = "tensorflow"
with open(f"{out}/misc.json", "w") as fh:
    json.dump(cfg, fh, indent=2)
with h5py.File(f"{out}/misc_weights.h5", "w") as fh:
    fh.attrs["keras_version"] = "2.0.8"
    write_weights(fh, m.weights)
np.save(f"{out}/x_misc_a.npy", rand(2, 6, 6, 4, scale=1.0))
np.save(f"{out}/x_misc_b.npy", rand(2, 6, 6, 4, scale=1.0))

# --- k3.h5: Keras 3 style, channels_first ----------------------------------
m = Model(keras3=True)
x = m.input("input_layer", [3, 8, 8])
c = m("Conv2D", "conv_cf", [x], conv_weights(3, 3, 3, 4), filters=4, kernel_size=[3, 3],
      strides=[1, 1], padding="same", data_format="channels_first", dilation_rate=[1, 1],
      groups=1, activation="relu6", use_bias=True)
bn = m("BatchNormalization", "bn_cf", [c],
       [("gamma", rand(4) + 1), ("beta", rand(4)), ("moving_mean", rand(4)),
        ("moving_variance", rand(4) ** 2 + 0.5)],
       axis=1, momentum=0.99, epsilon=0.01, center=True, scale=True, synchronized=False)
mp = m("MaxPooling2D", "pool_cf", [bn], pool_size=[2, 2], strides=[2, 2], padding="valid",
       data_format="channels_first")
up = m("UpSampling2D", "up_cf", [mp], size=[2, 2], data_format="channels_first",
       interpolation="nearest")
zp = m("ZeroPadding2D", "pad_cf", [up], padding=[[1, 1], [1, 1]], data_format="channels_first")
dw = m("DepthwiseConv2D", "dw_cf", [zp], [("depthwise_kernel", rand(3, 3, 4, 1)), ("bias", rand(4))],
       kernel_size=[3, 3], strides=[1, 1], padding="valid", depth_multiplier=1,
       data_format="channels_first", dilation_rate=[1, 1], activation="linear", use_bias=True)
gp = m("GlobalAveragePooling2D", "gap_cf", [dw], data_format="channels_first", keepdims=True)
fl = m("Flatten", "flat_cf", [dw], data_format="channels_first")
d = m("Dense", "fc", [fl], [("kernel", rand(256, 3, scale=0.1)), ("bias", rand(3))], units=3,
      activation="hard_sigmoid", use_bias=True)
lk = m("LeakyReLU", "leaky", [d], negative_slope=0.1)
write_model(f"{out}/k3.h5", m, [lk, gp], "3.3.3", suffix="")
np.save(f"{out}/x_k3.npy", rand(2, 3, 8, 8, scale=1.0))

# --- seq.h5: tf.keras Sequential with an InputLayer ------------------------
seq_layers = [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 5, 5, 2],
                                            "dtype": "float32", "sparse": False,
                                            "ragged": False, "name": "pixels"}},
    {"class_name": "Conv2D", "config": {"name": "conv", "trainable": True, "dtype": "float32",
                                        "filters": 3, "kernel_size": [2, 2], "strides": [1, 1],
                                        "padding": "valid", "data_format": "channels_last",
                                        "dilation_rate": [1, 1], "groups": 1,
                                        "activation": "relu", "use_bias": True}},
    {"class_name": "Flatten", "config": {"name": "flatten", "data_format": "channels_last"}},
    {"class_name": "Dense", "config": {"name": "logits", "units": 4, "activation": "linear",
                                       "use_bias": True}},
]
seq_weights = {"conv": conv_weights(2, 2, 2, 3), "flatten": [],
               "logits": [("kernel", rand(48, 4)), ("bias", rand(4))]}


def write_seq(path, layers=seq_layers, weights=seq_weights, config=None, **kw):
    with h5py.File(path, "w") as fh:
        fh.attrs["model_config"] = config if config is not None else json.dumps(
            {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}})
        fh.attrs["keras_version"] = "2.13.1"
        g = fh.create_group("model_weights")
        write_weights(g, weights, **kw)


write_seq(f"{out}/seq.h5", vlen=True, chunks=2)
np.save(f"{out}/x_seq.npy", rand(3, 5, 5, 2, scale=1.0))

# --- broken files for errors.test -----------------------------------------
with open(f"{out}/seq.h5", "rb") as fh:
    data = fh.read()
with open(f"{out}/err_truncated.h5", "wb") as fh:
    fh.write(data[:len(data) // 2])
with open(f"{out}/err_garbage.h5", "wb") as fh:
    fh.write(bytes(range(256)) * 4)
with open(f"{out}/err_zip.keras", "wb") as fh:
    fh.write(b"PK\x03\x04" + bytes(60))
write_seq(f"{out}/err_missing_weight.h5")
with h5py.File(f"{out}/err_missing_weight.h5", "a") as fh:
    del fh["model_weights/logits/logits/bias:0"]
write_seq(f"{out}/err_no_layer_group.h5")
with h5py.File(f"{out}/err_no_layer_group.h5", "a") as fh:
    del fh["model_weights/conv"]
with h5py.File(f"{out}/err_weights_only.h5", "w") as fh:
    write_weights(fh, seq_weights)


def variant(name, index, cls=None, **changes):
    layers = json.loads(json.dumps(seq_layers))
    if cls:
        layers[index]["class_name"] = cls
    layers[index]["config"].update(changes)
    write_seq(f"{out}/{name}", layers)


variant("err_unknown_class.h5", 2, cls="MyCustomFlatten")
variant("err_lambda.h5", 2, cls="Lambda", function=["...", None, None])
variant("err_unknown_field.h5", 3, lora_rank=4)
variant("err_activation.h5", 3, activation="swish")
variant("err_kernel_shape.h5", 1, filters=5)
variant("err_use_bias.h5", 3, use_bias=False)
variant("err_padding.h5", 1, padding="full")
variant("err_no_shape.h5", 0, batch_input_shape=[None, None, 5, 2])
write_seq(f"{out}/err_bad_json.h5", config='{"class_name": "Sequential", "config": {"layers": [')
write_seq(f"{out}/err_not_model.h5", config='{"class_name": "Dense", "config": {}}')
with open(f"{out}/err_syntax.json", "w") as fh:
    fh.write('{"class_name": "Sequential",\n "config": [}\n')
nested = {"class_name": "Model", "config": {
    "name": "outer", "input_layers": [["in", 0, 0]], "output_layers": [["inner", 0, 0]],
    "layers": [
        {"class_name": "InputLayer", "name": "in",
         "config": {"batch_input_shape": [None, 4], "name": "in"}, "inbound_nodes": []},
        {"class_name": "Sequential", "name": "inner",
         "config": {"name": "inner", "layers": []}, "inbound_nodes": [[["in", 0, 0, {}]]]}]}}
write_seq(f"{out}/err_nested.h5", config=json.dumps(nested), weights={})
layers = json.loads(json.dumps(seq_layers))
layers.insert(2, {"class_name": "ReLU", "config": {"name": "thr", "threshold": 1.0}})
write_seq(f"{out}/err_threshold.h5", layers)
layers = json.loads(json.dumps(seq_layers))
layers.insert(2, {"class_name": "UpSampling2D", "config": {"name": "up", "size": [2, 2],
                                                           "interpolation": "bilinear"}})
write_seq(f"{out}/err_bilinear.h5", layers)
