// Plugin loading: the search order, every refusal case (with the file and the reason named),
// and an analysis that throws at run time, through real plugin libraries built by
// tests/plugins with headscope_add_analysis().
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "headscope/model_loader.hpp"
#include "headscope/sdk/analysis.hpp"
#include "headscope/sdk/analysis_runner.hpp"
#include "headscope/sdk/plugin_loader.hpp"
#include "headscope/sdk/result_store.hpp"
#include "support/test_support.hpp"

using namespace headscope;
using namespace headscope::test;
namespace fs = std::filesystem;

namespace {

std::string plugin_dir() { return HEADSCOPE_TEST_PLUGIN_DIR; }
std::string plugin(const std::string& name) { return plugin_dir() + "/" + name + ".so"; }
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Sets (or unsets, with nullopt) an environment variable for the life of the object.
class ScopedEnv {
public:
    ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value) setenv(name, value->c_str(), 1);
        else unsetenv(name);
    }
    ~ScopedEnv() {
        if (old_) setenv(name_, old_->c_str(), 1);
        else unsetenv(name_);
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

CommandResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), HEADSCOPE_CLI);
    return run_command(args);
}

class NoProgress : public Progress {};

}  // namespace

TEST_CASE("a well-behaved plugin registers its analyses, attributed to its file", "[plugins]") {
    AnalysisRegistry registry;
    PluginLoadReport r = load_plugin_file(registry, plugin("good_plugin"));
    INFO(r.error);
    REQUIRE(r.loaded);
    CHECK(r.path == plugin("good_plugin"));
    CHECK(r.name == "good test plugin");
    CHECK(r.version == "0.1");
    CHECK(r.analyses == std::vector<std::string>{"plugin_ok"});
    REQUIRE(registry.contains("plugin_ok"));
    CHECK(registry.info("plugin_ok").origin == plugin("good_plugin"));
    CHECK(registry.info("plugin_ok").title == "Plugin probe");
}

TEST_CASE("a plugin built for another SDK ABI version is refused before its registration runs", "[plugins]") {
    AnalysisRegistry registry;
    // Its registration function aborts: reaching it would kill this test.
    PluginLoadReport r = load_plugin_file(registry, plugin("wrong_abi"));
    CHECK(!r.loaded);
    CHECK(r.path == plugin("wrong_abi"));
    CHECK(contains(r.error, "built for SDK ABI version " + std::to_string(HEADSCOPE_PLUGIN_ABI_VERSION + 1)));
    CHECK(contains(r.error, "this headscope has version " + std::to_string(HEADSCOPE_PLUGIN_ABI_VERSION)));
    CHECK(registry.list().empty());
}

TEST_CASE("a library without the entry point is refused with the loader's message", "[plugins]") {
    AnalysisRegistry registry;
    PluginLoadReport r = load_plugin_file(registry, plugin("no_entry_point"));
    CHECK(!r.loaded);
    CHECK(contains(r.error, "no 'headscope_plugin_info' entry point"));
    CHECK(contains(r.error, "undefined symbol: headscope_plugin_info"));  // dlerror()'s own words
    CHECK(contains(r.error, "HEADSCOPE_PLUGIN("));                        // and how to fix it
    CHECK(registry.list().empty());
}

TEST_CASE("a plugin whose registration throws is refused and adds nothing", "[plugins]") {
    AnalysisRegistry registry;
    PluginLoadReport r = load_plugin_file(registry, plugin("throwing_registration"));
    CHECK(!r.loaded);
    CHECK(r.error == "registration threw: cannot find my configuration file");
    CHECK(r.analyses.empty());
    // It added "plugin_partial" before throwing; none of it may stay.
    CHECK(!registry.contains("plugin_partial"));
    CHECK(registry.list().empty());
}

TEST_CASE("a plugin registering an id that exists is refused; the first stays", "[plugins]") {
    AnalysisRegistry registry;
    REQUIRE(load_plugin_file(registry, plugin("good_plugin")).loaded);
    PluginLoadReport r = load_plugin_file(registry, plugin("zz_duplicate_id"));
    CHECK(!r.loaded);
    CHECK(contains(r.error, "analysis 'plugin_ok' is already registered by " + plugin("good_plugin")));
    CHECK(registry.info("plugin_ok").title == "Plugin probe");
    CHECK(registry.info("plugin_ok").origin == plugin("good_plugin"));
}

