#!/usr/bin/env python3
"""Write an HDF5 file with h5py (no headscope code) for the ActivationStoreReader tests.

Usage: h5_make.py FILE

Contents (the C++ test checks exactly these):
  /f32            float32 [2, 3]   = arange(6) * 0.5
  /be_f32         big-endian float32 [3] = [1.5, -2.25, 1e30]
  /f64            float64 [3]      = [1, 2, 3]          (unsupported element type)
  /i32            int32 [4]        = [1, -2, 3, -4]     (unsupported element type)
  /scalar         float32 scalar   = 2.5
  /empty          float32 [0, 3]
  /group/nested.name  int64 [2, 2] = [[1, -2], [3, 2**40]]
  /link_to_f32    soft link to /f32 (not listed twice)
  attributes of "/":
    prompt        variable-length UTF-8 str  "Café — naïve"
    ascii_vlen    variable-length ASCII      "plain"
    fixed         fixed-length bytes (NULL-padded, 8 bytes) "fixed"
    i32           int32 -7
    u8            uint8 200
    f32           float32 0.25
    f64           float64 1/3
    one_element   int64 array [42]
  attributes of /odd (a group): flag = True (enum), many = [1, 2, 3]
  attributes of /group/nested.name: note = "dots are fine"
"""
import sys

import h5py
import numpy as np


def main():
    with h5py.File(sys.argv[1], "w") as f:
        f["f32"] = np.arange(6, dtype=np.float32).reshape(2, 3) * np.float32(0.5)
        f["be_f32"] = np.array([1.5, -2.25, 1e30], dtype=">f4")
        f["f64"] = np.array([1, 2, 3], dtype=np.float64)
        f["i32"] = np.array([1, -2, 3, -4], dtype=np.int32)
        f["scalar"] = np.float32(2.5)
        f.create_dataset("empty", shape=(0, 3), dtype=np.float32)
        f["group/nested.name"] = np.array([[1, -2], [3, 2**40]], dtype=np.int64)
        f["link_to_f32"] = h5py.SoftLink("/f32")
        f["group/nested.name"].attrs["note"] = "dots are fine"

        f.attrs["prompt"] = "Café — naïve"
        f.attrs.create("ascii_vlen", "plain", dtype=h5py.string_dtype("ascii"))
        f.attrs.create("fixed", np.bytes_("fixed"), dtype="S8")
        f.attrs["i32"] = np.int32(-7)
        f.attrs["u8"] = np.uint8(200)
        f.attrs["f32"] = np.float32(0.25)
        f.attrs["f64"] = 1.0 / 3.0
        f.attrs["one_element"] = np.array([42], dtype=np.int64)

        odd = f.create_group("odd")
        odd.attrs["flag"] = True
        odd.attrs["many"] = np.array([1, 2, 3], dtype=np.int64)


if __name__ == "__main__":
    main()
