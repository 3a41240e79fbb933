import Foundation
import PostgresNIO
import PulseCore

/// The PostgreSQL engine of `PipelineStore`: a file is read and checked whole by the
/// rules every engine shares (`PipelineImport`), compared with what is stored under its
/// ids, and what it adds or changes is copied (`COPY ... FROM STDIN`) into a temporary
/// table and upserted from it, in one transaction that holds the table against other
/// imports.
extension PostgresAnswerStore: PipelineStore {
    public func importOpportunities(_ reader: CSVReader, options: PipelineImportOptions) async throws(PulseError) -> KPIImportSummary {
        try await importByID(table: Self.opportunityTable, decode: Self.opportunity,
                             check: { reps throws(PulseError) in try PipelineImport.opportunities(reader, options: options, reps: reps) },
                             values: { o in
                                 [.text(o.id), .int(o.repID), .text(o.created.description), o.closed.map { .text($0.description) } ?? .null,
                                  .text(o.status.rawValue), o.amountCents.map { .int(Int64($0)) } ?? .null]
                             })
    }

    public func importLeads(_ reader: CSVReader, options: PipelineImportOptions) async throws(PulseError) -> KPIImportSummary {
        try await importByID(table: Self.leadTable, decode: Self.lead,
                             check: { reps throws(PulseError) in try PipelineImport.leads(reader, options: options, reps: reps) },
                             values: { l in [.text(l.id), .int(l.repID), .text(l.created.description), l.converted.map { .text($0.description) } ?? .null] })
    }

    /// Checks a file (`check`), compares its rows with what the table holds under their
    /// ids, and upserts those that add or change something, in one transaction that holds
    /// the table against other imports.
    func importByID<R: Equatable & Identifiable & Sendable>(
        table: CopyTable, decode: @escaping @Sendable (PostgresRow) throws -> R?,
        check: @escaping @Sendable ([String: Int64]) throws(PulseError) -> (rows: [R], summary: KPIImportSummary),
        values: @escaping @Sendable (R) -> [CopyValue]) async throws(PulseError) -> KPIImportSummary where R.ID == String {
        let logger = self.logger
        return try await run {
            try await client.withTransaction(logger: logger) { c -> KPIImportSummary in
                try await c.query(PostgresQuery(unsafeSQL: "LOCK TABLE \(table.name) IN SHARE ROW EXCLUSIVE MODE"), logger: logger)
                let checked = try check(try await Self.repIDsByEmail(on: c, logger: logger))
                var summary = checked.summary
                var stored: [String: R] = [:]
                let columns = table.columns.map(\.name).joined(separator: ", ")
                try await Self.inChunks(checked.rows.map(\.id)) { ids in
                    var binds = PostgresBindings()
                    binds.append(ids)
                    for row in try await c.query(PostgresQuery(unsafeSQL: "SELECT \(columns) FROM \(table.name) WHERE id = ANY($1)", binds: binds),
                                                 logger: logger).collect() {
                        if let r = try decode(row) { stored[r.id] = r }
                    }
                }
                let changed = PipelineImport.changes(checked.rows, id: \.id, stored: stored, summary: &summary)
                try await Self.upsert(changed.map(values), table: table, on: c, logger: logger)
                return summary
            }
        }
    }

    public func opportunities(reps: [Int64]?, through: Day) async throws(PulseError) -> [Opportunity] {
        let logger = self.logger
        return try await run {
            try await client.withConnection { c in
                try await c.query("""
                    SELECT id, rep_id, created, closed, status, amount_cents FROM opportunity
                    WHERE created <= \(through.description) AND (\(reps)::BIGINT[] IS NULL OR rep_id = ANY(\(reps)))
                    ORDER BY rep_id, created, id COLLATE "C"
                    """, logger: logger).collect().compactMap(Self.opportunity)
            }
        }
    }

    public func leads(reps: [Int64]?, through: Day) async throws(PulseError) -> [Lead] {
        let logger = self.logger
        return try await run {
            try await client.withConnection { c in
                try await c.query("""
                    SELECT id, rep_id, created, converted FROM lead
                    WHERE created <= \(through.description) AND (\(reps)::BIGINT[] IS NULL OR rep_id = ANY(\(reps)))
                    ORDER BY rep_id, created, id COLLATE "C"
                    """, logger: logger).collect().compactMap(Self.lead)
            }
        }
    }

    static let opportunityTable = CopyTable.all.first { $0.name == "opportunity" }!
    static let leadTable = CopyTable.all.first { $0.name == "lead" }!

    static func opportunity(_ row: PostgresRow) throws -> Opportunity? {
        let (id, rep, created, closed, status, amount) = try row.decode((String, Int64, String, String?, String, Int?).self)
        guard let day = Day(iso: created), let s = OpportunityStatus(rawValue: status) else { return nil }
        return Opportunity(id: id, repID: rep, created: day, closed: closed.flatMap { Day(iso: $0) }, status: s, amountCents: amount)
    }

    static func lead(_ row: PostgresRow) throws -> Lead? {
        let (id, rep, created, converted) = try row.decode((String, Int64, String, String?).self)
        guard let day = Day(iso: created) else { return nil }
        return Lead(id: id, repID: rep, created: day, converted: converted.flatMap { Day(iso: $0) })
    }

    /// Runs `body` on the ids 5,000 at a time.
    static func inChunks(_ ids: [String], _ body: ([String]) async throws -> Void) async throws {
        var start = 0
        while start < ids.count {
            let chunk = Array(ids[start..<min(start + 5_000, ids.count)])
            try await body(chunk)
            start += chunk.count
        }
    }

    /// Rows copied into a temporary table like `table`, then upserted from it by the
    /// table's key.
    static func upsert(_ rows: [[CopyValue]], table: CopyTable, on c: PostgresConnection, logger: Logger) async throws {
        guard !rows.isEmpty else { return }
        let staging = "\(table.name)_in"
        try await c.query(PostgresQuery(unsafeSQL: "CREATE TEMPORARY TABLE \(staging) (LIKE \(table.name)) ON COMMIT DROP"), logger: logger)
        let kinds = table.columns.map(\.kind)
        var text = CopyText(capacity: rows.count * 64)
        for r in rows { text.row(r, kinds: kinds) }
        let buffer = text.buffer
        try await c.copyFrom(table: staging, columns: table.columns.map(\.name), logger: logger) { try await $0.write(buffer) }
        let names = table.columns.map(\.name), rest = names.filter { !table.key.contains($0) }
        try await c.query(PostgresQuery(unsafeSQL: """
            INSERT INTO \(table.name) (\(names.joined(separator: ", "))) SELECT \(names.joined(separator: ", ")) FROM \(staging)
            ON CONFLICT (\(table.key.joined(separator: ", "))) DO UPDATE SET \(rest.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", "))
            """), logger: logger)
    }
}
