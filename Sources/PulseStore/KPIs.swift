import Foundation
import GRDB
import PulseCore

/// What a KPI import did.
public struct KPIImportSummary: Sendable, Equatable {
    public var rows = 0
    public var added = 0
    public var updated = 0
    public var unchanged = 0
    /// Rows left out with `--skip-unknown` (emails not in the roster).
    public var skipped = 0
    public var firstDay: Day?
    public var lastDay: Day?
    public var warnings: [String] = []
    /// What the run decided that the reader may want to check (how amounts were read).
    public var notes: [String] = []
}

extension AppDatabase {
    public static let activityColumns = ["email", "date", "calls", "emails", "meetings", "opportunities_created", "deals_won",
                                         "deals_lost", "revenue_won", "pipeline_value"]
    public static let quotaColumns = ["email", "period", "quota"]

    private static let countColumns = ["calls", "emails", "meetings", "opportunities_created", "deals_won", "deals_lost"]

    /// Imports daily (or weekly) activity rows, all or nothing; upserts by (email, date).
    /// Empty cells are missing values, not zeros; money may carry currency signs and
    /// thousands separators.
    ///
    /// Rows are checked and written in one pass inside one transaction (rolled back on
    /// the first problem found, after every problem is listed): nothing of the file is
    /// held in memory but a line number per rep-day, to name the earlier line of a
    /// contradicting duplicate.
    /// - Parameters:
    ///   - skipUnknown: rows of emails not in the roster are left out and counted instead
    ///     of refused.
    ///   - today: rows dated after it are imported with a warning.
    ///   - progress: called with the rows read so far, every 100,000 rows.
    ///   - decimal: the decimal mark of amounts like `1,234` or `1,5` that could be read
    ///     two ways (`--decimal`); without it the file's other amounts decide, or the
    ///     import is refused.
    public func importActivity(_ reader: CSVReader, map: [String: String] = [:], dateFormat: DateFormat = .iso,
                               decimal: DecimalMark? = nil, skipUnknown: Bool = false, today: Day? = nil,
                               progress: ((Int) -> Void)? = nil) throws(PulseError) -> KPIImportSummary {
        let file = reader.file
        let layout = try ColumnLayout(header: reader.header, file: file, required: ["email", "date"],
                                      optional: Array(Self.activityColumns.dropFirst(2)), map: map)
        var summary = KPIImportSummary()
        for u in layout.unused { summary.warnings.append("\(file): column \"\(u.name)\" is not an activity column and was ignored") }
        let reps = try repIDsByEmail()
        let emailIndex = layout.index("email")!, dateIndex = layout.index("date")!
        let countIndexes = Self.countColumns.map { layout.index($0) }
        let moneyIndexes = ["revenue_won", "pipeline_value"].map { layout.index($0) }
        let marks = DecimalMarks(file: file, explicit: decimal) { () throws(PulseError) in
            try DecimalMarks.scan(reader, columns: moneyIndexes.compactMap { $0 })
        }
        var issues: [InputIssue] = []
        var unknown: [String: Int] = [:]
        var future = (count: 0, first: nil as InputIssue?)
        var minDay = Int.max, maxDay = Int.min
        // rep-day → the line that wrote it.
        var seen: [Int64: Int32] = [:]
        var dayText: [Int: String] = [:]
        var lastEmail: [UInt8] = [], lastRep: Int64?
        var dbFailure: (any Error)?

        try write { db in
            let before = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM activity") ?? 0
            let upsert = try db.makeStatement(sql: """
                INSERT INTO activity (rep_id, day, calls, emails, meetings, opportunities_created, deals_won, deals_lost,
                                      revenue_won_cents, pipeline_value_cents)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (rep_id, day) DO UPDATE SET
                    calls = excluded.calls, emails = excluded.emails, meetings = excluded.meetings,
                    opportunities_created = excluded.opportunities_created, deals_won = excluded.deals_won,
                    deals_lost = excluded.deals_lost, revenue_won_cents = excluded.revenue_won_cents,
                    pipeline_value_cents = excluded.pipeline_value_cents
                WHERE calls IS NOT excluded.calls OR emails IS NOT excluded.emails OR meetings IS NOT excluded.meetings
                   OR opportunities_created IS NOT excluded.opportunities_created OR deals_won IS NOT excluded.deals_won
                   OR deals_lost IS NOT excluded.deals_lost OR revenue_won_cents IS NOT excluded.revenue_won_cents
                   OR pipeline_value_cents IS NOT excluded.pipeline_value_cents
                """)
            let stored = try db.makeStatement(sql: """
                SELECT calls, emails, meetings, opportunities_created, deals_won, deals_lost, revenue_won_cents,
                       pipeline_value_cents FROM activity WHERE rep_id = ? AND day = ?
                """)
            var bulk = BulkStatement(upsert, connection: db.sqliteConnection)
            var changed = 0
            var read = 0
            try reader.forEachRecord { record throws(PulseError) in
                let line = record.line
                read += 1
                if read % 100_000 == 0 { progress?(read) }
                func bad(_ field: String, _ message: String) {
                    if issues.count < 1000 { issues.append(InputIssue(file: file, line: line, field: field, message)) }
                }
                func text(_ i: Int) -> String? {
                    guard let s = record.string(i)?.trimmingSpaces, !s.isEmpty else { return nil }
                    return s
                }
                // The rep: rows of one rep usually come together, so the last email is kept.
                let repID: Int64
                let sameAsLast = record.withTrimmedBytes(emailIndex) { $0.elementsEqual(lastEmail) }
                if sameAsLast, let lastRep {
                    repID = lastRep
                } else {
                    guard let email = text(emailIndex)?.lowercased() else { return bad("email", "is empty") }
                    guard let id = reps[email] else {
                        if skipUnknown { unknown[email, default: 0] += 1; return }
                        return bad("email", "\(email) is not in the roster (import it with pulse roster import, or pass --skip-unknown)")
                    }
                    repID = id
                    lastEmail = record.withTrimmedBytes(emailIndex) { Array($0) }
                    lastRep = id
                }
                let parsedDay: Day? = dateFormat == .iso ? record.withTrimmedBytes(dateIndex) { Day(isoBytes: $0) } : nil
                let day: Day
                if let parsedDay {
                    day = parsedDay
                } else {
                    guard let dateText = text(dateIndex) else { return bad("date", "is empty") }
                    switch dateFormat.check(dateText) {
                    case let .success(d): day = d
                    case let .failure(problem):
                        return bad("date", "\"\(dateText)\" is not a date as \(dateFormat.rawValue): \(problem.reason)")
                    }
                }
                if let today, day > today {
                    if future.count == 0 { future.first = InputIssue(file: file, line: line, field: "date", "\(day) is in the future") }
                    future.count += 1
                }
                var values = [Int?](repeating: nil, count: 8)
                for (k, index) in countIndexes.enumerated() {
                    guard let index else { continue }
                    if let n = record.withTrimmedBytes(index, Parse.plainCount) { values[k] = n; continue }
                    guard let t = text(index) else { continue }
                    switch Parse.wholeNumber(t) {
                    case let .success(n): values[k] = n
                    case let .failure(problem):
                        bad(Self.countColumns[k], problem.tooLarge ? "\"\(t)\" is too large: \(problem.reason)"
                                                                   : "\"\(t)\" is not a whole number of 0 or more: \(problem.reason)")
                    }
                }
                for (k, index) in moneyIndexes.enumerated() {
                    guard let index else { continue }
                    if marks.pointIsDecimal, let c = record.withTrimmedBytes(index, Parse.plainCents) { values[6 + k] = c; continue }
                    guard let t = text(index) else { continue }
                    let field = k == 0 ? "revenue_won" : "pipeline_value"
                    guard let amount = try marks.amount(t, line: line, field: field) else { continue }
                    switch amount {
                    case let .success(cents) where cents >= 0: values[6 + k] = cents
                    case .success: bad(field, "\"\(t)\" is not an amount of money of 0 or more")
                    case let .failure(problem):
                        bad(field, problem.tooLarge ? "\"\(t)\" is too large: \(problem.reason)"
                                                    : "\"\(t)\" is not an amount of money: \(problem.reason)")
                    }
                }
                guard dbFailure == nil else { return }
                let key = repID << 32 | Int64(UInt32(bitPattern: Int32(truncatingIfNeeded: day.ordinal)))
                let dayString: String
                if let known = dayText[day.ordinal] { dayString = known } else {
                    dayString = day.description
                    dayText[day.ordinal] = dayString
                }
                do {
                    if let earlier = seen[key] {
                        // The earlier row is what the table holds now.
                        let row = try Row.fetchOne(stored, arguments: [repID, dayString])
                        let old = (0..<8).map { row?[$0] as Int? }
                        if old != values {
                            bad("date", "another row for the same rep and day, on line \(earlier), has other values; keep one row per rep and day")
                        }
                        return
                    }
                    seen[key] = Int32(truncatingIfNeeded: line)
                    minDay = min(minDay, day.ordinal)
                    maxDay = max(maxDay, day.ordinal)
                    summary.rows += 1
                    changed += try bulk.execute(repID, dayString, values)
                } catch {
                    dbFailure = error
                }
            }
            if let dbFailure { throw dbFailure }
            if let issue = marks.issue, issues.count < 1000 { issues.append(issue) }
            guard issues.isEmpty else { throw PulseError.invalidInput(issues) }
            let after = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM activity") ?? 0
            summary.added = after - before
            summary.updated = changed - summary.added
            summary.unchanged = summary.rows - changed
        }
        if summary.rows == 0 { summary.warnings.append("\(file): no rows after the header") }
        if let reading = marks.reading {
            if decimal == nil { summary.notes.append(reading) } else { summary.warnings.append(reading) }
        }
        if minDay <= maxDay { (summary.firstDay, summary.lastDay) = (Day(ordinal: minDay), Day(ordinal: maxDay)) }
        if let first = future.first {
            summary.warnings.append("\(first)\(future.count > 1 ? " (and \(future.count - 1) more rows dated after today)" : ""); imported as written")
        }
        summary.skipped = unknown.values.reduce(0, +)
        if !unknown.isEmpty {
            let names = unknown.keys.sorted()
            summary.warnings.append("\(file): \(summary.skipped) rows of \(names.count) emails not in the roster were skipped (\(names.prefix(5).joined(separator: ", "))\(names.count > 5 ? ", ..." : ""))")
        }
        return summary
    }

