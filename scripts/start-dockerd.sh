#!/usr/bin/env bash
# Starts the private Docker daemon the workflow tests run containers on, and prints its endpoint (unix://...) on stdout.
#
# Idempotent: when the socket already answers /_ping the running daemon is reused. The data root lives at a fixed
# machine-wide path so images built by algorithms/build-images.sh survive between runs; the daemon itself does not
# outlive the machine's session, so CI starts it afresh. Flags (FIELD-NOTES "Docker"): no iptables and no bridge,
# because containers here only ever run with --network none.
#
# Overrides: KAAPANA_TEST_DOCKER_STATE (data, log; default /var/lib/kaapana-test-docker),
#            KAAPANA_TEST_DOCKER_RUN (socket, exec root, pid file; default /run/kaapana-test-docker).
# Needs root (dockerd does). Exits non-zero, with the daemon log's tail on stderr, if the daemon does not come up.
set -euo pipefail

state_dir=${KAAPANA_TEST_DOCKER_STATE:-/var/lib/kaapana-test-docker}
run_dir=${KAAPANA_TEST_DOCKER_RUN:-/run/kaapana-test-docker}
socket="$run_dir/docker.sock"
endpoint="unix://$socket"
pid_file="$run_dir/dockerd.pid"
log_file="$state_dir/dockerd.log"

die() {
  echo "start-dockerd.sh: $*" >&2
  exit 1
}

# Debian's CLI (docker.io, like dockerd) speaks the daemon's API; `version` pings it and needs its answer.
docker_cli=/usr/bin/docker
answers() {
  [[ -S $socket ]] && timeout 5 "$docker_cli" -H "$endpoint" version --format '{{.Server.APIVersion}}' >/dev/null 2>&1
}

if answers; then
  echo "$endpoint"
  exit 0
fi

[[ $(id -u) -eq 0 ]] || die "dockerd needs root; run as root (CI and scripts/test.sh do)"
dockerd=$(command -v dockerd || true)
[[ -n $dockerd ]] || dockerd=/usr/sbin/dockerd
[[ -x $dockerd ]] || die "dockerd not found: install the Debian package docker.io (scripts/test.sh does)"
[[ -x $docker_cli ]] || die "$docker_cli not found: install the Debian package docker.io (scripts/test.sh does)"

mkdir -p "$state_dir/root" "$run_dir/exec"
# Two test runs starting at once must not start two daemons on one data root.
exec 9>"$run_dir/start.lock"
flock 9
if answers; then
  echo "$endpoint"
  exit 0
fi

# A daemon of ours that is still starting: wait for it rather than start a second one on the same data root.
pid=$(cat "$pid_file" 2>/dev/null || true)
if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == *dockerd* ]]; then
  echo "start-dockerd.sh: dockerd (pid $pid) is running but not answering yet; waiting" >&2
else
  # Left behind by a daemon that died: dockerd refuses to start over a live-looking pid file or socket.
  rm -f "$socket" "$pid_file"
  echo "start-dockerd.sh: starting dockerd ($endpoint, data $state_dir/root, log $log_file)" >&2
  # setsid + nohup: the daemon must outlive this script (and test.sh), and not take its terminal's signals.
  setsid nohup "$dockerd" \
    --host "$endpoint" \
    --data-root "$state_dir/root" \
    --exec-root "$run_dir/exec" \
    --pidfile "$pid_file" \
    --iptables=false --ip6tables=false --bridge=none \
    --log-level warn \
    >>"$log_file" 2>&1 </dev/null 9>&- &
  pid=$!
fi

for _ in $(seq 1 120); do
  if answers; then
    echo "$endpoint"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done

echo "start-dockerd.sh: dockerd did not answer on $socket; last lines of $log_file:" >&2
tail -n 30 "$log_file" >&2 || true
die "dockerd failed to start"
