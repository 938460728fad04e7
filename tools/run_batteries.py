#!/usr/bin/env python3
"""Runs dieharder, ent and rngtest on the stream `qrng serve` serves through a FIFO and prints one summary table.

    tools/run_batteries.sh [--quick] [--qrng PATH] [--dieharder-tests all|none|0,1,2...] [--ent-bytes N]
                           [--rngtest-blocks N] [--fifo PATH] [-- SERVE-ARGUMENTS...]

It starts `qrng serve --fifo FIFO --stats-interval 0` with SERVE-ARGUMENTS (by default `--allow-simulated`, the
simulated source; pass the options of your own source instead), waits for the FIFO, and lets the tools read it
one after another, as any readers of a device would: dieharder first (`-g 200`, raw input from standard input; one
run with -a, or one run per test number given), then ent on --ent-bytes bytes, then rngtest on --rngtest-blocks
blocks of 20,000 bits. Each reader gets its own bytes, never served to another, from the same stream. Then it stops
the server with SIGTERM (which removes the FIFO), removes what is left, and prints:

    test | result | p-value or figure | PASS / WEAK / FAIL

Verdicts:
- dieharder: its own assessment (PASSED, WEAK, FAILED).
- ent: each figure becomes a tail probability P under the hypothesis of uniform independent bytes: entropy through
  the G-test (8 - H bits per byte is G / (2 N ln 2), G ~ chi-square with 255 degrees of freedom), chi-square as ent
  reports it, the mean (normal, sd 73.9 / sqrt(N)), the Monte Carlo value of pi (normal, from N / 6 points) and
  the serial correlation (normal, sd 1 / sqrt(N)). Both tails count: WEAK when P < 1 % or P > 99 % (ent's "almost
  certainly not random"), FAIL when P < 0.01 % or P > 99.99 % (ent prints nothing more extreme). Where ent's
  rounding leaves the figure uncertain, the verdict takes the least extreme value it could be.
- rngtest: a perfect source fails about one 20,000-bit block in 1,250 (the sum of the FIPS 140-2 tests'
  false-alarm rates); with that rate, P is the Poisson probability of at least as many failed blocks. WEAK when
  P < 1 %, FAIL when P < 0.01 %.

It installs nothing: a missing tool is named with the Debian package that provides it (dieharder, ent,
rng-tools5), and the script exits with status 2, as it does when qrng is missing or the server fails to start.
Otherwise the status is 1 when any row FAILs and 0 when none does.

`--parse dieharder|ent|rngtest` reads that tool's output from standard input and prints its rows (for tests).
Python 3 standard library only.
"""

import argparse
import math
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

PACKAGES = {"dieharder": "dieharder", "ent": "ent", "rngtest": "rng-tools5"}
WEAK_TAIL = 0.01
FAIL_TAIL = 0.0001
RNGTEST_BLOCK_FAILURE_RATE = 1 / 1250


# Statistics


