/// Why a cell does not read as a number or a date, and how to write it so that it does.
public struct ParseFailure: Error, Sendable, Equatable {
    /// What is wrong and the spelling that would read: `"k" is not a currency; write it in full, like 12000`.
    public var reason: String
    /// The cell reads as a number, but one beyond what Pulse keeps.
    public var tooLarge: Bool

    public init(_ reason: String, tooLarge: Bool = false) {
        self.reason = reason
        self.tooLarge = tooLarge
    }
}

/// The mark between the whole part of an amount and its cents (`--decimal`).
public enum DecimalMark: String, Sendable, CaseIterable {
    case point = "."
    case comma = ","

    /// `.` or `point`, `,` or `comma`.
    public init?(argument: String) {
        switch argument.lowercased() {
        case ".", "point", "dot", "period": self = .point
        case ",", "comma": self = .comma
        default: return nil
        }
    }

    var scalar: Unicode.Scalar { self == .point ? "." : "," }
    /// How an amount of 1234.50 is written with this mark.
    public var example: String { self == .point ? "1,234.50" : "1.234,50" }
}

/// What one cell's spelling says of the decimal mark (`Parse.decimalEvidence`).
public enum DecimalEvidence: Sendable, Equatable {
    /// No `,` or `.` in it.
    case none
    /// The spelling shows which mark is the decimal one.
    case shows(DecimalMark)
    /// A lone `,`, or a lone `.` before three digits: either mark could be meant.
    case ambiguous
}

/// Numbers and dates as CRM exports write them, read strictly: a cell reads as exactly
/// one value or is refused with the reason, never read in part.
public enum Parse {
    /// The largest amount kept, ten trillion in any currency: a year of one rep's days
    /// sums far inside 64 bits.
    public static let maxCents = 1_000_000_000_000_000
    /// The largest count kept, a billion a day.
    public static let maxCount = 1_000_000_000

    static let amountSpellings = "like 1234.50, 1,234.50, 1.234,50 or $1,234.50"
    static let countSpellings = "like 1234 or 1,234"

    /// Money in whole cents, or `nil`; see `amount(_:)`.
    public static func cents(_ raw: some StringProtocol) -> Int? { try? amount(raw).get() }

