// Golden transcripts: each file in raft/testdata/ is a script of commands against an in-memory
// cluster (raft/testing/cluster.h) with the expected output of each command. The test replays
// every script and compares the output byte for byte, so any behaviour change shows up as a
// reviewable diff. Regenerate after an intended change with
//   bazel run //raft:interaction_test -- --rewrite
// (writes into the source tree through BUILD_WORKSPACE_DIRECTORY), then review `git diff`.
//
// File format: blocks of "command line\n----\noutput\n" separated by blank lines; lines
// starting with '#' before a command are comments. Commands:
//   cluster n=3 [pre_vote=1] [check_quorum=1] [election=10] [heartbeat=1] [inflight=8]
//           [batch=64] [chunk=64] [snapshot_bytes=0] [seed=1] [bug=0]
//   add-node ID                         a joiner with an empty membership
//   campaign ID | tick ID [N] | tick-all [N]
//   propose ID [records=N] | propose-conf ID add-learner|promote|remove NODE
//   transfer ID TARGET | read-index ID REQUEST | reads ID
//   process-ready ID | write ID | sync ID          (write+sync = process-ready)
//   deliver [from=ID] [to=ID] [type=NAME] | drop [...] | messages | stabilize
//   isolate ID... | cut A B | heal | crash ID | restart ID | compact ID OFFSET
//   status | log [ID] | counters ID | check
#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "raft/testing/cluster.h"

namespace eddy::raft {
namespace {

bool g_rewrite = false;

struct Block {
  std::string comments;  // '#' lines (kept verbatim)
  std::string command;
  std::string expected;
};

std::vector<Block> ParseFile(const std::string& text) {
  std::vector<Block> blocks;
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  size_t i = 0;
  while (i < lines.size()) {
    Block b;
    while (i < lines.size() && (lines[i].empty() || lines[i][0] == '#')) {
      if (!lines[i].empty()) absl::StrAppend(&b.comments, lines[i], "\n");
      ++i;
    }
    if (i >= lines.size()) break;
    b.command = lines[i++];
    EXPECT_TRUE(i < lines.size() && lines[i] == "----") << "missing ---- after " << b.command;
    ++i;
    while (i < lines.size() && !lines[i].empty()) absl::StrAppend(&b.expected, lines[i++], "\n");
    blocks.push_back(std::move(b));
  }
  return blocks;
}

class Interpreter {
 public:
  std::string Run(const std::string& line) {
    std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    out_.str("");
    if (words.empty()) return "";
    const std::string cmd = words[0];
    args_.assign(words.begin() + 1, words.end());
    if (cmd == "cluster") {
      Create();
    } else if (cmd == "add-node") {
      cluster_->AddNode(Id(0), {});
      out_ << "ok\n";
    } else if (cmd == "campaign") {
      PrintStatus(cluster_->raft(Id(0)).Campaign());
    } else if (cmd == "tick") {
      for (int64_t i = 0; i < Int(1, 1); ++i) cluster_->Tick(Id(0));
      out_ << cluster_->DescribeNode(Id(0)) << "\n";
    } else if (cmd == "tick-all") {
      for (int64_t i = 0; i < Int(0, 1); ++i) {
        for (const auto& [id, n] : cluster_->nodes()) cluster_->Tick(id);
      }
      Status();
    } else if (cmd == "propose") {
      auto r = cluster_->raft(Id(0)).Propose(Named("records", 1),
                                             absl::StrCat("payload-", ++payloads_));
      if (r.ok()) out_ << "entry " << *r << "\n";
      else out_ << "error: " << r.status() << "\n";
    } else if (cmd == "propose-conf") {
      ConfChangeType type = args_[1] == "add-learner" ? CONF_ADD_LEARNER
                            : args_[1] == "promote"   ? CONF_PROMOTE_LEARNER
                                                      : CONF_REMOVE_NODE;
      NodeId target = Id(2);
      auto r = cluster_->raft(Id(0)).ProposeConfChange(type, target);
      if (r.ok()) out_ << "entry " << *r << "\n";
      else out_ << "error: " << r.status() << "\n";
    } else if (cmd == "transfer") {
      PrintStatus(cluster_->raft(Id(0)).TransferLeadership(Id(1)));
    } else if (cmd == "read-index") {
      PrintStatus(cluster_->raft(Id(0)).ReadIndex(static_cast<uint64_t>(Int(1, 0))));
    } else if (cmd == "reads") {
      auto& reads = cluster_->node(Id(0)).read_states;
      for (const ReadState& rs : reads) {
        out_ << "read " << rs.request_id << " at offset " << rs.read_offset << "\n";
      }
      if (reads.empty()) out_ << "no reads\n";
      reads.clear();
    } else if (cmd == "process-ready") {
      ProcessReady(Id(0), true, true);
    } else if (cmd == "write") {
      ProcessReady(Id(0), true, false);
    } else if (cmd == "sync") {
      ProcessReady(Id(0), false, true);
    } else if (cmd == "deliver" || cmd == "drop") {
      DeliverOrDrop(cmd == "deliver");
    } else if (cmd == "messages") {
      for (const Message& m : cluster_->in_flight()) out_ << testing::Cluster::Describe(m) << "\n";
      if (cluster_->in_flight().empty()) out_ << "no messages\n";
    } else if (cmd == "stabilize") {
      cluster_->Stabilize(1000, [&](const Message& m, const absl::Status& s) {
        out_ << testing::Cluster::Describe(m);
        if (!s.ok()) out_ << "  => " << s;
        out_ << "\n";
      });
      Status();
    } else if (cmd == "isolate") {
      std::set<NodeId> group;
      for (size_t i = 0; i < args_.size(); ++i) group.insert(Id(i));
      cluster_->Isolate(group);
      out_ << "ok\n";
    } else if (cmd == "cut") {
      cluster_->Cut(Id(0), Id(1));
      out_ << "ok\n";
    } else if (cmd == "heal") {
      cluster_->Heal();
      out_ << "ok\n";
    } else if (cmd == "crash") {
      cluster_->Crash(Id(0));
      out_ << cluster_->DescribeNode(Id(0)) << "\n";
    } else if (cmd == "restart") {
      cluster_->Restart(Id(0));
      out_ << cluster_->DescribeNode(Id(0)) << "\n" << cluster_->DescribeLog(Id(0)) << "\n";
    } else if (cmd == "compact") {
      cluster_->Compact(Id(0), Int(1, 0));
      out_ << cluster_->DescribeLog(Id(0)) << "\n";
    } else if (cmd == "status") {
      Status();
    } else if (cmd == "log") {
      if (args_.empty()) {
        for (const auto& [id, n] : cluster_->nodes()) out_ << cluster_->DescribeLog(id) << "\n";
      } else {
        out_ << cluster_->DescribeLog(Id(0)) << "\n";
      }
    } else if (cmd == "counters") {
      const Counters& c = cluster_->raft(Id(0)).counters();
      out_ << "invalid=" << c.invalid_messages << " stale_term=" << c.stale_term_messages
           << " unknown_sender=" << c.unknown_sender_messages
           << " disruptive_votes_ignored=" << c.disruptive_votes_ignored
           << " snapshot_chunks_ignored=" << c.snapshot_chunks_ignored
           << " proposals_refused=" << c.proposals_refused << "\n";
    } else if (cmd == "check") {
      PrintStatus(cluster_->CheckSafety());
    } else {
      ADD_FAILURE() << "unknown command " << cmd;
    }
    // Every command ends with the safety checker; a violation fails the transcript.
    if (cluster_ && !planted_bug_) {
      absl::Status safety = cluster_->CheckSafety();
      EXPECT_TRUE(safety.ok()) << line << ": " << safety;
    }
    return out_.str();
  }