def igamc(a, x):
    """The regularised upper incomplete gamma function Q(a, x) (series below a + 1, continued fraction above)."""
    if x <= 0:
        return 1.0
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        n = a
        while abs(term) > abs(total) * 1e-15:
            n += 1
            term *= x / n
            total += term
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    b = x + 1 - a
    c = 1 / 1e-300
    d = 1 / b
    h = d
    for i in range(1, 10000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = 1e-300 if abs(d) < 1e-300 else d
        c = b + an / c
        c = 1e-300 if abs(c) < 1e-300 else c
        d = 1 / d
        h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return math.exp(log_prefix) * h


def normal_upper(z):
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def verdict_two_sided(p):
    """PASS / WEAK / FAIL for an upper-tail probability where both tails are suspicious."""
    tail = min(p, 1 - p)
    return "FAIL" if tail < FAIL_TAIL else "WEAK" if tail < WEAK_TAIL else "PASS"


def least_extreme(ps):
    """Of the tail probabilities a rounded figure allows, the one closest to 1/2."""
    return min(ps, key=lambda p: abs(p - 0.5))


def fmt_p(p):
    if p <= 0 or p >= 1:
        return f"P = {round(p)}"
    if 0.0001 <= p <= 0.9999:
        return f"P = {p:.4f}"
    return f"P = {p:.2e}" if p < 0.5 else f"P = 1 - {1 - p:.2e}"


# Parsers: each returns rows (test, result, p-value or figure, verdict)


DIEHARDER_LINE = re.compile(
    r"^\s*(\S+)\|\s*(\d+)\|\s*(\d+)\|\s*(\d+)\|\s*([0-9.eE+-]+)\|\s*(PASSED|WEAK|FAILED)\s*$")


def parse_dieharder(text):
    rows = []
    for line in text.splitlines():
        match = DIEHARDER_LINE.match(line)
        if not match:
            continue
        name, ntup, tsamples, psamples, p, assessment = match.groups()
        label = f"dieharder {name}" + (f" (ntup {ntup})" if ntup != "0" else "")
        rows.append((label, f"{tsamples} tsamples x {psamples} psamples", f"p = {float(p):.6f}",
                     {"PASSED": "PASS", "WEAK": "WEAK", "FAILED": "FAIL"}[assessment]))
    return rows


def ent_number(pattern, text):
    match = re.search(pattern, text)
    if not match:
        raise ValueError(f"ent output has no match for {pattern!r}")
    return match


def parse_ent(text):
    n = int(ent_number(r"Chi square distribution for (\d+) samples", text).group(1))
    rows = []

    entropy = float(ent_number(r"Entropy = ([0-9.]+) bits per byte", text).group(1))
    # G = 2 N ln2 (8 - H), chi-square with 255 degrees of freedom; ent prints H to 6 decimals.
    ps = [igamc(255 / 2, max(0.0, 8 - h) * 2 * n * math.log(2) / 2) for h in (entropy - 5e-7, entropy + 5e-7)]
    p = least_extreme(ps)
    rows.append(("ent entropy", f"{entropy:.6f} bits per byte", fmt_p(p), verdict_two_sided(p)))

    chi = ent_number(r"samples is ([0-9.]+), and randomly\s+would exceed this value (less than |more than |)"
                     r"([0-9.]+) percent", text)
    chi_square, qualifier, percent = float(chi.group(1)), chi.group(2).strip(), float(chi.group(3)) / 100
    if qualifier:  # ent's limits: "less than 0.01", "more than 99.99"
        verdict = "FAIL"
    else:
        verdict = verdict_two_sided(least_extreme([max(0.0, percent - 0.00005), min(1.0, percent + 0.00005)]))
    shown = f"{qualifier} {percent * 100:.2f} %" if qualifier else f"{percent * 100:.2f} %"
    rows.append(("ent chi-square", f"{chi_square:.2f} ({n} bytes)", f"exceeded {shown} of the time", verdict))

    mean = float(ent_number(r"Arithmetic mean value of data bytes is ([0-9.]+)", text).group(1))
    sd = math.sqrt((256 ** 2 - 1) / 12 / n)
    p = least_extreme([normal_upper((m - 127.5) / sd) for m in (mean - 5e-5, mean + 5e-5)])
    rows.append(("ent mean", f"{mean:.4f} (127.5 = random)", fmt_p(p), verdict_two_sided(p)))

    pi = ent_number(r"Monte Carlo value for Pi is ([0-9.]+) \(error ([0-9.]+) percent\)", text)
    estimate = float(pi.group(1))
    points = n // 6  # ent reads 6 bytes per point: two 24-bit coordinates
    sd = 4 * math.sqrt(math.pi / 4 * (1 - math.pi / 4) / max(points, 1))
    p = normal_upper((estimate - math.pi) / sd)
    rows.append(("ent Monte Carlo pi", f"{estimate:.9f} (error {pi.group(2)} %)", fmt_p(p), verdict_two_sided(p)))

    if "Serial correlation coefficient is undefined" in text:  # every byte the same
        rows.append(("ent serial correlation", "undefined (all values equal)", "", "FAIL"))
    else:
        scc = float(ent_number(r"Serial correlation coefficient is (-?[0-9.]+)", text).group(1))
        p = least_extreme([normal_upper(r * math.sqrt(n)) for r in (scc - 5e-7, scc + 5e-7)])
        rows.append(("ent serial correlation", f"{scc:.6f} (0 = uncorrelated)", fmt_p(p), verdict_two_sided(p)))
    return rows


def parse_rngtest(text):
    successes = int(ent_number(r"FIPS 140-2 successes: (\d+)", text).group(1))
    failures = int(ent_number(r"FIPS 140-2 failures: (\d+)", text).group(1))
    by_test = re.findall(r"FIPS 140-2\(2001-10-10\) ([A-Za-z ]+): (\d+)", text)
    blocks = successes + failures
    rate = blocks * RNGTEST_BLOCK_FAILURE_RATE
    # P(X >= failures) for X ~ Poisson(rate).
    below = sum(math.exp(-rate + k * math.log(rate) - math.lgamma(k + 1)) for k in range(failures)) if rate > 0 else 1
    p = max(0.0, 1 - below)
    verdict = "FAIL" if p < FAIL_TAIL else "WEAK" if p < WEAK_TAIL else "PASS"
    failed = ", ".join(f"{name.strip()} {count}" for name, count in by_test if count != "0")
    result = f"{failures} of {blocks} blocks failed" + (f" ({failed})" if failed else "")
    return [("rngtest FIPS 140-2", result, f"{fmt_p(p)} (expected {rate:.1f} failures)", verdict)]


PARSERS = {"dieharder": parse_dieharder, "ent": parse_ent, "rngtest": parse_rngtest}


def table(rows):
    header = ("test", "result", "p-value or figure", "verdict")
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(4)]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(header, widths)).rstrip()]
    lines.append("-+-".join("-" * width for width in widths))
    lines += [" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


# Running the tools


def fail(message, status=2):
    print(f"run_batteries: {message}", file=sys.stderr)
    sys.exit(status)


def read_exactly(path, count):
    data = bytearray()
    with open(path, "rb") as fifo:
        while len(data) < count:
            chunk = fifo.read(min(count - len(data), 1 << 20))
            if not chunk:
                raise RuntimeError(f"the FIFO ended after {len(data)} of {count} bytes")
            data += chunk
    return bytes(data)


def run_reader(command, fifo):
    with open(fifo, "rb") as stream:
        done = subprocess.run(command, stdin=stream, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return done.stdout.decode("utf-8", "replace")


def parse_arguments(argv):
    serve_arguments = ["--allow-simulated"]
    if "--" in argv:
        index = argv.index("--")
        argv, serve_arguments = argv[:index], argv[index + 1:]
    parser = argparse.ArgumentParser(
        prog="run_batteries.sh", description=__doc__.split("\n\n")[0],
        epilog="Arguments after -- go to qrng serve instead of the default --allow-simulated.")
    parser.add_argument("--qrng", default=".build/release/qrng", help="the qrng binary (default: %(default)s)")
    parser.add_argument("--fifo", help="the FIFO to serve (default: in a new temporary directory)")
    parser.add_argument("--quick", action="store_true",
                        help="dieharder -d 0 only, ent on 1 MB, rngtest on 200 blocks (each unless given)")
    parser.add_argument("--dieharder-tests",
                        help="all (-a, the default), none, or dieharder test numbers, e.g. 0,1,2 (see dieharder -l)")
    parser.add_argument("--dieharder-psamples", type=int, help="dieharder's -p (default: each test's own)")
    parser.add_argument("--ent-bytes", type=int, help="bytes for ent (default 10000000; 0 skips ent)")
    parser.add_argument("--rngtest-blocks", type=int,
                        help="20,000-bit blocks for rngtest (default 5000; 0 skips rngtest)")
    parser.add_argument("--parse", choices=sorted(PARSERS), help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.dieharder_tests is None:
        options.dieharder_tests = "0" if options.quick else "all"
    if options.ent_bytes is None:
        options.ent_bytes = 1_000_000 if options.quick else 10_000_000
    if options.rngtest_blocks is None:
        options.rngtest_blocks = 200 if options.quick else 5000
    if options.dieharder_tests not in ("all", "none") and not re.fullmatch(r"\d+(,\d+)*", options.dieharder_tests):
        parser.error("--dieharder-tests takes all, none or comma-separated numbers such as 0,1,2")
    if options.ent_bytes < 0 or options.rngtest_blocks < 0:
        parser.error("byte and block counts must not be negative")
    return options, serve_arguments


def main(argv):
    options, serve_arguments = parse_arguments(argv)
    if options.parse:
        rows = PARSERS[options.parse](sys.stdin.read())
        print(table(rows))
        return 1 if any(row[3] == "FAIL" for row in rows) else 0

    needed = ([] if options.dieharder_tests == "none" else ["dieharder"]) + (["ent"] if options.ent_bytes else []) \
        + (["rngtest"] if options.rngtest_blocks else [])
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        fail("missing " + ", ".join(missing) + "; install with: apt-get install "
             + " ".join(sorted({PACKAGES[tool] for tool in missing})))
    if not (os.path.isfile(options.qrng) and os.access(options.qrng, os.X_OK)):
        fail(f"no qrng binary at {options.qrng}; build it with `swift build -c release` or pass --qrng PATH")

    directory = None
    fifo = options.fifo
    if fifo is None:
        directory = tempfile.mkdtemp(prefix="qrng-batteries-")
        fifo = os.path.join(directory, "random.fifo")
    # The server appends its standard error to a file that is read through a descriptor of its own, so that
    # reading never moves the server's write position.
    handle, log_path = tempfile.mkstemp(prefix="qrng-batteries-", suffix=".log")
    os.close(handle)
    with open(log_path, "ab") as log:
        server = subprocess.Popen([options.qrng, "serve", "--fifo", fifo, "--stats-interval", "0"]
                                  + serve_arguments, stdout=subprocess.DEVNULL, stderr=log)

    def server_log():
        with open(log_path, "rb") as file:
            return file.read().decode("utf-8", "replace")

    rows = []
    try:
        # Started: the FIFO exists and the server has said what it serves ("serving FIFO (mode) from SOURCE").
        deadline = time.monotonic() + 30
        source = None
        while source is None or not (os.path.exists(fifo) and stat.S_ISFIFO(os.stat(fifo).st_mode)):
            if server.poll() is not None or time.monotonic() > deadline:
                fail("qrng serve did not start:\n" + server_log().strip())
            time.sleep(0.05)
            source = next((line.split(" from ", 1)[1] for line in server_log().splitlines()
                           if line.startswith("qrng serve: serving ") and " from " in line), None)
        print(f"source: {source}", flush=True)

        if options.dieharder_tests != "none":
            numbers = options.dieharder_tests.split(",")
            runs = [["-a"]] if options.dieharder_tests == "all" else [["-d", n] for n in numbers]
            for run in runs:
                command = ["dieharder", "-g", "200"] + run
                if options.dieharder_psamples:
                    command += ["-p", str(options.dieharder_psamples)]
                print("running " + " ".join(command) + " …", file=sys.stderr, flush=True)
                found = parse_dieharder(run_reader(command, fifo))
                if not found:
                    rows.append(("dieharder " + " ".join(run), "no result (see dieharder -l)", "", "FAIL"))
                rows += found
        if options.ent_bytes:
            print(f"running ent on {options.ent_bytes} bytes …", file=sys.stderr, flush=True)
            data = read_exactly(fifo, options.ent_bytes)
            rows += parse_ent(subprocess.run(["ent"], input=data, stdout=subprocess.PIPE).stdout.decode())
        if options.rngtest_blocks:
            print(f"running rngtest -c {options.rngtest_blocks} …", file=sys.stderr, flush=True)
            rows += parse_rngtest(run_reader(["rngtest", "-c", str(options.rngtest_blocks)], fifo))
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if os.path.exists(fifo) and stat.S_ISFIFO(os.lstat(fifo).st_mode):
            os.unlink(fifo)
        if directory:
            os.rmdir(directory)
        messages = server_log()
        os.unlink(log_path)
    if server.returncode != 0:
        fail(f"qrng serve exited with status {server.returncode}:\n" + messages.strip())

    print(table(rows))
    return 1 if any(row[3] == "FAIL" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
