#!/usr/bin/env python3
"""Cross-check `qrng assess` against NIST's reference tool (SP800-90B_EntropyAssessment) on generated data.

The reference tool is not vendored. Build its `ea_non_iid` and `ea_iid` from NIST's C++ sources (the PyPI
package `sp800-90b` 0.1.1 ships a copy under nist_impl/cpp; it needs libbz2-dev, libdivsufsort-dev, libssl-dev):

    pip download --no-deps sp800-90b==0.1.1 && tar xzf sp800_90b-0.1.1.tar.gz
    cd sp800_90b-0.1.1/nist_impl/cpp
    g++ -std=c++11 -O2 -fopenmp non_iid_main.cpp -o ea_non_iid -lbz2 -ldivsufsort -lpthread
    g++ -std=c++11 -O2 -fopenmp iid_main.cpp -o ea_iid -lbz2 -ldivsufsort -lpthread -lcrypto

Then, with qrng built (`swift build -c release --scratch-path .build-assess`):

    python3 tools/assessment_crosscheck.py --reference DIR [--qrng '.build-assess/release/qrng assess']
                                           [--full] [--iid] [--keep DIR]

Every data set is generated here from a fixed seed (Python's random.Random), written in the reference tool's
format (one sample per byte) and assessed by both; the script prints, for each estimator on the original samples
(Literal) and on the bit string, both values and their difference, and exits non-zero if any differs by more than
1e-4 bits (the agreement the project promises) or if an estimator runs in one tool and not the other. With --iid it
also compares the IID track's H values, chi-square statistics and the LRS test's W on the small cases (the
permutation tests are random in both tools, so only their overall verdicts are printed).

    --vectors             check testvectors/assessment/generated.rsp against ea_non_iid instead
    --write-iid-vectors   rewrite testvectors/assessment/iid.rsp from ea_iid's output instead

The copy of the tool in sp800-90b 0.1.1 dates from 2020. Its estimators are those of the 1.1.x releases (the same
formulas, constants, limits and bisections; a few sums moved from double to long double since, which changes
results by ~1e-15), with one difference the script allows for: an estimator that cannot run returns -1, and that
copy lets the -1 of the compression estimate into H_original where 1.1.x skips it, as qrng does.
"""

import argparse
import json
import math
import os
import random
import re
import shlex
import subprocess
import sys
import tempfile
import time

TOLERANCE = 1e-4

NAMES = {
    "Most Common Value": "most_common_value",
    "Collision": "collision",
    "Markov": "markov",
    "Compression": "compression",
    "t-Tuple": "t_tuple",
    "LRS": "lrs",
    "MultiMCW Prediction": "multi_mcw",
    "Lag Prediction": "lag",
    "MultiMMC Prediction": "multi_mmc",
    "LZ78Y Prediction": "lz78y",
}


