"""Runs each real Kafka client against the capture listener and stores its request frames.

    /usr/bin/python3 core/kafka/capture/capture_all.py            # every client
    /usr/bin/python3 core/kafka/capture/capture_all.py kcat       # just one (others kept as they are)
    /usr/bin/python3 core/kafka/capture/capture_all.py --table-only   # CLIENT_VERSIONS.md only

For each client: a fresh listener on an ephemeral loopback port, the client's driver run with the
bootstrap address as its argument, killed (with its process group) after DRIVER_TIME_S_MAX. Then,
per (api key, api version) the client used, up to FRAMES_PER_VERSION_MAX frames that differ in more
than their correlation id are written to core/kafka/testdata/<client>-<Api>-v<version>-<n>.bin,
exactly the bytes after the 4-byte length prefix. MANIFEST.tsv, USED.tsv and CLIENT_VERSIONS.md
there are rewritten from what was captured. Frames differ run to run (client ids, member ids,
timestamps), so a regeneration is reviewed as a whole, not diffed byte by byte.
"""

import hashlib
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import kafka_wire as kw  # noqa: E402
import listener  # noqa: E402

TESTDATA = os.path.normpath(os.path.join(HERE, "..", "testdata"))
DRIVER_TIME_S_MAX = 90
FRAMES_PER_VERSION_MAX = 3
FRAMES_MAX_OVERRIDE = {"kcat-compressed": 4}  # one Produce frame per codec
PYTHON = "/usr/bin/python3"

KCAT = ["bash", os.path.join(HERE, "drive_kcat.sh")]
KAFKA_PYTHON = [PYTHON, os.path.join(HERE, "drive_kafka_python.py")]
# name -> (driver command, extra environment). The -legacy runs force old protocol versions the
# way a user can (no ApiVersions, versions fixed by a configured broker version), for golden frames
# of the low versions that the default runs never send.
CLIENTS = {
    "kcat": (KCAT, {}),
    "kafka-python": (KAFKA_PYTHON, {}),
    "confluent-kafka": ([PYTHON, os.path.join(HERE, "drive_confluent_kafka.py")], {}),
    "kafkajs": (["node", os.path.join(HERE, "drive_kafkajs.js")], {}),
    "librdkafka": (["bash", os.path.join(HERE, "drive_librdkafka.sh")], {}),
    "kcat-compressed": (["bash", os.path.join(HERE, "drive_kcat_compressed.sh")], {}),
    "kcat-legacy": (KCAT, {"KCAT_EXTRA": "-X api.version.request=false "
                                         "-X broker.version.fallback=0.9.0"}),
    "kafka-python-legacy": (KAFKA_PYTHON, {"KAFKA_PYTHON_API_VERSION": "0.10.0"}),
}


def client_version(client):
    """The exact version string of a client, as its own tooling reports it, and how it ran."""
    if client.endswith("-legacy"):
        env = CLIENTS[client][1]
        return "%s, %s" % (client_version(client[:-len("-legacy")]),
                           " ".join("%s=%s" % kv for kv in sorted(env.items())))
    if client == "kcat-compressed":
        return client_version("kcat") + ", -z gzip|snappy|lz4|zstd"
    if client == "kcat":
        out = subprocess.run(["kcat", "-V"], capture_output=True, text=True).stdout
        line = [x for x in out.splitlines() if x.startswith("Version")][0]
        kcat_version = line.split()[1]
        librdkafka = line.split("librdkafka ")[1].split()[0]
        return "kcat %s (librdkafka %s)" % (kcat_version, librdkafka)
    if client == "kafka-python":
        code = "import kafka; print(kafka.__version__)"
        return "kafka-python " + subprocess.run([PYTHON, "-c", code], capture_output=True,
                                                text=True).stdout.strip()
    if client == "confluent-kafka":
        code = ("import confluent_kafka as c; "
                "print('%s (librdkafka %s)' % (c.version()[0], c.libversion()[0]))")
        return "confluent-kafka-python " + subprocess.run(
            [PYTHON, "-c", code], capture_output=True, text=True).stdout.strip()
    if client == "librdkafka":
        code = "dpkg-query -W -f='${Version}' librdkafka-dev"
        version = subprocess.run(["sh", "-c", code], capture_output=True, text=True).stdout
        return "librdkafka %s (C admin API)" % version.split("-")[0]
    if client == "kafkajs":
        code = "console.log(require('kafkajs/package.json').version)"
        return "kafkajs " + subprocess.run(["node", "-e", code], cwd=HERE, capture_output=True,
                                           text=True).stdout.strip()
    raise ValueError(client)


