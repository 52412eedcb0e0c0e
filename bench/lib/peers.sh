# Shared by the network benchmarks (sourced, not run): process bookkeeping, timing, DCMTK readiness checks,
# the receive folder's inode ageing, and Orthanc's private network namespace.
# The sourcing script sets `recv` (receive folder) and `out` (its output folder) before calling age_receive_dir.

pids=() netns="" hostif=""

# Stops every process in `pids` and removes the namespace (and whatever still runs in it).
cleanup() {
    set +e
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    if [ -n "$netns" ]; then
        for p in $(ip netns pids "$netns" 2>/dev/null); do kill "$p" 2>/dev/null; done
        sleep 0.3
        ip netns del "$netns" 2>/dev/null; ip link del "$hostif" 2>/dev/null
    fi
}

now() { date +%s.%N; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; } # user+system of a process, in clock ticks

wait_echo() { # host port aet [tries of 0.1 s]
    for _ in $(seq 1 "${4:-300}"); do echoscu -to 2 -aec "$3" "$1" "$2" 2>/dev/null && return 0; sleep 0.1; done
    echo "no C-ECHO answer from $3 at $1:$2" >&2
    return 1
}

# ext4 here has no journal: creating files within ~30 s of deleting many others scans past the recently deleted inodes
# (see bench/README.md, StoreScp). Each run gets a fresh folder; deletion happens at the end only, and timing waits
# until the previous deletion is 45 s old.
age_receive_dir() {
    [ -e "$recv" ] && { rm -rf "$recv"; date +%s >"$out/.deleted-at"; }
    if [ -f "$out/.deleted-at" ]; then
        local age=$(( $(date +%s) - $(cat "$out/.deleted-at") ))
        if ((age < 45)); then echo "waiting $((45 - age)) s for recently deleted inodes to age" >&2; sync; sleep $((45 - age)); fi
    fi
    mkdir -p "$recv"
}

# Orthanc cannot bind to loopback only: it runs in its own namespace behind a host-only veth pair.
setup_netns() { # name-prefix second-octet (a free 10.<octet>.b.0/30 is picked)
    netns="$1-$$"; hostif="$1$$h"; local peerif="$1$$n" used b
    used="$(ip -4 -o addr show; ip -4 route show table all)"
    for b in $(seq 0 255); do [[ "$used" == *"10.$2.$b."* ]] || break; done
    orthanc_host="10.$2.$b.2"
    ip netns add "$netns"
    ip link add "$hostif" type veth peer name "$peerif" netns "$netns"
    ip addr add "10.$2.$b.1/30" dev "$hostif"; ip link set "$hostif" up
    ip -n "$netns" addr add "$orthanc_host/30" dev "$peerif"; ip -n "$netns" link set "$peerif" up
    ip -n "$netns" link set lo up
}

# Starts Orthanc inside the namespace (setup_netns first) with a fresh index and storage in DIR, DICOM on $orthanc_port and
# HTTP on 8042, and waits for both. PLUGINS: a JSON array of plugin paths ("[]" by default); EXTRA: more top-level JSON
# members, e.g. '"DicomWeb": { "Enable": true }'. Sets orthanc_pid; Orthanc's log is DIR/orthanc.log.
start_orthanc_in() { # dir name [plugins] [extra]
    local dir="$1" extra="${4:+, $4}"
    rm -rf "$dir"; mkdir -p "$dir"
    cat >"$dir/orthanc.json" <<JSON
{ "Name": "$2", "StorageDirectory": "$dir/storage", "IndexDirectory": "$dir/storage", "Plugins": ${3:-[]},
  "HttpServerEnabled": true, "HttpPort": 8042, "RemoteAccessAllowed": true, "AuthenticationEnabled": false,
  "DicomServerEnabled": true, "DicomAet": "ORTHANC", "DicomPort": $orthanc_port, "DicomCheckCalledAet": true,
  "DicomAlwaysAllowEcho": true, "DicomAlwaysAllowStore": true, "UnknownSopClassAccepted": true,
  "OrthancExplorerEnabled": false, "WebDavEnabled": false, "SaveJobs": false, "HttpCompressionEnabled": false$extra }
JSON
    # `ip netns exec` execs Orthanc in place, so $! is Orthanc's own pid.
    ip netns exec "$netns" Orthanc "$dir/orthanc.json" >"$dir/orthanc.log" 2>&1 &
    orthanc_pid=$!; pids+=("$orthanc_pid")
    for _ in $(seq 1 300); do curl -sf "http://$orthanc_host:8042/system" >/dev/null && break; sleep 0.1; done
    wait_echo "$orthanc_host" "$orthanc_port" ORTHANC 600
}
