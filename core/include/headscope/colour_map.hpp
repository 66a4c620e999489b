// Colours for values, once for the reports and the GUI: a sequential map (viridis) for
// magnitudes and a diverging map (blue - white - red, centred on 0) for signed values, per Result
// item's Scale; one grey for NaN; categorical colours for series. Qt-free and torch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "headscope/sdk/result.hpp"

namespace headscope {

struct Rgb {
    uint8_t r = 0, g = 0, b = 0;
    bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
};

std::string css(Rgb c);  // "#rrggbb"
Rgb mix(Rgb a, Rgb b, double t);  // (1-t)*a + t*b
// Black or white, whichever reads better on `background`.
Rgb text_colour_on(Rgb background);

// The value range a colour map spans.
struct ValueRange {
    double lo = 0, hi = 1;
    bool any_finite = false;
};
// Sequential: [min(0, min), max(0, max)]; diverging: [-m, m] with m = max |v|. Non-finite
// values are ignored; a degenerate range is widened so colours stay defined.
ValueRange value_range(const std::vector<double>& values, Scale scale);

// The map's colour at t in [0, 1] (clamped); NaN -> nan_colour().
Rgb colour_at(double t, Scale scale);
// The colour of v within `range` (non-finite -> nan_colour()).
Rgb colour_of(double v, const ValueRange& range, Scale scale);
Rgb nan_colour();  // light grey, #d0d0d0

// Distinct colours for series and edge kinds.
Rgb categorical(size_t i);

}  // namespace headscope
