import Foundation

/// A correlation with its two-sided p-value and, where defined, its 95% interval.
public struct Correlation: Sendable, Equatable {
    public var r: Double
    public var p: Double
    public var ci95: ClosedRange<Double>?
    /// Degrees of freedom of the test (n − 2, or N − reps − 1 within reps).
    public var df: Int
}

extension Statistics {
    /// Pearson's r, its p-value from Student's t with n − 2 degrees of freedom (the exact
    /// test under normality, as SciPy's `pearsonr`), and the Fisher-z interval
    /// tanh(atanh r ± 1.96 / √(n − 3)). `nil` under three pairs or when either side is constant.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Correlation? {
        let n = x.count
        guard n >= 3, y.count == n else { return nil }
        let mx = x.reduce(0, +) / Double(n), my = y.reduce(0, +) / Double(n)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in 0..<n {
            let dx = x[i] - mx, dy = y[i] - my
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy
        }
        guard sxx > 0, syy > 0 else { return nil }
        let r = max(-1, min(1, sxy / (sxx * syy).squareRoot()))
        return Correlation(r: r, p: tTestP(r: r, df: n - 2), ci95: fisherInterval(r: r, n: n), df: n - 2)
    }

    /// Spearman's ρ: Pearson's r of the ranks, ties ranked by their average, with the
    /// same t-based p-value (as SciPy's `spearmanr`). No interval.
    public static func spearman(_ x: [Double], _ y: [Double]) -> Correlation? {
        guard var c = pearson(ranks(x), ranks(y)) else { return nil }
        c.ci95 = nil
        return c
    }

    /// The repeated-measures correlation (Bakdash & Marusich, 2017): the common
    /// within-subject slope's correlation, from each subject's values centred on their
    /// own means. df = N − subjects − 1; p from Student's t; interval by Fisher's z with
    /// n = df + 2 (as Pingouin's `rm_corr`). `nil` under three subjects or no variation.
    public static func repeatedMeasures(_ subjects: [[(x: Double, y: Double)]]) -> Correlation? {
        let groups = subjects.filter { !$0.isEmpty }
        let total = groups.reduce(0) { $0 + $1.count }
        let df = total - groups.count - 1
        guard groups.count >= 3, df >= 2 else { return nil }
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for g in groups {
            let mx = g.reduce(0) { $0 + $1.x } / Double(g.count), my = g.reduce(0) { $0 + $1.y } / Double(g.count)
            for pair in g {
                let dx = pair.x - mx, dy = pair.y - my
                sxy += dx * dy; sxx += dx * dx; syy += dy * dy
            }
        }
        guard sxx > 0, syy > 0 else { return nil }
        let r = max(-1, min(1, sxy / (sxx * syy).squareRoot()))
        return Correlation(r: r, p: tTestP(r: r, df: df), ci95: fisherInterval(r: r, n: df + 2), df: df)
    }

    /// Ranks from 1, ties given the mean of the ranks they span (values are finite).
    public static func ranks(_ values: [Double]) -> [Double] {
        // The distinct values in order, each with the mean of the ranks its ties span;
        // then each value's rank found among them by binary search. Sorting the values
        // alone is about twice as fast as sorting them beside their places.
        let sorted = values.sorted()
        var distinct: [Double] = [], meanRank: [Double] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[i] { j += 1 }
            distinct.append(sorted[i])
            meanRank.append(Double(i + j) / 2 + 1)
            i = j + 1
        }
        return values.map { v in
            var lo = 0, hi = distinct.count - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if distinct[mid] < v { lo = mid + 1 } else { hi = mid }
            }
            return meanRank[lo]
        }
    }

    /// Two-sided p of t = r √(df / (1 − r²)) under Student's t with df degrees of freedom:
    /// I_{df/(df + t²)}(df/2, 1/2).
    static func tTestP(r: Double, df: Int) -> Double {
        guard abs(r) < 1 else { return 0 }
        let d = Double(df)
        let t2 = r * r * d / (1 - r * r)
        return regularizedIncompleteBeta(d / (d + t2), a: d / 2, b: 0.5)
    }

    static func fisherInterval(r: Double, n: Int) -> ClosedRange<Double>? {
        guard n > 3 else { return nil }
        if abs(r) == 1 { return r...r }
        let z = atanh(r), half = z975 / Double(n - 3).squareRoot()
        return tanh(z - half)...tanh(z + half)
    }

    /// The regularized incomplete beta function I_x(a, b), by its continued fraction
    /// (modified Lentz), using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where it
    /// converges faster.
    public static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let lnFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        if x < (a + 1) / (a + b + 2) {
            return exp(lnFront) * betaContinuedFraction(x, a: a, b: b) / a
        }
        return 1 - exp(lnFront) * betaContinuedFraction(1 - x, a: b, b: a) / b
    }

    private static func betaContinuedFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300, epsilon = 1e-16
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...10_000 {
            let m = Double(m), m2 = 2 * m
            var aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < epsilon { break }
        }
        return h
    }
}
