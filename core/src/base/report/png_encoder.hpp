// A minimal PNG writer (8-bit RGB, no compression: "stored" deflate blocks) and base64, for
// rasters embedded in the HTML report as data: URIs. No zlib needed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace headscope::report {

// rgb: width * height * 3 bytes, row 0 at the top. Throws UsageError on a size mismatch.
std::string encode_png_rgb(int width, int height, const std::vector<uint8_t>& rgb);
std::string base64_encode(const std::string& bytes);

}  // namespace headscope::report