TEST_CASE("files that cannot be loaded are refused with the reason", "[plugins]") {
    TempDir tmp;
    write_file(tmp.file("not_a_library.so"), "this is text, not ELF\n");
    AnalysisRegistry registry;
    PluginLoadReport r = load_plugin_file(registry, tmp.file("not_a_library.so"));
    CHECK(!r.loaded);
    CHECK(r.path == tmp.file("not_a_library.so"));
    CHECK(contains(r.error, "cannot load the library: "));
    CHECK((contains(r.error, "invalid ELF header") || contains(r.error, "file too short")));
    PluginLoadReport missing = load_plugin_file(registry, tmp.file("missing.so"));
    CHECK(!missing.loaded);
    CHECK(contains(missing.error, "No such file or directory"));
}

TEST_CASE("loading a folder: each refusal names its file and reason, the rest keep working", "[plugins]") {
    TempDir home;
    ScopedEnv path("HEADSCOPE_PLUGIN_PATH", std::nullopt);
    ScopedEnv xdg("XDG_DATA_HOME", home.path());  // an empty user plugin folder
    TempDir extra;
    write_file(extra.file("broken.so"), "not a library");
    write_file(extra.file("README.txt"), "ignored: not a .so");
    AnalysisRegistry registry;
    std::vector<PluginLoadReport> reports = load_plugins(registry, {plugin_dir(), extra.path(), home.file("no-such-dir")});
    std::map<std::string, PluginLoadReport> by_file;
    for (const auto& r : reports) by_file[fs::path(r.path).filename().string()] = r;
    REQUIRE(by_file.count("good_plugin.so"));
    CHECK(by_file["good_plugin.so"].loaded);
    CHECK(by_file["throwing_run.so"].loaded);
    for (const char* refused : {"wrong_abi.so", "no_entry_point.so", "throwing_registration.so", "zz_duplicate_id.so", "broken.so"}) {
        INFO(refused);
        REQUIRE(by_file.count(refused));
        CHECK(!by_file[refused].loaded);
        CHECK(!by_file[refused].error.empty());
    }
    CHECK(!by_file.count("README.txt"));
    // A folder named on the command line that does not exist is reported, not ignored.
    REQUIRE(by_file.count("no-such-dir"));
    CHECK(contains(by_file["no-such-dir"].error, "no such folder"));
    CHECK(registry.contains("plugin_ok"));
    CHECK(registry.contains("plugin_throws"));
    CHECK(!registry.contains("plugin_partial"));
    CHECK(registry.info("plugin_ok").title == "Plugin probe");  // not the duplicate's "Impostor"
    // Loading the same folder twice through another spelling loads nothing twice.
    AnalysisRegistry again;
    auto twice = load_plugins(again, {plugin_dir(), plugin_dir() + "/"});
    size_t good = 0;
    for (const auto& r : twice) good += fs::path(r.path).filename() == "good_plugin.so";
    CHECK(good == 1);
}

TEST_CASE("plugin search order: --plugin-dir, HEADSCOPE_PLUGIN_PATH, next to the executable, user data", "[plugins]") {
    const std::string exe_dir = fs::read_symlink("/proc/self/exe").parent_path().string();
    {
        ScopedEnv path("HEADSCOPE_PLUGIN_PATH", std::string("/env/one::/env/two:/cli/a"));
        ScopedEnv xdg("XDG_DATA_HOME", std::string("/xdg"));
        CHECK(plugin_search_dirs({"/cli/a", "/cli/b"}) ==
              std::vector<std::string>{"/cli/a", "/cli/b", "/env/one", "/env/two", exe_dir + "/plugins",
                                       "/xdg/headscope/plugins"});
    }
    {
        ScopedEnv path("HEADSCOPE_PLUGIN_PATH", std::nullopt);
        ScopedEnv xdg("XDG_DATA_HOME", std::string("relative/ignored"));  // the XDG spec: relative paths are invalid
        ScopedEnv home("HOME", std::string("/home/someone"));
        CHECK(plugin_search_dirs({}) ==
              std::vector<std::string>{exe_dir + "/plugins", "/home/someone/.local/share/headscope/plugins"});
    }
}

