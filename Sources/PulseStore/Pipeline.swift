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
        let reps = try repIDsByEmail()
        return try write { db in
            var (rows, summary) = try PipelineImport.opportunities(reader, options: options, reps: reps)
            let find = try db.cachedStatement(sql: "SELECT * FROM opportunity WHERE id = ?")
            var stored: [String: Opportunity] = [:]
            for r in rows { if let row = try Row.fetchOne(find, arguments: [r.id]) { stored[r.id] = Self.opportunity(row) } }
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO opportunity (id, rep_id, created, closed, status, amount_cents) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET rep_id = excluded.rep_id, created = excluded.created, closed = excluded.closed,
                    status = excluded.status, amount_cents = excluded.amount_cents
                """)
            for o in PipelineImport.changes(rows, id: \.id, stored: stored, summary: &summary) {
                try upsert.execute(arguments: [o.id, o.repID, o.created.description, o.closed?.description, o.status.rawValue, o.amountCents])
            }
            return summary
        }
    }

    /// Upserts leads by id, all or nothing.
    public func importLeads(_ reader: CSVReader, options: PipelineImportOptions) throws(PulseError) -> KPIImportSummary {
        let reps = try repIDsByEmail()
        return try write { db in
            var (rows, summary) = try PipelineImport.leads(reader, options: options, reps: reps)
            let find = try db.cachedStatement(sql: "SELECT * FROM lead WHERE id = ?")
            var stored: [String: Lead] = [:]
            for r in rows { if let row = try Row.fetchOne(find, arguments: [r.id]) { stored[r.id] = Self.lead(row) } }
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO lead (id, rep_id, created, converted) VALUES (?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET rep_id = excluded.rep_id, created = excluded.created, converted = excluded.converted
                """)
            for l in PipelineImport.changes(rows, id: \.id, stored: stored, summary: &summary) {
                try upsert.execute(arguments: [l.id, l.repID, l.created.description, l.converted?.description])
            }
            return summary
        }
    }

    // MARK: - Reads

    /// The opportunities of these reps (all when `nil`) created on or before `through`.
    public func opportunities(reps: [Int64]?, through: Day) throws(PulseError) -> [Opportunity] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM opportunity WHERE created <= ? ORDER BY rep_id, created, id", arguments: [through.description])
                .compactMap(Self.opportunity).filter { o in reps.map { $0.contains(o.repID) } ?? true }
        }
    }

    /// The leads of these reps (all when `nil`) created on or before `through`.
    public func leads(reps: [Int64]?, through: Day) throws(PulseError) -> [Lead] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM lead WHERE created <= ? ORDER BY rep_id, created, id", arguments: [through.description])
                .compactMap(Self.lead).filter { l in reps.map { $0.contains(l.repID) } ?? true }
        }
    }
}
