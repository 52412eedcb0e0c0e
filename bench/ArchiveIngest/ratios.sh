#!/usr/bin/env bash
# Throughput ratios per repetition and of the medians, from run.sh's results.tsv (NAME<TAB>REP<TAB>SECONDS).
awk -F'\t' '
    function median(name,   n, i, j, v, x) {
        n = 0
        for (i = 1; i <= nrep; i++) if ((name, i) in t) v[++n] = t[name, i] + 0
        for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
        return n == 0 ? 0 : (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2)
    }
    function r(label, a, b) { if (a && b) printf "  %s = %.2f", label, b / a }
    function line(label, o, p, d, h, c, f, b) {
        printf "%s:", label
        r("ours/storescp", o, d); r("ours/Orthanc", o, h)
        r("before/storescp", b, d); r("before/Orthanc", b, h); r("ours/before", o, b)
        r("ours PowerLossSafe/storescp", p, d); r("ours PowerLossSafe/Orthanc", p, h); r("PowerLossSafe/ProcessCrashSafe", p, o)
        r("concurrent ours/storescp --fork", c, f)
        printf "  (throughput ratios)\n"
    }
    { t[$1, $2] = $3; if ($2 + 0 > nrep) nrep = $2 + 0; if ($1 ~ / x storescu -> ours/) C = $1; if ($1 ~ /--fork/) F = $1; if ($1 ~ /^before /) B = $1 }
    END {
        O = "ours, Kaapana.Server, ProcessCrashSafe"; P = "ours, Kaapana.Server, PowerLossSafe"
        D = "storescp +B (files only)"; H = "Orthanc 1.10.1 (veth, SQLite index)"
        for (i = 1; i <= nrep; i++) line("rep " i, t[O, i], t[P, i], t[D, i], t[H, i], t[C, i], t[F, i], t[B, i])
        if (nrep > 1) line("median of " nrep, median(O), median(P), median(D), median(H), median(C), median(F), median(B))
    }' "$1"
