#!/usr/bin/env bash
# Runs group_clients_test.py with Debian's Python (where python3-kafka and python3-confluent-kafka
# live) against the eddyd built by Bazel. kafkajs comes from core/kafka/capture/node_modules
# (installed by tools/setup.sh from its lock file), found through the runfiles link of its
# package.json back into the source tree.
set -euo pipefail
here=$(dirname "$0")
export EDDYD="$1"
package_json=$(readlink -f "$2")
export KAFKAJS_NODE_MODULES="$(dirname "$package_json")/node_modules"
exec /usr/bin/python3 -u "$here/group_clients_test.py"
