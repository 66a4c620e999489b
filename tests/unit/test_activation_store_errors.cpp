// ActivationStore: atomic commits, clear errors for bad files and bad requests, and reading
// files written by h5py (tests/tools/h5_make.py) rather than by headscope.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "headscope/activation_store.hpp"
#include "headscope/error.hpp"
#include "support/test_support.hpp"

using headscope::ActivationStoreReader;
using headscope::ActivationStoreWriter;
using headscope::AttributeValue;
using headscope::ElementType;
using headscope::FormatError;
using headscope::IoError;
using headscope::UsageError;
using Catch::Matchers::Contains;
namespace test = headscope::test;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

void write_small(ActivationStoreWriter& w) {
    std::vector<float> v = {1, 2, 3, 4, 5, 6};
    w.write_f32("/logits", {1, 2, 3}, v.data());
}

}  // namespace

TEST_CASE("ActivationStore writes are atomic", "[store]") {
    test::TempDir dir;
    const std::string path = dir.file("out.h5");

    SECTION("abandoned writer leaves nothing behind") {
        {
            ActivationStoreWriter w(path);
            CHECK(w.path() == path);
            write_small(w);
            std::vector<std::string> during = entries(dir.path());
            REQUIRE(during.size() == 1);
            CHECK(during[0].rfind("out.h5.tmp-", 0) == 0);  // temp file next to the target
            CHECK_FALSE(fs::exists(path));
        }
        CHECK(entries(dir.path()).empty());
    }

    SECTION("a writer unwinding from an exception leaves nothing behind") {
        try {
            ActivationStoreWriter w(path);
            write_small(w);
            w.set_attribute("/nope", "k", int64_t{1});  // throws
            FAIL("set_attribute on a missing object should throw");
        } catch (const UsageError&) {
        }
        CHECK(entries(dir.path()).empty());
    }

    SECTION("an existing file is untouched until commit, then replaced") {
        test::write_file(path, "previous contents");
        ActivationStoreWriter w(path);
        write_small(w);
        w.set_attribute("/", "run", int64_t{2});
        CHECK(test::read_file(path) == "previous contents");
        CHECK(entries(dir.path()).size() == 2);
        w.commit();
        CHECK(entries(dir.path()) == std::vector<std::string>{"out.h5"});
        ActivationStoreReader r(path);
        CHECK(r.read_f32("/logits") == std::vector<float>{1, 2, 3, 4, 5, 6});
        CHECK(r.attributes("/").at("run") == AttributeValue(int64_t{2}));
    }

    SECTION("an abandoned writer keeps the previous file") {
        test::write_file(path, "previous contents");
        {
            ActivationStoreWriter w(path);
            write_small(w);
        }
        CHECK(test::read_file(path) == "previous contents");
        CHECK(entries(dir.path()) == std::vector<std::string>{"out.h5"});
    }

    SECTION("two writers to the same path use different temporary files") {
        ActivationStoreWriter a(path), b(path);
        write_small(a);
        std::vector<float> other = {7};
        b.write_f32("/other", {1}, other.data());
        CHECK(entries(dir.path()).size() == 2);
        a.commit();
        b.commit();  // last commit wins, whole
        ActivationStoreReader r(path);
        CHECK(r.has("/other"));
        CHECK_FALSE(r.has("/logits"));
        CHECK(entries(dir.path()) == std::vector<std::string>{"out.h5"});
    }

    SECTION("the writer refuses use after commit") {
        ActivationStoreWriter w(path);
        write_small(w);
        w.commit();
        CHECK_THROWS_AS(w.commit(), UsageError);
        CHECK_THROWS_AS(write_small(w), UsageError);
        CHECK_THROWS_AS(w.set_attribute("/", "k", 1.0), UsageError);
        CHECK(ActivationStoreReader(path).has("/logits"));
    }
}