def datasets(full):
    """(name, bits per sample, samples, mode) for every case; all deterministic."""
    cases = []

    r = random.Random("qrng-assess:uniform8")
    cases.append(("uniform 8-bit", 8, [r.getrandbits(8) for _ in range(200_000)], "i"))

    r = random.Random("qrng-assess:biased-bits")
    cases.append(("biased bits p1=0.3", 1, [1 if r.random() < 0.3 else 0 for _ in range(300_000)], "i"))

    r = random.Random("qrng-assess:markov-bits")
    bits, b = [], 0
    for _ in range(400_000):
        if r.random() > 0.7:
            b ^= 1
        bits.append(b)
    cases.append(("Markov bits, stay 0.7", 1, bits, "i"))

    r = random.Random("qrng-assess:two-values")
    cases.append(("8-bit, two values 0x0f/0xf0", 8, [0x0F if r.random() < 0.55 else 0xF0 for _ in range(100_000)], "i"))

    r = random.Random("qrng-assess:nibbles")
    weights = [9, 1, 3, 5, 2, 8, 1, 1, 4, 6, 2, 2, 7, 3, 1, 5]
    nibbles = r.choices(range(16), weights=weights, k=250_000)
    cases.append(("4-bit, skewed", 4, nibbles, "i"))
    cases.append(("4-bit, skewed, conditioned (-c)", 4, nibbles, "c"))

    r = random.Random("qrng-assess:gauss6")
    cases.append(("6-bit discretised normal", 6, [min(63, max(0, int(r.gauss(32, 6)))) for _ in range(200_000)], "i"))

    r = random.Random("qrng-assess:sparse3")
    cases.append(("3-bit, five values used", 3, [r.choice([0, 2, 3, 5, 7]) for _ in range(150_000)], "i"))

    # Long repeats: the suffix sorting must fall back from 64-bit keys to the full suffix array.
    r = random.Random("qrng-assess:repeats")
    block = [r.getrandbits(8) for _ in range(2_000)]
    data = []
    while len(data) < 100_000:
        copy = list(block)
        copy[r.randrange(len(copy))] = r.getrandbits(8)
        data.extend(copy)
    cases.append(("8-bit, repeated 2000-byte blocks", 8, data[:100_000], "i"))

    r = random.Random("qrng-assess:walk")
    walk, x = [], 128
    for _ in range(150_000):
        x = (x + r.choice([-1, 0, 1])) % 256
        walk.append(x)
    cases.append(("8-bit random walk", 8, walk, "i"))

    r = random.Random("qrng-assess:tiny8")
    cases.append(("3000 8-bit samples (MultiMCW cannot run)", 8, [r.getrandbits(8) for _ in range(3_000)], "i"))

    r = random.Random("qrng-assess:tinybits")
    cases.append(("5000 bits (compression cannot run)", 1, [r.getrandbits(1) for _ in range(5_000)], "i"))

    r = random.Random("qrng-assess:constant-runs")
    runs = []
    while len(runs) < 50_000:
        runs.extend([r.getrandbits(1)] * r.randint(1, 40))
    cases.append(("bits in long runs", 1, runs[:50_000], "i"))

    if full:
        r = random.Random("qrng-assess:uniform8-1M")
        cases.append(("uniform 8-bit, 1,000,000 samples", 8, [r.getrandbits(8) for _ in range(1_000_000)], "i"))
    return cases


def run_reference(tool, path, bits, mode):
    out = subprocess.run([tool, "-" + mode, "-v", "-v", path, str(bits)], capture_output=True, text=True, check=False)
    text = out.stdout
    result = {"Literal": {}, "Bitstring": {}}
    for line in text.splitlines():
        m = re.match(r"(Literal|Bitstring) (.+?) Estimate: min entropy = ([-0-9.e+naninf]+)", line)
        if m:
            result[m.group(1)][NAMES[m.group(2)]] = float(m.group(3))
    m = re.search(r"Assessed min entropy: ([-0-9.e+]+)", text)
    result["assessed"] = float(m.group(1)) if m else None
    return result, text


