// Kafka's protocol error codes that Eddy may return, and the one mapping from Eddy's
// absl::Status codes to them.
//
// Numbers and names are Kafka's (the protocol guide's error table); `retriable` is whether a
// client may retry the same request unchanged (Kafka's RetriableException subclasses).
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"

namespace eddy::kafka {

// X(Name, code, NAME, retriable)
#define EDDY_KAFKA_ERRORS(X)                                              \
  X(UnknownServerError, -1, UNKNOWN_SERVER_ERROR, false)                  \
  X(None, 0, NONE, false)                                                 \
  X(OffsetOutOfRange, 1, OFFSET_OUT_OF_RANGE, false)                      \
  X(CorruptMessage, 2, CORRUPT_MESSAGE, true)                             \
  X(UnknownTopicOrPartition, 3, UNKNOWN_TOPIC_OR_PARTITION, true)         \
  X(InvalidFetchSize, 4, INVALID_FETCH_SIZE, false)                       \
  X(LeaderNotAvailable, 5, LEADER_NOT_AVAILABLE, true)                    \
  X(NotLeaderOrFollower, 6, NOT_LEADER_OR_FOLLOWER, true)                 \
  X(RequestTimedOut, 7, REQUEST_TIMED_OUT, true)                          \
  X(BrokerNotAvailable, 8, BROKER_NOT_AVAILABLE, false)                   \
  X(ReplicaNotAvailable, 9, REPLICA_NOT_AVAILABLE, true)                  \
  X(MessageTooLarge, 10, MESSAGE_TOO_LARGE, false)                        \
  X(OffsetMetadataTooLarge, 12, OFFSET_METADATA_TOO_LARGE, false)         \
  X(NetworkException, 13, NETWORK_EXCEPTION, true)                        \
  X(CoordinatorLoadInProgress, 14, COORDINATOR_LOAD_IN_PROGRESS, true)    \
  X(CoordinatorNotAvailable, 15, COORDINATOR_NOT_AVAILABLE, true)         \
  X(NotCoordinator, 16, NOT_COORDINATOR, true)                            \
  X(InvalidTopicException, 17, INVALID_TOPIC_EXCEPTION, false)            \
  X(RecordListTooLarge, 18, RECORD_LIST_TOO_LARGE, false)                 \
  X(NotEnoughReplicas, 19, NOT_ENOUGH_REPLICAS, true)                     \
  X(NotEnoughReplicasAfterAppend, 20, NOT_ENOUGH_REPLICAS_AFTER_APPEND, true) \
  X(InvalidRequiredAcks, 21, INVALID_REQUIRED_ACKS, false)                \
  X(IllegalGeneration, 22, ILLEGAL_GENERATION, false)                     \
  X(InconsistentGroupProtocol, 23, INCONSISTENT_GROUP_PROTOCOL, false)    \
  X(InvalidGroupId, 24, INVALID_GROUP_ID, false)                          \
  X(UnknownMemberId, 25, UNKNOWN_MEMBER_ID, false)                        \
  X(InvalidSessionTimeout, 26, INVALID_SESSION_TIMEOUT, false)            \
  X(RebalanceInProgress, 27, REBALANCE_IN_PROGRESS, false)                \
  X(InvalidCommitOffsetSize, 28, INVALID_COMMIT_OFFSET_SIZE, false)       \
  X(TopicAuthorizationFailed, 29, TOPIC_AUTHORIZATION_FAILED, false)      \
  X(GroupAuthorizationFailed, 30, GROUP_AUTHORIZATION_FAILED, false)      \
  X(ClusterAuthorizationFailed, 31, CLUSTER_AUTHORIZATION_FAILED, false)  \
  X(InvalidTimestamp, 32, INVALID_TIMESTAMP, false)                       \
  X(UnsupportedSaslMechanism, 33, UNSUPPORTED_SASL_MECHANISM, false)      \
  X(IllegalSaslState, 34, ILLEGAL_SASL_STATE, false)                      \
  X(UnsupportedVersion, 35, UNSUPPORTED_VERSION, false)                   \
  X(TopicAlreadyExists, 36, TOPIC_ALREADY_EXISTS, false)                  \
  X(InvalidPartitions, 37, INVALID_PARTITIONS, false)                     \
  X(InvalidReplicationFactor, 38, INVALID_REPLICATION_FACTOR, false)      \
  X(InvalidReplicaAssignment, 39, INVALID_REPLICA_ASSIGNMENT, false)      \
  X(InvalidConfig, 40, INVALID_CONFIG, false)                             \
  X(NotController, 41, NOT_CONTROLLER, true)                              \
  X(InvalidRequest, 42, INVALID_REQUEST, false)                           \
  X(UnsupportedForMessageFormat, 43, UNSUPPORTED_FOR_MESSAGE_FORMAT, false) \
  X(PolicyViolation, 44, POLICY_VIOLATION, false)                         \
  X(OutOfOrderSequenceNumber, 45, OUT_OF_ORDER_SEQUENCE_NUMBER, false)    \
  X(DuplicateSequenceNumber, 46, DUPLICATE_SEQUENCE_NUMBER, false)        \
  X(InvalidProducerEpoch, 47, INVALID_PRODUCER_EPOCH, false)              \
  X(InvalidTxnState, 48, INVALID_TXN_STATE, false)                        \
  X(InvalidProducerIdMapping, 49, INVALID_PRODUCER_ID_MAPPING, false)     \
  X(InvalidTransactionTimeout, 50, INVALID_TRANSACTION_TIMEOUT, false)    \
  X(ConcurrentTransactions, 51, CONCURRENT_TRANSACTIONS, true)            \
  X(TransactionCoordinatorFenced, 52, TRANSACTION_COORDINATOR_FENCED, false) \
  X(TransactionalIdAuthorizationFailed, 53, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, false) \
  X(SecurityDisabled, 54, SECURITY_DISABLED, false)                       \
  X(OperationNotAttempted, 55, OPERATION_NOT_ATTEMPTED, false)            \
  X(KafkaStorageError, 56, KAFKA_STORAGE_ERROR, true)                     \
  X(LogDirNotFound, 57, LOG_DIR_NOT_FOUND, false)                         \
  X(SaslAuthenticationFailed, 58, SASL_AUTHENTICATION_FAILED, false)      \
  X(UnknownProducerId, 59, UNKNOWN_PRODUCER_ID, false)                    \
  X(ReassignmentInProgress, 60, REASSIGNMENT_IN_PROGRESS, false)          \
  X(InvalidPrincipalType, 67, INVALID_PRINCIPAL_TYPE, false)              \
  X(NonEmptyGroup, 68, NON_EMPTY_GROUP, false)                            \
  X(GroupIdNotFound, 69, GROUP_ID_NOT_FOUND, false)                       \
  X(FetchSessionIdNotFound, 70, FETCH_SESSION_ID_NOT_FOUND, true)         \
  X(InvalidFetchSessionEpoch, 71, INVALID_FETCH_SESSION_EPOCH, true)      \
  X(ListenerNotFound, 72, LISTENER_NOT_FOUND, true)                       \
  X(TopicDeletionDisabled, 73, TOPIC_DELETION_DISABLED, false)            \
  X(FencedLeaderEpoch, 74, FENCED_LEADER_EPOCH, true)                     \
  X(UnknownLeaderEpoch, 75, UNKNOWN_LEADER_EPOCH, true)                   \
  X(UnsupportedCompressionType, 76, UNSUPPORTED_COMPRESSION_TYPE, false)  \
  X(StaleBrokerEpoch, 77, STALE_BROKER_EPOCH, false)                      \
  X(OffsetNotAvailable, 78, OFFSET_NOT_AVAILABLE, true)                   \
  X(MemberIdRequired, 79, MEMBER_ID_REQUIRED, false)                      \
  X(PreferredLeaderNotAvailable, 80, PREFERRED_LEADER_NOT_AVAILABLE, true) \
  X(GroupMaxSizeReached, 81, GROUP_MAX_SIZE_REACHED, false)               \
  X(FencedInstanceId, 82, FENCED_INSTANCE_ID, false)                      \
  X(EligibleLeadersNotAvailable, 83, ELIGIBLE_LEADERS_NOT_AVAILABLE, true) \
  X(ElectionNotNeeded, 84, ELECTION_NOT_NEEDED, true)                     \
  X(NoReassignmentInProgress, 85, NO_REASSIGNMENT_IN_PROGRESS, false)     \
  X(GroupSubscribedToTopic, 86, GROUP_SUBSCRIBED_TO_TOPIC, false)         \
  X(InvalidRecord, 87, INVALID_RECORD, false)                             \
  X(UnstableOffsetCommit, 88, UNSTABLE_OFFSET_COMMIT, true)               \
  X(ThrottlingQuotaExceeded, 89, THROTTLING_QUOTA_EXCEEDED, true)         \
  X(ProducerFenced, 90, PRODUCER_FENCED, false)                           \
  X(ResourceNotFound, 91, RESOURCE_NOT_FOUND, false)                      \
  X(DuplicateResource, 92, DUPLICATE_RESOURCE, false)                     \
  X(UnacceptableCredential, 93, UNACCEPTABLE_CREDENTIAL, false)           \
  X(InconsistentVoterSet, 94, INCONSISTENT_VOTER_SET, false)              \
  X(InvalidUpdateVersion, 95, INVALID_UPDATE_VERSION, false)              \
  X(FeatureUpdateFailed, 96, FEATURE_UPDATE_FAILED, false)                \
  X(PrincipalDeserializationFailure, 97, PRINCIPAL_DESERIALIZATION_FAILURE, false) \
  X(SnapshotNotFound, 98, SNAPSHOT_NOT_FOUND, false)                      \
  X(PositionOutOfRange, 99, POSITION_OUT_OF_RANGE, false)                 \
  X(UnknownTopicId, 100, UNKNOWN_TOPIC_ID, true)                          \
  X(DuplicateBrokerRegistration, 101, DUPLICATE_BROKER_REGISTRATION, false) \
  X(BrokerIdNotRegistered, 102, BROKER_ID_NOT_REGISTERED, false)          \
  X(InconsistentTopicId, 103, INCONSISTENT_TOPIC_ID, true)                \
  X(InconsistentClusterId, 104, INCONSISTENT_CLUSTER_ID, false)           \
  X(TransactionalIdNotFound, 105, TRANSACTIONAL_ID_NOT_FOUND, false)      \
  X(FetchSessionTopicIdError, 106, FETCH_SESSION_TOPIC_ID_ERROR, true)    \
  X(IneligibleReplica, 107, INELIGIBLE_REPLICA, false)                    \
  X(NewLeaderElected, 108, NEW_LEADER_ELECTED, false)                     \
  X(OffsetMovedToTieredStorage, 109, OFFSET_MOVED_TO_TIERED_STORAGE, false) \
  X(TransactionAbortable, 120, TRANSACTION_ABORTABLE, false)

enum class ErrorCode : int16_t {
#define EDDY_KAFKA_ERROR_ENUM(name, code, kafka_name, retriable) k##name = code,
  EDDY_KAFKA_ERRORS(EDDY_KAFKA_ERROR_ENUM)
#undef EDDY_KAFKA_ERROR_ENUM
};

struct ErrorInfo {
  ErrorCode code;
  const char* name;  // Kafka's name, e.g. "NOT_LEADER_OR_FOLLOWER"
  bool retriable;
};

// Every error above, sorted by code.
std::span<const ErrorInfo> AllErrors();
// The entry for a code, or nullptr for a code Eddy never returns (a client may still send
// one in a response we decode; generated messages carry error codes as plain int16).
const ErrorInfo* FindError(int16_t code);
constexpr int16_t ToWire(ErrorCode code) { return static_cast<int16_t>(code); }

// The one mapping from Eddy's status codes (STYLE.md, "Errors") to Kafka's:
//   OK -> NONE; kInvalidArgument (malformed request) -> INVALID_REQUEST;
//   kFailedPrecondition (not leader / fenced) -> NOT_LEADER_OR_FOLLOWER;
//   kUnavailable (retry) -> LEADER_NOT_AVAILABLE; kDeadlineExceeded/kCancelled -> REQUEST_TIMED_OUT;
//   kDataLoss (checksum, torn record) -> CORRUPT_MESSAGE; kResourceExhausted (disk full) ->
//   KAFKA_STORAGE_ERROR; kNotFound -> UNKNOWN_TOPIC_OR_PARTITION; kAlreadyExists ->
//   TOPIC_ALREADY_EXISTS; kOutOfRange -> OFFSET_OUT_OF_RANGE; kUnimplemented ->
//   UNSUPPORTED_VERSION; kPermissionDenied -> CLUSTER_AUTHORIZATION_FAILED; kUnauthenticated ->
//   SASL_AUTHENTICATION_FAILED; kAborted (conflict) -> CONCURRENT_TRANSACTIONS; anything
//   else -> UNKNOWN_SERVER_ERROR.
// Handlers that know better (an unknown group rather than topic) answer with their own code.
ErrorCode ErrorFromStatus(const absl::Status& status);

}  // namespace eddy::kafka