 private:
  void Create() {
    testing::Cluster::Options options;
    options.config.pre_vote = Named("pre_vote", 1) != 0;
    options.config.check_quorum = Named("check_quorum", 1) != 0;
    options.config.election_timeout_ticks = static_cast<int>(Named("election", 10));
    options.config.heartbeat_interval_ticks = static_cast<int>(Named("heartbeat", 1));
    options.config.inflight_messages_max = static_cast<int>(Named("inflight", 8));
    options.config.append_entries_count_max = static_cast<int>(Named("batch", 64));
    options.config.snapshot_chunk_size_bytes_max = static_cast<uint64_t>(Named("chunk", 64));
    options.snapshot_state_size_bytes = static_cast<uint64_t>(Named("snapshot_bytes", 0));
    options.seed = static_cast<uint64_t>(Named("seed", 1));
    // bug=N switches on PlantedBug N (1 = count stale votes, 2 = commit previous term, ...):
    // such transcripts show the checker's verdict through `check` instead of failing.
    options.config.planted_bug = static_cast<PlantedBug>(Named("bug", 0));
    planted_bug_ = options.config.planted_bug != PlantedBug::kNone;
    cluster_ = std::make_unique<testing::Cluster>(options);
    const int64_t n = Named("n", 3);
    std::vector<NodeId> voters;
    for (int64_t i = 1; i <= n; ++i) voters.push_back(static_cast<NodeId>(i));
    for (NodeId id : voters) cluster_->AddNode(id, voters);
    Status();
  }