    /// Money in whole cents: `$1,234.50`, `1 234,50 ₽`, `1.234,50 €`, `EUR 1200`, `-12`,
    /// `(1,234.50)`, `.50`, `2500.0`.
    ///
    /// Around the number: at most one currency (a sign like `$`, `€`, `₽`, `US$`, an
    /// ISO 4217 code in capitals like `USD`, or a local abbreviation: `RM`, `Rp`, `kr`,
    /// `zł`, `руб.` and a few more), a minus sign before it, or parentheses around it.
    /// In the number, `,` and `.` are the decimal mark and thousands separators;
    /// spaces, no-break spaces and `'` separate thousands only. With both `,` and `.`,
    /// the last is the decimal mark. With one of them only: used more than once it
    /// separates thousands; once, it separates thousands when exactly three digits
    /// follow and one to three digits, not all zeros, come before (`1,234`), and marks
    /// decimals otherwise (`1,5`, `0.125`). Thousands come in groups of three
    /// (`1,234,567`) or, Indian style, of two before the last three (`12,34,567`); one
    /// kind of separator to a number. At most two decimals, or more that are zeros.
    ///
    /// With `decimal`, that mark is the decimal one and the other separates thousands
    /// only: `1,5` reads as 1.50 with `.comma` and is refused with `.point`.
    public static func amount(_ raw: some StringProtocol, decimal: DecimalMark? = nil) -> Result<Int, ParseFailure> {
        let s = Array(String(raw).trimmingSpaces.unicodeScalars)
        func fail(_ why: String) -> Result<Int, ParseFailure> { .failure(ParseFailure("\(why); write it \(amountSpellings)")) }
        var lo = 0, hi = s.count
        var negative = false
        if hi > 0, s[0] == "(" || s[hi - 1] == ")" {
            guard hi >= 2, s[0] == "(", s[hi - 1] == ")" else { return fail("a parenthesis is not closed") }
            negative = true
            lo += 1
            hi -= 1
        }
        guard let firstDigit = s[lo..<hi].firstIndex(where: isDigit), let lastDigit = s[lo..<hi].lastIndex(where: isDigit) else {
            return fail("there is no number in it")
        }
        var start = firstDigit
        if start > lo, s[start - 1] == "." || s[start - 1] == "," { start -= 1 }
        let number = number(s[start...lastDigit], grouping: [",", ".", " ", "'"], decimal: decimal)
        // The words around the number: a sign before it, one currency before or after it.
        var currency: String?, sign = false
        var words = words(s[lo..<start], splittingSigns: true).map { (word: $0, before: true) }
        words += self.words(s[(lastDigit + 1)..<hi], splittingSigns: false).map { (word: $0, before: false) }
        for (word, before) in words {
            if before && (word == "-" || word == "\u{2212}" || word == "+") {
                guard !sign, !negative else { return fail("it has two signs") }
                sign = true
                negative = word != "+"
                continue
            }
            if !before, let multiplier = multipliers[word] {
                if case let .success(n) = number, let full = formatCents(n.cents, times: multiplier) {
                    return .failure(ParseFailure("\"\(word)\" is not a currency (and not read as a multiplier); write it in full, like \(full)"))
                }
                return fail("\"\(word)\" is not a currency sign or code")
            }
            if !before && (word == "-" || word == "\u{2212}") { return fail("a minus sign goes before the number") }
            guard isCurrency(word) else { return fail("\"\(word)\" is not a currency sign or code") }
            guard currency == nil else { return fail("it names two currencies, \(currency!) and \(word)") }
            currency = word
        }
        let tooLarge = ParseFailure("amounts are at most 10,000,000,000,000", tooLarge: true)
        switch number {
        case let .failure(problem):
            return problem.tooLarge ? .failure(tooLarge) : fail(problem.reason)
        case let .success(n):
            guard n.cents <= maxCents else { return .failure(tooLarge) }
            return .success(negative ? -n.cents : n.cents)
        }
    }

    /// What a cell's spelling says of the decimal mark: `1,234.50`, `1.234.567` and
    /// `12.5` show it; `1,234`, `1.234` and `1,5` could be read either way (a lone comma,
    /// or a lone point before three digits), so the file, or `--decimal`, decides.
    public static func decimalEvidence(_ raw: some StringProtocol) -> DecimalEvidence {
        let s = Array(String(raw).unicodeScalars)
        let points = s.indices.filter { s[$0] == "." }, commas = s.indices.filter { s[$0] == "," }
        // A space or an apostrophe between digits before a lone mark separates thousands: `1 234,50`.
        func grouped(before mark: Int) -> Bool {
            (1..<max(1, mark)).contains { i in
                (isSpace(s[i]) || s[i] == "'" || s[i] == "\u{2019}") && isDigit(s[i - 1]) && i + 1 < s.count && isDigit(s[i + 1])
            }
        }
        switch (points.count, commas.count) {
        case (0, 0): return .none
        case (1, 0):
            if grouped(before: points[0]) { return .shows(.point) }
            let after = s[(points[0] + 1)...].prefix(while: isDigit).count
            return after == 3 ? .ambiguous : .shows(.point)
        case (0, 1): return grouped(before: commas[0]) ? .shows(.comma) : .ambiguous
        case (_, 0): return .shows(.comma)
        case (0, _): return .shows(.point)
        default: return .shows(points.last! > commas.last! ? .point : .comma)
        }
    }

    /// A count: digits, with thousands separated by `,`, spaces or `'` in groups of three
    /// (`1,234`, `1 234`); no sign, no fraction; at most `maxCount`.
    public static func count(_ raw: some StringProtocol) -> Int? { try? wholeNumber(raw).get() }