TEST_CASE("an analysis that throws at run time becomes an error for that analysis only", "[plugins]") {
    AnalysisRegistry registry;
    REQUIRE(load_plugin_file(registry, plugin("good_plugin")).loaded);
    REQUIRE(load_plugin_file(registry, plugin("throwing_run")).loaded);
    LoadedModel m = load_model(stories_bin());
    auto prompts = tokenize_prompts(*m.tokenizer, {PromptExample{"", "Once upon a time there was a cat", "", "", ""}});
    NoProgress progress;
    Result failed = run_analysis(registry, {"plugin_throws", {}}, *m.model, *m.tokenizer, prompts, progress);
    CHECK(failed.analysis_id == "plugin_throws");
    CHECK(failed.analysis_title == "Always fails");
    CHECK(failed.error == "plugin_throws: deliberate failure at run time");
    CHECK(failed.items.empty());
    // The same model and registry keep working.
    Result ok = run_analysis(registry, {"plugin_ok", {}}, *m.model, *m.tokenizer, prompts, progress);
    INFO(ok.error);
    CHECK(ok.error.empty());
    const HeadGrid* g = ok.head_grid("first_token_attention");
    REQUIRE(g);
    CHECK(g->layers == 5);
    CHECK(g->heads == 8);
    // Independent check from a plain forward with the pattern cached.
    torch::NoGradGuard no_grad;
    CachedRun run = m.model->run_with_cache(
        torch::tensor(std::vector<int64_t>(prompts[0].ids.begin(), prompts[0].ids.end())).unsqueeze(0),
        {"blocks.3.attn.hook_pattern"});
    torch::Tensor want = run.cache.at("blocks.3.attn.hook_pattern")[0].select(-1, 0).mean(-1);
    for (int h = 0; h < 8; ++h) CHECK(g->at(3, h) == Approx(want[h].item<double>()).margin(1e-6));
}

TEST_CASE("headscope analyses lists plugin analyses and names each refused file with its reason", "[plugins][cli]") {
    TempDir home;
    ScopedEnv xdg("XDG_DATA_HOME", home.path());
    CommandResult r = cli({"analyses", "--plugin-dir", plugin_dir()});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.out, "\nplugin_ok "));
    CHECK(contains(r.out, "\nplugin_throws "));
    CHECK(contains(r.out, plugin("good_plugin")));  // origin
    const std::string all = r.out + r.err;
    CHECK(contains(all, plugin("wrong_abi") + " refused: built for SDK ABI version"));
    CHECK(contains(all, plugin("no_entry_point") + " refused: not a headscope plugin"));
    CHECK(contains(all, plugin("throwing_registration") + " refused: registration threw: cannot find my configuration file"));
    CHECK(contains(all, plugin("zz_duplicate_id") + " refused: analysis 'plugin_ok' is already registered"));
    // The built-ins are still there.
    CHECK(contains(r.out, "\nlogit_lens "));
}

TEST_CASE("headscope analyze: a plugin analysis that throws fails alone, the rest is saved", "[plugins][cli]") {
    TempDir tmp;
    CommandResult r = cli({"analyze", stories_bin(), "--prompt", "Once upon a time there was a cat", "--analysis",
                           "plugin_throws,plugin_ok", "--plugin-dir", plugin_dir(), "--out", tmp.file("x.h5")});
    INFO(r.out << r.err);
    // A failed analysis fails the command (scripts see it), after the others are saved.
    REQUIRE(r.exit_code == 1);
    CHECK(contains(r.err, "plugin_throws: deliberate failure at run time"));
    CHECK(contains(r.err, "1 of 2 analyses failed: plugin_throws"));
    ResultsFile f = read_results_file(tmp.file("x.h5"));
    REQUIRE(f.results.size() == 2);
    CHECK(f.results[0].analysis_id == "plugin_throws");
    CHECK(f.results[0].error == "plugin_throws: deliberate failure at run time");
    CHECK(f.results[1].analysis_id == "plugin_ok");
    CHECK(f.results[1].error.empty());
    CHECK(f.results[1].head_grid("first_token_attention") != nullptr);
}
