#include "fuzz_support.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <new>
#include <typeinfo>

#include "headscope/error.hpp"

namespace headscope::fuzz {
namespace {

struct Scratch {
    std::string path;
    Scratch() {
        namespace fs = std::filesystem;
        // /dev/shm keeps the per-input writes off the disk when it exists.
        const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
        path = (base / ("headscope-fuzz-" + std::to_string(::getpid()))).string();
        fs::create_directories(path);
    }
    ~Scratch() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

[[noreturn]] void finding(const std::string& what) {
    std::fprintf(stderr, "\n=== fuzz finding: %s\n", what.c_str());
    std::fflush(stderr);
    std::abort();
}

}  // namespace

const std::string& scratch_dir() {
    static Scratch scratch;
    return scratch.path;
}

std::string write_scratch(const std::string& name, std::string_view bytes) {
    const std::string path = scratch_dir() + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) finding("cannot write the scratch file " + path);
    return path;
}

void expect_clean(const std::string& file, const std::function<void()>& read) {
    try {
        read();
    } catch (const Error& e) {
        const std::string message = e.what();
        // The message names the file, or the folder holding it (directory readers).
        const std::string folder = std::filesystem::path(file).parent_path().string();
        if (message.find(file) == std::string::npos && message.find(folder) == std::string::npos) {
            finding(std::string("a refusal that names no file: ") + typeid(e).name() + ": " + message);
        }
    } catch (const std::bad_alloc&) {
        finding("std::bad_alloc escaped the reader of " + file + " (an allocation was not bounded)");
    } catch (const std::exception& e) {
        finding(std::string("an exception that is not a headscope::Error escaped (") + typeid(e).name() +
                "): " + e.what());
    } catch (...) {
        finding("a non-std exception escaped the reader of " + file);
    }
}

std::pair<std::string_view, std::string_view> split_input(const uint8_t* data, size_t size,
                                                         std::string_view separator) {
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    const size_t at = all.find(separator);
    if (at == std::string_view::npos) return {all, std::string_view()};
    return {all.substr(0, at), all.substr(at + separator.size())};
}

}  // namespace headscope::fuzz