    /// Imports quotas per rep and month or quarter, all or nothing; upserts by (email, period).
    /// A rep's quota periods may not overlap (a month inside a quarter that also has a
    /// quota would count the same days twice), in the file or against what is stored.
    /// `decimal` is the decimal mark of amounts that could be read two ways, as for activity.
    public func importQuotas(_ reader: CSVReader, map: [String: String] = [:], decimal: DecimalMark? = nil,
                             skipUnknown: Bool = false) throws(PulseError) -> KPIImportSummary {
        let file = reader.file
        let layout = try ColumnLayout(header: reader.header, file: file, required: Self.quotaColumns, optional: [], map: map)
        let quotaIndex = layout.index("quota")!
        let marks = DecimalMarks(file: file, explicit: decimal) { () throws(PulseError) in
            try DecimalMarks.scan(reader, columns: [quotaIndex])
        }
        var summary = KPIImportSummary()
        for u in layout.unused { summary.warnings.append("\(file): column \"\(u.name)\" is not a quota column and was ignored") }
        let reps = try repIDsByEmail()
        var issues: [InputIssue] = []
        var rows: [(line: Int, email: String, quota: Quota)] = []
        var seen: [String: (line: Int, cents: Int)] = [:]
        var unknown: Set<String> = []
        try reader.forEachRecord { record throws(PulseError) in
            let line = record.line
            func bad(_ field: String, _ message: String) { issues.append(InputIssue(file: file, line: line, field: field, message)) }
            func cell(_ column: String) -> String? {
                guard let i = layout.index(column), let s = record.string(i) else { return nil }
                let t = s.trimmingSpaces
                return t.isEmpty ? nil : t
            }
            guard let email = cell("email")?.lowercased() else { return bad("email", "is empty") }
            guard let repID = reps[email] else {
                if skipUnknown { unknown.insert(email); summary.skipped += 1; return }
                return bad("email", "\(email) is not in the roster (import it with pulse roster import, or pass --skip-unknown)")
            }
            guard let periodText = cell("period") else { return bad("period", "is empty") }
            guard let period = Period(periodText), period.kind != .week else {
                return bad("period", "\"\(periodText)\" is not a month (2026-11) or a quarter (2026-Q4)")
            }
            guard let quotaText = cell("quota") else { return bad("quota", "is empty") }
            let cents: Int
            guard let amount = try marks.amount(quotaText, line: line, field: "quota") else { return }
            switch amount {
            case let .success(c) where c > 0: cents = c
            case .success: return bad("quota", "\"\(quotaText)\" is not an amount of money above 0")
            case let .failure(problem):
                return bad("quota", problem.tooLarge ? "\"\(quotaText)\" is too large: \(problem.reason)"
                                                     : "\"\(quotaText)\" is not an amount of money above 0: \(problem.reason)")
            }
            let key = "\(repID)|\(period)"
            if let earlier = seen[key] {
                if earlier.cents != cents { bad("quota", "\(email) has another quota for \(period) on line \(earlier.line)") }
                return
            }
            seen[key] = (line, cents)
            rows.append((line, email, Quota(repID: repID, period: period, cents: cents)))
        }
        // Overlapping periods of one rep, in the file or against the stored ones.
        let stored = try read { db in
            try Row.fetchAll(db, sql: "SELECT rep_id, period FROM quota").compactMap { r -> (Int64, Period)? in
                Period(r["period"] as String).map { (r["rep_id"], $0) }
            }
        }
        var periodsByRep: [Int64: [(period: Period, line: Int?)]] = [:]
        for (repID, period) in stored { periodsByRep[repID, default: []].append((period, nil)) }
        for row in rows {
            let q = row.quota
            for other in periodsByRep[q.repID] ?? [] where other.period != q.period
                && other.period.start <= q.period.end && q.period.start <= other.period.end {
                let place = other.line.map { "on line \($0)" } ?? "already stored"
                issues.append(InputIssue(file: file, line: row.line, field: "period",
                    "\(row.email): \(q.period) overlaps the quota for \(other.period) \(place); give each day one quota"))
            }
            periodsByRep[q.repID, default: []].append((q.period, row.line))
        }
        if let issue = marks.issue { issues.append(issue) }
        guard issues.isEmpty else { throw .invalidInput(issues) }
        if let reading = marks.reading {
            if decimal == nil { summary.notes.append(reading) } else { summary.warnings.append(reading) }
        }
        summary.rows = rows.count
        if !unknown.isEmpty {
            let names = unknown.sorted()
            summary.warnings.append("\(file): \(summary.skipped) rows of \(names.count) emails not in the roster were skipped (\(names.prefix(5).joined(separator: ", "))\(names.count > 5 ? ", ..." : ""))")
        }
        try write { db in
            for q in rows.map(\.quota) {
                let old = try Int.fetchOne(db, sql: "SELECT quota_cents FROM quota WHERE rep_id = ? AND period = ?",
                                           arguments: [q.repID, q.period.description])
                if old == q.cents { summary.unchanged += 1; continue }
                try db.execute(sql: """
                    INSERT INTO quota (rep_id, period, period_start, period_end, quota_cents) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (rep_id, period) DO UPDATE SET quota_cents = excluded.quota_cents
                    """, arguments: [q.repID, q.period.description, q.period.start.description, q.period.end.description, q.cents])
                if old == nil { summary.added += 1 } else { summary.updated += 1 }
            }
        }
        return summary
    }

