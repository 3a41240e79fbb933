/// A reporting period: an ISO week (`2026-W47`, Monday to Sunday), a month (`2026-11`)
/// or a quarter (`2026-Q4`).
public enum Period: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    case week(year: Int, week: Int)
    case month(year: Int, month: Int)
    case quarter(year: Int, quarter: Int)

    public enum Kind: String, Sendable, Codable, CaseIterable {
        case week, month, quarter
    }

    /// Parses the contract's spellings; `nil` for anything else, including weeks that
    /// the year does not have (`2025-W53`, `2026-W54`).
    public init?(_ text: some StringProtocol) {
        let s = String(text).uppercased()
        let u = Array(s.utf8)
        guard u.count >= 7, u[4] == UInt8(ascii: "-"), let year = Day.digits(u[0..<4]), year >= 1 else { return nil }
        let rest = u[5...]
        if rest.first == UInt8(ascii: "W") {
            guard rest.count == 3, let w = Day.digits(rest.dropFirst()),
                  (1...Day.isoWeeksIn(year: year)).contains(w) else { return nil }
            self = .week(year: year, week: w)
        } else if rest.first == UInt8(ascii: "Q") {
            guard rest.count == 2, let q = Day.digits(rest.dropFirst()), (1...4).contains(q) else { return nil }
            self = .quarter(year: year, quarter: q)
        } else {
            guard rest.count == 2, let m = Day.digits(rest), (1...12).contains(m) else { return nil }
            self = .month(year: year, month: m)
        }
    }

    /// The ISO week containing a day.
    public static func week(of day: Day) -> Period {
        let w = day.isoWeek
        return .week(year: w.year, week: w.week)
    }

    public static func month(of day: Day) -> Period { .month(year: day.year, month: day.month) }

    public static func quarter(of day: Day) -> Period {
        .quarter(year: day.year, quarter: (day.month - 1) / 3 + 1)
    }

    public static func containing(_ day: Day, kind: Kind) -> Period {
        switch kind {
        case .week: week(of: day)
        case .month: month(of: day)
        case .quarter: quarter(of: day)
        }
    }

    public var kind: Kind {
        switch self {
        case .week: .week
        case .month: .month
        case .quarter: .quarter
        }
    }

    /// First day of the period.
    public var start: Day {
        switch self {
        case let .week(year, week):
            // Week 1 is the week holding January 4th.
            let jan4 = Day(year: year, month: 1, day: 4)!
            return jan4 - (jan4.weekday - 1) + (week - 1) * 7
        case let .month(year, month):
            return Day(year: year, month: month, day: 1)!
        case let .quarter(year, quarter):
            return Day(year: year, month: (quarter - 1) * 3 + 1, day: 1)!
        }
    }

    /// Last day of the period (included).
    public var end: Day { next.start - 1 }

    /// Number of days in the period.
    public var dayCount: Int { end - start + 1 }

    public var next: Period {
        switch self {
        case let .week(year, week):
            return week < Day.isoWeeksIn(year: year) ? .week(year: year, week: week + 1) : .week(year: year + 1, week: 1)
        case let .month(year, month):
            return month < 12 ? .month(year: year, month: month + 1) : .month(year: year + 1, month: 1)
        case let .quarter(year, quarter):
            return quarter < 4 ? .quarter(year: year, quarter: quarter + 1) : .quarter(year: year + 1, quarter: 1)
        }
    }

    public var previous: Period { Period.containing(start - 1, kind: kind) }

    /// Whether every day of `self` lies inside `other`.
    public func isWithin(_ other: Period) -> Bool { start >= other.start && end <= other.end }

    public var description: String {
        switch self {
        case let .week(year, week): "\(Day.pad(year, 4))-W\(Day.pad(week, 2))"
        case let .month(year, month): "\(Day.pad(year, 4))-\(Day.pad(month, 2))"
        case let .quarter(year, quarter): "\(Day.pad(year, 4))-Q\(quarter)"
        }
    }

    public static func < (lhs: Period, rhs: Period) -> Bool {
        (lhs.start, lhs.end) < (rhs.start, rhs.end)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let p = Period(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "\"\(text)\" is not a period (2026-W47, 2026-11 or 2026-Q4)"))
        }
        self = p
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// An inclusive span of days given as `--from P --to P` or `--period P`.
public struct PeriodRange: Sendable, Equatable, CustomStringConvertible {
    public let from: Period
    public let to: Period

    public init(from: Period, to: Period) throws(PulseError) {
        guard from.start <= to.end else {
            throw .usage("--from \(from) is after --to \(to)")
        }
        self.from = from
        self.to = to
    }

    public init(_ period: Period) { from = period; to = period }

    public var start: Day { from.start }
    public var end: Day { to.end }

    /// `2026-W47`, or `2026-W44 to 2026-W47`.
    public var description: String { from == to ? from.description : "\(from) to \(to)" }

    /// Whether a period (a round's week, month or quarter) falls inside the range.
    public func contains(_ period: Period) -> Bool { period.start >= start && period.end <= end }

    /// The ISO weeks that overlap the range, in order.
    public var weeks: [Period] {
        var out: [Period] = []
        var w = Period.week(of: start)
        while w.start <= end {
            out.append(w)
            w = w.next
        }
        return out
    }
}

public extension Period {
    static let hint = "a period is 2026-W47 (ISO week), 2026-11 (month) or 2026-Q4 (quarter)"
}
