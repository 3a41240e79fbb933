import Foundation

/// The options of `pulse kpi import --opportunities` and `--leads`.
public struct PipelineImportOptions: Sendable {
    public var map: [String: String]
    public var dateFormat: DateFormat
    public var decimal: DecimalMark?
    public var skipUnknown: Bool

    public init(map: [String: String] = [:], dateFormat: DateFormat = .iso, decimal: DecimalMark? = nil, skipUnknown: Bool = false) {
        self.map = map; self.dateFormat = dateFormat; self.decimal = decimal; self.skipUnknown = skipUnknown
    }
}

/// The rules of the opportunity and lead imports, which every engine shares: the
/// columns, dates and money read as the activity import reads them, statuses from CRM
/// stages, close dates that fit, unknown owners, and one row per id. A file is read and
/// checked whole; the engine then upserts the rows by id in one transaction.
public enum PipelineImport {
    public static let opportunityColumns = ["id", "email", "created", "closed", "status", "amount"]
    public static let leadColumns = ["id", "email", "created", "converted"]

    /// The checked opportunities of a file, or every problem (up to 1000).
    /// - Returns: the rows, and the summary but for `added`, `updated` and `unchanged`.
    public static func opportunities(_ reader: CSVReader, options: PipelineImportOptions, reps: [String: Int64]) throws(PulseError)
        -> (rows: [Opportunity], summary: KPIImportSummary) {
        let file = reader.file
        let layout = try ColumnLayout(header: reader.header, file: file, required: ["id", "email", "created", "status"],
                                      optional: ["closed", "amount"], map: options.map)
        let marks = DecimalMarks(file: file, explicit: options.decimal) { () throws(PulseError) in
            try DecimalMarks.scan(reader, columns: [layout.index("amount")].compactMap { $0 })
        }
        var reading = Reading(file: file, layout: layout, kind: "an opportunity", options: options, reps: reps)
        var rows: [Opportunity] = []
        try reader.forEachRecord { record throws(PulseError) in
            guard let (line, id, repID, created) = reading.start(record) else { return }
            guard let stage = reading.cell(record, "status"), let status = OpportunityStatus(stage: stage) else {
                return reading.bad(line, "status", "is empty")
            }
            var closed: Day?
            if status != .open {
                guard let text = reading.cell(record, "closed") else {
                    return reading.bad(line, "closed", "is empty, but \"\(stage)\" is \(status == .won ? "won" : "lost"): give the day it closed")
                }
                guard let day = reading.day(text, line: line, field: "closed") else { return }
                guard day >= created else {
                    return reading.bad(line, "closed", "\(day) is before the day it was created (\(created))")
                }
                closed = day
            }
            var cents: Int?
            if let text = reading.cell(record, "amount") {
                guard let amount = try marks.amount(text, line: line, field: "amount") else { return }
                switch amount {
                case let .success(c) where c >= 0: cents = c
                case .success: return reading.bad(line, "amount", "\"\(text)\" is not an amount of money of 0 or more")
                case let .failure(problem):
                    return reading.bad(line, "amount", problem.tooLarge ? "\"\(text)\" is too large: \(problem.reason)"
                                                                      : "\"\(text)\" is not an amount of money: \(problem.reason)")
                }
            }
            let row = Opportunity(id: id, repID: repID, created: created, closed: closed, status: status, amountCents: cents)
            if reading.isNew(row.id, line: line, index: rows.count, same: { rows[$0] == row }) { rows.append(row) }
        }
        var summary = try reading.finish(rows.count, marks: marks)
        if let note = marks.reading {
            if options.decimal == nil { summary.notes.append(note) } else { summary.warnings.append(note) }
        }
        return (rows, summary)
    }

