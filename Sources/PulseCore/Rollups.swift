import Foundation

/// The activity rows an import or a removal changed, as much as the rollup of rep-weeks
/// needs to know: which reps, and the span of days. Each engine then sums the ISO weeks
/// holding that span again from the daily rows, for those reps only, in the same
/// transaction as the change.
public struct ActivityChanges: Sendable, Equatable {
    public private(set) var reps: Set<Int64> = []
    public private(set) var first: Day?
    public private(set) var last: Day?
    /// Rows added or changed.
    public private(set) var count = 0

    public init() {}

    public mutating func add(repID: Int64, day: Day) {
        count += 1
        reps.insert(repID)
        if first.map({ day < $0 }) ?? true { first = day }
        if last.map({ day > $0 }) ?? true { last = day }
    }

    public mutating func merge(_ other: ActivityChanges) {
        count += other.count
        reps.formUnion(other.reps)
        if let f = other.first, first.map({ f < $0 }) ?? true { first = f }
        if let l = other.last, last.map({ l > $0 }) ?? true { last = l }
    }

    /// The Monday of the first week and the Sunday of the last one touched.
    public var weeks: (monday: Day, sunday: Day)? {
        guard let first, let last else { return nil }
        return (Period.week(of: first).start, Period.week(of: last).end)
    }
}

/// A rollup that does not match the raw rows it is kept from: a rep-week of activity, or
/// a row of the rollups of answers.
public struct RollupDifference: Sendable, Equatable, CustomStringConvertible {
    public var table: String
    /// The rep the row is about, if any (named by the caller), and the week of a rep-week.
    public var repID: Int64?
    public var week: Period?
    /// The row's key in words, where it is not a rep-week.
    public var subject: String?
    /// What the rollup holds, and what the raw rows sum to (`nil`: no row).
    public var held: String?
    public var summed: String?

    public init(table: String, repID: Int64, week: Period, held: String?, summed: String?) {
        self.table = table; self.repID = repID; self.week = week; self.held = held; self.summed = summed
    }

    public init(table: String, subject: String, repID: Int64? = nil, held: String?, summed: String?) {
        self.table = table; self.subject = subject; self.repID = repID; self.held = held; self.summed = summed
    }

    public var description: String { described(rep: repID.map { "rep \($0)" }) }

    /// The difference with the rep named as the caller knows them.
    public func described(rep: String?) -> String {
        let what: String
        if let week { what = "\(rep ?? "a rep") \(week)" }
        else if let subject { what = rep.map { "\(subject) (\($0))" } ?? subject }
        else { what = rep ?? "?" }
        return "\(table): \(what): holds \(held ?? "nothing"), the raw rows sum to \(summed ?? "nothing")"
    }
}

extension WeeklyKPIs {
    /// The sums a rollup of activity keeps, as one comparable line.
    var sums: String {
        [calls, emails, meetings, opportunitiesCreated, dealsWon, dealsLost, revenueWonCents]
            .map { $0.map(String.init) ?? "-" }.joined(separator: ",")
    }

    /// Where the rep-weeks of a rollup differ from the same weeks summed from the days.
    public static func differences(held: [WeeklyKPIs], summed: [WeeklyKPIs], table: String) -> [RollupDifference] {
        struct Key: Hashable { var rep: Int64; var week: Period }
        var fromDays: [Key: WeeklyKPIs] = [:]
        for k in summed { fromDays[Key(rep: k.repID, week: k.week)] = k }
        var out: [RollupDifference] = []
        for k in held {
            let key = Key(rep: k.repID, week: k.week)
            let other = fromDays.removeValue(forKey: key)
            if other?.sums != k.sums {
                out.append(RollupDifference(table: table, repID: k.repID, week: k.week, held: k.sums, summed: other?.sums))
            }
        }
        for (key, k) in fromDays {
            out.append(RollupDifference(table: table, repID: key.rep, week: key.week, held: nil, summed: k.sums))
        }
        return out.sorted { ($0.repID ?? 0, $0.week?.start.ordinal ?? 0) < ($1.repID ?? 0, $1.week?.start.ordinal ?? 0) }
    }
}

/// What a check of the rollups found: the rows they hold and where they differ from the
/// raw rows summed again.
public struct RollupCheck: Sendable, Equatable {
    /// Rep-weeks of activity (`activity_week`).
    public var rows: Int
    /// Rows of the rollups of answers (`response_group`, `enps_respondent`).
    public var responseGroups: Int
    public var respondents: Int
    /// Rep-weeks of morale (`morale_week`).
    public var moraleWeeks: Int
    public var differences: [RollupDifference]

    public init(rows: Int, responseGroups: Int = 0, respondents: Int = 0, moraleWeeks: Int = 0, differences: [RollupDifference]) {
        self.rows = rows; self.responseGroups = responseGroups; self.respondents = respondents; self.moraleWeeks = moraleWeeks
        self.differences = differences
    }
}
