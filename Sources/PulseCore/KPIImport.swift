import Foundation

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

    public init() {}
}

/// One checked row of activity: a rep's day and its eight values (calls, emails,
/// meetings, opportunities created, deals won, deals lost, revenue won and pipeline value
/// in cents), a missing value `nil`.
public struct ActivityRow: Sendable {
    public var repID: Int64
    public var day: Day
    /// The day as the tables store it.
    public var dayText: String
    public var values: [Int?]
}

/// Where an activity import writes, inside the one transaction of the import (each
/// engine has its own): rows in the file's order, never the same rep-day twice.
public protocol ActivitySink {
    /// Upserts rows by (rep, day); how many were added or changed.
    mutating func write(_ rows: [ActivityRow]) throws(PulseError) -> Int
    /// The values the table holds now for rep-days written earlier in this import.
    mutating func stored(_ keys: [(repID: Int64, day: String)]) throws(PulseError) -> [[Int?]?]
}

/// The options of `pulse kpi import` for activity.
public struct ActivityImportOptions: Sendable {
    public var map: [String: String]
    public var dateFormat: DateFormat
    /// The decimal mark of amounts like `1,234` or `1,5` that could be read two ways
    /// (`--decimal`); without it the file's other amounts decide, or the import is refused.
    public var decimal: DecimalMark?
    /// Rows of emails not in the roster are left out and counted instead of refused.
    public var skipUnknown: Bool
    /// Rows dated after it are imported with a warning.
    public var today: Day?

    public init(map: [String: String] = [:], dateFormat: DateFormat = .iso, decimal: DecimalMark? = nil, skipUnknown: Bool = false,
                today: Day? = nil) {
        self.map = map; self.dateFormat = dateFormat; self.decimal = decimal; self.skipUnknown = skipUnknown; self.today = today
    }
}

/// The rules of a KPI import, which every engine shares: the columns, what each cell may
/// hold, duplicates, unknown reps, amounts and their decimal marks. Each engine only
/// writes what these checks let through, inside one transaction it rolls back when they
/// find any problem.
public enum KPIImport {
    public static let activityColumns = ["email", "date", "calls", "emails", "meetings", "opportunities_created", "deals_won",
                                         "deals_lost", "revenue_won", "pipeline_value"]
    public static let quotaColumns = ["email", "period", "quota"]

    static let countColumns = ["calls", "emails", "meetings", "opportunities_created", "deals_won", "deals_lost"]

