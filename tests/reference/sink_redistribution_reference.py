#!/usr/bin/env python3
"""Independent reference for the drop_sink pattern edit (core/src/torch/interventions/
sink_redistribution.cpp), written from its definition with plain loops in numpy float64.

usage: sink_redistribution_reference.py INPUT_JSON
  INPUT_JSON: {"pattern": [B][H][T][T], "alpha": a, "heads": [h...] (empty = all), "sinks": [k...]}
  -> {"pattern": [B][H][T][T]}: for every edited head and query q, with S the sinks k <= q and
     s = sum_{k in S} P[q, k]: sink keys keep (1 - a) of their attention and the visible other
     keys share a*s in proportion to their attention (evenly if they hold none); a query that
     sees no other key is unchanged.
"""
import json
import sys

import numpy as np


def main():
    spec = json.load(open(sys.argv[1]))
    P = np.array(spec["pattern"], dtype=np.float64)
    a = float(spec["alpha"])
    B, H, T, _ = P.shape
    heads = spec["heads"] or list(range(H))
    sinks = sorted({k % T for k in spec["sinks"]})
    out = P.copy()
    for b in range(B):
        for h in heads:
            for q in range(T):
                visible = list(range(q + 1))
                sink = [k for k in visible if k in sinks]
                other = [k for k in visible if k not in sinks]
                if not other:
                    continue
                s = sum(P[b, h, q, k] for k in sink)
                rest = sum(P[b, h, q, k] for k in other)
                for k in sink:
                    out[b, h, q, k] = (1 - a) * P[b, h, q, k]
                for k in other:
                    share = P[b, h, q, k] / rest if rest > 0 else 1.0 / len(other)
                    out[b, h, q, k] = P[b, h, q, k] + a * s * share
    json.dump({"pattern": out.tolist()}, sys.stdout)


if __name__ == "__main__":
    main()
