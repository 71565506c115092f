#!/usr/bin/python3
"""Run a command and record its wall time and peak RSS (tests/bench/bench.sh).

  runstat.py OUTFILE COMMAND [ARGS...]

Writes "WALL_SECONDS MAXRSS_KIB" to OUTFILE and exits with the command's exit code. The clock
starts just before the fork and stops when the child has been reaped, so Python's own start-up is
not counted; the RSS is the child's (getrusage RUSAGE_CHILDREN: this wrapper has no other child).
"""
import resource
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, cmd = sys.argv[1], sys.argv[2:]
    t0 = time.monotonic()
    rc = subprocess.call(cmd)
    wall = time.monotonic() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(out, "w") as f:
        f.write("%.3f %d\n" % (wall, rss))
    sys.exit(rc if rc >= 0 else 128 - rc)


if __name__ == "__main__":
    main()