TEST_CASE("ActivationStoreWriter rejects bad requests clearly", "[store]") {
    test::TempDir dir;
    const std::string path = dir.file("out.h5");

    CHECK_THROWS_WITH(ActivationStoreWriter(dir.file("no/such/dir/out.h5")),
                      Contains("no/such/dir/out.h5") && Contains("cannot create"));
    CHECK_THROWS_AS(ActivationStoreWriter(dir.file("no/such/dir/out.h5")), IoError);
    CHECK_THROWS_WITH(ActivationStoreWriter(dir.file("no/such/dir/out.h5")), Contains("No such file or directory"));
    CHECK_THROWS_WITH(ActivationStoreWriter(dir.path()), Contains("it is a directory"));
    CHECK(entries(dir.path()).empty());

    ActivationStoreWriter w(path);
    std::vector<float> v = {1, 2, 3, 4};
    w.write_f32("/a/b", {4}, v.data());
    CHECK_THROWS_WITH(w.write_f32("/a/b", {4}, v.data()), Contains("'/a/b' already exists"));
    CHECK_THROWS_WITH(w.write_f32("/a/b/c", {4}, v.data()), Contains("'/a/b' is not a group"));
    CHECK_THROWS_WITH(w.write_f32("/a", {4}, v.data()), Contains("'/a' already exists"));
    CHECK_THROWS_WITH(w.write_f32("/x", {2, -1}, v.data()), Contains("negative"));
    CHECK_THROWS_WITH(w.write_f32("/x", {4}, nullptr), Contains("no data"));
    CHECK_THROWS_WITH(w.write_f32("/x", {int64_t{1} << 40, int64_t{1} << 40}, v.data()), Contains("too large"));
    for (const std::string& bad :
         std::vector<std::string>{"", "/", "//x", "/x/", "/a/./x", "/a/../x", std::string("/x\0y", 4)}) {
        INFO("name: " << bad);
        CHECK_THROWS_AS(w.write_f32(bad, {4}, v.data()), UsageError);
    }
    CHECK_THROWS_WITH(w.set_attribute("/missing", "k", int64_t{1}), Contains("no object '/missing'"));
    CHECK_THROWS_AS(w.set_attribute("/", "", int64_t{1}), UsageError);
    CHECK_THROWS_WITH(w.set_attribute("/", "k", std::string("\xC3\x28")), Contains("not valid UTF-8"));
    CHECK_THROWS_WITH(w.set_attribute("/", "k", std::string("a\0b", 3)), Contains("NUL"));
    // Failed requests changed nothing: the file still holds exactly what was written.
    w.commit();
    ActivationStoreReader r(path);
    REQUIRE(r.datasets().size() == 1);
    CHECK(r.datasets()[0].name == "/a/b");
    CHECK(r.attributes("/").empty());
}

TEST_CASE("ActivationStoreReader reports bad files and requests clearly", "[store]") {
    test::TempDir dir;

    SECTION("missing file") {
        const std::string missing = dir.file("missing.h5");
        CHECK_THROWS_AS(ActivationStoreReader(missing), IoError);
        CHECK_THROWS_WITH(ActivationStoreReader(missing), Contains(missing) && Contains("No such file"));
        CHECK_THROWS_WITH(ActivationStoreReader(dir.path()), Contains("directory"));
    }

    SECTION("not an HDF5 file") {
        const std::string text = dir.file("notes.h5");
        test::write_file(text, "this is plain text, not HDF5\n");
        try {
            ActivationStoreReader r(text);
            FAIL("expected FormatError");
        } catch (const FormatError& e) {
            CHECK(e.file() == text);
            CHECK_THAT(e.problem(), Contains("not an HDF5 file"));
        }
        const std::string empty = dir.file("empty.h5");
        test::write_file(empty, "");
        CHECK_THROWS_AS(ActivationStoreReader(empty), FormatError);
    }

    SECTION("truncated HDF5 file") {
        const std::string good = dir.file("good.h5");
        {
            ActivationStoreWriter w(good);
            std::vector<float> v(100000, 1.5f);
            w.write_f32("/big", {100000}, v.data());
            w.commit();
        }
        std::string bytes = test::read_file(good);
        const std::string cut = dir.file("cut.h5");
        test::write_file(cut, bytes.substr(0, bytes.size() / 2));
        CHECK_THROWS_AS(ActivationStoreReader(cut), FormatError);
        CHECK_THROWS_WITH(ActivationStoreReader(cut), Contains(cut));
    }

    SECTION("bad requests") {
        const std::string path = dir.file("ok.h5");
        {
            ActivationStoreWriter w(path);
            std::vector<float> v(24, 0.5f);
            std::vector<int64_t> t = {1, 2};
            w.write_f32("/acts/x", {2, 3, 4}, v.data());
            w.write_i64("/tokens", {2}, t.data());
            w.commit();
        }
        ActivationStoreReader r(path);
        CHECK_THROWS_AS(r.read_f32("/nope"), UsageError);
        CHECK_THROWS_WITH(r.read_f32("/nope"), Contains("no dataset '/nope'") && Contains(path));
        CHECK_THROWS_WITH(r.info("/acts/nope"), Contains("no dataset '/acts/nope'"));
        CHECK_THROWS_WITH(r.read_f32("/tokens/x"), Contains("no dataset"));
        CHECK_THROWS_WITH(r.read_f32("/acts"), Contains("is a group"));
        CHECK_THROWS_WITH(r.read_i64("/acts/x"), Contains("holds f32") && Contains("read_f32"));
        CHECK_THROWS_WITH(r.read_f32("/tokens"), Contains("holds i64"));
        CHECK_THROWS_AS(r.read_f32(""), UsageError);
        CHECK_THROWS_AS(r.attributes("/nope"), UsageError);

        CHECK_THROWS_WITH(r.read_f32("/acts/x", {0, 0}, {1, 1}), Contains("needs 3 start and count"));
        CHECK_THROWS_WITH(r.read_f32("/acts/x", {0, 0, 0}, {1, 1}), Contains("needs 3"));
        CHECK_THROWS_WITH(r.read_f32("/acts/x", {3, 0, 0}, {-1, -1, -1}), Contains("start 3 of dimension 0"));
        CHECK_THROWS_WITH(r.read_f32("/acts/x", {0, 0, -1}, {1, 1, 1}), Contains("outside"));
        CHECK_THROWS_WITH(r.read_f32("/acts/x", {0, 1, 0}, {1, 3, 1}), Contains("runs past the end"));
        CHECK_THROWS_AS(r.read_f32("/acts/x", {0, 0, 0}, {1, 1, -2}), UsageError);
        CHECK_THROWS_AS(r.read_f32("/acts/x", {0, 0, 4}, {1, 1, 1}), UsageError);
        CHECK(r.read_f32("/acts/x", {1, 2, 3}, {1, 1, 1}) == std::vector<float>{0.5f});
    }
}