    func repIDsByEmail() throws(PulseError) -> [String: Int64] {
        try read { db in
            var out: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, email FROM rep") { out[row["email"]] = row["id"] }
            return out
        }
    }

    // MARK: - Reads

    /// Weekly KPIs of every rep with activity in the weeks from `range.start` to `range.end`,
    /// by rep and week.
    ///
    /// Sums stream over the table in its key order (rep, day), so a rep's days arrive
    /// together and in order and each rep-week is closed as soon as the next begins:
    /// no row is held, and nothing is sorted.
    /// - Parameter reps: only these reps (`nil` for all).
    public func weeklyKPIs(from start: Day, to end: Day, reps: [Int64]? = nil) throws(PulseError) -> [WeeklyKPIs] {
        var out: [WeeklyKPIs] = []
        try forEachWeeklyKPIs(from: start, to: end, reps: reps) { out.append($0) }
        return out
    }

    /// One KPI of every rep-week with activity, by rep and week, without holding the
    /// rep-weeks themselves (what `correlate` needs over a large range).
    public func weeklyValues(of kpi: KPI, from start: Day, to end: Day, reps: [Int64]? = nil) throws(PulseError) -> [Int64: [Period: Double]] {
        var out: [Int64: [Period: Double]] = [:]
        var rep: Int64?, current: [Period: Double] = [:]
        try forEachWeeklyKPIs(from: start, to: end, reps: reps) { k in
            if k.repID != rep {
                if let rep, !current.isEmpty { out[rep] = current }
                rep = k.repID
                current = [:]
            }
            if let v = k.value(kpi) { current[k.week] = v }
        }
        if let rep, !current.isEmpty { out[rep] = current }
        return out
    }

