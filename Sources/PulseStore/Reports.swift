import GRDB
import PulseCore

extension AppDatabase {
    // MARK: - Reads for reports

    /// The responses of a survey's rounds that fall inside a range, as the reports count
    /// them: anonymous answers under the groups `AnonymousGrouping` reports them in, and
    /// none of a round with fewer than `minGroupSize` of them.
    public func responseFacts(survey: String, range: PeriodRange, minGroupSize: Int) throws(PulseError) -> [ResponseFact] {
        try read { db in
            let grouping = try AnonymousGrouping(db, rounds: try roundPeriodsByID(db, survey: survey, range: range).keys,
                                                 threshold: minGroupSize)
            var facts: [ResponseFact] = []
            var periods: [String: Period] = [:]
            let statement = try db.makeStatement(sql: """
                SELECT r.period, s.id, s.rep_id, s.team, s.manager_email, s.region, s.enps, s.morale, s.round_id
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
                var keys = GroupKeys(team: row.string(3), managerEmail: row.string(4), region: row.string(5))
                if row.int64(2) == nil {
                    guard let reported = grouping.reported(round: row.int64(8)!, keys) else { return }
                    keys = reported
                }
                facts.append(ResponseFact(
                    period: period, keys: keys,
                    respondent: row.int64(2).map(Respondent.rep) ?? .anonymous(row.int64(1)!),
                    enps: row.int(6), morale: row.double(7)))
            }
            return facts
        }
    }

    /// The rounds of a survey inside a range, by id.
    func roundPeriodsByID(_ db: Database, survey: String, range: PeriodRange) throws -> [Int64: Period] {
        var out: [Int64: Period] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT id, period FROM round WHERE survey_id = ? AND period_start >= ? AND period_end <= ?
            """, arguments: [survey, range.start.description, range.end.description]) {
            if let p = Period(row[1] as String) { out[row[0]] = p }
        }
        return out
    }

    /// eNPS answers counted per group from the rollups of answers (`response_group`,
    /// `enps_respondent`), for `ENPSReport.compute(counts:)`: the figures `responseFacts`
    /// would give, reading a row per round and group.
    public func enpsCounts(survey: String, range: PeriodRange, by: GroupBy,
                           minGroupSize: Int) throws(PulseError) -> [String: ENPSCounts] {
        try read { db in
            let rounds = try roundPeriodsByID(db, survey: survey, range: range)
            guard !rounds.isEmpty else { return [:] }
            let anonymous = try Self.responseGroups(db, rounds: rounds.keys, anonymousOnly: true)
            let grouping = try AnonymousGrouping(db, groups: anonymous, threshold: minGroupSize)
            var identified: [ResponseGroupSums] = []
            let sql = ResponseRollups.identifiedENPSSumsSQL(by: by, rounds: "round_id IN (\(rounds.keys.map(String.init).joined(separator: ",")))")
            try RawRows(db.makeStatement(sql: sql), arguments: []).forEach { row in
                identified.append(ResponseRollups.identifiedENPSSums(row.string(0), by: by, promoters: row.int(1) ?? 0,
                                                                     passives: row.int(2) ?? 0, detractors: row.int(3) ?? 0))
            }
            return ResponseRollups.enpsCounts(groups: identified + anonymous, regrouping: grouping.regrouping,
                                              respondents: try Self.enpsRespondents(db, survey: survey, rounds: rounds), by: by)
        }
    }

    /// Morale per group and round period from the rollup of answers (`response_group`),
    /// for `TrendsReport.compute(cells:)`. A respondent has one response per round (a rep
    /// one; an anonymous answer is its own respondent), so a respondent's mean for a
    /// period is their response's morale.
    public func moraleCells(survey: String, range: PeriodRange, by: GroupBy,
                            minGroupSize: Int) throws(PulseError) -> [String: [Period: MoraleCell]] {
        try read { db in
            let rounds = try roundPeriodsByID(db, survey: survey, range: range)
            let groups = try Self.responseGroups(db, rounds: rounds.keys)
            let grouping = try AnonymousGrouping(db, groups: groups, threshold: minGroupSize)
            return ResponseRollups.moraleCells(groups: groups, regrouping: grouping.regrouping, periods: rounds, by: by)
        }
    }

    /// The anonymous answers of a survey's rounds inside a range that no figure uses,
    /// per round: all of a round with fewer than `minGroupSize` of them.
    public func anonymousAnswersLeftOut(survey: String, range: PeriodRange,
                                        minGroupSize: Int) throws(PulseError) -> [(period: Period, answers: Int)] {
        try read { db in
            let rounds = try roundPeriodsByID(db, survey: survey, range: range)
            let grouping = try AnonymousGrouping(db, rounds: rounds.keys, threshold: minGroupSize)
            return grouping.leftOut.compactMap { id, n in rounds[id].map { ($0, n) } }.sorted { $0.period.start < $1.period.start }
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

/// The anonymous answers of some rounds as they are reported (`AnonymousRegrouping`),
/// read from the database.
struct AnonymousGrouping {
    private(set) var regrouping = AnonymousRegrouping()
    /// Answers per round left out.
    var leftOut: [Int64: Int] { regrouping.leftOut }

    init(_ db: Database, rounds: some Collection<Int64>, threshold: Int) throws {
        try self.init(db, groups: try AppDatabase.responseGroups(db, rounds: rounds, anonymousOnly: true), threshold: threshold)
    }

    /// From the rollup rows of the rounds (`response_group`): their anonymous answers per key set.
    init(_ db: Database, groups: [ResponseGroupSums], threshold: Int) throws {
        let counts = ResponseRollups.anonymousCounts(groups)
        guard !counts.isEmpty else { return }
        var promised: [Int64: Int] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT id, min_group_size FROM round WHERE id IN (\(counts.keys.map(String.init).joined(separator: ","))) AND min_group_size IS NOT NULL
            """) { promised[row[0]] = row[1] }
        regrouping = AnonymousRegrouping(counts: counts, promised: promised, threshold: threshold)
    }

    /// The groups an anonymous answer of a round is reported in, or `nil` when it is left out.
    func reported(round: Int64, _ keys: GroupKeys) -> GroupKeys? { regrouping.reported(round: round, keys) }

    func isLeftOut(round: Int64) -> Bool { regrouping.isLeftOut(round: round) }
}
