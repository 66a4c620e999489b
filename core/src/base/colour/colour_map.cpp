#include "headscope/colour_map.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace headscope {

namespace {
// matplotlib's viridis at 10 evenly spaced stops.
constexpr Rgb kViridis[] = {{0x44, 0x01, 0x54}, {0x48, 0x28, 0x78}, {0x3e, 0x4a, 0x89}, {0x31, 0x68, 0x8e},
                            {0x26, 0x82, 0x8e}, {0x1f, 0x9e, 0x89}, {0x35, 0xb7, 0x79}, {0x6e, 0xce, 0x58},
                            {0xb5, 0xde, 0x2b}, {0xfd, 0xe7, 0x25}};
// ColorBrewer RdBu, reversed (blue = negative, red = positive), 9 stops.
constexpr Rgb kDiverging[] = {{0x21, 0x66, 0xac}, {0x43, 0x93, 0xc3}, {0x92, 0xc5, 0xde},
                              {0xd1, 0xe5, 0xf0}, {0xf7, 0xf7, 0xf7}, {0xfd, 0xdb, 0xc7},
                              {0xf4, 0xa5, 0x82}, {0xd6, 0x60, 0x4d}, {0xb2, 0x18, 0x2b}};
// Tableau 10.
constexpr Rgb kCategorical[] = {{0x4e, 0x79, 0xa7}, {0xf2, 0x8e, 0x2b}, {0xe1, 0x57, 0x59}, {0x76, 0xb7, 0xb2},
                                {0x59, 0xa1, 0x4f}, {0xed, 0xc9, 0x48}, {0xb0, 0x7a, 0xa1}, {0xff, 0x9d, 0xa7},
                                {0x9c, 0x75, 0x5f}, {0xba, 0xb0, 0xac}};

template <size_t N>
Rgb sample(const Rgb (&stops)[N], double t) {
    t = std::clamp(t, 0.0, 1.0) * static_cast<double>(N - 1);
    size_t i = std::min(static_cast<size_t>(t), N - 2);
    return mix(stops[i], stops[i + 1], t - static_cast<double>(i));
}
}  // namespace

std::string css(Rgb c) { return fmt::format("#{:02x}{:02x}{:02x}", c.r, c.g, c.b); }

Rgb mix(Rgb a, Rgb b, double t) {
    auto ch = [t](uint8_t x, uint8_t y) {
        return static_cast<uint8_t>(std::lround(std::clamp((1 - t) * x + t * y, 0.0, 255.0)));
    };
    return {ch(a.r, b.r), ch(a.g, b.g), ch(a.b, b.b)};
}

Rgb text_colour_on(Rgb bg) {
    // Relative luminance (sRGB, approximated without the gamma curve).
    const double lum = 0.2126 * bg.r + 0.7152 * bg.g + 0.0722 * bg.b;
    return lum > 140 ? Rgb{0x11, 0x11, 0x11} : Rgb{0xff, 0xff, 0xff};
}

ValueRange value_range(const std::vector<double>& values, Scale scale) {
    ValueRange r;
    double lo = 0, hi = 0, mag = 0;
    for (double v : values) {
        if (!std::isfinite(v)) continue;
        r.any_finite = true;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        mag = std::max(mag, std::fabs(v));
    }
    if (scale == Scale::diverging) {
        if (mag == 0) mag = 1;
        r.lo = -mag;
        r.hi = mag;
    } else {
        if (hi == lo) hi = lo + 1;
        r.lo = lo;
        r.hi = hi;
    }
    return r;
}

Rgb nan_colour() { return {0xd0, 0xd0, 0xd0}; }

Rgb colour_at(double t, Scale scale) {
    if (std::isnan(t)) return nan_colour();
    return scale == Scale::diverging ? sample(kDiverging, t) : sample(kViridis, t);
}

Rgb colour_of(double v, const ValueRange& range, Scale scale) {
    if (!std::isfinite(v)) return nan_colour();
    return colour_at((v - range.lo) / (range.hi - range.lo), scale);
}

Rgb categorical(size_t i) { return kCategorical[i % (sizeof kCategorical / sizeof kCategorical[0])]; }

}  // namespace headscope
