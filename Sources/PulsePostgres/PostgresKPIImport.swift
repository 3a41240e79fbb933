import Foundation
import PostgresNIO
import PulseCore

/// The PostgreSQL engine of `KPIImportStore`: the file is read and checked by the rules
/// every engine shares (`KPIImport`) on a thread of its own, and written batch by batch
/// (`COPY` into a temporary table, then one upsert from it) on the import's one
/// transaction, which any problem rolls back.
extension PostgresAnswerStore: KPIImportStore {
    public func importActivity(_ reader: CSVReader, options: ActivityImportOptions,
                               progress: (@Sendable (Int) -> Void)?) async throws(PulseError) -> KPIImportSummary {
        let logger = self.logger
        return try await run {
            try await client.withTransaction(logger: logger) { c -> KPIImportSummary in
                // One import at a time (reports read on); the counts below are then this import's.
                try await c.query("LOCK TABLE activity IN SHARE ROW EXCLUSIVE MODE", logger: logger)
                let reps = try await Self.repIDsByEmail(on: c, logger: logger)
                let before = try await Self.count("activity", on: c, logger: logger)
                // Each batch is copied here first, then upserted from here.
                try await c.query("CREATE TEMPORARY TABLE activity_in (LIKE activity) ON COMMIT DROP", logger: logger)
                var (summary, changed, changes) = try await ConnectionBridge.run(on: c) { bridge throws(PulseError) in
                    var sink = BridgedActivitySink(bridge: bridge, logger: logger)
                    let (summary, changed) = try KPIImport.activity(reader, options: options, reps: reps, sink: &sink, progress: progress)
                    return (summary, changed, sink.changes)
                }
                if let weeks = changes.weeks {
                    try await Self.refreshActivityWeeks(from: weeks.monday, to: weeks.sunday, reps: Array(changes.reps), on: c, logger: logger)
                }
                let after = try await Self.count("activity", on: c, logger: logger)
                summary.added = after - before
                summary.updated = changed - summary.added
                summary.unchanged = summary.rows - changed
                return summary
            }
        }
    }

    public func importQuotas(_ reader: CSVReader, map: [String: String], decimal: DecimalMark?,
                             skipUnknown: Bool) async throws(PulseError) -> KPIImportSummary {
        let logger = self.logger
        return try await run {
            try await client.withTransaction(logger: logger) { c -> KPIImportSummary in
                try await c.query("LOCK TABLE quota IN SHARE ROW EXCLUSIVE MODE", logger: logger)
                let reps = try await Self.repIDsByEmail(on: c, logger: logger)
                var stored: [(repID: Int64, period: Period)] = []
                var cents: [String: Int] = [:]
                for row in try await c.query("SELECT rep_id, period, quota_cents FROM quota", logger: logger).collect() {
                    let (rep, p, amount) = try row.decode((Int64, String, Int).self)
                    cents["\(rep)|\(p)"] = amount
                    if let period = Period(p) { stored.append((rep, period)) }
                }
                var (rows, summary) = try KPIImport.quotas(reader, map: map, decimal: decimal, skipUnknown: skipUnknown,
                                                           reps: reps, stored: stored)
                var changed: [Quota] = []
                for q in rows {
                    switch cents["\(q.repID)|\(q.period)"] {
                    case q.cents?: summary.unchanged += 1
                    case nil: summary.added += 1; changed.append(q)
                    default: summary.updated += 1; changed.append(q)
                    }
                }
                var start = 0
                while start < changed.count {
                    let chunk = changed[start..<min(start + 5_000, changed.count)]
                    var binds = PostgresBindings()
                    var tuples: [String] = []
                    for (i, q) in chunk.enumerated() {
                        let n = i * 5
                        tuples.append("($\(n + 1), $\(n + 2), $\(n + 3), $\(n + 4), $\(n + 5))")
                        binds.append(q.repID); binds.append(q.period.description); binds.append(q.period.start.description)
                        binds.append(q.period.end.description); binds.append(q.cents)
                    }
                    try await c.query(PostgresQuery(unsafeSQL: """
                        INSERT INTO quota (rep_id, period, period_start, period_end, quota_cents) VALUES \(tuples.joined(separator: ", "))
                        ON CONFLICT (rep_id, period) DO UPDATE SET quota_cents = EXCLUDED.quota_cents
                        """, binds: binds), logger: logger)
                    start += chunk.count
                }
                return summary
            }
        }
    }

