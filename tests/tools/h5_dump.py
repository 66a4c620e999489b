#!/usr/bin/env python3
"""Dump an HDF5 file with h5py as JSON, independently of headscope's own reader.

Usage: h5_dump.py FILE [--max-values N]

Prints {"objects": {path: {...}}} where every group and dataset (including "/") has
"kind" and "attrs"; datasets also have "shape", "dtype" (numpy str, e.g. "<f4"),
"chunks", "compression", "compression_opts", "shuffle", "sum" (float64) and, when they
hold at most N values (default 100000), "values" (flattened, C order).
Attributes are {"type": python type name, "value": ..., "string": {"encoding", "vlen"} | null}.
"""
import argparse
import json
import sys

import h5py
import numpy as np


def attr_json(obj, name):
    value = obj.attrs[name]
    dtype = obj.attrs.get_id(name).dtype
    info = h5py.check_string_dtype(dtype)
    string = None if info is None else {"encoding": info.encoding, "vlen": info.length is None}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return {"type": type(obj.attrs[name]).__name__, "value": value, "string": string}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--max-values", type=int, default=100000)
    args = parser.parse_args()

    objects = {}
    with h5py.File(args.file, "r") as f:
        def describe(name, obj):
            path = "/" + name if name else "/"
            entry = {"attrs": {k: attr_json(obj, k) for k in obj.attrs.keys()}}
            if isinstance(obj, h5py.Dataset):
                data = obj[()]
                arr = np.asarray(data)
                entry.update(
                    kind="dataset",
                    shape=list(obj.shape) if obj.shape is not None else None,
                    dtype=obj.dtype.str,
                    chunks=list(obj.chunks) if obj.chunks else None,
                    compression=obj.compression,
                    compression_opts=obj.compression_opts,
                    shuffle=bool(obj.shuffle),
                    sum=float(arr.astype(np.float64).sum()),
                )
                if arr.size <= args.max_values:
                    entry["values"] = arr.reshape(-1).tolist()
            else:
                entry["kind"] = "group"
            objects[path] = entry

        describe("", f)
        f.visititems(describe)
    json.dump({"objects": objects}, sys.stdout)


if __name__ == "__main__":
    main()
