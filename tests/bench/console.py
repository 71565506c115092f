#!/usr/bin/python3
"""Drive the console in tmux and measure it (tests/bench/bench.sh runs this).

  console.py TAGPILOT CONFIG FIRST_APP SAMPLES WORKDIR

The caller sets TMUX_TMPDIR (a tmux server of our own) and kills that server at exit.
Prints one `NAME VALUE` line per figure:
Two starts on one state directory: the first ever (empty) and a restart.
  first_frame_cold_ms
                     first start: Enter pressed in the pane's shell (which then execs tagpilot) →
                     the first screen showing the table header, the row of FIRST_APP and the key
                     hints. Found by polling `tmux capture-pane` (each poll ~2 ms): an upper bound.
  first_frame_ms     the same for the restart, which draws the last run's table at once
  scan_s, rescan_s   start → the header says "engine idle" (the first cycle is done)
  scroll_median_ms, scroll_worst_ms
                     `tmux send-keys j` issued → the last byte of the redraw it causes (the pane's
                     output, read through `tmux pipe-pane`, then quiet for QUIET_MS). Includes the
                     tmux client's own start (~2-3 ms), so the figure is conservative.
  filter_median_ms, filter_worst_ms
                     the same for keystrokes typed into `/` filter (a digit, then Backspace, over
                     every row)
  idle_cpu_pct       CPU time of the process over IDLE_S seconds with nothing to do
  peak_rss_cold_mib, peak_rss_warm_mib
                     VmHWM of each process at the end (the restarted one after CYCLES more
                     cycles, R); peak_rss_mib the larger
"""
import os
import re
import statistics
import subprocess
import sys
import threading
import time

QUIET_MS = 60
IDLE_S = 10
CYCLES = 3  # refreshes after the restart
COLS, ROWS = 160, 50