TEST_CASE("ActivationStoreReader reads files written by h5py", "[store]") {
    test::TempDir dir;
    const std::string path = dir.file("h5py.h5");
    test::CommandResult made = test::run_command({test::python(), test::source_dir() + "/tests/tools/h5_make.py", path});
    INFO("h5_make.py stderr: " << made.err);
    REQUIRE(made.exit_code == 0);

    ActivationStoreReader r(path);
    std::vector<std::string> names;
    for (const auto& d : r.datasets()) names.push_back(d.name);
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"/be_f32", "/empty", "/f32", "/f64", "/group/nested.name", "/i32",
                                            "/scalar"});  // the soft link is not listed twice

    CHECK(r.read_f32("/f32") == std::vector<float>{0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f});
    CHECK(r.read_f32("/f32", {1, 1}, {1, -1}) == std::vector<float>{2.0f, 2.5f});
    CHECK(r.read_f32("/link_to_f32") == r.read_f32("/f32"));
    CHECK(r.read_f32("/be_f32") == std::vector<float>{1.5f, -2.25f, 1e30f});
    CHECK(r.info("/scalar").shape.empty());
    CHECK(r.read_f32("/scalar") == std::vector<float>{2.5f});
    CHECK(r.info("/empty").shape == std::vector<int64_t>{0, 3});
    CHECK(r.read_f32("/empty").empty());
    CHECK(r.info("/group/nested.name").type == ElementType::i64);
    CHECK(r.read_i64("/group/nested.name") == std::vector<int64_t>{1, -2, 3, int64_t{1} << 40});

    // Element types headscope does not read: listed, refused by name when read.
    CHECK(r.info("/f64").shape == std::vector<int64_t>{3});
    CHECK_THROWS_AS(r.read_f32("/f64"), FormatError);
    CHECK_THROWS_WITH(r.read_f32("/f64"), Contains("'/f64' holds 64-bit float values"));
    CHECK_THROWS_WITH(r.read_i64("/i32"), Contains("'/i32' holds 32-bit signed integer values"));
    CHECK_THROWS_WITH(r.read_f32("/i32", {0}, {1}), Contains("32-bit signed integer"));

    auto root = r.attributes("/");
    CHECK(root.size() == 8);
    CHECK(root.at("prompt") == AttributeValue(std::string("Caf\xC3\xA9 \xE2\x80\x94 na\xC3\xAFve")));
    CHECK(root.at("ascii_vlen") == AttributeValue(std::string("plain")));
    CHECK(root.at("fixed") == AttributeValue(std::string("fixed")));
    CHECK(root.at("i32") == AttributeValue(int64_t{-7}));
    CHECK(root.at("u8") == AttributeValue(int64_t{200}));
    CHECK(root.at("f32") == AttributeValue(0.25));
    CHECK(root.at("f64") == AttributeValue(1.0 / 3.0));
    CHECK(root.at("one_element") == AttributeValue(int64_t{42}));
    CHECK(r.attributes("/group/nested.name").at("note") == AttributeValue(std::string("dots are fine")));

    // A bool (an HDF5 enum) and an array attribute are refused with what they are.
    CHECK_THROWS_AS(r.attributes("/odd"), FormatError);
    CHECK_THROWS_WITH(r.attributes("/odd"), Contains("attribute 'flag' of '/odd'") && Contains("enum"));
}
