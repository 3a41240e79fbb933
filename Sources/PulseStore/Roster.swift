import Foundation
import GRDB
import PulseCore


extension Rep {
    /// Read by column name rather than through Codable: several times faster, and the
    /// answer pages read one rep per request.
    init(row: Row) {
        self.init(id: row["id"], email: row["email"], name: row["name"], preferredName: row["preferred_name"], team: row["team"],
                  managerEmail: row["manager_email"], region: row["region"], locale: row["locale"], timezone: row["timezone"],
                  startDate: row["start_date"], active: row["active"])
    }
}


extension AppDatabase {
    /// The roster's columns, in the order `roster list --format csv` writes them.
    public static var rosterColumns: [String] { RosterFile.columns }

    /// v5: the name a rep is greeted by in mail.
    static func registerPreferredNameMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5-rep-preferred-name") { db in
            try db.execute(sql: "ALTER TABLE rep ADD COLUMN preferred_name TEXT")
        }
    }

    // MARK: - Writes

    /// Imports a roster: upserts by email, all or nothing.
    ///
    /// A column absent from the file leaves that field as it was; an empty cell in a
    /// present column clears it. Reps that were deactivated stay inactive.
    public func importRoster(_ reader: CSVReader, map: [String: String] = [:], now: Date) throws(PulseError) -> RosterImportSummary {
        try importRoster(try RosterFile(reader, map: map), now: now)
    }

    /// Imports a checked roster file, in one transaction.
    public func importRoster(_ roster: RosterFile, now: Date) throws(PulseError) -> RosterImportSummary {
        var summary = RosterImportSummary()
        summary.warnings = roster.warnings
        let stamp = Timestamp.string(now)
        try write { db in
            for incoming in roster.reps {
                if let before = try Self.rep(email: incoming.email, db: db) {
                    let existing = roster.merged(before, with: incoming)
                    if !existing.active { summary.inactive.append(existing.email) }
                    if existing == before {
                        summary.unchanged += 1
                    } else {
                        try db.execute(sql: """
                            UPDATE rep SET name = ?, preferred_name = ?, team = ?, manager_email = ?, region = ?, locale = ?,
                                           timezone = ?, start_date = ?, updated_at = ? WHERE id = ?
                            """, arguments: [existing.name, existing.preferredName, existing.team, existing.managerEmail,
                                             existing.region, existing.locale, existing.timezone, existing.startDate, stamp, existing.id])
                        summary.updated += 1
                    }
                } else {
                    try db.execute(sql: """
                        INSERT INTO rep (email, name, preferred_name, team, manager_email, region, locale, timezone,
                                         start_date, active, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
                        """, arguments: [incoming.email, incoming.name, incoming.preferredName, incoming.team, incoming.managerEmail,
                                         incoming.region, incoming.locale, incoming.timezone, incoming.startDate,
                                         stamp, stamp])
                    summary.added += 1
                }
            }
        }
        return summary
    }

    /// Marks a rep inactive: no more invitations; their history stays.
    /// - Returns: `false` when the rep was already inactive.
    public func deactivate(email: String, now: Date) throws(PulseError) -> Bool {
        try setActive(email: email, active: false, now: now)
    }

    /// Makes a deactivated rep active again.
    public func activate(email: String, now: Date) throws(PulseError) -> Bool {
        try setActive(email: email, active: true, now: now)
    }

    private func setActive(email: String, active: Bool, now: Date) throws(PulseError) -> Bool {
        try write { db in
            guard let rep = try Self.rep(email: email, db: db) else {
                throw PulseError.usage("no rep with the email \(email) in the roster")
            }
            guard rep.active != active else { return false }
            try db.execute(sql: "UPDATE rep SET active = ?, deactivated_at = ?, updated_at = ? WHERE id = ?",
                           arguments: [active, active ? nil : Timestamp.string(now), Timestamp.string(now), rep.id])
            return true
        }
    }

    // MARK: - Reads

    public func reps(includeInactive: Bool = true, team: String? = nil) throws(PulseError) -> [Rep] {
        try read { db in
            var conditions: [String] = [], arguments: StatementArguments = []
            if !includeInactive { conditions.append("active") }
            if let team { conditions.append("team = ?"); arguments += [team] }
            return try Row.fetchAll(db, sql: "SELECT * FROM rep" + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
                + " ORDER BY team, email", arguments: arguments).map(Rep.init(row:))
        }
    }

    public func rep(email: String) throws(PulseError) -> Rep? {
        try read { db in try Self.rep(email: email, db: db) }
    }

    /// A rep by email (any case: the column compares without it).
    static func rep(email: String, db: Database) throws -> Rep? {
        try Row.fetchOne(db, sql: "SELECT * FROM rep WHERE email = ?", arguments: [email.lowercased()]).map(Rep.init(row:))
    }
}