def run_qrng(command, path, bits, mode, iid=False):
    args = shlex.split(command) + [path, "--bits-per-sample", str(bits), "--json"]
    if mode == "c":
        args.append("--conditioned")
    if iid:
        args += ["--iid", "--seed", "1"]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def compare(name, reference, mine):
    worst = 0.0
    problems = []
    rows = []
    for label, key in (("Literal", "h_original"), ("Bitstring", "h_bitstring")):
        for estimator in NAMES.values():
            ref = reference[label].get(estimator)
            got = mine["estimators"].get(estimator, {}).get(key)
            if ref is None and got is None:
                continue
            if ref is None or got is None:
                problems.append(f"{label} {estimator}: reference {ref}, qrng {got}")
                continue
            diff = abs(ref - got)
            worst = max(worst, diff)
            rows.append(f"    {label:9} {estimator:18} ref {ref:.12f}  qrng {got:.12f}  diff {diff:.2e}")
            if diff > TOLERANCE:
                problems.append(f"{label} {estimator}: reference {ref}, qrng {got}")
    if reference["assessed"] is not None and reference["assessed"] < 0:
        # The 2020 copy of the tool in sp800-90b 0.1.1 lets the -1 of an estimator that could not run (here the
        # compression estimate on too few bits) into H_original; the tool's 1.1.x releases skip it (`if
        # (ret_min_entropy >= 0)`), as qrng does. Compare with the minimum of the estimates that did run.
        k = mine["bits_per_sample"]
        h_original = min([k] + [v for v in reference["Literal"].values() if v >= 0])
        h_bits = [v for v in reference["Bitstring"].values() if v >= 0]
        reference["assessed"] = min(h_original, k * min([1.0] + h_bits) if h_bits else k)
        rows.append("    (reference snapshot reported -1: an estimator that could not run; see the comment)")
    if reference["assessed"] is not None:
        diff = abs(reference["assessed"] - mine["min_entropy"])
        worst = max(worst, diff)
        rows.append(f"    assessed min-entropy         ref {reference['assessed']:.12f}  "
                    f"qrng {mine['min_entropy']:.12f}  diff {diff:.2e}")
        if diff > TOLERANCE:
            problems.append(f"assessed: reference {reference['assessed']}, qrng {mine['min_entropy']}")
    return worst, problems, rows


def write_samples(directory, index, samples):
    path = os.path.join(directory, f"case{index:02d}.bin")
    with open(path, "wb") as f:
        f.write(bytes(samples))
    return path


VECTOR_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testvectors", "assessment")


def read_records(path):
    records = []
    for block in open(path).read().split("\n\n"):
        fields = {}
        for line in block.splitlines():
            if line.startswith("#") or " = " not in line:
                continue
            key, value = line.split(" = ", 1)
            fields[key.strip()] = value.strip()
        if "samples" in fields:
            records.append(fields)
    return records


def check_generated_vectors(reference):
    """Every record of generated.rsp (expected values from tools/assessment_reference.py) against ea_non_iid."""
    failures = 0
    for fields in read_records(os.path.join(VECTOR_DIR, "generated.rsp")):
        bits = int(fields["bits_per_sample"])
        if bits > 8:
            print(f"[skip] {fields['name']}: {bits}-bit samples are beyond the reference tool (at most 8)")
            continue
        with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
            f.write(bytes(int(v) for v in fields["samples"].split(",")))
        ref, _ = run_reference(os.path.join(reference, "ea_non_iid"), f.name, bits, "i")
        os.unlink(f.name)
        worst = 0.0
        for label, prefix in (("Literal", "original."), ("Bitstring", "bitstring.")):
            for key, value in fields.items():
                if not key.startswith(prefix):
                    continue
                mine = None if value == "none" else float(value)
                theirs = ref[label].get(key[len(prefix):])
                if (mine is None) != (theirs is None):
                    print(f"    !! {label} {key}: vector {mine}, ea_non_iid {theirs}")
                    failures += 1
                elif mine is not None:
                    worst = max(worst, abs(mine - theirs))
        print(f"[{'ok' if worst <= 1e-9 else 'MISMATCH'}] {fields['name']}: max difference {worst:.2e}")
        failures += worst > 1e-9
    return 1 if failures else 0


def iid_cases():
    r = random.Random("qrng-assessment-iid:uniform8")
    yield "uniform 8-bit", 8, [r.getrandbits(8) for _ in range(20_000)]
    r = random.Random("qrng-assessment-iid:biased-bits")
    yield "biased bits, P(1) = 0.4", 1, [1 if r.random() < 0.4 else 0 for _ in range(50_000)]
    r = random.Random("qrng-assessment-iid:nibbles")
    yield "4-bit, skewed", 4, r.choices(range(16), weights=[9, 1, 3, 5, 2, 8, 1, 1, 4, 6, 2, 2, 7, 3, 1, 5], k=20_000)
    r = random.Random("qrng-assessment-iid:walk")
    walk, x = [], 100
    for _ in range(20_000):
        x = (x + r.choice([-1, 0, 1])) % 256
        walk.append(x)
    yield "8-bit random walk (not IID)", 8, walk


