#!/usr/bin/env python3
"""A slow, plain reference implementation of the NIST SP 800-22 Rev 1a tests, for checking qrng's Swift code.

It is written from the standard's section 2 test descriptions, independently of Sources/QRNGStatistics: lists
of 0/1 ints, numpy for the FFT and the sliding windows, Python integers for Berlekamp-Massey, and mpmath at 30
digits for igamc, erfc and the normal distribution. Every function returns a list of (name, statistic, p-value)
with name "" for a test with one P-value, or None when the test does not apply.

`constants="nistsTS"` selects the constants of NIST STS 2.1.2's code where it disagrees with the standard's
text (overlapping template probabilities from Pr(u, eta), linear complexity pi0 = 0.01047, ln 20 cut to
2.995732274), as qrng's ReferenceConstants.nistSTS does.

Needs numpy and mpmath.
"""

import math

import mpmath
import numpy as np

mpmath.mp.dps = 30


def igamc(a, x):
    if x <= 0 or a <= 0:
        return 1.0
    return float(mpmath.gammainc(mpmath.mpf(a), mpmath.mpf(x), mpmath.inf, regularized=True))


def erfc(x):
    return float(mpmath.erfc(mpmath.mpf(x)))


def phi(x):
    return mpmath.ncdf(mpmath.mpf(x))


def one(statistic, p):
    return [("", float(statistic), float(p))]


def frequency(bits):
    n = len(bits)
    s = abs(2 * sum(bits) - n) / math.sqrt(n)
    return one(s, erfc(s / math.sqrt(2)))


def block_frequency(bits, m=128):
    n_blocks = len(bits) // m
    if n_blocks == 0:
        return None
    chi2 = 4 * m * sum((sum(bits[i * m:(i + 1) * m]) / m - 0.5) ** 2 for i in range(n_blocks))
    return one(chi2, igamc(n_blocks / 2, chi2 / 2))


def runs(bits):
    n = len(bits)
    pi = sum(bits) / n
    if abs(pi - 0.5) >= 2 / math.sqrt(n):
        return one(0, 0.0)
    v = 1 + sum(1 for k in range(n - 1) if bits[k] != bits[k + 1])
    arg = abs(v - 2 * n * pi * (1 - pi)) / (2 * math.sqrt(2 * n) * pi * (1 - pi))
    return one(v, erfc(arg))


def longest_run(bits):
    n = len(bits)
    if n < 128:
        return None
    if n < 6272:
        m, lo, hi, pi = 8, 1, 4, [0.21484375, 0.3671875, 0.23046875, 0.1875]
    elif n < 750000:
        m, lo, hi = 128, 4, 9
        pi = [0.1174035788, 0.242955959, 0.249363483, 0.17517706, 0.102701071, 0.112398847]
    else:
        m, lo, hi, pi = 10000, 10, 16, [0.0882, 0.2092, 0.2483, 0.1933, 0.1208, 0.0675, 0.0727]
    n_blocks = n // m
    nu = [0] * len(pi)
    for i in range(n_blocks):
        best = run = 0
        for b in bits[i * m:(i + 1) * m]:
            run = run + 1 if b else 0
            best = max(best, run)
        nu[min(max(best, lo), hi) - lo] += 1
    chi2 = sum((nu[i] - n_blocks * pi[i]) ** 2 / (n_blocks * pi[i]) for i in range(len(pi)))
    return one(chi2, igamc((len(pi) - 1) / 2, chi2 / 2))


def gf2_rank(rows, columns):
    rows = list(rows)
    rank = 0
    for col in range(columns - 1, -1, -1):
        pivot = next((i for i in range(rank, len(rows)) if rows[i] >> col & 1), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i] >> col & 1:
                rows[i] ^= rows[rank]
        rank += 1
    return rank


def rank_probability(r, m, q):
    product = mpmath.mpf(1)
    for i in range(r):
        product *= (1 - mpmath.mpf(2) ** (i - q)) * (1 - mpmath.mpf(2) ** (i - m)) / (1 - mpmath.mpf(2) ** (i - r))
    return mpmath.mpf(2) ** (r * (q + m - r) - m * q) * product


