#include "report/table_layout.hpp"

#include <numeric>

namespace headscope::report {

std::vector<double> fit_column_widths(const std::vector<double>& natural, double available) {
    const double total = std::accumulate(natural.begin(), natural.end(), 0.0);
    if (total <= available || natural.empty()) return natural;
    std::vector<bool> kept(natural.size(), false);
    double room = available, shrinking = total;
    size_t left = natural.size();
    for (bool changed = true; changed && left > 0;) {
        changed = false;
        const double share = room / static_cast<double>(left);
        for (size_t i = 0; i < natural.size(); ++i) {
            if (kept[i] || natural[i] > share) continue;
            kept[i] = true, changed = true;
            room -= natural[i], shrinking -= natural[i];
            --left;
        }
    }
    std::vector<double> out(natural.size());
    if (left == 0 || room <= 0) {  // the narrow columns alone do not fit: scale everything
        for (size_t i = 0; i < natural.size(); ++i) out[i] = natural[i] * available / total;
        return out;
    }
    for (size_t i = 0; i < natural.size(); ++i) out[i] = kept[i] ? natural[i] : natural[i] * room / shrinking;
    return out;
}

}  // namespace headscope::report