    /// Calls `body` with each rep-week's KPIs, in rep and week order.
    func forEachWeeklyKPIs(from start: Day, to end: Day, reps: [Int64]?, _ body: (WeeklyKPIs) -> Void) throws(PulseError) {
        let weekStart = Period.week(of: start).start, weekEnd = Period.week(of: end).end
        if let reps, reps.isEmpty { return }
        let repFilter = reps.map { " AND rep_id IN (\($0.map(String.init).joined(separator: ",")))" } ?? ""
        try read { db in
            let wanted = reps.map(Set.init)
            let quotas = try self.quotas(db, from: weekStart, to: weekEnd).filter { wanted?.contains($0.repID) ?? true }
            var summer = WeeklySummer(quotas: quotas)
            let statement = try db.makeStatement(sql: """
                SELECT rep_id, day, calls, emails, meetings, opportunities_created, deals_won, deals_lost, revenue_won_cents
                FROM activity WHERE day BETWEEN ? AND ?\(repFilter) ORDER BY rep_id, day
                """)
            try RawRows(statement, arguments: [weekStart.description, weekEnd.description]).forEach { row in
                guard let day = row.day(1), let rep = row.int64(0) else { return }
                let d = ActivityDay(repID: rep, day: day, calls: row.int(2), emails: row.int(3), meetings: row.int(4),
                                    opportunitiesCreated: row.int(5), dealsWon: row.int(6), dealsLost: row.int(7),
                                    revenueWonCents: row.int(8))
                if let k = summer.add(d) { body(k) }
            }
            if let k = summer.finish() { body(k) }
        }
    }

