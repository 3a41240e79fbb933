import GRDB
import PulseCore

extension AppDatabase {
    // MARK: - Reads for reports

    /// The responses of a survey's rounds that fall inside a range, as the reports count them.
    public func responseFacts(survey: String, range: PeriodRange) throws(PulseError) -> [ResponseFact] {
        try read { db in
            var facts: [ResponseFact] = []
            var periods: [String: Period] = [:]
            let statement = try db.makeStatement(sql: """
                SELECT r.period, s.id, s.rep_id, s.team, s.manager_email, s.region, s.enps, s.morale
                FROM response s JOIN round r ON r.id = s.round_id
                WHERE r.survey_id = ? AND r.period_start >= ? AND r.period_end <= ?
                """)
            try RawRows(statement, arguments: [survey, range.start.description, range.end.description]).forEach { row in
                let p = row.string(0) ?? ""
                let period: Period
                if let known = periods[p] { period = known } else {
                    guard let parsed = Period(p) else { return }
                    periods[p] = parsed
                    period = parsed
                }
                facts.append(ResponseFact(
                    period: period,
                    keys: GroupKeys(team: row.string(3), managerEmail: row.string(4), region: row.string(5)),
                    respondent: row.int64(2).map(Respondent.rep) ?? .anonymous(row.int64(1)!),
                    enps: row.int(6), morale: row.double(7)))
            }
            return facts
        }
    }

    /// The SQL for a response's group label (the same labels as `GroupBy.group(of:)`).
    static func groupExpression(_ by: GroupBy) -> String {
        let none = "'\(GroupBy.noneLabel)'"
        switch by {
        case .team: return "COALESCE(NULLIF(s.team, ''), \(none))"
        case .manager: return "COALESCE(NULLIF(s.manager_email, ''), \(none))"
        case .region: return "COALESCE(NULLIF(s.region, ''), \(none))"
        case .all: return "'all'"
        }
    }

    /// eNPS answers counted per group in SQL, for `ENPSReport.compute(counts:)`: the
    /// same figures as from `responseFacts`, without a row per response in memory.
    public func enpsCounts(survey: String, range: PeriodRange, by: GroupBy) throws(PulseError) -> [String: ENPSCounts] {
        let g = Self.groupExpression(by)
        let from = """
            FROM response s JOIN round r ON r.id = s.round_id
            WHERE r.survey_id = ? AND r.period_start >= ? AND r.period_end <= ? AND s.enps IS NOT NULL
            """
        let args: StatementArguments = [survey, range.start.description, range.end.description]
        return try read { db in
            var out: [String: ENPSCounts] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT \(g), SUM(s.enps >= 9), SUM(s.enps BETWEEN 7 AND 8), SUM(s.enps <= 6), COUNT(DISTINCT s.rep_id)
                \(from) GROUP BY 1
                """, arguments: args) {
                out[row[0]] = ENPSCounts(promoters: row[1], passives: row[2], detractors: row[3], respondents: row[4])
            }
            // Anonymous answers cannot be told apart across rounds: they count as the most in any one round.
            for row in try Row.fetchAll(db, sql: """
                SELECT g, MAX(n) FROM (SELECT \(g) AS g, s.round_id, COUNT(*) AS n \(from) AND s.rep_id IS NULL GROUP BY 1, 2) GROUP BY g
                """, arguments: args) {
                let g: String = row[0]
                if var c = out[g] {
                    c.respondents = max(c.respondents, row[1])
                    out[g] = c
                }
            }
            return out
        }
    }

    /// Morale per group and round period summed in SQL, for `TrendsReport.compute(cells:)`.
    /// A respondent has one response per round (a rep one, an anonymous answer is its
    /// own respondent), so a respondent's mean is their response's morale.
    public func moraleCells(survey: String, range: PeriodRange, by: GroupBy) throws(PulseError) -> [String: [Period: MoraleCell]] {
        let g = Self.groupExpression(by)
        return try read { db in
            var out: [String: [Period: MoraleCell]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT \(g), r.period, SUM(s.morale), COUNT(*)
                FROM response s JOIN round r ON r.id = s.round_id
                WHERE r.survey_id = ? AND r.period_start >= ? AND r.period_end <= ? AND s.morale IS NOT NULL
                GROUP BY 1, r.id
                """, arguments: [survey, range.start.description, range.end.description]) {
                guard let period = Period(row[1] as String) else { continue }
                out[row[0], default: [:]][period] = MoraleCell(sumOfMeans: row[2], respondents: row[3])
            }
            return out
        }
    }

    /// The period of a survey's latest round that began on or before a day.
    public func latestRoundPeriod(survey: String, onOrBefore day: Day) throws(PulseError) -> Period? {
        try read { db in
            try String.fetchOne(db, sql: """
                SELECT period FROM round WHERE survey_id = ? AND period_start <= ? ORDER BY period_start DESC LIMIT 1
                """, arguments: [survey, day.description]).flatMap { Period($0) }
        }
    }

    /// The periods of a survey's rounds inside a range, in order.
    public func roundPeriods(survey: String, range: PeriodRange) throws(PulseError) -> [Period] {
        try read { db in
            try String.fetchAll(db, sql: """
                SELECT period FROM round WHERE survey_id = ? AND period_start >= ? AND period_end <= ?
                ORDER BY period_start
                """, arguments: [survey, range.start.description, range.end.description]).compactMap { Period($0) }
        }
    }

    /// Invitations per group over a survey's rounds inside a range, or `nil` when any of
    /// those rounds had its answers imported rather than sent (nobody knows who was asked).
    public func invitedCounts(survey: String, range: PeriodRange, by: GroupBy) throws(PulseError) -> [String: Int]? {
        try read { db in
            let sources = try String.fetchAll(db, sql: """
                SELECT DISTINCT source FROM round WHERE survey_id = ? AND period_start >= ? AND period_end <= ?
                """, arguments: [survey, range.start.description, range.end.description])
            guard !sources.isEmpty, !sources.contains("imported") else { return nil }
            var counts: [String: Int] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT i.team, i.manager_email, i.region, COUNT(*) FROM invitation i JOIN round r ON r.id = i.round_id
                WHERE r.survey_id = ? AND r.period_start >= ? AND r.period_end <= ? AND i.sent_at IS NOT NULL
                GROUP BY i.team, i.manager_email, i.region
                """, arguments: [survey, range.start.description, range.end.description])
            while let row = try rows.next() {
                counts[by.group(of: GroupKeys(team: row[0], managerEmail: row[1], region: row[2])), default: 0] += row[3]
            }
            return counts
        }
    }

    /// Whether a survey has ever been stored (a round or a version).
    public func knowsSurvey(_ id: String) throws(PulseError) -> Bool {
        try read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM survey WHERE id = ?)", arguments: [id]) ?? false }
    }
}
