# Shared by the network benchmarks (sourced, not run): process bookkeeping, timing, DCMTK readiness checks,
# the receive folder (a fresh file system per run), and Orthanc's private network namespace.
# The sourcing script sets `recv` (receive folder) and `out` (its output folder) before calling prepare_receive_dir.

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
    release_receive_dir
}

now() { date +%s.%N; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; } # user+system of a process, in clock ticks

wait_echo() { # host port aet [tries of 0.1 s]
    for _ in $(seq 1 "${4:-300}"); do echoscu -to 2 -aec "$3" "$1" "$2" 2>/dev/null && return 0; sleep 0.1; done
    echo "no C-ECHO answer from $3 at $1:$2" >&2
    return 1
}

# The receive folder. The machine's own ext4 has no journal, and there creating a file scans past every inode of its
# block group deleted less than 60 s ago (360 s while the inode-table block is dirty) by the inode's deletion time.
# These machines start every session at the same date, so files deleted by an earlier session can look "recently
# deleted" for hours: creating one file in such a group was measured at 0.6-0.8 ms instead of 0.02 ms, more than
# `storescp` spends on a whole instance. As root (default), every run therefore receives into a fresh journaled ext4
# (a sparse image, loop-mounted on `recv`, removed at the end), the file system a lab server would have.
# BENCH_RECEIVE_FS=dir keeps the old way: a plain folder, with the wait for deleted inodes to age.
# Each receiver still gets a fresh folder; the creation cost is probed and printed, so a slow folder shows.
recv_img="" recv_loop=""
prepare_receive_dir() {
    release_receive_dir
    if [ "${BENCH_RECEIVE_FS:-loop}" = loop ] && [ "$(id -u)" = 0 ]; then
        recv_img="$out/recv.img"
        rm -f "$recv_img"; truncate -s "${BENCH_RECEIVE_FS_SIZE:-40G}" "$recv_img"
        # Direct I/O to the image: without it every received byte sits in the page cache twice (the file system's and
        # the image file's), and the memory pressure lands on whichever receiver runs first.
        recv_loop=$(losetup --direct-io=on -f --show "$recv_img")
        # Inode tables and journal written now: lazily, the kernel zeroes them in the background during the first runs.
        mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$recv_loop"
        mkdir -p "$recv"; mount "$recv_loop" "$recv"
    else
        if [ -f "$out/.deleted-at" ]; then
            local age=$(( $(date +%s) - $(cat "$out/.deleted-at") ))
            if ((age < 65)); then echo "waiting $((65 - age)) s for recently deleted inodes to age" >&2; sync; sleep $((65 - age)); fi
        fi
        mkdir -p "$recv"
    fi
    echo "receive folder: $recv ($( [ -n "$recv_img" ] && echo "fresh ext4 on a loop device" || echo "plain folder")), file creation $(probe_create "$recv") ms/file" >&2
}

# Average time to create a small file in a fresh subfolder (200 files), in ms.
probe_create() {
    /usr/bin/python3 - "$1" <<'PY'
import os, sys, time
d = os.path.join(sys.argv[1], ".probe"); os.makedirs(d)
t = time.perf_counter()
for i in range(200):
    fd = os.open(os.path.join(d, f"{i}.part"), os.O_CREAT | os.O_WRONLY, 0o644); os.write(fd, b"x" * 512); os.close(fd)
print(f"{(time.perf_counter() - t) * 1000 / 200:.3f}")
PY
}

# Removes what was received (unmounts and deletes the image, or deletes the folder and notes when).
release_receive_dir() {
    if mountpoint -q "$recv" 2>/dev/null; then umount "$recv" || umount -l "$recv"; fi
    if [ -n "${recv_loop:-}" ]; then losetup -d "$recv_loop" 2>/dev/null || true; recv_loop=""; fi
    if [ -n "$recv_img" ] || [ -f "$out/recv.img" ]; then rm -f "$out/recv.img"; recv_img=""; rmdir "$recv" 2>/dev/null || true
    elif [ -e "$recv" ]; then rm -rf "$recv"; date +%s >"$out/.deleted-at"; fi
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