  void ProcessReady(NodeId id, bool write, bool sync) {
    testing::Cluster::Node& n = cluster_->node(id);
    if (write) {
      if (!cluster_->Write(id)) {
        out_ << "no ready\n";
        return;
      }
      const Ready& r = *n.written;
      if (r.soft_state) {
        out_ << "soft: " << RoleName(r.soft_state->role) << " leader=" << r.soft_state->leader
             << " term=" << r.soft_state->term << "\n";
      }
      if (r.hard_state) {
        out_ << "hard: term=" << r.hard_state->term() << " vote=" << r.hard_state->vote()
             << " commit=" << r.hard_state->commit_offset() << "\n";
      }
      if (r.snapshot) {
        out_ << "snapshot: " << r.snapshot->term() << "/" << r.snapshot->last_offset() << "\n";
      }
      if (!r.entries.empty()) {
        std::vector<std::string> parts;
        for (const Entry& e : r.entries) {
          parts.push_back(absl::StrCat(e.term(), "/", e.base_offset(), "-", e.last_offset()));
        }
        out_ << "entries: " << absl::StrJoin(parts, " ") << "\n";
      }
      out_ << "must_sync: " << (r.must_sync ? "true" : "false") << "\n";
      if (!r.committed.empty()) {
        out_ << "committed: " << r.committed.first_offset << ".." << r.committed.last_offset
             << "\n";
      }
      for (const Message& m : r.messages) out_ << "send " << testing::Cluster::Describe(m) << "\n";
    }
    if (sync) {
      if (!n.written) {
        out_ << "nothing written\n";
        return;
      }
      cluster_->SyncAndSend(id);
      if (!write) out_ << "synced and sent\n";
    }
  }

  void DeliverOrDrop(bool deliver) {
    const int64_t from = Named("from", 0), to = Named("to", 0);
    std::string type;
    for (const std::string& a : args_) {
      if (absl::StartsWith(a, "type=")) type = a.substr(5);
    }
    size_t i = 0;
    int count = 0;
    while (i < cluster_->in_flight().size()) {
      const Message& m = cluster_->in_flight()[i];
      std::string description = testing::Cluster::Describe(m);
      std::vector<std::string> words = absl::StrSplit(description, ' ');
      bool match = (from == 0 || m.from() == static_cast<NodeId>(from)) &&
                   (to == 0 || m.to() == static_cast<NodeId>(to)) &&
                   (type.empty() || words[1] == type);
      if (!match) {
        ++i;
        continue;
      }
      ++count;
      if (deliver) {
        absl::Status s = cluster_->Deliver(i);
        out_ << description;
        if (!s.ok()) out_ << "  => " << s;
        out_ << "\n";
      } else {
        cluster_->Drop(i);
        out_ << "dropped " << description << "\n";
      }
    }
    if (count == 0) out_ << "no messages\n";
  }

  void Status() {
    for (const auto& [id, n] : cluster_->nodes()) out_ << cluster_->DescribeNode(id) << "\n";
  }

  void PrintStatus(const absl::Status& s) {
    if (s.ok()) out_ << "ok\n";
    else out_ << "error: " << s << "\n";
  }

  NodeId Id(size_t i) {
    uint64_t v = 0;
    EXPECT_TRUE(i < args_.size() && absl::SimpleAtoi(args_[i], &v)) << "bad node id arg " << i;
    return v;
  }
  int64_t Int(size_t i, int64_t def) {
    int64_t v = def;
    if (i < args_.size() && args_[i].find('=') == std::string::npos) {
      EXPECT_TRUE(absl::SimpleAtoi(args_[i], &v)) << args_[i];
    }
    return v;
  }
  int64_t Named(const std::string& key, int64_t def) {
    for (const std::string& a : args_) {
      if (absl::StartsWith(a, key + "=")) {
        int64_t v = def;
        EXPECT_TRUE(absl::SimpleAtoi(a.substr(key.size() + 1), &v)) << a;
        return v;
      }
    }
    return def;
  }

  std::unique_ptr<testing::Cluster> cluster_;
  std::vector<std::string> args_;
  std::ostringstream out_;
  int payloads_ = 0;
  bool planted_bug_ = false;
};

std::vector<std::string> ListTranscripts(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (absl::EndsWith(name, ".txt")) names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

TEST(InteractionTest, Transcripts) {
  const std::string dir = "raft/testdata";
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  const std::string write_dir =
      workspace != nullptr ? absl::StrCat(workspace, "/", dir) : dir;
  std::vector<std::string> names = ListTranscripts(g_rewrite ? write_dir : dir);
  if (!g_rewrite) {
    ASSERT_GE(names.size(), 25u) << "expected at least 25 transcripts in " << dir;
  }
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    std::ifstream in((g_rewrite ? write_dir : dir) + "/" + name);
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::vector<Block> blocks = ParseFile(buffer.str());
    ASSERT_FALSE(blocks.empty());
    Interpreter interpreter;
    std::string rewritten;
    for (const Block& b : blocks) {
      std::string actual = interpreter.Run(b.command);
      if (!g_rewrite) {
        EXPECT_EQ(b.expected, actual) << "command: " << b.command;
      }
      if (!rewritten.empty()) rewritten += "\n";
      absl::StrAppend(&rewritten, b.comments, b.command, "\n----\n", actual);
    }
    if (g_rewrite) {
      std::ofstream out(write_dir + "/" + name);
      out << rewritten;
    }
  }
}

}  // namespace
}  // namespace eddy::raft

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--rewrite") eddy::raft::g_rewrite = true;
  }
  return RUN_ALL_TESTS();
}
