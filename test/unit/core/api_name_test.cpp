#include "core/api_name.hpp"

#include <catch2/catch.hpp>

TEST_CASE("API names are letters, digits and underscores from a letter", "[unit][api_name]") {
    CHECK(sfbridge::is_api_name("Account"));
    CHECK(sfbridge::is_api_name("Geo__Latitude__s"));
    CHECK_FALSE(sfbridge::is_api_name(""));
    CHECK_FALSE(sfbridge::is_api_name("_Hidden"));
    CHECK_FALSE(sfbridge::is_api_name("1Thing"));
    CHECK_FALSE(sfbridge::is_api_name("Name FROM User"));
    CHECK_FALSE(sfbridge::is_api_name("Na-me"));
}

TEST_CASE("a select list puts Id first and names each field once", "[unit][api_name]") {
    std::string error;
    CHECK(sfbridge::select_list("Contact", {"LastName", "ID", "lastname", "Email"}, error) ==
          "Id, LastName, Email");
    CHECK(sfbridge::select_list("Contact", {}, error) == "Id");
    CHECK_FALSE(sfbridge::select_list("Contact", {"LastName", "Email, Password"}, error));
    CHECK(error == "\"Email, Password\" is not a field API name (on Contact)");
    CHECK_FALSE(sfbridge::select_list("Contact--", {"LastName"}, error));
    CHECK(error == "\"Contact--\" is not an object API name");
}
