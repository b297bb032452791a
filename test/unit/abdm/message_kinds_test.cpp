// The message-kind table (core/abdm/message_kinds): every kind reachable by its path and aliases,
// parsed into its own struct, written back in the form its handler reads, answered with an
// outbound message the builders know. (A missing or misplaced row does not compile; a missing SQL
// handler fails the install: sql/message_kinds.sql.)
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/abdm/message_kinds.hpp"
#include "core/util/error.hpp"

namespace abdm::proto {
namespace {

TEST(MessageKinds, OneRowPerKindInOrder) {
  std::set<std::string_view> names, paths, handlers;
  std::size_t i = 0;
  for (const MessageKindSpec& k : message_kinds()) {
    EXPECT_EQ(static_cast<std::size_t>(k.kind), i++) << k.name;
    EXPECT_TRUE(names.insert(k.name).second) << "duplicate name " << k.name;
    EXPECT_TRUE(paths.insert(k.path).second) << "duplicate path " << k.path;
    EXPECT_TRUE(handlers.insert(k.handler).second) << "duplicate handler " << k.handler;
    EXPECT_EQ(&message_kind(k.kind), &k);
    EXPECT_EQ(kind_name(k.kind), k.name);
    EXPECT_EQ(canonical_path(k.kind), k.path);
  }
  EXPECT_EQ(i, std::variant_size_v<InboundBody>);
}

TEST(MessageKinds, PathsAndAliasesRouteToTheirKind) {
  for (const MessageKindSpec& k : message_kinds()) {
    EXPECT_EQ(route_path(k.path), k.kind) << k.path;
    EXPECT_EQ(route_path(k.path.substr(4)), k.kind) << "without /api: " << k.path;
    for (std::string_view alias : k.aliases) {
      if (alias.empty()) continue;
      EXPECT_EQ(route_path("/api/v3/" + std::string(alias)), k.kind) << alias;
    }
  }
}

TEST(MessageKinds, RepliesAreKnownGatewayMessages) {
  for (const MessageKindSpec& k : message_kinds()) {
    if (!k.reply) continue;
    const OutboundEndpoint& e = outbound_endpoint(*k.reply);
    EXPECT_FALSE(e.path.empty()) << k.name << " answers through the gateway";
    EXPECT_EQ(find_outbound_endpoint(e.name), &e) << k.name;
  }
  // Requests are answered, callbacks are not.
  EXPECT_TRUE(message_kind(MessageKind::kDiscover).reply.has_value());
  EXPECT_FALSE(message_kind(MessageKind::kOnGenerateToken).reply.has_value());
}

TEST(MessageKinds, ParseGivesTheKindsOwnStruct) {
  const nlohmann::json confirm = {{"confirmation", {{"linkRefNumber", "c0ffee00-0000-4000-8000-000000000001"},
                                                    {"token", "123456"}}}};
  const MessageKindSpec& k = message_kind(MessageKind::kLinkConfirm);
  const InboundBody body = k.parse(confirm);
  ASSERT_TRUE(std::holds_alternative<LinkConfirmRequest>(body));
  EXPECT_EQ(std::get<LinkConfirmRequest>(body).token, "123456");
  const nlohmann::json normal = k.to_json(body);
  EXPECT_EQ(normal, to_json(std::get<LinkConfirmRequest>(body)));
  // Another kind's parser refuses the body, naming a field.
  EXPECT_THROW(message_kind(MessageKind::kHiRequest).parse(confirm), abdm::Error);
}

TEST(MessageKinds, UnknownKindIsAnError) {
  EXPECT_THROW(message_kind(static_cast<MessageKind>(99)), abdm::Error);
}

}  // namespace
}  // namespace abdm::proto
