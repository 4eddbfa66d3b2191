#pragma once

// What the write-back's tests share: a read-write mapping and waiting for a query's answer.
#include "test/support/bridge_harness.hpp"

namespace sfbridge::test {

// The mapping JSON with its access turned to read_write.
inline std::string read_write(std::string json) {
    const std::string from = R"("access":"read_only")";
    json.replace(json.find(from), from.size(), R"("access":"read_write")");
    return json;
}

// Contact (LastName) and Account (Name), both read-write and streamed.
inline std::string contact_and_account_read_write() {
    return R"({"version":1,"mappings":[
      {"object_name":"Contact","config":{"access":"read_write","sf_notify_enabled":true,
       "sf_polling_seconds":600,"fields":{"Id":{},"LastName":{}}}},
      {"object_name":"Account","config":{"access":"read_write","sf_notify_enabled":true,
       "sf_polling_seconds":600,"fields":{"Id":{},"Name":{}}}}]})";
}

// Sim_Everything__c (Name, External_Id__c), read-write, upserted by External_Id__c.
inline std::string sim_everything_upserted() {
    return R"({"version":1,"mappings":[{"object_name":"Sim_Everything__c","config":{
      "access":"read_write","sf_notify_enabled":true,"sf_polling_seconds":600,
      "upsert_field":"External_Id__c","fields":{"Id":{},"Name":{},"External_Id__c":{}}}}]})";
}

} // namespace sfbridge::test
