/// Statistics the reports share.
public enum Statistics {
    /// The 97.5th percentile of the standard normal distribution (two-sided 95%).
    public static let z975 = 1.959963984540054

    public static func mean(_ xs: some Collection<Double>) -> Double? {
        xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count)
    }

    /// The median (mean of the two middle values for an even count).
    public static func median(_ xs: [Double]) -> Double? {
        guard !xs.isEmpty else { return nil }
        let s = xs.sorted()
        let m = s.count / 2
        return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
    }
}