def write_iid_vectors(reference):
    """The deterministic parts of ea_iid's output (MCV estimates, chi-square statistics, LRS W) on fixed data."""
    lines = [
        "# IID track (SP 800-90B §5 and §6.3.1) known answers from NIST's reference tool.",
        "#",
        "# Provenance: samples from Python's random.Random seeded as named in each comment; every expected value",
        "# below was printed by the reference tool ea_iid -v -v (C++, built from the copy in PyPI package",
        "# sp800-90b 0.1.1; see tools/assessment_crosscheck.py) on exactly these samples. The permutation tests",
        "# are random (the tool seeds from /dev/urandom), so only the tool's verdict is recorded",
        "# (`permutation_verdict`): on IID data any correct implementation passes with probability about 0.98",
        "# whatever its seed (19 statistics, each failing IID data with probability about 0.001), and on the",
        "# random walk it fails with overwhelming probability; qrng's test uses a fixed seed.",
        "#",
        "# Keys: bits_per_sample, samples (decimal, comma-separated), h_original, h_bitstring (MCV, per sample and",
        "# per bit; `none` when not assessed), independence_statistic, independence_df, goodness_statistic,",
        "# goodness_df (the chi-square statistics to the 6 decimals the tool prints; this version of the tool",
        "# skips goodness of fit once independence has failed, hence `none`), lrs_w (length of the longest",
        "# repeated substring), permutation_verdict (pass or fail).",
        "#",
        "# Regenerate (needs the reference tool): python3 tools/assessment_crosscheck.py --reference DIR",
        "#     --write-iid-vectors",
        "",
    ]
    for name, bits, samples in iid_cases():
        with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
            f.write(bytes(samples))
        out = subprocess.run([os.path.join(reference, "ea_iid"), "-v", "-v", f.name, str(bits)],
                             capture_output=True, text=True, check=False).stdout
        os.unlink(f.name)
        h_original = re.search(r"Literal Most Common Value Estimate: min entropy = ([-0-9.e+]+)", out)
        h_bits = re.search(r"Bitstring Most Common Value Estimate: min entropy = ([-0-9.e+]+)", out)
        scores = re.findall(r"score = ([-0-9.e+]+)", out)
        dfs = re.findall(r"degrees of freedom = (\d+)", out)
        lrs = re.search(r"Length of LRS: (\d+)", out)
        verdict = "pass" if "Passed IID permutation tests" in out else "fail"
        lines += [
            f"# {name} (random.Random('qrng-assessment-iid:...'), {len(samples)} samples)",
            f"name = {name}",
            f"bits_per_sample = {bits}",
            f"samples = {','.join(str(x) for x in samples)}",
            f"h_original = {h_original.group(1) if h_original else 'none'}",
            f"h_bitstring = {h_bits.group(1) if h_bits else 'none'}",
            f"independence_statistic = {scores[0]}",
            f"independence_df = {dfs[0]}",
            f"goodness_statistic = {scores[1] if len(scores) > 1 else 'none'}",
            f"goodness_df = {dfs[1] if len(dfs) > 1 else 'none'}",
            f"lrs_w = {lrs.group(1)}",
            f"permutation_verdict = {verdict}",
            "",
        ]
        print(name, verdict)
    with open(os.path.join(VECTOR_DIR, "iid.rsp"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, help="directory with ea_non_iid (and ea_iid for --iid)")
    parser.add_argument("--qrng", default=".build-assess/release/qrng assess", help="command that runs qrng assess")
    parser.add_argument("--full", action="store_true", help="also the 1,000,000-sample benchmark case")
    parser.add_argument("--iid", action="store_true", help="also compare the IID track on small cases")
    parser.add_argument("--keep", help="write the data sets here instead of a temporary directory")
    parser.add_argument("--vectors", action="store_true",
                        help="check testvectors/assessment/generated.rsp against ea_non_iid and exit")
    parser.add_argument("--write-iid-vectors", action="store_true",
                        help="rewrite testvectors/assessment/iid.rsp from ea_iid's output and exit")
    args = parser.parse_args()
    if args.vectors:
        sys.exit(check_generated_vectors(args.reference))
    if args.write_iid_vectors:
        write_iid_vectors(args.reference)
        return

    directory = args.keep or tempfile.mkdtemp(prefix="qrng-assess-")
    os.makedirs(directory, exist_ok=True)
    failures = 0
    overall = 0.0
    for index, (name, bits, samples, mode) in enumerate(datasets(args.full)):
        path = write_samples(directory, index, samples)
        start = time.time()
        reference, _ = run_reference(os.path.join(args.reference, "ea_non_iid"), path, bits, mode)
        reference_time = time.time() - start
        start = time.time()
        mine = run_qrng(args.qrng, path, bits, mode)
        qrng_time = time.time() - start
        worst, problems, rows = compare(name, reference, mine)
        overall = max(overall, worst)
        status = "ok" if not problems else "MISMATCH"
        print(f"[{status}] {name}: {len(samples)} samples, k = {bits}, mode -{mode}; max diff {worst:.2e}; "
              f"reference {reference_time:.1f} s, qrng {qrng_time:.1f} s")
        for row in rows:
            print(row)
        for problem in problems:
            print("    !! " + problem)
        failures += bool(problems)

    if args.iid:
        for index, (name, bits, samples, mode) in enumerate(datasets(False)):
            if len(samples) > 60_000 or mode != "i":
                continue
            path = write_samples(directory, index, samples)
            out = subprocess.run([os.path.join(args.reference, "ea_iid"), "-v", "-v", path, str(bits)],
                                 capture_output=True, text=True, check=False).stdout
            mine = run_qrng(args.qrng, path, bits, mode, iid=True)
            ref_orig = re.search(r"Literal Most Common Value Estimate: min entropy = ([-0-9.e+]+)", out)
            ref_bits = re.search(r"Bitstring Most Common Value Estimate: min entropy = ([-0-9.e+]+)", out)
            chi = re.findall(r"score = ([-0-9.e+]+)", out)
            lrs = re.search(r"Length of LRS: (\d+)", out) or re.search(r"W = (\d+)", out)
            verdict = "Passed IID permutation tests" in out
            print(f"[iid] {name}:")
            if ref_orig:
                diff = abs(float(ref_orig.group(1)) - mine["h_original"])
                print(f"    H_original ref {float(ref_orig.group(1)):.12f} qrng {mine['h_original']:.12f} "
                      f"diff {diff:.1e}")
                failures += diff > TOLERANCE
            if ref_bits and mine["h_bitstring"] is not None:
                diff = abs(float(ref_bits.group(1)) - mine["h_bitstring"])
                print(f"    H_bitstring ref {float(ref_bits.group(1)):.12f} qrng {mine['h_bitstring']:.12f} "
                      f"diff {diff:.1e}")
                failures += diff > TOLERANCE
            iid = mine["iid"]
            if len(chi) >= 2:
                mine_chi = [iid["chi_square_independence"], iid["chi_square_goodness_of_fit"]]
                for label, ref, got in zip(("independence", "goodness of fit"), chi, mine_chi):
                    if got is None:
                        continue
                    rel = abs(float(ref) - got["statistic"]) / max(1.0, abs(float(ref)))
                    print(f"    chi-square {label}: ref {float(ref):.6f} qrng {got['statistic']:.6f}")
                    failures += rel > 1e-6
            if lrs:
                print(f"    LRS W: ref {lrs.group(1)} qrng {iid['lrs']['w']}")
                failures += int(lrs.group(1)) != iid["lrs"]["w"]
            print(f"    permutation verdict (random in both): ref {'pass' if verdict else 'fail'}, "
                  f"qrng {'pass' if all(p['passed'] is not False for p in iid['permutation']) else 'fail'}")

    print(f"\nlargest difference {overall:.2e} bits; {failures} case(s) disagree beyond {TOLERANCE}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
