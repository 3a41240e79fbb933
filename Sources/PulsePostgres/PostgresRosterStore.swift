import Foundation
import PostgresNIO
import PulseCore

/// The PostgreSQL engine of `RosterStore`. Emails are stored lowercased; orders use the
/// "C" collation, so that every engine lists reps in the same order.
extension PostgresAnswerStore: RosterStore {
    static let repColumns = "id, email, name, preferred_name, team, manager_email, region, locale, timezone, start_date, active"

    static func rep(_ row: PostgresRow) throws -> Rep {
        let r = row.makeRandomAccess()
        return Rep(id: try r["id"].decode(Int64.self), email: try r["email"].decode(String.self), name: try r["name"].decode(String?.self),
                   preferredName: try r["preferred_name"].decode(String?.self), team: try r["team"].decode(String?.self),
                   managerEmail: try r["manager_email"].decode(String?.self), region: try r["region"].decode(String?.self),
                   locale: try r["locale"].decode(String?.self), timezone: try r["timezone"].decode(String?.self),
                   startDate: try r["start_date"].decode(String?.self), active: try r["active"].decode(Bool.self))
    }

    public func importRoster(_ roster: RosterFile, now: Date) async throws(PulseError) -> RosterImportSummary {
        let stamp = Timestamp.string(now)
        return try await run {
            try await client.withTransaction(logger: logger) { c -> RosterImportSummary in
                var summary = RosterImportSummary()
                summary.warnings = roster.warnings
                for incoming in roster.reps {
                    let found = try await c.query(PostgresQuery(unsafeSQL: "SELECT \(Self.repColumns) FROM rep WHERE email = $1 FOR UPDATE",
                                                                binds: { var b = PostgresBindings(); b.append(incoming.email); return b }()),
                                                  logger: logger).collect().first
                    if let found {
                        let before = try Self.rep(found)
                        let r = roster.merged(before, with: incoming)
                        if !r.active { summary.inactive.append(r.email) }
                        if r == before { summary.unchanged += 1; continue }
                        try await c.query("""
                            UPDATE rep SET name = \(r.name), preferred_name = \(r.preferredName), team = \(r.team),
                                           manager_email = \(r.managerEmail), region = \(r.region), locale = \(r.locale),
                                           timezone = \(r.timezone), start_date = \(r.startDate), updated_at = \(stamp) WHERE id = \(r.id!)
                            """, logger: logger)
                        summary.updated += 1
                    } else {
                        try await c.query("""
                            INSERT INTO rep (email, name, preferred_name, team, manager_email, region, locale, timezone, start_date,
                                             active, created_at, updated_at)
                            VALUES (\(incoming.email), \(incoming.name), \(incoming.preferredName), \(incoming.team), \(incoming.managerEmail),
                                    \(incoming.region), \(incoming.locale), \(incoming.timezone), \(incoming.startDate), TRUE, \(stamp), \(stamp))
                            """, logger: logger)
                        summary.added += 1
                    }
                }
                return summary
            }
        }
    }

    public func reps(includeInactive: Bool, team: String?) async throws(PulseError) -> [Rep] {
        try await run {
            var sql = "SELECT \(Self.repColumns) FROM rep WHERE (\(includeInactive ? "TRUE" : "active"))"
            var binds = PostgresBindings()
            if let team { sql += " AND team = $1"; binds.append(team) }
            sql += " ORDER BY team COLLATE \"C\" NULLS FIRST, email COLLATE \"C\""
            return try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).collect().map(Self.rep)
        }
    }

    public func rep(email: String) async throws(PulseError) -> Rep? {
        try await run {
            try await client.query("SELECT id, email, name, preferred_name, team, manager_email, region, locale, timezone, start_date, active FROM rep WHERE email = \(email.lowercased())",
                                   logger: logger).collect().first.map(Self.rep)
        }
    }

    public func setActive(email: String, active: Bool, now: Date) async throws(PulseError) -> Bool {
        let stamp = Timestamp.string(now)
        return try await run {
            try await client.withTransaction(logger: logger) { c -> Bool in
                guard let current = try await c.query("SELECT active FROM rep WHERE email = \(email.lowercased()) FOR UPDATE", logger: logger)
                    .collect().first?.decode(Bool.self) else {
                    throw PulseError.usage("no rep with the email \(email) in the roster")
                }
                guard current != active else { return false }
                let deactivatedAt: String? = active ? nil : stamp
                try await c.query("""
                    UPDATE rep SET active = \(active), deactivated_at = \(deactivatedAt), updated_at = \(stamp) WHERE email = \(email.lowercased())
                    """, logger: logger)
                return true
            }
        }
    }
}
