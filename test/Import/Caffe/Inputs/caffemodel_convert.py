#!/usr/bin/env python3
"""Rewrites the weights of a binary .caffemodel in other formats Caffe uses.

  caffemodel_convert.py --pb-dir D to-hdf5 IN.caffemodel OUT.caffemodel.h5
      Caffe's HDF5 snapshot layout: /data/<layer>/<i> float32 datasets
  caffemodel_convert.py --pb-dir D to-v1 IN.caffemodel OUT.caffemodel
      V1 `layers` entries with legacy 4-D num/channels/height/width blobs
      (pre-2015 caffemodels)
"""
import sys

import numpy as np

sys.path.insert(0, sys.argv[2])
import caffe_pb2 as pb  # noqa: E402

cmd, src, dst = sys.argv[3:6]
net = pb.NetParameter()
with open(src, "rb") as f:
    net.ParseFromString(f.read())

if cmd == "to-hdf5":
    import h5py
    with h5py.File(dst, "w") as h5:
        data = h5.create_group("data")
        for layer in net.layer:
            if len(layer.blobs):
                group = data.create_group(layer.name)
                for i, b in enumerate(layer.blobs):
                    arr = np.array(b.data, np.float32).reshape(list(b.shape.dim))
                    group.create_dataset(str(i), data=arr)
elif cmd == "to-v1":
    v1_types = {"Convolution": pb.V1LayerParameter.CONVOLUTION,
                "Deconvolution": pb.V1LayerParameter.DECONVOLUTION,
                "InnerProduct": pb.V1LayerParameter.INNER_PRODUCT}
    out = pb.NetParameter()
    for layer in net.layer:
        if layer.type in v1_types:
            l = out.layers.add()
            l.name, l.type = layer.name, v1_types[layer.type]
            for b in layer.blobs:
                dims = [1] * (4 - len(b.shape.dim)) + list(b.shape.dim)
                nb = l.blobs.add()
                nb.num, nb.channels, nb.height, nb.width = dims
                nb.data.extend(b.data)
    with open(dst, "wb") as f:
        f.write(out.SerializeToString())
else:
    sys.exit("caffemodel_convert.py: unknown command " + cmd)
