// abdm::Error carries the SQLSTATE and the field the SQL layer reports.
#include "core/util/error.hpp"

#include <gtest/gtest.h>

TEST(Error, NamesTheFieldInItsMessage) {
  abdm::Error e(abdm::sqlstate::kInvalidParameter, "hiRequest.keyMaterial.nonce", "must be 32 bytes");
  EXPECT_STREQ(e.what(), "hiRequest.keyMaterial.nonce: must be 32 bytes");
  EXPECT_EQ(e.sqlstate(), "22023");
  EXPECT_EQ(e.field(), "hiRequest.keyMaterial.nonce");
}

TEST(Error, WithoutFieldIsJustTheMessage) {
  abdm::Error e(abdm::sqlstate::kInternal, "", "boom");
  EXPECT_STREQ(e.what(), "boom");
  EXPECT_TRUE(e.field().empty());
}

TEST(Error, IsCaughtAsStdException) {
  try {
    throw abdm::Error(abdm::sqlstate::kNotNull, "record.patient", "required");
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("record.patient"), std::string::npos);
    return;
  }
  FAIL() << "not caught";
}