    static func repIDsByEmail(on c: PostgresConnection, logger: Logger) async throws -> [String: Int64] {
        var out: [String: Int64] = [:]
        for try await (id, email) in try await c.query("SELECT id, email FROM rep", logger: logger).decode((Int64, String).self) {
            out[email] = id
        }
        return out
    }

    static func count(_ table: String, on c: PostgresConnection, logger: Logger) async throws -> Int {
        try await c.query(PostgresQuery(unsafeSQL: "SELECT COUNT(*)::BIGINT FROM \(table)"), logger: logger).collect().first?.decode(Int.self) ?? 0
    }

    static let activityValueColumns = ["calls", "emails", "meetings", "opportunities_created", "deals_won", "deals_lost",
                                       "revenue_won_cents", "pipeline_value_cents"]

    /// One batch: copied (`COPY ... FROM STDIN`) into the import's temporary table, then
    /// upserted from it; the rows added or changed (a row whose values are the same is left
    /// alone and not counted).
    static func upsert(_ rows: [ActivityRow], on c: PostgresConnection, logger: Logger) async throws -> ActivityChanges {
        var changes = ActivityChanges()
        guard !rows.isEmpty else { return changes }
        let columns = activityValueColumns
        var text = CopyText(capacity: rows.count * 48)
        for r in rows {
            text.int(r.repID); text.separator(); text.text(r.dayText)
            for v in r.values { text.separator(); text.int(v.map(Int64.init)) }
            text.endRow()
        }
        let buffer = text.buffer
        try await c.copyFrom(table: "activity_in", columns: ["rep_id", "day"] + columns, logger: logger) { writer in
            try await writer.write(buffer)
        }
        let sql = """
            INSERT INTO activity (rep_id, day, \(columns.joined(separator: ", ")))
            SELECT rep_id, day, \(columns.joined(separator: ", ")) FROM activity_in
            ON CONFLICT (rep_id, day) DO UPDATE SET \(columns.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", "))
            WHERE (\(columns.map { "activity.\($0)" }.joined(separator: ", "))) IS DISTINCT FROM (\(columns.map { "EXCLUDED.\($0)" }.joined(separator: ", ")))
            RETURNING rep_id, day
            """
        for try await (rep, day) in try await c.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode((Int64, String).self) {
            if let d = Day(iso: day) { changes.add(repID: rep, day: d) }
        }
        try await c.query("TRUNCATE activity_in", logger: logger)
        return changes
    }

    /// What the table holds now for rep-days.
    static func stored(_ keys: [(repID: Int64, day: String)], on c: PostgresConnection, logger: Logger) async throws -> [[Int?]?] {
        var out: [[Int?]?] = []
        for key in keys {
            let row = try await c.query("""
                SELECT calls, emails, meetings, opportunities_created, deals_won, deals_lost, revenue_won_cents, pipeline_value_cents
                FROM activity WHERE rep_id = \(key.repID) AND day = \(key.day)
                """, logger: logger).collect().first
            out.append(try row.map { r in
                let (a, b, c, d, e, f, g, h) = try r.decode((Int?, Int?, Int?, Int?, Int?, Int?, Int?, Int?).self)
                return [a, b, c, d, e, f, g, h]
            })
        }
        return out
    }
}

/// Where the activity import's thread writes: each batch through the bridge to the
/// import's transaction.
struct BridgedActivitySink: ActivitySink {
    let bridge: ConnectionBridge
    let logger: Logger
    /// The rows added or changed, for the rollup of rep-weeks.
    var changes = ActivityChanges()

    mutating func write(_ rows: [ActivityRow]) throws(PulseError) -> Int {
        let logger = self.logger
        let batch = try bridge.call { c in try await PostgresAnswerStore.upsert(rows, on: c, logger: logger) }
        changes.merge(batch)
        return batch.count
    }

    mutating func stored(_ keys: [(repID: Int64, day: String)]) throws(PulseError) -> [[Int?]?] {
        let logger = self.logger
        return try bridge.call { c in try await PostgresAnswerStore.stored(keys, on: c, logger: logger) }
    }
}
