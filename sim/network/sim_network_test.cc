// Proves each network behaviour with exact expectations. Conservation laws hold exactly for every
// seed (sent = delivered + lost, delivered = sent + duplicated, delivered + detected = sent under
// corruption, with detected = corrupted: no flipped frame slips through); fault rates land near
// their setting under the fixed seeds used here; topology faults (symmetric and one-way
// partitions, isolation, clogging, flapping, resets, crashes) drop or hold exactly the messages
// they should; paused receivers get nothing until they resume; client connections deliver in
// order and close on reset and on broker crash; the same seed reproduces the same trace.
#include "sim/network/sim_network.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/base/rate.h"
#include "sim/clock/sim_node_clock.h"
#include "sim/loop/sim_loop.h"
#include "sim/trace/trace_hash.h"

namespace eddy::sim {
namespace {

using runtime::NodeId;

struct Received {
  NodeId from;
  uint64_t index;
  Instant at;
};

// A message carrying its index and a filler derived from it, so a corrupted payload that slipped
// through would be noticed.
std::vector<uint8_t> Message(uint64_t index, size_t size = 40) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(index >> (8 * i));
  for (size_t i = 8; i < size; ++i) bytes[i] = static_cast<uint8_t>(index * 31 + i);
  return bytes;
}

uint64_t IndexOf(const std::vector<uint8_t>& bytes) {
  uint64_t index = 0;
  for (size_t i = 0; i < 8; ++i) index |= uint64_t{bytes[i]} << (8 * i);
  EXPECT_EQ(bytes, Message(index, bytes.size())) << "payload delivered corrupted";
  return index;
}

class SimNetworkTest : public ::testing::Test {
 protected:
  explicit SimNetworkTest(uint64_t seed = 42) : network_(world_, seed, &trace_) {
    for (NodeId id = 1; id <= 3; ++id) {
      clocks_[id] = std::make_unique<SimNodeClock>(world_, id, &trace_);
      network_.AddNode(id, *clocks_[id]);
      InstallHandlers(id);
    }
  }

  void InstallHandlers(NodeId id) {
    network_.transport(id).SetPeerHandler([this, id](NodeId from, std::vector<uint8_t> message) {
      received_[id].push_back({from, IndexOf(message), world_.Now()});
    });
    network_.transport(id).SetPeerStateHandler([this, id](NodeId peer, bool reachable) {
      peer_states_[id].push_back(std::to_string(peer) + (reachable ? "+" : "-"));
    });
  }

  void Send(NodeId from, NodeId to, uint64_t index) {
    network_.transport(from).SendToPeer(to, Message(index));
  }

  std::vector<uint64_t> Indices(NodeId at) {
    std::vector<uint64_t> result;
    for (const Received& r : received_[at]) result.push_back(r.index);
    return result;
  }

  SimLoop world_;
  TraceHash trace_;
  SimNetwork network_;
  std::map<NodeId, std::unique_ptr<SimNodeClock>> clocks_;
  std::map<NodeId, std::vector<Received>> received_;
  std::map<NodeId, std::vector<std::string>> peer_states_;
};

TEST_F(SimNetworkTest, CleanLinkDeliversEachMessageOnceInOrderWithinLatencyBounds) {
  const LinkOptions options = network_.link_options(1, 2);
  for (uint64_t i = 0; i < 100; ++i) Send(1, 2, i);
  world_.RunUntilIdle();
  std::vector<uint64_t> expected(100);
  for (uint64_t i = 0; i < 100; ++i) expected[i] = i;
  EXPECT_EQ(Indices(2), expected);
  for (const Received& r : received_[2]) {
    EXPECT_GE(r.at - Instant(), options.latency_min);
    EXPECT_LE(r.at - Instant(), options.latency_max);
  }
  EXPECT_EQ(network_.stats().peer_messages_sent, 100u);
  EXPECT_EQ(network_.stats().peer_messages_delivered, 100u);
  EXPECT_EQ(network_.in_flight(), 0u);
}

TEST_F(SimNetworkTest, LossDropsAboutTheRateAndConservesMessagesExactly) {
  network_.SetDefaultLinkOptions({.loss_ppm = kPpm / 5});
  for (uint64_t i = 0; i < 2000; ++i) Send(1, 2, i);
  world_.RunUntilIdle();
  const SimNetworkStats& stats = network_.stats();
  EXPECT_EQ(stats.peer_messages_delivered + stats.lost, 2000u);
  EXPECT_EQ(received_[2].size(), stats.peer_messages_delivered);
  EXPECT_GT(stats.lost, 330u);  // 20 % of 2000 = 400.
  EXPECT_LT(stats.lost, 470u);
  const std::vector<uint64_t> got = Indices(2);
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));  // Loss does not reorder.
}

