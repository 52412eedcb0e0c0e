"""pydicom side of the DicomParse benchmark: one long-lived process, timing measured inside (interpreter start excluded).

    /usr/bin/python3 pydicom_parse.py FILE_LIST

FILE_LIST has one path per line. For every line "pass" read on stdin, runs dcmread(f, stop_before_pixels=True) on every
file, reads the same header values the .NET side reads, and answers one JSON line:
{"wall": s, "cpu": s, "checksum": x}. The driver sends the first "pass" as the untimed warm-up and interleaves the timed
ones with the other tools, so that all of them see the same machine load. The first answer line is
{"pydicom": version, "python": version, "files": n}.
"""
import json
import sys
import time

import pydicom
from pydicom import dcmread


def one_pass(files):
    acc = 0.0
    for f in files:
        ds = dcmread(f, stop_before_pixels=True)
        acc += len(ds.PatientID) + len(ds.StudyInstanceUID) + len(ds.SeriesInstanceUID) + len(ds.SOPInstanceUID)
        acc += ds.Rows + ds.Columns + int(ds.InstanceNumber) + float(ds.ImagePositionPatient[2])
    return acc


def main():
    with open(sys.argv[1]) as fh:
        files = [line.rstrip("\n") for line in fh if line.strip()]
    print(json.dumps({"pydicom": pydicom.__version__, "python": sys.version.split()[0], "files": len(files)}), flush=True)
    for line in sys.stdin:
        if line.strip() != "pass":
            break
        w, c = time.perf_counter(), time.process_time()
        checksum = one_pass(files)
        w, c = time.perf_counter() - w, time.process_time() - c
        print(json.dumps({"wall": w, "cpu": c, "checksum": checksum}), flush=True)


if __name__ == "__main__":
    main()
