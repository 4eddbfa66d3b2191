#include "core/replace_file.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace sfbridge;
namespace fs = std::filesystem;

namespace {
std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}
struct temp_dir {
    fs::path path = fs::temp_directory_path() / ("replace_file_" + std::to_string(::getpid()));
    temp_dir() { fs::create_directories(path); }
    ~temp_dir() { fs::remove_all(path); }
};
} // namespace

TEST_CASE("replace_file writes over a file, keeps its permissions and leaves nothing beside it") {
    temp_dir d;
    const auto file = d.path / "m.json";
    std::ofstream(file) << "old";
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    std::string error;
    REQUIRE(replace_file(file.string(), "new text", error));
    CHECK(slurp(file) == "new text");
    CHECK((fs::status(file).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
    CHECK(std::distance(fs::directory_iterator(d.path), fs::directory_iterator{}) == 1);
}

TEST_CASE("replace_file replaces a symbolic link's target and keeps the link") {
    temp_dir d;
    const auto target = d.path / "real.json";
    const auto link = d.path / "link.json";
    std::ofstream(target) << "old";
    fs::create_symlink(target, link);
    std::string error;
    REQUIRE(replace_file(link.string(), "new", error));
    CHECK(fs::is_symlink(link));
    CHECK(slurp(target) == "new");
}

TEST_CASE("replace_file says what failed and changes nothing when it cannot write") {
    temp_dir d;
    std::string error;
    CHECK_FALSE(replace_file((d.path / "no-such-dir" / "m.json").string(), "x", error));
    CHECK(error.find("cannot create") != std::string::npos);
    CHECK(error.find("no-such-dir") != std::string::npos);
}
