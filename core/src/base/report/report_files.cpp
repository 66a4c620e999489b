// Writing reports atomically, and rendering them from a results file.
#include <fcntl.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "headscope/error.hpp"
#include "headscope/report/report.hpp"

namespace headscope {

namespace {

// Writes `bytes` to a temporary file next to `path`, flushes it, and renames it into place, so
// an interrupted write never leaves a truncated file under the final name.
void write_atomically(const std::string& path, const std::string& bytes) {
    namespace fs = std::filesystem;
    fs::path target(path);
    fs::path dir = target.parent_path();
    if (dir.empty()) dir = ".";
    std::string tmpl = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
    std::vector<char> name(tmpl.begin(), tmpl.end());
    name.push_back('\0');
    const int fd = mkstemp(name.data());
    if (fd < 0) throw IoError(fmt::format("{}: cannot create a temporary file in '{}': {}", path, dir.string(), std::strerror(errno)));
    const std::string tmp(name.data());
    auto fail = [&](const char* what) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        throw IoError(fmt::format("{}: {} failed: {}", path, what, std::strerror(err)));
    };
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("write");
        }
        done += static_cast<size_t>(n);
    }
    // mkstemp creates 0600; a report is an ordinary document.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    if (::fchmod(fd, 0666 & ~mask) != 0) fail("chmod");
    if (::fsync(fd) != 0) fail("fsync");
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw IoError(fmt::format("{}: close failed: {}", path, std::strerror(err)));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw IoError(fmt::format("{}: cannot rename the temporary file into place: {}", path, std::strerror(err)));
    }
}

}  // namespace

void write_report_files(const ResultsFile& results, const std::string& html_path, const std::string& pdf_path) {
    // Render both before writing either, so a rendering error leaves no half-updated pair.
    std::string html, pdf;
    if (!html_path.empty()) html = render_html_report(results);
    if (!pdf_path.empty()) pdf = render_pdf_report(results);
    if (!html_path.empty()) write_atomically(html_path, html);
    if (!pdf_path.empty()) write_atomically(pdf_path, pdf);
}

void render_report_files(const std::string& results_h5, const std::string& html_path, const std::string& pdf_path) {
    if (html_path.empty() && pdf_path.empty()) throw UsageError("no report to write: give an HTML and/or a PDF path");
    write_report_files(read_results_file(results_h5), html_path, pdf_path);
}

}  // namespace headscope