    func quotas(_ db: Database, from start: Day, to end: Day) throws -> [Quota] {
        try Row.fetchAll(db, sql: "SELECT rep_id, period, quota_cents FROM quota WHERE period_end >= ? AND period_start <= ?",
                         arguments: [start.description, end.description]).compactMap { r in
            Period(r["period"] as String).map { Quota(repID: r["rep_id"], period: $0, cents: r["quota_cents"]) }
        }
    }

    /// Quotas overlapping a span of days.
    public func quotas(from start: Day, to end: Day) throws(PulseError) -> [Quota] {
        try read { db in try self.quotas(db, from: start, to: end) }
    }

    /// Each identified rep's weekly morale for a survey (the contract's definition), by rep
    /// and week: one response per rep and round, so their response's morale.
    public func weeklyMorale(survey: String, range: PeriodRange) throws(PulseError) -> [Int64: [Period: Double]] {
        try read { db in
            var out: [Int64: [Period: Double]] = [:]
            var periods: [String: Period?] = [:]
            let statement = try db.makeStatement(sql: """
                SELECT s.rep_id, r.period, s.morale FROM response s JOIN round r ON r.id = s.round_id
                WHERE r.survey_id = ? AND r.period_start >= ? AND r.period_end <= ? AND s.rep_id IS NOT NULL AND s.morale IS NOT NULL
                """)
            try RawRows(statement, arguments: [survey, range.start.description, range.end.description]).forEach { row in
                let text = row.string(1) ?? ""
                let period: Period?
                if let known = periods[text] { period = known } else {
                    period = Period(text).flatMap { $0.kind == .week ? $0 : nil }
                    periods[text] = period
                }
                guard let period, let rep = row.int64(0), let m = row.double(2) else { return }
                out[rep, default: [:]][period] = m
            }
            return out
        }
    }
}