def run_client(client):
    server = listener.CaptureServer().start()
    bootstrap = "127.0.0.1:%d" % server.port
    log_path = os.path.join("/tmp", "eddy-capture-%s.log" % client)
    started = time.monotonic()
    with open(log_path, "w") as log:
        command, env = CLIENTS[client]
        proc = subprocess.Popen(command + [bootstrap], cwd=HERE, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                env=dict(os.environ, **env))
        try:
            proc.wait(timeout=DRIVER_TIME_S_MAX)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            print("capture: %s killed after %d s" % (client, DRIVER_TIME_S_MAX))
    server.stop()
    print("capture: %s exited %s after %.1f s, %d frames, log in %s" % (
        client, proc.returncode, time.monotonic() - started, len(server.state.frames), log_path))
    if server.state.unhandled:
        print("capture: %s unhandled: %s" % (client, sorted(set(server.state.unhandled))))
    return [frame for _, _, frame in server.state.frames]


def masked(frame):
    """The frame with its correlation id zeroed: frames equal under this are one frame for us."""
    return frame[:4] + b"\0\0\0\0" + frame[8:]


def select(frames, frames_max=FRAMES_PER_VERSION_MAX):
    """(api key, version) -> up to frames_max distinct frames, in arrival order."""
    chosen = {}
    for frame in frames:
        header = kw.parse_request_header(frame)
        key = (header[0], header[1])
        kept = chosen.setdefault(key, [])
        if len(kept) < frames_max and all(masked(f) != masked(frame) for f in kept):
            kept.append(frame)
    return chosen