TEST_F(SimNetworkTest, DuplicationDeliversExtraCopiesAndEveryMessageAtLeastOnce) {
  network_.SetDefaultLinkOptions({.duplicate_ppm = kPpm / 2});
  for (uint64_t i = 0; i < 1000; ++i) Send(1, 2, i);
  world_.RunUntilIdle();
  const SimNetworkStats& stats = network_.stats();
  EXPECT_EQ(stats.peer_messages_delivered, 1000u + stats.duplicated);
  EXPECT_GT(stats.duplicated, 430u);
  EXPECT_LT(stats.duplicated, 570u);
  std::map<uint64_t, int> copies;
  for (uint64_t index : Indices(2)) ++copies[index];
  EXPECT_EQ(copies.size(), 1000u);
  for (const auto& [index, count] : copies) EXPECT_LE(count, 2) << index;
}

TEST_F(SimNetworkTest, ReorderingLinkReordersAndTheCounterMatchesWhatTheReceiverSaw) {
  network_.SetDefaultLinkOptions({.latency_min = Duration::Microseconds(10),
                                  .latency_max = Duration::Milliseconds(5),
                                  .reorder = true});
  for (uint64_t i = 0; i < 500; ++i) {
    world_.ScheduleAfter(Duration::Microseconds(100 * i), [this, i] { Send(1, 2, i); });
  }
  world_.RunUntilIdle();
  uint64_t overtaken = 0;
  uint64_t highest = 0;
  bool any = false;
  for (uint64_t index : Indices(2)) {
    if (any && index < highest) {
      ++overtaken;
    } else {
      highest = index;
      any = true;
    }
  }
  EXPECT_EQ(received_[2].size(), 500u);
  EXPECT_GT(overtaken, 50u);
  EXPECT_EQ(overtaken, network_.stats().reordered);
}

TEST_F(SimNetworkTest, FifoLinkNeverReordersEvenWithWideLatency) {
  network_.SetDefaultLinkOptions(
      {.latency_min = Duration::Microseconds(10), .latency_max = Duration::Milliseconds(5)});
  for (uint64_t i = 0; i < 500; ++i) {
    world_.ScheduleAfter(Duration::Microseconds(100 * i), [this, i] { Send(1, 2, i); });
  }
  world_.RunUntilIdle();
  const std::vector<uint64_t> got = Indices(2);
  EXPECT_EQ(got.size(), 500u);
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
  EXPECT_EQ(network_.stats().reordered, 0u);
}

TEST_F(SimNetworkTest, CorruptedFramesAreAllDetectedAndNoneDelivered) {
  network_.SetDefaultLinkOptions({.corruption_ppm = kPpm / 10});
  for (uint64_t i = 0; i < 2000; ++i) Send(1, 2, i);
  world_.RunUntilIdle();
  const SimNetworkStats& stats = network_.stats();
  EXPECT_GT(stats.corrupted, 140u);
  EXPECT_LT(stats.corrupted, 260u);
  EXPECT_EQ(stats.corruption_detected, stats.corrupted);
  EXPECT_EQ(stats.peer_messages_delivered + stats.corruption_detected, 2000u);
  // IndexOf() checked every delivered payload byte for byte.
  EXPECT_EQ(received_[2].size(), stats.peer_messages_delivered);
}

TEST_F(SimNetworkTest, SymmetricPartitionCutsBothWaysAndHealRestores) {
  network_.Partition({1}, {2, 3});
  Send(1, 2, 0);
  Send(2, 1, 1);
  Send(3, 1, 2);
  Send(2, 3, 3);  // Same side: delivered.
  world_.RunUntilIdle();
  EXPECT_TRUE(received_[1].empty());
  EXPECT_TRUE(received_[2].empty());
  EXPECT_EQ(Indices(3), std::vector<uint64_t>{3});
  EXPECT_EQ(network_.stats().dropped_cut, 3u);
  network_.HealAll();
  Send(1, 2, 4);
  Send(2, 1, 5);
  world_.RunUntilIdle();
  EXPECT_EQ(Indices(2), std::vector<uint64_t>{4});
  EXPECT_EQ(Indices(1), std::vector<uint64_t>{5});
}