extension AppDatabase {
    /// The numeric answers of each response to a survey inside a range (for drivers),
    /// with the definition of the latest round's version to read them by.
    /// Anonymous answers of a round with fewer than `minGroupSize` of them are left out, as
    /// from every figure.
    public func numericAnswers(survey: String, range: PeriodRange, minGroupSize: Int) throws(PulseError)
        -> (definition: SurveyDefinition?, responses: [[String: Int]]) {
        try read { db in
            let versionID = try Int64.fetchOne(db, sql: """
                SELECT survey_version_id FROM round WHERE survey_id = ? AND period_start >= ? AND period_end <= ?
                ORDER BY period_start DESC LIMIT 1
                """, arguments: [survey, range.start.description, range.end.description])
            let definition = try versionID.map { try Self.version(id: $0, db: db).definition }
            let grouping = try AnonymousGrouping(db, rounds: try roundPeriodsByID(db, survey: survey, range: range).keys,
                                                 threshold: minGroupSize)
            var byResponse: [Int64: [String: Int]] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT a.response_id, a.question_id, a.number, s.round_id, s.rep_id FROM answer a
                JOIN response s ON s.id = a.response_id JOIN round r ON r.id = s.round_id
                WHERE r.survey_id = ? AND r.period_start >= ? AND r.period_end <= ? AND a.number IS NOT NULL
                """, arguments: [survey, range.start.description, range.end.description])
            while let row = try rows.next() {
                if (row[4] as Int64?) == nil, grouping.isLeftOut(round: row[3]) { continue }
                byResponse[row[0], default: [:]][row[1]] = row[2]
            }
            // In an order of their own (not of the random ids of anonymous answers), so that the
            // sums, to their last bit, are a function of the answers alone.
            let ordered = NumericAnswers(definition: definition, responses: byResponse.values)
            return (ordered.definition, ordered.responses)
        }
    }
}

extension AppDatabase {
    /// Revenue won per rep over a span of days, in cents (reps with activity only).
    public func revenueCents(from start: Day, to end: Day) throws(PulseError) -> [Int64: Int] {
        try read { db in
            var out: [Int64: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT rep_id, SUM(revenue_won_cents) FROM activity WHERE day BETWEEN ? AND ? GROUP BY rep_id
                """, arguments: [start.description, end.description]) {
                out[row[0]] = (row[1] as Int?) ?? 0
            }
            return out
        }
    }
}