    /// A count (see `count(_:)`), or why the text is not one.
    public static func wholeNumber(_ raw: some StringProtocol) -> Result<Int, ParseFailure> {
        let s = Array(String(raw).trimmingSpaces.unicodeScalars)
        func fail(_ why: String) -> Result<Int, ParseFailure> { .failure(ParseFailure("\(why); write it \(countSpellings)")) }
        guard let first = s.first, let last = s.last else { return fail("it is empty") }
        if first == "-" || first == "\u{2212}" { return fail("a count is 0 or more") }
        guard isDigit(first), isDigit(last) else { return fail("it does not start and end with a digit") }
        if s.contains(".") { return fail("a count is whole, without a \".\"") }
        let tooLarge = ParseFailure("counts are at most 1,000,000,000", tooLarge: true)
        switch number(s[...], grouping: [",", " ", "'"]) {
        case let .failure(problem):
            return problem.tooLarge ? .failure(tooLarge) : fail(problem.reason)
        case let .success(n):
            guard !n.hasDecimals else { return fail("a count is whole, and a \",\" before fewer or more than three digits marks decimals") }
            guard n.cents / 100 <= maxCount else { return .failure(tooLarge) }
            return .success(n.cents / 100)
        }
    }

    /// The value of a cell made of ASCII digits only (1 to 18 of them), else `nil`.
    public static func plainDigits(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !b.isEmpty, b.count <= 18 else { return nil }
        var n = 0
        for c in b {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            n = n * 10 + Int(c &- 0x30)
        }
        return n
    }

    /// A count made of ASCII digits only, up to `maxCount`, else `nil`: the importers'
    /// fast path for the common cell; `wholeNumber` decides every other spelling.
    public static func plainCount(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        guard b.count <= 10, let n = plainDigits(b), n <= maxCount else { return nil }
        return n
    }

    /// Cents of a plain amount, `1234`, `1234.5` or `1234.50`, up to `maxCents`, else
    /// `nil`: the fast path; `amount` decides every other spelling (and says why).
    public static func plainCents(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        let maxWhole = maxCents / 100
        guard let dot = b.firstIndex(of: 0x2E) else {
            guard b.count <= 16, let n = plainDigits(b), n <= maxWhole else { return nil }
            return n * 100
        }
        let fraction = b.count - dot - 1
        // "1.234" is a thousand under `amount`'s rules: leave it to the slow path.
        guard dot > 0, dot <= 16, fraction == 1 || fraction == 2,
              let whole = plainDigits(UnsafeBufferPointer(rebasing: b[..<dot])), whole <= maxWhole,
              let part = plainDigits(UnsafeBufferPointer(rebasing: b[(dot + 1)...])) else { return nil }
        let cents = whole * 100 + (fraction == 1 ? part * 10 : part)
        return cents <= maxCents ? cents : nil
    }

    // MARK: - The parts