TEST_F(SimNetworkTest, HealPartitionsRestoresLinksButKeepsClogs) {
  network_.Isolate(2);
  network_.Clog(1, 3, Duration::Seconds(1));
  network_.HealPartitions();
  Send(1, 2, 0);
  Send(1, 3, 1);
  world_.RunUntilIdle();
  ASSERT_EQ(received_[2].size(), 1u);
  ASSERT_EQ(received_[3].size(), 1u);
  EXPECT_EQ(received_[3][0].at, Instant() + Duration::Seconds(1));  // Still clogged.
}

TEST_F(SimNetworkTest, OneWayPartitionCutsOnlyOneDirection) {
  network_.PartitionOneWay({1}, {2});
  Send(1, 2, 0);
  Send(2, 1, 1);
  world_.RunUntilIdle();
  EXPECT_TRUE(received_[2].empty());
  EXPECT_EQ(Indices(1), std::vector<uint64_t>{1});
  EXPECT_TRUE(network_.link_cut(1, 2));
  EXPECT_FALSE(network_.link_cut(2, 1));
}

TEST_F(SimNetworkTest, IsolateCutsEveryLinkOfTheNodeAndMessagesInFlightDie) {
  Send(1, 3, 0);  // In flight when the isolation starts: dropped on arrival.
  network_.Isolate(3);
  Send(2, 3, 1);
  Send(3, 1, 2);
  Send(1, 2, 3);
  world_.RunUntilIdle();
  EXPECT_TRUE(received_[3].empty());
  EXPECT_TRUE(received_[1].empty());
  EXPECT_EQ(Indices(2), std::vector<uint64_t>{3});
  EXPECT_EQ(network_.stats().dropped_cut, 3u);
}

TEST_F(SimNetworkTest, ClogHoldsMessagesThenReleasesThemInOrderAtTheEnd) {
  const Duration clog = Duration::Milliseconds(100);
  network_.Clog(1, 2, clog);
  for (uint64_t i = 0; i < 50; ++i) {
    world_.ScheduleAfter(Duration::Milliseconds(i), [this, i] { Send(1, 2, i); });
  }
  Send(2, 1, 99);  // The other direction is not clogged.
  world_.RunUntilIdle();
  ASSERT_EQ(received_[2].size(), 50u);
  for (uint64_t i = 0; i < 50; ++i) {
    EXPECT_EQ(received_[2][i].index, i);
    EXPECT_EQ(received_[2][i].at, Instant() + clog);
  }
  ASSERT_EQ(received_[1].size(), 1u);
  EXPECT_LT(received_[1][0].at, Instant() + Duration::Milliseconds(1));
  EXPECT_EQ(network_.stats().clogged, 50u);
}

TEST_F(SimNetworkTest, FlappingLinkDropsWhileDownAndEndsUp) {
  network_.SetDefaultLinkOptions(
      {.latency_min = Duration::Microseconds(100), .latency_max = Duration::Microseconds(100)});
  // Down during [0,10), up [10,20), ... 10 toggles over 100 ms, then up for good.
  network_.Flap(1, 2, Duration::Milliseconds(10), Duration::Milliseconds(100));
  for (uint64_t i = 0; i < 120; ++i) {
    world_.ScheduleAfter(Duration::Milliseconds(i) + Duration::Microseconds(500),
                         [this, i] { Send(1, 2, i); });
  }
  world_.RunUntilIdle();
  std::set<uint64_t> got;
  for (uint64_t index : Indices(2)) got.insert(index);
  for (uint64_t i = 0; i < 120; ++i) {
    const bool link_up = i >= 100 || (i / 10) % 2 == 1;
    EXPECT_EQ(got.contains(i), link_up) << "message " << i;
  }
  EXPECT_EQ(network_.stats().flaps, 10u);
  EXPECT_FALSE(network_.link_cut(1, 2));
}

TEST_F(SimNetworkTest, ConnectionResetDropsInFlightAndBouncesPeerState) {
  Send(1, 2, 0);
  Send(2, 1, 1);
  network_.ResetConnection(1, 2, Duration::Milliseconds(5));
  Send(1, 2, 2);  // After the reset: a new connection carries it.
  world_.RunUntilIdle();
  EXPECT_EQ(Indices(2), std::vector<uint64_t>{2});
  EXPECT_TRUE(received_[1].empty());
  EXPECT_EQ(network_.stats().dropped_reset, 2u);
  EXPECT_EQ(peer_states_[1], (std::vector<std::string>{"2-", "2+"}));
  EXPECT_EQ(peer_states_[2], (std::vector<std::string>{"1-", "1+"}));
  EXPECT_TRUE(peer_states_[3].empty());
}