    /// The checked leads of a file, or every problem (up to 1000).
    public static func leads(_ reader: CSVReader, options: PipelineImportOptions, reps: [String: Int64]) throws(PulseError)
        -> (rows: [Lead], summary: KPIImportSummary) {
        let file = reader.file
        let layout = try ColumnLayout(header: reader.header, file: file, required: ["id", "email", "created"],
                                      optional: ["converted"], map: options.map)
        var reading = Reading(file: file, layout: layout, kind: "a lead", options: options, reps: reps)
        var rows: [Lead] = []
        try reader.forEachRecord { record throws(PulseError) in
            guard let (line, id, repID, created) = reading.start(record) else { return }
            var converted: Day?
            if let text = reading.cell(record, "converted") {
                guard let day = reading.day(text, line: line, field: "converted") else { return }
                guard day >= created else {
                    return reading.bad(line, "converted", "\(day) is before the day the lead was created (\(created))")
                }
                converted = day
            }
            let row = Lead(id: id, repID: repID, created: created, converted: converted)
            if reading.isNew(row.id, line: line, index: rows.count, same: { rows[$0] == row }) { rows.append(row) }
        }
        return (rows, try reading.finish(rows.count, marks: nil))
    }

    /// What both imports check of a row: the id, the owner, the day it was created, and
    /// one row per id.
    struct Reading {
        let file: String
        let layout: ColumnLayout
        /// "an opportunity" or "a lead", for messages.
        let kind: String
        let options: PipelineImportOptions
        let reps: [String: Int64]
        var issues: [InputIssue] = []
        var unknown: [String: Int] = [:]
        /// id → the line and the index of its row.
        var seen: [String: (line: Int, index: Int)] = [:]
        var minDay = Int.max, maxDay = Int.min
        var warnings: [String] = []

        init(file: String, layout: ColumnLayout, kind: String, options: PipelineImportOptions, reps: [String: Int64]) {
            self.file = file; self.layout = layout; self.kind = kind; self.options = options; self.reps = reps
            for u in layout.unused { warnings.append("\(file): column \"\(u.name)\" is not a column of \(kind) and was ignored") }
        }

        mutating func bad(_ line: Int, _ field: String, _ message: String) {
            if issues.count < 1000 { issues.append(InputIssue(file: file, line: line, field: field, message)) }
        }

        func cell(_ record: CSVRecord, _ column: String) -> String? {
            guard let i = layout.index(column), let s = record.string(i)?.trimmingSpaces, !s.isEmpty else { return nil }
            return s
        }

        mutating func day(_ text: String, line: Int, field: String) -> Day? {
            switch options.dateFormat.check(text) {
            case let .success(d):
                minDay = min(minDay, d.ordinal)
                maxDay = max(maxDay, d.ordinal)
                return d
            case let .failure(problem):
                bad(line, field, "\"\(text)\" is not a date as \(options.dateFormat.rawValue): \(problem.reason)")
                return nil
            }
        }

        /// The id, owner and creation day of a row, or `nil` after saying what is wrong
        /// (or counting an unknown owner with `--skip-unknown`).
        mutating func start(_ record: CSVRecord) -> (line: Int, id: String, repID: Int64, created: Day)? {
            let line = record.line
            guard let id = cell(record, "id") else { bad(line, "id", "is empty"); return nil }
            guard let email = cell(record, "email")?.lowercased() else { bad(line, "email", "is empty"); return nil }
            guard let repID = reps[email] else {
                if options.skipUnknown { unknown[email, default: 0] += 1 } else {
                    bad(line, "email", "\(email) is not in the roster (import it with pulse roster import, or pass --skip-unknown)")
                }
                return nil
            }
            guard let text = cell(record, "created") else { bad(line, "created", "is empty"); return nil }
            guard let created = day(text, line: line, field: "created") else { return nil }
            return (line, id, repID, created)
        }

        /// Whether a row's id is new in the file (its row to be kept at `index`); a second
        /// row with the same id must say the same (`same` compares it with the row at an index).
        mutating func isNew(_ id: String, line: Int, index: Int, same: (Int) -> Bool) -> Bool {
            if let earlier = seen[id] {
                if !same(earlier.index) {
                    bad(line, "id", "\(id) is also on line \(earlier.line) with other values; keep one row per id")
                }
                return false
            }
            seen[id] = (line, index)
            return true
        }

