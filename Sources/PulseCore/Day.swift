/// A civil date (no time, no zone): the unit every period, activity row and quota is
/// counted in. Stored as days since 1970-01-01 so that arithmetic and ISO weeks need
/// no `Calendar` (which is slow on a hot import path and needs a zone).
public struct Day: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Days since 1970-01-01 (negative before it).
    public let ordinal: Int

    public init(ordinal: Int) { self.ordinal = ordinal }

    /// A date from its parts, or `nil` when they do not name a real day.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...Day.daysInMonth(year: year, month: month)).contains(day) else { return nil }
        ordinal = Day.daysFromCivil(year: year, month: month, day: day)
    }

    /// Parses `YYYY-MM-DD` strictly.
    public init?(iso string: some StringProtocol) {
        let u = Array(string.utf8)
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
              let y = Day.digits(u[0..<4]), let m = Day.digits(u[5..<7]), let d = Day.digits(u[8..<10])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// Parses the bytes of `YYYY-MM-DD` strictly (the importers' fast path).
    public init?(isoBytes u: UnsafeBufferPointer<UInt8>) {
        guard u.count == 10, u[4] == 0x2D, u[7] == 0x2D,
              let y = Parse.plainDigits(UnsafeBufferPointer(rebasing: u[0..<4])),
              let m = Parse.plainDigits(UnsafeBufferPointer(rebasing: u[5..<7])),
              let d = Parse.plainDigits(UnsafeBufferPointer(rebasing: u[8..<10])) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public var parts: (year: Int, month: Int, day: Int) { Day.civilFromDays(ordinal) }
    public var year: Int { parts.year }
    public var month: Int { parts.month }

    /// ISO weekday: 1 = Monday ... 7 = Sunday.
    public var weekday: Int {
        // 1970-01-01 was a Thursday (4).
        let w = (ordinal + 3) % 7
        return (w < 0 ? w + 7 : w) + 1
    }

    /// The ISO 8601 week this day belongs to (its year can differ from the calendar year).
    public var isoWeek: (year: Int, week: Int) {
        let thursday = self + (4 - weekday)
        let y = thursday.year
        let jan1 = Day(year: y, month: 1, day: 1)!
        return (y, (thursday.ordinal - jan1.ordinal) / 7 + 1)
    }

    public var description: String {
        let p = parts
        return "\(Day.pad(p.year, 4))-\(Day.pad(p.month, 2))-\(Day.pad(p.day, 2))"
    }

    public static func + (lhs: Day, rhs: Int) -> Day { Day(ordinal: lhs.ordinal + rhs) }
    public static func - (lhs: Day, rhs: Int) -> Day { Day(ordinal: lhs.ordinal - rhs) }
    public static func - (lhs: Day, rhs: Day) -> Int { lhs.ordinal - rhs.ordinal }
    public static func < (lhs: Day, rhs: Day) -> Bool { lhs.ordinal < rhs.ordinal }

    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Number of ISO weeks in an ISO week-year (52 or 53).
    public static func isoWeeksIn(year: Int) -> Int {
        // A year has 53 weeks when Dec 28 (always in the last week) is in week 53.
        Day(year: year, month: 12, day: 28)!.isoWeek.week
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public static func digits(_ bytes: ArraySlice<UInt8>) -> Int? {
        var v = 0
        for b in bytes {
            guard b >= 48, b <= 57 else { return nil }
            v = v * 10 + Int(b - 48)
        }
        return v
    }

    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
