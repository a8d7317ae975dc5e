"""Real eddyd processes on loopback for the real-client tests: free ports, start, wait until
every node logs event=ready, SIGTERM/SIGKILL and restart on the same data directories."""
import os
import signal
import socket
import subprocess
import time


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
