// Helpers shared by the tests: fixture paths, temporary folders, running commands.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace headscope::test {

// ../shared (stories260K, GPT-2 tokenizer); read-only.
std::string shared_dir();
std::string stories_bin();        // llama2.c checkpoint
std::string stories_tokenizer();  // llama2.c tokenizer
std::string stories_gguf();       // GGUF v1 f32
std::string source_dir();         // the repository root
std::string python();             // /usr/bin/python3 (has numpy, torch, h5py)

// A fresh folder under the system temp dir, removed when the object dies.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

struct CommandResult {
    int exit_code = -1;
    std::string out;  // stdout
    std::string err;  // stderr
};
// Runs argv (no shell) and captures stdout/stderr.
// Starts argv (stdin /dev/null, stdout and stderr to the files) without waiting; returns its pid.
pid_t start_command(const std::vector<std::string>& argv, const std::string& out_path, const std::string& err_path);
CommandResult run_command(const std::vector<std::string>& argv);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);

}  // namespace headscope::test