TEST_F(SimNetworkTest, CrashedNodeLosesInFlightAndPeersSeeItGoAndReturn) {
  Send(1, 3, 0);
  network_.SetNodeUp(3, false);
  clocks_[3]->DropAll();
  Send(2, 3, 1);
  world_.RunUntilIdle();
  EXPECT_TRUE(received_[3].empty());
  EXPECT_EQ(network_.stats().dropped_reset, 1u);      // In flight: its connection died.
  EXPECT_EQ(network_.stats().dropped_node_down, 1u);  // Sent to a down node.
  EXPECT_EQ(peer_states_[1], std::vector<std::string>{"3-"});
  // The crash destroyed node 3's handlers: a restarted node without a broker receives nothing.
  network_.SetNodeUp(3, true);
  Send(1, 3, 2);
  world_.RunUntilIdle();
  EXPECT_TRUE(received_[3].empty());
  EXPECT_EQ(network_.stats().dropped_no_handler, 1u);
  InstallHandlers(3);  // The owner rebuilt the broker.
  Send(1, 3, 3);
  world_.RunUntilIdle();
  EXPECT_EQ(Indices(3), std::vector<uint64_t>{3});
  EXPECT_EQ(peer_states_[1], (std::vector<std::string>{"3-", "3+"}));
}

