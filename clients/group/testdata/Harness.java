// Runs Kafka's Java assignors over the groups of java_assignments.txt's case format (stdin) and
// prints "<case> <assignor> <member>: <partitions>;..." per assignor. Built against Kafka's client
// sources; see README.md in this directory.
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.internals.AbstractPartitionAssignor;
import org.apache.kafka.common.TopicPartition;
import java.io.*;
import java.nio.ByteBuffer;
import java.util.*;

public class Harness {
  static List<String> split(String s) {
    List<String> out = new ArrayList<>();
    if (s.equals("-")) return out;
    for (String x : s.split(",")) out.add(x);
    return out;
  }
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    String line;
    Map<String, Integer> topics = null;
    List<String[]> members = null;
    int n = 0;
    while ((line = in.readLine()) != null) {
      String[] f = line.split(" ");
      if (f[0].equals("case")) { topics = new HashMap<>(); members = new ArrayList<>(); }
      else if (f[0].equals("topic")) topics.put(f[1], Integer.parseInt(f[2]));
      else if (f[0].equals("member")) members.add(f);
      else if (f[0].equals("end")) { run(n++, topics, members); }
    }
  }
  static void run(int n, Map<String, Integer> topics, List<String[]> members) {
    // member <id> <instance|-> <generation> <userdata-generation|-> <topics> <owned>
    members.sort(Comparator.comparing(m -> m[1]));
    Map<String, Subscription> subs = new HashMap<>();
    Set<String> subscribed = new HashSet<>();
    for (String[] m : members) {
      List<String> ts = split(m[5]);
      subscribed.addAll(ts);
      List<TopicPartition> owned = new ArrayList<>();
      for (String o : split(m[6])) { int c = o.lastIndexOf(':'); owned.add(new TopicPartition(o.substring(0, c), Integer.parseInt(o.substring(c + 1)))); }
      ByteBuffer ud = null;
      if (!m[4].equals("-")) { ud = ByteBuffer.allocate(4); ud.putInt(Integer.parseInt(m[4])); ud.flip(); }
      Subscription s = new Subscription(ts, ud, owned, Integer.parseInt(m[3]), Optional.empty());
      s.setGroupInstanceId(m[2].equals("-") ? Optional.empty() : Optional.of(m[2]));
      subs.put(m[1], s);
    }
    Map<String, Integer> ppt = new HashMap<>();
    for (Map.Entry<String, Integer> e : topics.entrySet())
      if (subscribed.contains(e.getKey()) && e.getValue() > 0) ppt.put(e.getKey(), e.getValue());
    AbstractPartitionAssignor[] assignors = {new RangeAssignor(), new RoundRobinAssignor(), new CooperativeStickyAssignor()};
    for (AbstractPartitionAssignor a : assignors) {
      String out;
      try {
        Map<String, List<TopicPartition>> r = a.assign(ppt, subs);
        StringBuilder sb = new StringBuilder();
        for (String id : new TreeSet<>(r.keySet())) {
          List<TopicPartition> l = new ArrayList<>(r.get(id));
          l.sort(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
          sb.append(id).append(":");
          for (TopicPartition tp : l) sb.append(" ").append(tp.topic()).append("-").append(tp.partition());
          sb.append(";");
        }
        out = sb.toString();
      } catch (Throwable t) { out = "EXCEPTION " + t; }
      System.out.println(n + " " + a.name() + " " + out);
    }
  }
}
