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

/// What a roster import did.
public struct RosterImportSummary: Sendable, Equatable {
    public var added = 0
    public var updated = 0
    public var unchanged = 0
    /// Rows for reps that were deactivated: kept inactive.
    public var inactive: [String] = []
    public var warnings: [String] = []
}

extension AppDatabase {
    /// The roster's columns, in the order `roster list --format csv` writes them.
    /// `preferred_name` came later: files without it import as before.
    public static let rosterColumns = ["email", "name", "team", "manager_email", "region", "locale", "timezone", "start_date",
                                       "preferred_name"]

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
        let file = reader.file
        let layout = try ColumnLayout(header: reader.header, file: file, required: ["email"],
                                      optional: Array(Self.rosterColumns.dropFirst()), map: map)
        var summary = RosterImportSummary()
        for u in layout.unused {
            summary.warnings.append("\(file): column \"\(u.name)\" is not a roster column and was ignored")
        }
        var issues: [InputIssue] = []
        var rows: [(line: Int, rep: Rep)] = []
        var seen: [String: (line: Int, rep: Rep)] = [:]
        try reader.forEachRecord { record throws(PulseError) in
            func cell(_ column: String) -> String? {
                guard let i = layout.index(column) else { return nil }
                guard let s = record.string(i) else {
                    issues.append(InputIssue(file: file, line: record.line, field: column, "is not valid UTF-8"))
                    return nil
                }
                let t = s.trimmingSpaces
                return t.isEmpty ? nil : t
            }
            let line = record.line
            func bad(_ field: String, _ message: String) { issues.append(InputIssue(file: file, line: line, field: field, message)) }
            // An address with a control character would be stored and later break the
            // mail headers of a whole round: refused here, shown with it written out.
            func checkEmail(_ field: String, _ address: String) {
                if let c = Validate.controlCharacter(in: address) {
                    bad(field, "\"\(Validate.visible(address))\" contains a control character (U+\(String(format: "%04X", c.value))); an email address has none")
                } else if !Validate.isEmail(address) {
                    bad(field, "\"\(address)\" is not an email address")
                }
            }
            guard let email = cell("email")?.lowercased() else { return bad("email", "is empty: every row needs an email") }
            checkEmail("email", email)
            let manager = cell("manager_email")?.lowercased()
            if let m = manager { checkEmail("manager_email", m) }
            let locale = cell("locale")
            if let l = locale, !Validate.isLocale(l) { bad("locale", "\"\(l)\" is not a locale code (en, th, ms, ru, pt-BR)") }
            let tz = cell("timezone")
            if let tz, TimeZone(identifier: tz) == nil { bad("timezone", "\"\(tz)\" is not a time zone (like Asia/Bangkok)") }
            let start = cell("start_date")
            if let s = start, Day(iso: s) == nil { bad("start_date", "\"\(s)\" is not a date as YYYY-MM-DD") }
            let rep = Rep(id: nil, email: email, name: cell("name"), preferredName: cell("preferred_name"), team: cell("team"),
                          managerEmail: manager,
                          region: cell("region"), locale: locale, timezone: tz, startDate: start, active: true)
            if let earlier = seen[email] {
                if earlier.rep != rep {
                    bad("email", "\(email) is also on line \(earlier.line) with different values; keep one row per rep")
                }
                return
            }
            seen[email] = (line, rep)
            rows.append((line, rep))
        }
        guard issues.isEmpty else { throw .invalidInput(issues) }
        if rows.isEmpty { summary.warnings.append("\(file): no rows after the header") }

        let stamp = Timestamp.string(now)
        try write { db in
            for (_, incoming) in rows {
                if var existing = try Self.rep(email: incoming.email, db: db) {
                    let before = existing
                    if layout.has("name") { existing.name = incoming.name }
                    if layout.has("preferred_name") { existing.preferredName = incoming.preferredName }
                    if layout.has("team") { existing.team = incoming.team }
                    if layout.has("manager_email") { existing.managerEmail = incoming.managerEmail }
                    if layout.has("region") { existing.region = incoming.region }
                    if layout.has("locale") { existing.locale = incoming.locale }
                    if layout.has("timezone") { existing.timezone = incoming.timezone }
                    if layout.has("start_date") { existing.startDate = incoming.startDate }
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