    static func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 0x30 && s.value <= 0x39 }

    /// Spaces that separate thousands (and words): the space, the no-break space, the
    /// narrow no-break space and the thin space.
    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\u{A0}" || s == "\u{202F}" || s == "\u{2009}"
    }

    /// A number read from its digits and marks: its value in hundredths, and whether it
    /// had a decimal mark.
    struct Number {
        var cents: Int
        var hasDecimals: Bool
    }

    /// Reads the digits and marks of a number, `1 234,50` (see `amount`). `grouping`
    /// lists the separators allowed, a space standing for every space.
    static func number(_ s: ArraySlice<Unicode.Scalar>, grouping: Set<Unicode.Scalar>,
                       decimal: DecimalMark? = nil) -> Result<Number, ParseFailure> {
        // Runs of digits and the one separator between each two.
        var runs: [ArraySlice<Unicode.Scalar>] = [], separators: [Unicode.Scalar] = []
        var i = s.startIndex, runStart = i
        while i < s.endIndex {
            let c = s[i]
            if isDigit(c) { i += 1; continue }
            let kind: Unicode.Scalar = isSpace(c) ? " " : (c == "\u{2019}" ? "'" : c)
            guard grouping.contains(kind) else { return .failure(ParseFailure("\"\(c)\" is not part of a number")) }
            guard i > runStart || i == s.startIndex else { return .failure(ParseFailure("two separators in a row")) }
            runs.append(s[runStart..<i])
            separators.append(kind)
            i += 1
            runStart = i
        }
        runs.append(s[runStart..<i])
        // Which separator, if any, is the decimal mark.
        var decimalAt: Int?
        if let decimal {
            let mark = decimal.scalar, marks = separators.indices.filter { separators[$0] == mark }
            if let at = marks.last {
                guard marks.count == 1 else {
                    return .failure(ParseFailure("\"\(mark)\" marks decimals here (--decimal \(mark)) and appears \(marks.count) times"))
                }
                guard at == separators.count - 1 else {
                    return .failure(ParseFailure("\"\(mark)\" marks decimals here (--decimal \(mark)), and separators follow it"))
                }
                decimalAt = at
            }
        } else if let last = separators.last, last == "." || last == "," {
            let same = separators.filter { $0 == last }.count
            let others = Set(separators).subtracting([last])
            if !others.isEmpty {
                guard same == 1 else { return .failure(ParseFailure("\"\(last)\" appears \(same) times beside another separator")) }
                decimalAt = separators.count - 1
            } else if same == 1 {
                let before = runs[0], after = runs[1]
                let thousands = after.count == 3 && (1...3).contains(before.count) && !before.allSatisfy { $0 == "0" }
                if !thousands { decimalAt = 0 }
            }
        }
        let groupSeparators = decimalAt.map { Array(separators[..<$0]) } ?? separators
        let whole = Array(runs[0...(decimalAt ?? runs.count - 1)])
        if let g = groupSeparators.first {
            guard groupSeparators.allSatisfy({ $0 == g }) else {
                return .failure(ParseFailure("it mixes \(Set(groupSeparators).map { "\"\($0)\"" }.sorted().joined(separator: " and ")) as thousands separators"))
            }
            let inner = whole.dropFirst().dropLast()
            let western = (1...3).contains(whole[0].count) && whole.dropFirst().allSatisfy { $0.count == 3 }
            let indian = whole.count >= 3 && (1...2).contains(whole[0].count) && inner.allSatisfy { $0.count == 2 } && whole.last!.count == 3
            guard western || indian else {
                return .failure(ParseFailure("after a thousands separator come three digits"))
            }
        }
        guard decimalAt != nil || !whole[0].isEmpty else { return .failure(ParseFailure("it starts with a separator")) }
        var units = 0
        for run in whole {
            for d in run {
                let (times10, o1) = units.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.addingReportingOverflow(Int(d.value - 0x30))
                guard !o1, !o2, next <= maxCents / 100 else { return .failure(ParseFailure("too large", tooLarge: true)) }
                units = next
            }
        }
        var cents = 0
        if let decimalAt {
            let fraction = runs[decimalAt + 1]
            guard !fraction.isEmpty else { return .failure(ParseFailure("nothing follows the decimal mark")) }
            guard fraction.dropFirst(2).allSatisfy({ $0 == "0" }) else {
                return .failure(ParseFailure("it has more than two decimals"))
            }
            let digits = Array(fraction.prefix(2)).map { Int($0.value - 0x30) }
            cents = digits[0] * 10 + (digits.count > 1 ? digits[1] : 0)
        }
        return .success(Number(cents: units * 100 + cents, hasDecimals: decimalAt != nil))
    }

    /// The words of the text around a number, split at spaces (and before and after a sign).
    static func words(_ s: ArraySlice<Unicode.Scalar>, splittingSigns: Bool) -> [String] {
        var out: [String] = [], current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty { out.append(String(current)) }
            current = String.UnicodeScalarView()
        }
        for c in s {
            if isSpace(c) { flush(); continue }
            if splittingSigns && (c == "-" || c == "\u{2212}" || c == "+") {
                flush()
                out.append(String(c))
                continue
            }
            current.append(c)
        }
        flush()
        return out
    }

    /// Letters CRM exports put after a number to shorten it (refused, with the number in full).
    static let multipliers: [String: Int] = ["k": 1_000, "K": 1_000, "M": 1_000_000, "MM": 1_000_000, "mn": 1_000_000,
                                              "m": 1_000_000, "mln": 1_000_000, "B": 1_000_000_000, "bn": 1_000_000_000]

    /// `cents × multiplier` written as an amount (`12000`, `1500.50`), if it fits.
    static func formatCents(_ cents: Int, times multiplier: Int) -> String? {
        let (total, overflow) = cents.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        let fraction = total % 100
        return fraction == 0 ? "\(total / 100)" : "\(total / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// Local abbreviations of currencies, as exports write them.
    static let currencyWords: Set<String> = ["RM", "Rp", "Rs", "Rs.", "kr", "kr.", "Kč", "zł", "Ft", "Fr.", "lei", "TL",
                                             "руб", "руб.", "р.", "грн", "грн.", "лв", "лв."]

    /// The active ISO 4217 codes.
    static let isoCurrencies: Set<String> = Set("""
        AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF \
        CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG \
        HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA \
        MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD \
        RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX \
        USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
        """.split(separator: " ").map(String.init))

    /// A currency sign (one, after up to three capitals: `$`, `US$`, `R$`), an ISO code or a local abbreviation.
    static func isCurrency(_ word: String) -> Bool {
        if isoCurrencies.contains(word) || currencyWords.contains(word) { return true }
        let scalars = Array(word.unicodeScalars)
        guard let sign = scalars.last, sign.properties.generalCategory == .currencySymbol, scalars.count <= 4 else { return false }
        return scalars.dropLast().allSatisfy { $0.value >= 0x41 && $0.value <= 0x5A }
    }
}