TEST_F(SimNetworkTest, PausedReceiverGetsNothingUntilResumed) {
  clocks_[2]->Pause();
  Send(1, 2, 0);
  Send(1, 2, 1);
  world_.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(received_[2].empty());
  clocks_[2]->Resume();
  world_.RunUntilIdle();
  EXPECT_EQ(Indices(2), (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(received_[2][0].at, Instant() + Duration::Seconds(1));
}

TEST_F(SimNetworkTest, SlowNodeAddsLatencyBothWays) {
  network_.SetDefaultLinkOptions(
      {.latency_min = Duration::Milliseconds(1), .latency_max = Duration::Milliseconds(1)});
  network_.SetNodeExtraLatency(2, Duration::Milliseconds(20));
  Send(1, 2, 0);
  Send(1, 3, 1);
  world_.RunUntilIdle();
  EXPECT_EQ(received_[2][0].at, Instant() + Duration::Milliseconds(21));
  EXPECT_EQ(received_[3][0].at, Instant() + Duration::Milliseconds(1));
}

TEST_F(SimNetworkTest, ClientConnectionRoundTripInOrder) {
  std::vector<uint64_t> client_got;
  std::vector<runtime::ConnectionId> broker_seen;
  network_.transport(2).SetClientHandler(
      [&](runtime::ConnectionId connection, std::vector<uint8_t> message) {
        broker_seen.push_back(connection);
        network_.transport(2).SendToClient(connection, std::move(message));  // Echo.
      });
  const runtime::ConnectionId connection = network_.ConnectClient(
      2, {.on_message = [&](std::vector<uint8_t> m) { client_got.push_back(IndexOf(m)); },
          .on_closed = [] { FAIL() << "closed"; }});
  for (uint64_t i = 0; i < 20; ++i) network_.SendFromClient(connection, Message(i));
  world_.RunUntilIdle();
  EXPECT_EQ(client_got.size(), 20u);
  EXPECT_TRUE(std::is_sorted(client_got.begin(), client_got.end()));
  EXPECT_EQ(broker_seen, std::vector<runtime::ConnectionId>(20, connection));
  EXPECT_EQ(network_.client_connections(2), std::vector<runtime::ConnectionId>{connection});
}

TEST_F(SimNetworkTest, ClientResetAndBrokerCrashCloseConnections) {
  std::vector<runtime::ConnectionId> broker_closed;
  network_.transport(1).SetClientClosedHandler(
      [&](runtime::ConnectionId connection) { broker_closed.push_back(connection); });
  int closed_a = 0, closed_b = 0, closed_c = 0;
  const runtime::ConnectionId a = network_.ConnectClient(1, {.on_closed = [&] { ++closed_a; }});
  const runtime::ConnectionId b = network_.ConnectClient(2, {.on_closed = [&] { ++closed_b; }});
  network_.ResetClient(a);
  network_.SetNodeUp(2, false);
  network_.SetNodeUp(3, false);
  const runtime::ConnectionId c = network_.ConnectClient(3, {.on_closed = [&] { ++closed_c; }});
  world_.RunUntilIdle();
  EXPECT_EQ(closed_a, 1);
  EXPECT_EQ(closed_b, 1);
  EXPECT_EQ(closed_c, 1);  // Refused.
  EXPECT_EQ(broker_closed, std::vector<runtime::ConnectionId>{a});
  EXPECT_NE(b, c);
  EXPECT_EQ(network_.open_client_connections(), 0u);
}

TEST_F(SimNetworkTest, ABrokerCloseArrivesAfterTheRepliesInFlight) {
  std::vector<uint64_t> client_got;
  int client_closed = 0;
  int broker_closed = 0;
  int broker_got = 0;
  network_.transport(2).SetClientClosedHandler([&](runtime::ConnectionId) { ++broker_closed; });
  const runtime::ConnectionId connection = network_.ConnectClient(
      2, {.on_message = [&](std::vector<uint8_t> m) { client_got.push_back(IndexOf(m)); },
          .on_closed = [&] {
            EXPECT_EQ(client_got.size(), 2u) << "the close overtook a reply";
            ++client_closed;
          }});
  network_.transport(2).SetClientHandler(
      [&](runtime::ConnectionId c, std::vector<uint8_t>) {
        ++broker_got;
        network_.transport(2).SendToClient(c, Message(7));
        network_.transport(2).SendToClient(c, Message(8));
        network_.transport(2).CloseClient(c);
        network_.transport(2).SendToClient(c, Message(9));  // after the close: dropped
        network_.transport(2).CloseClient(c);               // once is enough
      });
  network_.SendFromClient(connection, Message(1));
  world_.RunFor(Duration::Microseconds(300));  // the request is in; the close is on its way
  network_.SendFromClient(connection, Message(2));  // the broker closed: never arrives
  world_.RunUntilIdle();
  EXPECT_EQ(client_got, (std::vector<uint64_t>{7, 8}));
  EXPECT_EQ(client_closed, 1);
  EXPECT_EQ(broker_closed, 0);  // its own close is not reported back to it
  EXPECT_EQ(broker_got, 1);
  EXPECT_EQ(network_.open_client_connections(), 0u);
}

struct Outcome {
  uint64_t trace;
  uint64_t delivered;
  uint64_t lost;
  uint64_t duplicated;
  uint64_t corrupted;
};

Outcome RunNoisyTraffic(uint64_t seed) {
  SimLoop world;
  TraceHash trace;
  SimNetwork network(world, seed, &trace);
  std::vector<std::unique_ptr<SimNodeClock>> clocks;
  for (NodeId id = 1; id <= 3; ++id) {
    clocks.push_back(std::make_unique<SimNodeClock>(world, id, &trace));
    network.AddNode(id, *clocks.back());
    network.transport(id).SetPeerHandler([](NodeId, std::vector<uint8_t>) {});
  }
  network.SetDefaultLinkOptions({.latency_max = Duration::Milliseconds(3),
                                 .loss_ppm = 100'000,
                                 .duplicate_ppm = 100'000,
                                 .corruption_ppm = 50'000,
                                 .reorder = true});
  for (uint64_t i = 0; i < 300; ++i) {
    const NodeId from = 1 + i % 3;
    const NodeId to = 1 + (i + 1 + i / 3 % 2) % 3;
    network.transport(from).SendToPeer(to, Message(i));
  }
  world.RunUntilIdle();
  const SimNetworkStats& s = network.stats();
  return {trace.value(), s.peer_messages_delivered, s.lost, s.duplicated, s.corrupted};
}

TEST(SimNetworkDeterminismTest, SameSeedSameRunDifferentSeedDifferentRun) {
  const Outcome a = RunNoisyTraffic(7);
  const Outcome b = RunNoisyTraffic(7);
  const Outcome c = RunNoisyTraffic(8);
  EXPECT_EQ(a.trace, b.trace);
  EXPECT_EQ(a.delivered, b.delivered);
  EXPECT_EQ(a.lost, b.lost);
  EXPECT_EQ(a.duplicated, b.duplicated);
  EXPECT_EQ(a.corrupted, b.corrupted);
  EXPECT_NE(a.trace, c.trace);
}

}  // namespace
}  // namespace eddy::sim
