// Proves the error table carries Kafka's published numbers and names (spot checks against the
// protocol guide), that lookups find every entry and nothing else, and that each absl::Status
// code Eddy uses maps to the Kafka error its meaning calls for.
#include "core/kafka/errors.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace eddy::kafka {
namespace {

TEST(ErrorsTest, PublishedNumbers) {
  EXPECT_EQ(ToWire(ErrorCode::kUnknownServerError), -1);
  EXPECT_EQ(ToWire(ErrorCode::kNotLeaderOrFollower), 6);
  EXPECT_EQ(ToWire(ErrorCode::kNotCoordinator), 16);
  EXPECT_EQ(ToWire(ErrorCode::kUnsupportedVersion), 35);
  EXPECT_EQ(ToWire(ErrorCode::kInvalidRequest), 42);
  EXPECT_EQ(ToWire(ErrorCode::kProducerFenced), 90);
  EXPECT_EQ(ToWire(ErrorCode::kTransactionAbortable), 120);
  EXPECT_STREQ(FindError(3)->name, "UNKNOWN_TOPIC_OR_PARTITION");
  EXPECT_TRUE(FindError(3)->retriable);
  EXPECT_FALSE(FindError(35)->retriable);
  EXPECT_EQ(FindError(11), nullptr);  // STALE_CONTROLLER_EPOCH: never returned by Eddy
  EXPECT_EQ(FindError(1000), nullptr);
}

TEST(ErrorsTest, EveryEntryIsFoundAndNamesAreUnique) {
  std::set<std::string> names;
  for (const ErrorInfo& info : AllErrors()) {
    const ErrorInfo* found = FindError(ToWire(info.code));
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(found, &info);
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
  }
  EXPECT_GT(AllErrors().size(), 90u);
}

TEST(ErrorsTest, StatusMapping) {
  EXPECT_EQ(ErrorFromStatus(absl::OkStatus()), ErrorCode::kNone);
  EXPECT_EQ(ErrorFromStatus(absl::InvalidArgumentError("")), ErrorCode::kInvalidRequest);
  EXPECT_EQ(ErrorFromStatus(absl::FailedPreconditionError("")), ErrorCode::kNotLeaderOrFollower);
  EXPECT_EQ(ErrorFromStatus(absl::UnavailableError("")), ErrorCode::kLeaderNotAvailable);
  EXPECT_EQ(ErrorFromStatus(absl::DataLossError("")), ErrorCode::kCorruptMessage);
  EXPECT_EQ(ErrorFromStatus(absl::ResourceExhaustedError("")), ErrorCode::kKafkaStorageError);
  EXPECT_EQ(ErrorFromStatus(absl::NotFoundError("")), ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(ErrorFromStatus(absl::OutOfRangeError("")), ErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(ErrorFromStatus(absl::InternalError("")), ErrorCode::kUnknownServerError);
  // Retry-meaning statuses map to retriable Kafka errors.
  for (const absl::Status& status :
       {absl::UnavailableError(""), absl::FailedPreconditionError(""),
        absl::DeadlineExceededError(""), absl::ResourceExhaustedError("")}) {
    EXPECT_TRUE(FindError(ToWire(ErrorFromStatus(status)))->retriable) << status;
  }
}

}  // namespace
}  // namespace eddy::kafka