        /// The summary, or every problem found.
        func finish(_ rows: Int, marks: DecimalMarks?) throws(PulseError) -> KPIImportSummary {
            var issues = self.issues
            if let issue = marks?.issue, issues.count < 1000 { issues.append(issue) }
            guard issues.isEmpty else { throw .invalidInput(issues) }
            var summary = KPIImportSummary()
            summary.rows = rows
            summary.warnings = warnings
            if rows == 0 && unknown.isEmpty { summary.warnings.append("\(file): no rows after the header") }
            if minDay <= maxDay { (summary.firstDay, summary.lastDay) = (Day(ordinal: minDay), Day(ordinal: maxDay)) }
            summary.skipped = unknown.values.reduce(0, +)
            if !unknown.isEmpty {
                let names = unknown.keys.sorted()
                summary.warnings.append("\(file): \(summary.skipped) rows of \(names.count) emails not in the roster were skipped "
                    + "(\(names.prefix(5).joined(separator: ", "))\(names.count > 5 ? ", ..." : ""))")
            }
            return summary
        }
    }
}

extension PipelineImport {
    /// The rows of a file that add or change what is stored under their ids, counted into
    /// `summary` (added, updated, unchanged).
    public static func changes<Row: Equatable>(_ rows: [Row], id: (Row) -> String, stored: [String: Row],
                                               summary: inout KPIImportSummary) -> [Row] {
        var out: [Row] = []
        for row in rows {
            switch stored[id(row)] {
            case row?: summary.unchanged += 1
            case nil: summary.added += 1; out.append(row)
            default: summary.updated += 1; out.append(row)
            }
        }
        return out
    }
}

/// Opportunities and leads imported from CRM exports, upserted by id, all or nothing, by
/// the rules of `PipelineImport`, on either engine; and what the pipeline KPIs read.
public protocol PipelineStore: Sendable {
    func importOpportunities(_ reader: CSVReader, options: PipelineImportOptions) async throws(PulseError) -> KPIImportSummary
    func importLeads(_ reader: CSVReader, options: PipelineImportOptions) async throws(PulseError) -> KPIImportSummary
    /// The opportunities of these reps (every rep's when `nil`) created on or before `through`.
    func opportunities(reps: [Int64]?, through: Day) async throws(PulseError) -> [Opportunity]
    /// The leads of these reps (every rep's when `nil`) created on or before `through`.
    func leads(reps: [Int64]?, through: Day) async throws(PulseError) -> [Lead]
}

extension PipelineStore {
    /// Each rep's pipeline KPIs for the ISO weeks from the one holding `start` to the one
    /// holding `end`, by the rules of `PipelineWeek`.
    public func pipelineWeeks(from start: Day, to end: Day, reps: [Int64]?,
                              reading: PipelineInputs = .both) async throws(PulseError) -> [Int64: [Period: PipelineWeek]] {
        var weeks: [Period] = []
        var week = Period.week(of: start)
        while week.start <= end {
            weeks.append(week)
            week = Period.week(of: week.end + 1)
        }
        guard let last = weeks.last else { return [:] }
        return PipelineWeek.compute(opportunities: reading == .leads ? [] : try await opportunities(reps: reps, through: last.end),
                                    leads: reading == .opportunities ? [] : try await leads(reps: reps, through: last.end), weeks: weeks)
    }
}

/// What a pipeline computation reads: the KPIs of opportunities, lead conversion, or both.
public enum PipelineInputs: Sendable {
    case opportunities, leads, both
}

extension PipelineStore {
    /// One pipeline KPI of every rep-week (of these reps) where it has a value, by rep and week.
    public func pipelineValues(of kpi: KPI, from start: Day, to end: Day, reps: [Int64]?) async throws(PulseError) -> [Int64: [Period: Double]] {
        var out: [Int64: [Period: Double]] = [:]
        // Lead conversion reads only leads; every other pipeline KPI only opportunities.
        let reading: PipelineInputs = kpi == .leadConversion ? .leads : .opportunities
        for (rep, weeks) in try await pipelineWeeks(from: start, to: end, reps: reps, reading: reading) {
            let values = weeks.compactMapValues { $0.value(kpi) }
            if !values.isEmpty { out[rep] = values }
        }
        return out
    }
}