def tmux(*args, check=True):
    return subprocess.run(["tmux", "-f", "/dev/null"] + list(args), check=check,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout


class Output:
    """Timestamps of the pane's output chunks, read from a FIFO fed by pipe-pane."""

    def __init__(self, fifo):
        self.chunks = []  # (monotonic seconds, bytes)
        self.lock = threading.Lock()
        self.fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        threading.Thread(target=self.reader, daemon=True).start()

    def reader(self):
        import select
        while True:
            select.select([self.fd], [], [], 1.0)
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            if not data:
                time.sleep(0.001)  # no writer yet, or it went away
                continue
            now = time.monotonic()
            with self.lock:
                self.chunks.append((now, len(data)))

    def count(self):
        with self.lock:
            return len(self.chunks)

    def frame_end_after(self, start_index, timeout=5.0):
        """Time of the last chunk after start_index once output has been quiet for QUIET_MS;
        None when nothing came."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.005)
            with self.lock:
                if len(self.chunks) <= start_index:
                    continue
                last = self.chunks[-1][0]
            if time.monotonic() - last >= QUIET_MS / 1000:
                return last
        return None


def screen(name):
    return tmux("capture-pane", "-p", "-t", name, check=False)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def measure_keys(out, keys, label, name):
    lat = []
    missed = 0
    for key in keys:
        time.sleep(0.02)
        start = out.count()
        t0 = time.monotonic()
        tmux("send-keys", "-t", name, key)
        end = out.frame_end_after(start)
        if end is None:
            missed += 1
            continue
        lat.append((end - t0) * 1000)
    if missed:
        print("# %s: %d keys drew nothing" % (label, missed), file=sys.stderr)
    return lat


def start(tagpilot, config, work, name):
    """A tmux session NAME whose shell waits for Enter, then execs the console; returns
    (pid, Output of the pane, stderr file)."""
    fifo = os.path.join(work, name + ".fifo")
    os.mkfifo(fifo)
    err = os.path.join(work, name + ".err")
    cmd = ("read go; exec env TERM=screen-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 '%s' --config '%s' "
           "2>'%s'" % (tagpilot, config, err))
    tmux("new-session", "-d", "-s", name, "-x", str(COLS), "-y", str(ROWS), "sh -c \"%s\"" % cmd)
    out = Output(fifo)
    tmux("pipe-pane", "-t", name, "exec cat >>'%s'" % fifo)
    pid = int(tmux("display", "-p", "-t", name, "#{pane_pid}").strip())
    time.sleep(0.3)
    return pid, out, err


def first_frame(name, first_app, err):
    """Enter → the first screen with the table header, FIRST_APP's row and the key hints (s)."""
    row = re.compile(r"^(> )?%s " % re.escape(first_app), re.M)
    t0 = time.monotonic()
    tmux("send-keys", "-t", name, "Enter")
    while time.monotonic() - t0 < 60:
        s = screen(name)
        if "APP" in s and row.search(s) and "quit" in s:
            return time.monotonic() - t0, t0
    sys.exit("console: no first frame within 60 s:\n%s\n%s" % (screen(name), open(err).read()))


def wait_idle(name, t0):
    while time.monotonic() - t0 < 600:
        if "engine idle" in screen(name):
            return time.monotonic() - t0
        time.sleep(0.05)
    sys.exit("console: the first scan did not finish within 600 s:\n" + screen(name))


def quit_console(name, pid):
    tmux("send-keys", "-t", name, "q")
    for _ in range(500):
        if not os.path.exists("/proc/%d" % pid):
            return
        time.sleep(0.01)


def main():
    tagpilot, config, first_app, samples, work = sys.argv[1:]
    samples = int(samples)

    # 1. The first start ever: nothing in the state directory yet.
    pid, out, err = start(tagpilot, config, work, "cold")
    first, t0 = first_frame("cold", first_app, err)
    print("first_frame_cold_ms %.1f" % (first * 1000))
    print("scan_s %.2f" % wait_idle("cold", t0))
    time.sleep(1.0)

    hz = os.sysconf("SC_CLK_TCK")
    c0, w0 = cpu_ticks(pid), time.monotonic()
    time.sleep(IDLE_S)
    c1, w1 = cpu_ticks(pid), time.monotonic()
    print("idle_cpu_pct %.2f" % ((c1 - c0) / hz / (w1 - w0) * 100))

    scroll = measure_keys(out, ["j"] * samples, "scroll", "cold")
    tmux("send-keys", "-t", "cold", "/")
    time.sleep(0.5)
    typed = []
    for i in range(samples):
        typed.append(str(i % 10) if i % 2 == 0 else "BSpace")
    filt = measure_keys(out, typed, "filter", "cold")
    tmux("send-keys", "-t", "cold", "Escape")
    for name, lat in (("scroll", scroll), ("filter", filt)):
        if lat:
            print("%s_median_ms %.1f" % (name, statistics.median(lat)))
            print("%s_worst_ms %.1f" % (name, max(lat)))
            print("%s_samples %d" % (name, len(lat)))
    rss_cold = vm_hwm_kib(pid) / 1024
    print("peak_rss_cold_mib %.1f" % rss_cold)
    quit_console("cold", pid)

    # 2. The usual start: the console restarted on the same state directory.
    pid, out, err = start(tagpilot, config, work, "warm")
    first, t0 = first_frame("warm", first_app, err)
    print("first_frame_ms %.1f" % (first * 1000))
    print("rescan_s %.2f" % wait_idle("warm", t0))
    # Then a few more cycles (R), each replacing the last one's table: what a console left
    # open all day does.
    for _ in range(CYCLES):
        time.sleep(0.5)
        tmux("send-keys", "-t", "warm", "R")
        t1 = time.monotonic()
        while "engine idle" in screen("warm") and time.monotonic() - t1 < 5:
            time.sleep(0.01)
        wait_idle("warm", t1)
    rss_warm = vm_hwm_kib(pid) / 1024
    print("peak_rss_warm_mib %.1f" % rss_warm)
    print("peak_rss_mib %.1f" % max(rss_cold, rss_warm))
    quit_console("warm", pid)


if __name__ == "__main__":
    main()