def read_tsv(name):
    path = os.path.join(TESTDATA, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        lines = [line.rstrip("\n").split("\t") for line in f if not line.startswith("#")]
    return lines[1:] if lines else []


def write_tsv(name, header, rows):
    with open(os.path.join(TESTDATA, name), "w") as f:
        f.write("\t".join(header) + "\n")
        for row in rows:
            f.write("\t".join(str(x) for x in row) + "\n")


MANIFEST_HEADER = ["file", "client", "client_version", "api_key", "api_name", "api_version",
                   "header_version", "correlation_id", "client_id", "size_bytes", "sha256"]
USED_HEADER = ["client", "client_version", "api_key", "api_name", "api_version", "frame_count"]


def store(client, version, frames):
    for name in os.listdir(TESTDATA):
        if name.startswith(client + "-") and name.endswith(".bin"):
            os.remove(os.path.join(TESTDATA, name))
    rows = [row for row in read_tsv("MANIFEST.tsv") if row[1] != client]
    for (api_key, api_version), kept in sorted(
            select(frames, FRAMES_MAX_OVERRIDE.get(client, FRAMES_PER_VERSION_MAX)).items()):
        for n, frame in enumerate(kept):
            _, _, correlation_id, client_id, header_version, _ = kw.parse_request_header(frame)
            name = "%s-%s-v%d-%d.bin" % (client, kw.api_name(api_key), api_version, n)
            with open(os.path.join(TESTDATA, name), "wb") as f:
                f.write(frame)
            rows.append([name, client, version, api_key, kw.api_name(api_key), api_version,
                         header_version, correlation_id, client_id, len(frame),
                         hashlib.sha256(frame).hexdigest()])
    write_tsv("MANIFEST.tsv", MANIFEST_HEADER, sorted(rows))

    used = [row for row in read_tsv("USED.tsv") if row[0] != client]
    counts = {}
    for frame in frames:
        header = kw.parse_request_header(frame)
        counts[(header[0], header[1])] = counts.get((header[0], header[1]), 0) + 1
    for (api_key, api_version), count in sorted(counts.items()):
        used.append([client, version, api_key, kw.api_name(api_key), api_version, count])
    write_tsv("USED.tsv", USED_HEADER, sorted(used, key=lambda r: (r[0], int(r[2]), int(r[4]))))


def write_client_versions():
    used = read_tsv("USED.tsv")
    clients = [c for c in CLIENTS if any(row[0] == c for row in used)]
    versions = {row[0]: row[1] for row in used}
    table = {}
    for client, _, api_key, api_name, api_version, _ in used:
        table.setdefault((int(api_key), api_name), {}).setdefault(client, []).append(
            int(api_version))
    lines = ["# Which client uses which version of which API", "",
             "Generated by `/usr/bin/python3 core/kafka/capture/capture_all.py` from what each "
             "client actually sent to the capture listener, which advertised every API in "
             "`core/kafka/capture/kafka_wire.py` from version 0 to the `advertised` column, "
             "our reading of Apache Kafka 3.9's highest versions (a fixture's choice, not the "
             "reference: `core/kafka/PROTOCOL.md` has the ranges Eddy implements). So each number is the client's own choice (its highest, or "
             "what its broker-version inference picked), not a limit of ours. Several numbers: "
             "the client used each. `*` marks a flexible version (compact encodings, tagged "
             "fields, request header v2). `all` is the span over the clients in their default "
             "configuration (not the `-legacy` runs, which force old versions the way a user "
             "can: no ApiVersions, a configured broker version): the least any advertised "
             "range must cover.", "",
             "Clients: " + "; ".join("`%s` = %s" % (c, versions[c]) for c in clients), "",
             "| key | API | " + " | ".join(clients) + " | all | advertised |",
             "|---|---|" + "---|" * (len(clients) + 2)]

    def cell(api_key, used_versions):
        return ", ".join("%d%s" % (v, "*" if kw.is_flexible(api_key, v) else "")
                         for v in sorted(set(used_versions))) or "—"

    for (api_key, api_name), per_client in sorted(table.items()):
        every = [v for c, vs in per_client.items() if not c.endswith("-legacy") for v in vs]
        every = every or [v for vs in per_client.values() for v in vs]
        cells = [cell(api_key, per_client.get(c, [])) for c in clients]
        span = "%d–%d" % (min(every), max(every)) if min(every) != max(every) else str(min(every))
        lines.append("| %d | %s | %s | %s | %d |" % (api_key, api_name, " | ".join(cells), span,
                                                     kw.APIS[api_key][2]))
    notes = os.path.join(HERE, "client_notes.md")
    if os.path.exists(notes):
        lines += ["", open(notes).read().rstrip()]
    with open(os.path.join(TESTDATA, "CLIENT_VERSIONS.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv):
    if argv[1:] == ["--table-only"]:  # after editing client_notes.md: no client is run
        write_client_versions()
        return
    clients = argv[1:] or list(CLIENTS)
    for client in clients:
        if client not in CLIENTS:
            sys.exit("capture: unknown client %s (known: %s)" % (client, ", ".join(CLIENTS)))
    os.makedirs(TESTDATA, exist_ok=True)
    for client in clients:
        version = client_version(client)
        frames = run_client(client)
        if not frames:
            print("capture: %s sent nothing; its old frames are kept" % client)
            continue
        store(client, version, frames)
    write_client_versions()
    import cross_check
    cross_check.main()


if __name__ == "__main__":
    main(sys.argv)
