import Foundation
import GRDB
import PulseCore

extension AppDatabase {
    /// v7: opportunities and leads from CRM exports, keyed by the CRM's id (money in
    /// integer cents; an open opportunity has no close date).
    static func registerPipelineMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7-pipeline") { db in
            try db.execute(sql: """
                CREATE TABLE opportunity (
                    id TEXT PRIMARY KEY,
                    rep_id INTEGER NOT NULL REFERENCES rep(id),
                    created TEXT NOT NULL,
                    closed TEXT,
                    status TEXT NOT NULL CHECK (status IN ('open', 'won', 'lost')),
                    amount_cents INTEGER
                );
                CREATE INDEX opportunity_rep ON opportunity (rep_id, created);
                CREATE TABLE lead (
                    id TEXT PRIMARY KEY,
                    rep_id INTEGER NOT NULL REFERENCES rep(id),
                    created TEXT NOT NULL,
                    converted TEXT
                );
                CREATE INDEX lead_rep ON lead (rep_id, created);
                """)
        }
    }

    static func opportunity(_ row: Row) -> Opportunity? {
        guard let created = Day(iso: row["created"] as String), let status = OpportunityStatus(rawValue: row["status"]) else { return nil }
        return Opportunity(id: row["id"], repID: row["rep_id"], created: created, closed: (row["closed"] as String?).flatMap { Day(iso: $0) },
                           status: status, amountCents: row["amount_cents"])
    }

    static func lead(_ row: Row) -> Lead? {
        guard let created = Day(iso: row["created"] as String) else { return nil }
        return Lead(id: row["id"], repID: row["rep_id"], created: created, converted: (row["converted"] as String?).flatMap { Day(iso: $0) })
    }

    // MARK: - Writes

    /// Upserts opportunities by id, all or nothing.
    public func importOpportunities(_ reader: CSVReader, options: PipelineImportOptions) throws(PulseError) -> KPIImportSummary {
        try importByID(table: "opportunity", columns: ["id", "rep_id", "created", "closed", "status", "amount_cents"], decode: Self.opportunity,
                       check: { reps throws(PulseError) in try PipelineImport.opportunities(reader, options: options, reps: reps) },
                       values: { [$0.id, $0.repID, $0.created.description, $0.closed?.description, $0.status.rawValue, $0.amountCents] })
    }

    /// Upserts leads by id, all or nothing.
    public func importLeads(_ reader: CSVReader, options: PipelineImportOptions) throws(PulseError) -> KPIImportSummary {
        try importByID(table: "lead", columns: ["id", "rep_id", "created", "converted"], decode: Self.lead,
                       check: { reps throws(PulseError) in try PipelineImport.leads(reader, options: options, reps: reps) },
                       values: { [$0.id, $0.repID, $0.created.description, $0.converted?.description] })
    }

    /// Checks a file (`check`), compares its rows with what the table holds under their
    /// ids, and upserts those that add or change something, in one transaction.
    private func importByID<R: Equatable & Identifiable>(
        table: String, columns: [String], decode: @escaping (Row) -> R?,
        check: ([String: Int64]) throws(PulseError) -> (rows: [R], summary: KPIImportSummary),
        values: (R) -> StatementArguments) throws(PulseError) -> KPIImportSummary where R.ID == String {
        let reps = try repIDsByEmail()
        return try write { db in
            let checked = try check(reps)
            let rows = checked.rows
            var summary = checked.summary
            let find = try db.cachedStatement(sql: "SELECT * FROM \(table) WHERE id = ?")
            var stored: [String: R] = [:]
            for r in rows { if let row = try Row.fetchOne(find, arguments: [r.id]) { stored[r.id] = decode(row) } }
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))
                ON CONFLICT (id) DO UPDATE SET \(columns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
                """)
            for r in PipelineImport.changes(rows, id: \.id, stored: stored, summary: &summary) { try upsert.execute(arguments: values(r)) }
            return summary
        }
    }

    // MARK: - Reads

    /// The opportunities of these reps (all when `nil`) created on or before `through`,
    /// read through SQLite's C API (a year of 20,000 reps holds a million).
    public func opportunities(reps: [Int64]?, through: Day) throws(PulseError) -> [Opportunity] {
        try read { db in
            var out: [Opportunity] = []
            let statement = try db.makeStatement(sql: """
                SELECT id, rep_id, created, closed, status, amount_cents FROM opportunity
                WHERE created <= ?\(Self.repFilter(reps)) ORDER BY rep_id, created, id
                """)
            try RawRows(statement, arguments: [through.description]).forEach { row in
                guard let id = row.string(0), let rep = row.int64(1), let created = row.day(2),
                      let status = row.string(4).flatMap(OpportunityStatus.init(rawValue:)) else { return }
                out.append(Opportunity(id: id, repID: rep, created: created, closed: row.day(3), status: status, amountCents: row.int(5)))
            }
            return out
        }
    }

    /// The leads of these reps (all when `nil`) created on or before `through`.
    public func leads(reps: [Int64]?, through: Day) throws(PulseError) -> [Lead] {
        try read { db in
            var out: [Lead] = []
            let statement = try db.makeStatement(sql: """
                SELECT id, rep_id, created, converted FROM lead WHERE created <= ?\(Self.repFilter(reps)) ORDER BY rep_id, created, id
                """)
            try RawRows(statement, arguments: [through.description]).forEach { row in
                guard let id = row.string(0), let rep = row.int64(1), let created = row.day(2) else { return }
                out.append(Lead(id: id, repID: rep, created: created, converted: row.day(3)))
            }
            return out
        }
    }

    /// ` AND rep_id IN (...)` for some reps, nothing for all (the ids are integers).
    static func repFilter(_ reps: [Int64]?) -> String {
        reps.map { " AND rep_id IN (\($0.map(String.init).joined(separator: ",")))" } ?? ""
    }
}
