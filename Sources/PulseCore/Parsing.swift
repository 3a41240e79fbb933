/// Numbers and dates as CRM exports write them.
public enum Parse {
    /// Money in whole cents: `$1,234.50`, `1 234,50 ₽`, `1.234,50 €`, `-12`, `2500.0`.
    /// Currency signs, codes and spaces (also no-break ones) are ignored. With both `,`
    /// and `.`, the last is the decimal mark; with one kind only, it is a decimal mark
    /// when it appears once and is not followed by exactly three digits, a thousands
    /// separator otherwise.
    /// - Returns: `nil` for text that is not an amount (more than two decimals included).
    public static func cents(_ raw: some StringProtocol) -> Int? {
        let scalars = Array(raw.unicodeScalars)
        func isDigit(_ s: Unicode.Scalar) -> Bool { ("0"..."9").contains(s) }
        guard let first = scalars.firstIndex(where: isDigit), let last = scalars.lastIndex(where: isDigit) else { return nil }
        var negative = false
        // Around the number: a sign, parentheses (accounting), a currency sign or code
        // ($, €, ₽, ฿, RM, USD, руб.), spaces. Anything else is not an amount.
        for (i, scalar) in scalars.enumerated() where i < first || i > last {
            switch scalar {
            case "-", "\u{2212}", "(": negative = true
            case ")", "+", ".", " ", "\u{A0}", "\u{202F}", "\u{2009}": continue
            default:
                guard scalar.properties.generalCategory == .currencySymbol || scalar.properties.isAlphabetic else { return nil }
            }
        }
        var chars: [UInt8] = []
        for scalar in scalars[first...last] {
            switch scalar {
            case "0"..."9", ",", ".": chars.append(UInt8(scalar.value))
            case " ", "\u{A0}", "\u{202F}", "\u{2009}", "'": continue
            default: return nil
            }
        }
        guard chars.contains(where: { $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let commas = chars.filter { $0 == 0x2C }.count, dots = chars.filter { $0 == 0x2E }.count
        var decimalMark: UInt8?
        if commas > 0 && dots > 0 {
            decimalMark = chars.last { $0 == 0x2C || $0 == 0x2E }
        } else if commas + dots == 1 {
            let mark: UInt8 = commas == 1 ? 0x2C : 0x2E
            let at = chars.lastIndex(of: mark)!
            let after = chars.count - 1 - at
            // "1.234" is a thousand; "0.125" cannot be (no group follows a leading zero).
            let leadingZero = chars[..<at].allSatisfy { $0 == 0x30 }
            decimalMark = after == 3 && !leadingZero ? nil : mark
        }
        var whole = 0, fraction = 0, fractionDigits = 0, inFraction = false
        for c in chars {
            if c == decimalMark {
                if inFraction { return nil }
                inFraction = true
            } else if c == 0x2C || c == 0x2E {
                if inFraction { return nil }
            } else {
                let d = Int(c - 0x30)
                if inFraction {
                    fractionDigits += 1
                    guard fractionDigits <= 2 else { return nil }
                    fraction = fraction * 10 + d
                } else {
                    guard whole < Int.max / 100 / 10 else { return nil }
                    whole = whole * 10 + d
                }
            }
        }
        if fractionDigits == 1 { fraction *= 10 }
        let cents = whole * 100 + fraction
        return negative ? -cents : cents
    }

    /// The value of a cell made of ASCII digits only (1 to 18 of them), else `nil`: the
    /// fast path for the common cell; callers fall back to `count` or `cents`, which
    /// decide every other spelling.
    public static func plainDigits(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !b.isEmpty, b.count <= 18 else { return nil }
        var n = 0
        for c in b {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            n = n * 10 + Int(c &- 0x30)
        }
        return n
    }

    /// Cents of a plain amount, `1234`, `1234.5` or `1234.50`, else `nil` (see `plainDigits`).
    public static func plainCents(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let dot = b.firstIndex(of: 0x2E) else { return plainDigits(b).map { $0 * 100 } }
        let fraction = b.count - dot - 1
        // "1.234" is a thousand under `cents`' rules: leave it to the slow path.
        guard dot > 0, fraction == 1 || fraction == 2, dot <= 15,
              let whole = plainDigits(UnsafeBufferPointer(rebasing: b[..<dot])),
              let part = plainDigits(UnsafeBufferPointer(rebasing: b[(dot + 1)...])) else { return nil }
        return whole * 100 + (fraction == 1 ? part * 10 : part)
    }

    /// A count: digits with optional thousands separators (`1,234`, `1 234`); no fraction.
    public static func count(_ raw: some StringProtocol) -> Int? {
        var n = 0, digits = 0
        for scalar in raw.unicodeScalars {
            switch scalar {
            case "0"..."9":
                guard n < Int.max / 10 else { return nil }
                n = n * 10 + Int(scalar.value - 48)
                digits += 1
            case ",", " ", "\u{A0}", "\u{202F}", "'": continue
            case ".":
                return nil
            default:
                return nil
            }
        }
        return digits > 0 ? n : nil
    }
}

/// How the dates of an activity file are written (`--date-format`).
public enum DateFormat: String, Sendable, CaseIterable {
    /// `2026-11-03`; a time after it (`2026-11-03T10:00:00Z`, `2026-11-03 10:00`) is ignored.
    case iso = "YYYY-MM-DD"
    /// `11/03/2026` or `11/3/2026` (US exports).
    case monthFirst = "MM/DD/YYYY"
    /// `03/11/2026` (most other exports).
    case dayFirst = "DD/MM/YYYY"
    /// `03.11.2026` (Russian and German exports).
    case dotted = "DD.MM.YYYY"

    public func parse(_ raw: some StringProtocol) -> Day? {
        let t = String(raw).trimmingSpaces
        switch self {
        case .iso:
            return Day(iso: t.prefix(10))
        case .monthFirst, .dayFirst, .dotted:
            let separator: Character = self == .dotted ? "." : "/"
            let datePart = t.split(separator: " ").first.map(String.init) ?? t
            let parts = datePart.split(separator: separator, omittingEmptySubsequences: false)
            guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) }),
                  let a = Int(parts[0]), let b = Int(parts[1]), let y = Int(parts[2]), parts[2].count == 4 else { return nil }
            return self == .monthFirst ? Day(year: y, month: a, day: b) : Day(year: y, month: b, day: a)
        }
    }
}