    /// Reads activity rows and hands each checked one to `sink`, in batches; every problem
    /// is listed (up to 1000) and thrown at the end, after which the engine rolls back.
    ///
    /// Nothing of the file is held but a line number per rep-day, to name the earlier
    /// line of a contradicting duplicate; a duplicate is compared with what the table
    /// holds for the earlier row once that row is written.
    /// - Returns: the summary but for `added`, `updated` and `unchanged`; `changed` is how
    ///   many rows the sink added or changed.
    public static func activity(_ reader: CSVReader, options: ActivityImportOptions, reps: [String: Int64], sink: inout some ActivitySink,
                                progress: ((Int) -> Void)? = nil) throws(PulseError) -> (summary: KPIImportSummary, changed: Int) {
        let file = reader.file
        let layout = try ColumnLayout(header: reader.header, file: file, required: ["email", "date"],
                                      optional: Array(activityColumns.dropFirst(2)), map: options.map)
        var summary = KPIImportSummary()
        for u in layout.unused { summary.warnings.append("\(file): column \"\(u.name)\" is not an activity column and was ignored") }
        let emailIndex = layout.index("email")!, dateIndex = layout.index("date")!
        let countIndexes = countColumns.map { layout.index($0) }
        let moneyIndexes = ["revenue_won", "pipeline_value"].map { layout.index($0) }
        let marks = DecimalMarks(file: file, explicit: options.decimal) { () throws(PulseError) in
            try DecimalMarks.scan(reader, columns: moneyIndexes.compactMap { $0 })
        }
        let dateFormat = options.dateFormat
        var issues: [InputIssue] = []
        var unknown: [String: Int] = [:]
        var future = (count: 0, first: nil as InputIssue?)
        var minDay = Int.max, maxDay = Int.min
        // rep-day → the line that wrote it.
        var seen: [Int64: Int32] = [:]
        var dayText: [Int: String] = [:]
        var lastEmail: [UInt8] = [], lastRep: Int64?
        var batch: [ActivityRow] = []
        batch.reserveCapacity(1000)
        var duplicates: [(row: ActivityRow, line: Int, earlier: Int32)] = []
        var changed = 0
        var read = 0
        func bad(_ line: Int, _ field: String, _ message: String) {
            if issues.count < 1000 { issues.append(InputIssue(file: file, line: line, field: field, message)) }
        }
        func flush() throws(PulseError) {
            if !batch.isEmpty { changed += try sink.write(batch); batch.removeAll(keepingCapacity: true) }
            guard !duplicates.isEmpty else { return }
            let stored = try sink.stored(duplicates.map { ($0.row.repID, $0.row.dayText) })
            for (d, old) in zip(duplicates, stored) where old != d.row.values {
                bad(d.line, "date", "another row for the same rep and day, on line \(d.earlier), has other values; keep one row per rep and day")
            }
            duplicates.removeAll(keepingCapacity: true)
        }
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
                    if options.skipUnknown { unknown[email, default: 0] += 1; return }
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
            if let today = options.today, day > today {
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
                    bad(countColumns[k], problem.tooLarge ? "\"\(t)\" is too large: \(problem.reason)"
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
            let key = repID << 32 | Int64(UInt32(bitPattern: Int32(truncatingIfNeeded: day.ordinal)))
            let dayString: String
            if let known = dayText[day.ordinal] { dayString = known } else {
                dayString = day.description
                dayText[day.ordinal] = dayString
            }
            let row = ActivityRow(repID: repID, day: day, dayText: dayString, values: values)
            if let earlier = seen[key] {
                // Compared with what the table holds for the earlier row, once it is written.
                duplicates.append((row, line, earlier))
                if duplicates.count >= 1000 { try flush() }
                return
            }
            seen[key] = Int32(truncatingIfNeeded: line)
            minDay = min(minDay, day.ordinal)
            maxDay = max(maxDay, day.ordinal)
            summary.rows += 1
            batch.append(row)
            if batch.count >= 1000 { try flush() }
        }
        try flush()
        // A duplicate's problem is found when its batch is checked: back in line order.
        issues = issues.enumerated().sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }.map(\.element)
        if let issue = marks.issue, issues.count < 1000 { issues.append(issue) }
        guard issues.isEmpty else { throw PulseError.invalidInput(issues) }
        if summary.rows == 0 { summary.warnings.append("\(file): no rows after the header") }
        if let reading = marks.reading {
            if options.decimal == nil { summary.notes.append(reading) } else { summary.warnings.append(reading) }
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
        return (summary, changed)
    }

    /// Reads and checks a quota file whole (one row per rep and month or quarter): the
    /// rows to upsert, or every problem. A rep's quota periods may not overlap (a month
    /// inside a quarter that also has a quota would count the same days twice), in the
    /// file or against `stored`.
    /// - Returns: the rows, and the summary but for `added`, `updated` and `unchanged`.
    public static func quotas(_ reader: CSVReader, map: [String: String] = [:], decimal: DecimalMark? = nil, skipUnknown: Bool = false,
                              reps: [String: Int64], stored: [(repID: Int64, period: Period)]) throws(PulseError)
        -> (rows: [Quota], summary: KPIImportSummary) {
        let file = reader.file
        let layout = try ColumnLayout(header: reader.header, file: file, required: quotaColumns, optional: [], map: map)
        let quotaIndex = layout.index("quota")!
        let marks = DecimalMarks(file: file, explicit: decimal) { () throws(PulseError) in
            try DecimalMarks.scan(reader, columns: [quotaIndex])
        }
        var summary = KPIImportSummary()
        for u in layout.unused { summary.warnings.append("\(file): column \"\(u.name)\" is not a quota column and was ignored") }
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
        return (rows.map(\.quota), summary)
    }
}

/// Activity and quotas imported from CRM exports, all or nothing, by the rules of
/// `KPIImport`, on either engine.
public protocol KPIImportStore: Sendable {
    /// Upserts activity rows by (email, date) in one transaction.
    func importActivity(_ reader: CSVReader, options: ActivityImportOptions,
                        progress: (@Sendable (Int) -> Void)?) async throws(PulseError) -> KPIImportSummary

    /// Upserts quotas by (email, period) in one transaction.
    func importQuotas(_ reader: CSVReader, map: [String: String], decimal: DecimalMark?,
                      skipUnknown: Bool) async throws(PulseError) -> KPIImportSummary
}
