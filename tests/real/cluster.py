"""Real eddyd processes on loopback for the real-client tests: free ports, start, wait until
every node logs event=ready, SIGTERM/SIGKILL and restart on the same data directories; and
run_suite, which runs a unittest case class against a fresh cluster and writes one JUnit case
per test to $XML_OUTPUT_FILE (what tools/count_results.py counts)."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from xml.sax.saxutils import escape, quoteattr


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class Cluster:
    def __init__(self, eddyd, root, nodes=3, replication=3):
        self.eddyd = eddyd
        self.root = root
        self.ids = list(range(1, nodes + 1))
        ports = free_ports(2 * nodes)
        self.kafka = {i: ports[2 * (i - 1)] for i in self.ids}
        self.peer = {i: ports[2 * (i - 1) + 1] for i in self.ids}
        self.replication = replication
        self.procs = {}

    def bootstrap(self):
        return ",".join("127.0.0.1:%d" % self.kafka[i] for i in self.ids)

    def log_path(self, i):
        return os.path.join(self.root, "node%d.log" % i)

    def start(self, i):
        voters = ",".join("%d@127.0.0.1:%d" % (j, self.peer[j]) for j in self.ids)
        args = [self.eddyd,
                "--override", "node.id=%d" % i,
                "--override", "controller.quorum.voters=" + voters,
                "--override", "listeners=PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d"
                % (self.kafka[i], self.peer[i]),
                "--override", "log.dirs=" + os.path.join(self.root, "data%d" % i),
                "--override", "default.replication.factor=%d" % self.replication,
                # A broker-level topic default, so DescribeConfigs shows a broker source.
                "--override", "log.retention.ms=86400000"]
        log = open(self.log_path(i), "a")
        self.procs[i] = subprocess.Popen(args, stdout=log, stderr=log)

    def start_all(self, timeout=60):
        for i in self.ids:
            self.start(i)
        self.wait_ready(self.ids, timeout)

    def wait_ready(self, ids, timeout=60):
        deadline = time.time() + timeout
        for i in ids:
            while True:
                with open(self.log_path(i)) as f:
                    lines = f.read().splitlines()
                starts = [n for n, l in enumerate(lines) if "event=listening" in l]
                if starts and any("event=ready" in l for l in lines[starts[-1]:]):
                    break
                if self.procs[i].poll() is not None:
                    raise RuntimeError("eddyd %d exited: %s" % (i, "\n".join(lines[-5:])))
                if time.time() > deadline:
                    raise RuntimeError("eddyd %d not ready in %ds" % (i, timeout))
                time.sleep(0.05)

    def stop(self, i, sig=signal.SIGTERM, timeout=20):
        """Signals node i and returns its exit status (it is SIGKILLed if it overstays)."""
        p = self.procs.pop(i)
        p.send_signal(sig)
        try:
            return p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise

    def stop_all(self):
        for i in list(self.procs):
            self.stop(i)


class _JUnitResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cases = []

    def addSuccess(self, test):
        super().addSuccess(test)
        self.cases.append((test.id(), None))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.cases.append((test.id(), self._exc_info_to_string(err, test)))

    def addError(self, test, err):
        super().addError(test, err)
        self.cases.append((test.id(), self._exc_info_to_string(err, test)))


def _write_junit(path, suite_name, cases):
    body = "".join(
        "<testcase name=%s>%s</testcase>" % (
            quoteattr(name), "" if err is None else "<failure>%s</failure>" % escape(err))
        for name, err in cases)
    with open(path, "w") as f:
        f.write('<?xml version="1.0"?><testsuites><testsuite name=%s>%s</testsuite></testsuites>'
                % (quoteattr(suite_name), body))


def run_suite(case_class, make_cluster):
    """Starts make_cluster(root), runs every test of case_class with the cluster as
    case_class.cluster, stops it, prints each node's log tail, and exits 0 iff all passed."""
    cluster = make_cluster(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")))
    case_class.cluster = cluster
    try:
        cluster.start_all()
        suite = unittest.defaultTestLoader.loadTestsFromTestCase(case_class)
        result = unittest.TextTestRunner(resultclass=_JUnitResult, verbosity=2).run(suite)
    finally:
        cluster.stop_all()
        for i in cluster.ids:
            with open(cluster.log_path(i)) as f:
                tail = f.read().splitlines()[-15:]
            print("--- node %d log (tail)\n%s" % (i, "\n".join(tail)))
    if os.environ.get("XML_OUTPUT_FILE"):
        _write_junit(os.environ["XML_OUTPUT_FILE"], case_class.__name__, result.cases)
    sys.exit(0 if result.wasSuccessful() else 1)
