import Foundation
import GRDB
import PulseCore

/// A rep as stored.
public struct Rep: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public var id: Int64?
    public var email: String
    public var name: String?
    /// What mail greets the rep by ("Mei Lin" for Mei Lin Tan); the name when unset.
    public var preferredName: String?
    public var team: String?
    public var managerEmail: String?
    public var region: String?
    public var locale: String?
    public var timezone: String?
    public var startDate: String?
    public var active: Bool

    public static let databaseTableName = "rep"

    enum CodingKeys: String, CodingKey {
        case id, email, name, team, region, locale, timezone, active
        case managerEmail = "manager_email"
        case preferredName = "preferred_name"
        case startDate = "start_date"
    }

    public var groupKeys: GroupKeys { GroupKeys(team: team, managerEmail: managerEmail, region: region) }

    /// Read by column name rather than through Codable: several times faster, and the
    /// answer pages read one rep per request.
    public init(row: Row) {
        id = row["id"]; email = row["email"]; name = row["name"]; preferredName = row["preferred_name"]; team = row["team"]
        managerEmail = row["manager_email"]; region = row["region"]; locale = row["locale"]
        timezone = row["timezone"]; startDate = row["start_date"]; active = row["active"]
    }

    public init(id: Int64? = nil, email: String, name: String? = nil, preferredName: String? = nil, team: String? = nil,
                managerEmail: String? = nil, region: String? = nil, locale: String? = nil, timezone: String? = nil,
                startDate: String? = nil, active: Bool) {
        self.id = id; self.email = email; self.name = name; self.preferredName = preferredName; self.team = team
        self.managerEmail = managerEmail
        self.region = region; self.locale = locale; self.timezone = timezone; self.startDate = startDate; self.active = active
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
                if var existing = try Rep.filter(Column("email") == incoming.email).fetchOne(db) {
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
                        try existing.update(db)
                        try db.execute(sql: "UPDATE rep SET updated_at = ? WHERE id = ?", arguments: [stamp, existing.id])
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
            guard let rep = try Rep.filter(Column("email") == email.lowercased()).fetchOne(db) else {
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
            var request = Rep.order(Column("team"), Column("email"))
            if !includeInactive { request = request.filter(Column("active") == true) }
            if let team { request = request.filter(Column("team") == team) }
            return try request.fetchAll(db)
        }
    }

    public func rep(email: String) throws(PulseError) -> Rep? {
        try read { db in try Rep.filter(Column("email") == email.lowercased()).fetchOne(db) }
    }
}