def rank(bits, m=32, q=32):
    n_matrices = len(bits) // (m * q)
    if n_matrices == 0:
        return None
    full = min(m, q)
    counts = [0, 0, 0]
    for k in range(n_matrices):
        start = k * m * q
        rows = [int("".join(map(str, bits[start + r * q:start + (r + 1) * q])), 2) for r in range(m)]
        r = gf2_rank(rows, q)
        counts[0 if r == full else 1 if r == full - 1 else 2] += 1
    p_full, p_next = rank_probability(full, m, q), rank_probability(full - 1, m, q)
    pi = [p_full, p_next, 1 - p_full - p_next]
    chi2 = sum((counts[i] - n_matrices * pi[i]) ** 2 / (n_matrices * pi[i]) for i in range(3))
    return one(chi2, igamc(1, chi2 / 2))


def dft(bits, constants="specification"):
    n = len(bits)
    x = np.array(bits, dtype=np.float64) * 2 - 1
    s = np.fft.fft(x)
    magnitudes = np.abs(s[:n // 2])
    t = math.sqrt((2.995732274 if constants == "nistSTS" else math.log(1 / 0.05)) * n)
    n1 = int(np.sum(magnitudes < t))
    n0 = 0.95 * n / 2
    d = (n1 - n0) / math.sqrt(n * 0.95 * 0.05 / 4)
    return one(d, erfc(abs(d) / math.sqrt(2)))


def bordered(value, m):
    s = format(value, "0%db" % m)
    return any(s[:k] == s[-k:] for k in range(1, m))


def aperiodic_templates(m):
    return [v for v in range(1 << m) if not bordered(v, m)]


def windows(bits, m):
    """The value of every m-bit window of `bits` (first bit most significant), as a numpy array."""
    a = np.array(bits, dtype=np.int64)
    count = len(bits) - m + 1
    values = np.zeros(max(count, 0), dtype=np.int64)
    for k in range(m):
        values = (values << 1) | a[k:k + count]
    return values


def non_overlapping_template(bits, m=9, n_blocks=8, templates=None):
    n = len(bits)
    block = n // n_blocks
    if block < m:
        return None
    mu = (block - m + 1) / 2 ** m
    var = block * (1 / 2 ** m - (2 * m - 1) / 2 ** (2 * m))
    block_windows = [windows(bits[j * block:(j + 1) * block], m) for j in range(n_blocks)]
    results = []
    for template in templates if templates is not None else aperiodic_templates(m):
        chi2 = 0.0
        for values in block_windows:
            # Section 2.7.4 step 2: scan the window along the block, jumping m bits past each match.
            count, next_free = 0, 0
            for position in np.flatnonzero(values == template).tolist():
                if position >= next_free:
                    count += 1
                    next_free = position + m
            chi2 += (count - mu) ** 2 / var
        results.append(("B = " + format(template, "0%db" % m), chi2, igamc(n_blocks / 2, chi2 / 2)))
    return results


def overlapping_probabilities(m, block, k=5, constants="specification"):
    if constants == "nistSTS":
        eta = (block - m + 1) / 2 ** m / 2
        pi = [math.exp(-eta)]
        for u in range(1, k):
            pi.append(sum(math.exp(-eta - u * math.log(2) + l * math.log(eta) - math.lgamma(l + 1) + math.lgamma(u)
                                   - math.lgamma(l) - math.lgamma(u - l + 1)) for l in range(1, u + 1)))
        return pi + [1 - sum(pi)]
    # Exact: a Markov chain on (trailing run of ones capped at m, occurrences capped at k), in fractions.
    from fractions import Fraction
    state = {(0, 0): Fraction(1)}
    half = Fraction(1, 2)
    for _ in range(block):
        nxt = {}
        for (run, count), p in state.items():
            nxt[(0, count)] = nxt.get((0, count), 0) + p * half
            grown = min(run + 1, m)
            key = (grown, min(count + (1 if run + 1 >= m else 0), k))
            nxt[key] = nxt.get(key, 0) + p * half
        state = nxt
    pi = [Fraction(0)] * (k + 1)
    for (run, count), p in state.items():
        pi[count] += p
    return [float(p) for p in pi]


def overlapping_template(bits, m=9, block=1032, constants="specification"):
    n_blocks = len(bits) // block
    if n_blocks == 0:
        return None
    pi = overlapping_probabilities(m, block, 5, constants)
    nu = [0] * 6
    for i in range(n_blocks):
        seg = bits[i * block:(i + 1) * block]
        count = sum(1 for j in range(block - m + 1) if all(seg[j:j + m]))
        nu[min(count, 5)] += 1
    chi2 = sum((nu[i] - n_blocks * pi[i]) ** 2 / (n_blocks * pi[i]) for i in range(6))
    return one(chi2, igamc(5 / 2, chi2 / 2))


UNIVERSAL_EXPECTED = [0.7326495, 1.5374383, 2.4016068, 3.3112247, 4.2534266, 5.2177052, 6.1962507, 7.1836656,
                      8.1764248, 9.1723243, 10.170032, 11.168765, 12.168070, 13.167693, 14.167488, 15.167379]
UNIVERSAL_VARIANCE = [0.690, 1.338, 1.901, 2.358, 2.705, 2.954, 3.125, 3.238, 3.311, 3.356, 3.384, 3.401, 3.410,
                      3.416, 3.419, 3.421]
UNIVERSAL_MIN_LENGTH = [387840, 904960, 2068480, 4654080, 10342400, 22753280, 49643520, 107560960, 231669760,
                        496435200, 1059061760]


def universal(bits, l=None, q=None):
    n = len(bits)
    if l is None:
        fitting = [i for i, minimum in enumerate(UNIVERSAL_MIN_LENGTH) if n >= minimum]
        if not fitting:
            return None
        l = 6 + fitting[-1]
    q = q if q is not None else 10 * 2 ** l
    k = n // l - q
    if k <= 0:
        return None
    table = [0] * (2 ** l)
    value = lambda i: int("".join(map(str, bits[(i - 1) * l:i * l])), 2)
    for i in range(1, q + 1):
        table[value(i)] = i
    total = 0.0
    for i in range(q + 1, q + k + 1):
        v = value(i)
        total += math.log2(i - table[v])
        table[v] = i
    fn = total / k
    c = 0.7 - 0.8 / l + (4 + 32 / l) * k ** (-3 / l) / 15
    sigma = c * math.sqrt(UNIVERSAL_VARIANCE[l - 1] / k)
    return one(fn, erfc(abs(fn - UNIVERSAL_EXPECTED[l - 1]) / (math.sqrt(2) * sigma)))


def berlekamp_massey(seq):
    """Linear complexity of a list of bits. Polynomials are Python ints (bit i = coefficient of x^i) and
    `history` holds s_N, s_(N-1), ... in bits 0, 1, ..., so the discrepancy is the parity of C AND history."""
    c, b, length, m, history = 1, 1, 0, -1, 0
    for n_ in range(len(seq)):
        history = (history << 1) | seq[n_]
        if (c & history).bit_count() & 1:
            t = c
            c ^= b << (n_ - m)
            if length <= n_ // 2:
                length, m, b = n_ + 1 - length, n_, t
    return length


def linear_complexity(bits, m=500, constants="specification"):
    n_blocks = len(bits) // m
    if n_blocks == 0:
        return None
    pi = [0.01047 if constants == "nistSTS" else 0.010417, 0.03125, 0.125, 0.5, 0.25, 0.0625, 0.020833]
    sign = 1 if m % 2 == 0 else -1
    mu = m / 2 + (9 - sign) / 36 - (m / 3 + 2 / 9) / 2 ** m
    nu = [0] * 7
    for i in range(n_blocks):
        li = berlekamp_massey(bits[i * m:(i + 1) * m])
        t = sign * (li - mu) + 2 / 9
        cuts = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]
        nu[next((j for j, cut in enumerate(cuts) if t <= cut), 6)] += 1
    chi2 = sum((nu[i] - n_blocks * pi[i]) ** 2 / (n_blocks * pi[i]) for i in range(7))
    return one(chi2, igamc(3, chi2 / 2))


def cyclic_counts(bits, m):
    n = len(bits)
    if m == 0:
        return [n]
    extended = (bits * ((m - 1) // n + 2))[:n + m - 1]
    return np.bincount(windows(extended, m), minlength=2 ** m).tolist()


def psi_square(bits, m):
    if m <= 0:
        return 0.0
    n = len(bits)
    return 2 ** m / n * sum(c * c for c in cyclic_counts(bits, m)) - n


def serial(bits, m=16):
    p0, p1, p2 = psi_square(bits, m), psi_square(bits, m - 1), psi_square(bits, m - 2)
    d1, d2 = p0 - p1, p0 - 2 * p1 + p2
    return [("∇ψ²", d1, igamc(2 ** (m - 2), d1 / 2)), ("∇²ψ²", d2, igamc(2 ** (m - 3), d2 / 2))]


def approximate_entropy(bits, m=10):
    n = len(bits)

    def phi_m(width):
        if width == 0:
            return mpmath.mpf(0)
        return sum(mpmath.mpf(c) / n * mpmath.log(mpmath.mpf(c) / n) for c in cyclic_counts(bits, width) if c)

    apen = phi_m(m) - phi_m(m + 1)
    chi2 = 2 * n * (mpmath.log(2) - apen)
    return one(chi2, igamc(2 ** (m - 1), chi2 / 2))


def cusum_p(z, n, constants="specification"):
    if constants == "nistSTS":
        # NIST STS's C integer arithmetic: n/z and the quotients by 4 truncate toward zero.
        trunc = lambda a, b: int(a / b)
        ratio = n // z
        first_range = range(trunc(-ratio + 1, 4), trunc(ratio - 1, 4) + 1)
        second_range = range(trunc(-ratio - 3, 4), trunc(ratio - 1, 4) + 1)
    else:
        first_range = range(math.floor((-n / z + 1) / 4), math.floor((n / z - 1) / 4) + 1)
        second_range = range(math.floor((-n / z - 3) / 4), math.floor((n / z - 1) / 4) + 1)
    z, n = mpmath.mpf(z), mpmath.mpf(n)
    r = mpmath.sqrt(n)
    first = sum(phi((4 * k + 1) * z / r) - phi((4 * k - 1) * z / r) for k in first_range)
    second = sum(phi((4 * k + 3) * z / r) - phi((4 * k + 1) * z / r) for k in second_range)
    return float(1 - first + second)


def cumulative_sums(bits, constants="specification"):
    n = len(bits)
    walk = np.cumsum(np.array(bits, dtype=np.int64) * 2 - 1)
    forward = int(np.max(np.abs(walk)))
    reverse = int(np.max(np.abs(walk[-1] - np.concatenate(([0], walk[:-1])))))
    return [("forward", forward, cusum_p(forward, n, constants)), ("reverse", reverse, cusum_p(reverse, n, constants))]


def excursions(bits):
    """The cycles of the walk (0, S_1, ..., S_n, 0) as lists of the states they visit."""
    walk = np.cumsum(np.array(bits, dtype=np.int64) * 2 - 1)
    cycles, current = [], []
    for s in walk.tolist():
        if s == 0:
            cycles.append(current)
            current = []
        else:
            current.append(s)
    if walk[-1] != 0:
        cycles.append(current)
    return cycles


def random_excursions(bits, enforce_minimum=True):
    cycles = excursions(bits)
    j = len(cycles)
    if enforce_minimum and j < max(0.005 * math.sqrt(len(bits)), 500):
        return None
    results = []
    for x in [-4, -3, -2, -1, 1, 2, 3, 4]:
        a = 1 / (2 * abs(x))
        pi = [1 - a] + [1 / (4 * x * x) * (1 - a) ** (k - 1) for k in range(1, 5)] + [a * (1 - a) ** 4]
        nu = [0] * 6
        for cycle in cycles:
            nu[min(cycle.count(x), 5)] += 1
        chi2 = sum((nu[k] - j * pi[k]) ** 2 / (j * pi[k]) for k in range(6))
        results.append(("x = %d" % x, chi2, igamc(2.5, chi2 / 2)))
    return results


def random_excursions_variant(bits, enforce_minimum=True):
    cycles = excursions(bits)
    j = len(cycles)
    if enforce_minimum and j < max(0.005 * math.sqrt(len(bits)), 500):
        return None
    walk = np.cumsum(np.array(bits, dtype=np.int64) * 2 - 1)
    results = []
    for x in list(range(-9, 0)) + list(range(1, 10)):
        xi = int(np.sum(walk == x))
        results.append(("x = %d" % x, xi, erfc(abs(xi - j) / math.sqrt(2 * j * (4 * abs(x) - 2)))))
    return results


def all_tests(bits, constants="specification"):
    """Every test with NIST STS's defaults, keyed by NIST STS's report names."""
    return {
        "Frequency": frequency(bits),
        "BlockFrequency": block_frequency(bits, 128),
        "CumulativeSums": cumulative_sums(bits, constants),
        "Runs": runs(bits),
        "LongestRun": longest_run(bits),
        "Rank": rank(bits),
        "FFT": dft(bits, constants),
        "NonOverlappingTemplate": non_overlapping_template(bits, 9, 8),
        "OverlappingTemplate": overlapping_template(bits, 9, 1032, constants),
        "Universal": universal(bits),
        "ApproximateEntropy": approximate_entropy(bits, 10),
        "RandomExcursions": random_excursions(bits),
        "RandomExcursionsVariant": random_excursions_variant(bits),
        "Serial": serial(bits, 16),
        "LinearComplexity": linear_complexity(bits, 500, constants),
    }