/// How the dates of an activity file are written (`--date-format`).
public enum DateFormat: String, Sendable, CaseIterable {
    /// `2026-11-03`; a time after it (`2026-11-03T10:00:00Z`, `2026-11-03 10:00`) is read and ignored.
    case iso = "YYYY-MM-DD"
    /// `11/03/2026` or `11/3/2026` (US exports), optionally with a time (`11/3/2026 10:00 AM`).
    case monthFirst = "MM/DD/YYYY"
    /// `03/11/2026` (most other exports).
    case dayFirst = "DD/MM/YYYY"
    /// `03.11.2026` (Russian and German exports).
    case dotted = "DD.MM.YYYY"

    var example: String {
        switch self {
        case .iso: "2026-11-03"
        case .monthFirst: "11/03/2026"
        case .dayFirst: "03/11/2026"
        case .dotted: "03.11.2026"
        }
    }

    public func parse(_ raw: some StringProtocol) -> Day? { try? check(raw).get() }

    /// The day a cell names, or why it names none and the spelling that would.
    ///
    /// The whole cell must read: the date, then nothing or a time of day after a `T`
    /// (ISO only), a space or `, `: `10:00`, `10:00:00`, `10:00:00.5`, with a zone
    /// (`Z`, `+03:00`, `+0300`) for ISO and `AM`/`PM` for the others. The time is not
    /// used: the row counts on the day as written.
    public func check(_ raw: some StringProtocol) -> Result<Day, ParseFailure> {
        let u = Array(String(raw).trimmingSpaces.utf8)
        let (day, rest, shaped) = date(u)
        if let day {
            if rest.isEmpty || time(rest) { return .success(day) }
            let written = String(decoding: u[..<(u.count - rest.count)], as: UTF8.self)
            return .failure(ParseFailure("write \(written)\(self == .iso ? ", or \(written)T10:00:00Z with a time" : ", or \(written) 10:00 with a time")"))
        }
        // Read as another format?
        let others = Self.allCases.filter { $0 != self }.compactMap { f -> String? in
            let (d, rest, _) = f.date(u)
            guard let d, rest.isEmpty || f.time(rest) else { return nil }
            return "--date-format \(f.rawValue) (\(d))"
        }
        if !others.isEmpty {
            return .failure(ParseFailure("it reads as a date with \(others.joined(separator: " or ")); pass that, or write it like \(example)"))
        }
        if shaped { return .failure(ParseFailure("there is no such day; write a date like \(example)")) }
        let formats = Self.allCases.map(\.rawValue).joined(separator: "|")
        return .failure(ParseFailure("write it like \(example), or name the format with --date-format \(formats)"))
    }

