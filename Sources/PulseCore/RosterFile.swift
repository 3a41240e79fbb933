import Foundation

/// A roster file, read and checked: the reps it holds (emails lowercased, one row per
/// rep), which columns it has, and what was ignored. Every engine imports it the same way.
public struct RosterFile: Sendable {
    /// The roster's columns, in the order `roster list --format csv` writes them.
    /// `preferred_name` came later: files without it import as before.
    public static let columns = ["email", "name", "team", "manager_email", "region", "locale", "timezone", "start_date",
                                 "preferred_name"]

    public var reps: [Rep]
    /// The columns the file has: a column absent leaves that field as it was.
    public var columns: Set<String>
    public var warnings: [String]

    /// Reads and checks a roster file: every row, or the problems of every row
    /// (file, line, field), before anything is written.
    public init(_ reader: CSVReader, map: [String: String] = [:]) throws(PulseError) {
        let file = reader.file
        let layout = try ColumnLayout(header: reader.header, file: file, required: ["email"],
                                      optional: Array(Self.columns.dropFirst()), map: map)
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
        self.reps = rows.map(\.rep)
        self.columns = Set(Self.columns.filter { layout.has($0) })
        self.warnings = summary.warnings

    }

    /// A stored rep with what the file says of it: a present column sets its field (an
    /// empty cell clears it); an absent one leaves it.
    public func merged(_ existing: Rep, with incoming: Rep) -> Rep {
        var r = existing
        if columns.contains("name") { r.name = incoming.name }
        if columns.contains("preferred_name") { r.preferredName = incoming.preferredName }
        if columns.contains("team") { r.team = incoming.team }
        if columns.contains("manager_email") { r.managerEmail = incoming.managerEmail }
        if columns.contains("region") { r.region = incoming.region }
        if columns.contains("locale") { r.locale = incoming.locale }
        if columns.contains("timezone") { r.timezone = incoming.timezone }
        if columns.contains("start_date") { r.startDate = incoming.startDate }
        return r
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
    public init() {}
}
