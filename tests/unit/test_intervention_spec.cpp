// The --intervene grammar (headscope/intervention_spec.hpp): every edit kind, the head forms of
// parse_head, canonical text, and errors that show the grammar.
#include <catch2/catch.hpp>

#include "headscope/error.hpp"
#include "headscope/intervention_spec.hpp"

using namespace headscope;

namespace {
std::string error_of(const std::string& spec) {
    try {
        parse_head_edit(spec);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("intervention specs parse into structured edits", "[intervention_spec]") {
    HeadEdit z = parse_head_edit("L1H4=zero");
    CHECK(z.head == HeadRef{1, 4});
    CHECK(z.kind == EditKind::zero);

    HeadEdit s = parse_head_edit("2.0=scale:1.5");
    CHECK(s.head == HeadRef{2, 0});
    CHECK(s.kind == EditKind::scale);
    CHECK(s.value == 1.5);

    HeadEdit p = parse_head_edit(" l0h3 = pattern:identity@0.5 ");
    CHECK(p.head == HeadRef{0, 3});
    CHECK(p.kind == EditKind::pattern);
    CHECK(p.target == PatternTarget::identity);
    CHECK(p.value == 0.5);

    HeadEdit full = parse_head_edit("3:1=pattern:uniform");
    CHECK(full.target == PatternTarget::uniform);
    CHECK(full.value == 1.0);  // no @: the full replacement

    HeadEdit prev = parse_head_edit("L0H0=pattern:previous@0");
    CHECK(prev.target == PatternTarget::previous);
    CHECK(prev.value == 0.0);

    HeadEdit copy = parse_head_edit("L3H1=pattern:head:L2H5@0.25");
    CHECK(copy.target == PatternTarget::head);
    CHECK(copy.source == HeadRef{2, 5});
    CHECK(copy.value == 0.25);

    HeadEdit ch = parse_head_edit("L1H3=channel:2@3");
    CHECK(ch.kind == EditKind::channel);
    CHECK(ch.value == 2.0);
    CHECK(ch.rank == 3);
    CHECK(parse_head_edit("L1H3=channel:0.5").rank == 1);

    HeadEdit ds = parse_head_edit("L1H0=drop_sink");
    CHECK(ds.kind == EditKind::drop_sink);
    CHECK(ds.value == 1.0);
    CHECK(parse_head_edit("L1H0=drop_sink:0.25").value == 0.25);

    CHECK(parse_head_edit("L1H4=ablate").kind == EditKind::zero);
    CHECK(parse_head_edit("L2H0=scale:-2e-1").value == Approx(-0.2));
}

TEST_CASE("canonical text round-trips", "[intervention_spec]") {
    for (const std::string spec : {"L1H4=zero", "L2H0=scale:1.5", "L0H3=pattern:identity@0.5", "L3H1=pattern:head:L2H5@1",
                                   "L0H1=pattern:uniform@0.125", "L4H7=pattern:previous@1", "L1H3=channel:2@2",
                                   "L1H0=drop_sink:0.5"}) {
        INFO(spec);
        CHECK(to_string(parse_head_edit(spec)) == spec);
    }
    const std::vector<HeadEdit> many = parse_head_edits({"L1H4=zero", "1.2=scale:2"});
    REQUIRE(many.size() == 2);
    CHECK(many[1].head == HeadRef{1, 2});
}

TEST_CASE("bad specs name the problem and show the grammar", "[intervention_spec]") {
    struct Case {
        const char* spec;
        const char* problem;
    };
    for (const Case c : {Case{"L1H4", "no '='"}, Case{"L1X4=zero", "is not a head"}, Case{"L1H4=mute", "unknown edit 'mute'"},
                         Case{"L1H4=scale", "finite factor"}, Case{"L1H4=scale:abc", "finite factor"},
                         Case{"L1H4=scale:inf", "finite factor"}, Case{"L1H4=zero:3", "takes no argument"},
                         Case{"L1H4=pattern", "needs a target"}, Case{"L1H4=pattern:diagonal", "unknown pattern target"},
                         Case{"L1H4=pattern:uniform@1.5", "in [0, 1]"}, Case{"L1H4=pattern:uniform@x", "in [0, 1]"},
                         Case{"L1H4=pattern:head", "needs a head"}, Case{"L1H4=pattern:head:Q", "is not a head"},
                         Case{"L1H4=pattern:identity:2", "takes no argument"}, Case{"L1H4=channel", "finite factor"},
                         Case{"L1H4=channel:2@0", "whole number"}, Case{"L1H4=channel:2@1.5", "whole number"},
                         Case{"L1H4=drop_sink:2", "in [0, 1]"}, Case{"L1H4=drop_sink:x", "in [0, 1]"}}) {
        const std::string err = error_of(c.spec);
        INFO(c.spec << " -> " << err);
        CHECK(err.find(c.spec) != std::string::npos);
        CHECK(err.find(c.problem) != std::string::npos);
        CHECK(err.find("HEAD=EDIT") != std::string::npos);  // the grammar
        CHECK(err.find("pattern:TARGET[@ALPHA]") != std::string::npos);
    }
}