    /// The date at the start of the bytes and what follows it; `shaped` when the date's
    /// digits and separators are there, whether or not they name a real day.
    func date(_ u: [UInt8]) -> (day: Day?, rest: ArraySlice<UInt8>, shaped: Bool) {
        func digits(_ s: ArraySlice<UInt8>) -> Int? {
            guard !s.isEmpty, s.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return s.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        switch self {
        case .iso:
            guard u.count >= 10, u[4] == 0x2D, u[7] == 0x2D, let y = digits(u[0..<4]), let m = digits(u[5..<7]),
                  let d = digits(u[8..<10]) else { return (nil, [], false) }
            return (Day(year: y, month: m, day: d), u[10...], true)
        case .monthFirst, .dayFirst, .dotted:
            let separator: UInt8 = self == .dotted ? 0x2E : 0x2F
            // 1 or 2 digits, the separator, 1 or 2 digits, the separator, 4 digits.
            var i = 0
            func part(_ width: ClosedRange<Int>) -> Int? {
                let start = i
                while i < u.count, u[i] >= 0x30, u[i] <= 0x39 { i += 1 }
                return width.contains(i - start) ? digits(u[start..<i]) : nil
            }
            guard let a = part(1...2), i < u.count, u[i] == separator else { return (nil, [], false) }
            i += 1
            guard let b = part(1...2), i < u.count, u[i] == separator else { return (nil, [], false) }
            i += 1
            guard let y = part(4...4) else { return (nil, [], false) }
            let day = self == .monthFirst ? Day(year: y, month: a, day: b) : Day(year: y, month: b, day: a)
            return (day, u[i...], true)
        }
    }

    /// Whether the bytes after a date are a time of day this format allows.
    func time(_ s: ArraySlice<UInt8>) -> Bool {
        var u = s
        func take(_ prefix: String) -> Bool {
            let p = Array(prefix.utf8)
            guard u.starts(with: p) else { return false }
            u = u.dropFirst(p.count)
            return true
        }
        func number(_ widths: ClosedRange<Int>, max: Int) -> Int? {
            let n = u.prefix(widths.upperBound).prefix { $0 >= 0x30 && $0 <= 0x39 }
            guard widths.contains(n.count) else { return nil }
            u = u.dropFirst(n.count)
            let v = n.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            return v <= max ? v : nil
        }
        guard (self == .iso && take("T")) || take(", ") || take(" ") else { return false }
        guard let hour = number(self == .iso ? 2...2 : 1...2, max: 23), take(":"), number(2...2, max: 59) != nil else { return false }
        if take(":") {
            guard number(2...2, max: 60) != nil else { return false }
            if take(".") || take(",") {
                guard number(1...9, max: 999_999_999) != nil else { return false }
            }
        }
        if self == .iso {
            if take("Z") { return u.isEmpty }
            if take("+") || take("-") {
                guard number(2...2, max: 14) != nil else { return false }
                if u.isEmpty { return true }
                _ = take(":")
                return number(2...2, max: 59) != nil && u.isEmpty
            }
            return u.isEmpty
        }
        _ = take(" ")
        for meridiem in ["AM", "PM", "am", "pm", "a.m.", "p.m."] where take(meridiem) {
            return (1...12).contains(hour) && u.isEmpty
        }
        return u.isEmpty
    }
}
