import Foundation
import PostgresNIO
import PulseCore

/// The PostgreSQL engine of `ReportStore`: the server aggregates (one row per group,
/// score and round, never one per response), and the anonymous answers are regrouped
/// by the rule every engine shares (`AnonymousRegrouping`).
extension PostgresAnswerStore: ReportStore {
    /// The survey's rounds inside a range, by id.
    static func roundsByID(survey: String, range: PeriodRange, on c: PostgresConnection, logger: Logger) async throws -> [Int64: Period] {
        var out: [Int64: Period] = [:]
        for row in try await c.query("""
            SELECT id, period FROM round WHERE survey_id = \(survey) AND period_start >= \(range.start.description)
              AND period_end <= \(range.end.description)
            """, logger: logger).collect() {
            let (id, p) = try row.decode((Int64, String).self)
            if let period = Period(p) { out[id] = period }
        }
        return out
    }

    /// The regrouping of the rounds' anonymous answers.
    static func regrouping(rounds: [Int64], threshold: Int, on c: PostgresConnection, logger: Logger) async throws -> AnonymousRegrouping {
        guard !rounds.isEmpty else { return AnonymousRegrouping() }
        return try await regrouping(groups: responseGroups(rounds: rounds, anonymousOnly: true, on: c, logger: logger), threshold: threshold,
                                    on: c, logger: logger)
    }

    /// The regrouping of the anonymous answers of some rounds' rollup rows (`response_group`).
    static func regrouping(groups: [ResponseGroupSums], threshold: Int, on c: PostgresConnection,
                           logger: Logger) async throws -> AnonymousRegrouping {
        let counts = ResponseRollups.anonymousCounts(groups)
        guard !counts.isEmpty else { return AnonymousRegrouping() }
        var promised: [Int64: Int] = [:]
        for row in try await c.query("SELECT id, min_group_size FROM round WHERE id = ANY(\(Array(counts.keys))) AND min_group_size IS NOT NULL",
                                     logger: logger).collect() {
            let (id, k) = try row.decode((Int64, Int).self)
            promised[id] = k
        }
        return AnonymousRegrouping(counts: counts, promised: promised, threshold: threshold)
    }

    public func knowsSurvey(_ id: String) async throws(PulseError) -> Bool {
        let logger = self.logger
        return try await run {
            try await client.query("SELECT EXISTS (SELECT 1 FROM survey WHERE id = \(id))", logger: logger).collect().first?.decode(Bool.self) ?? false
        }
    }

    public func latestRoundPeriod(survey: String, onOrBefore day: Day) async throws(PulseError) -> Period? {
        let logger = self.logger
        return try await run {
            try await client.query("""
                SELECT period FROM round WHERE survey_id = \(survey) AND period_start <= \(day.description)
                ORDER BY period_start DESC LIMIT 1
                """, logger: logger).collect().first.flatMap { Period(try $0.decode(String.self)) }
        }
    }

    public func roundPeriods(survey: String, range: PeriodRange) async throws(PulseError) -> [Period] {
        let logger = self.logger
        return try await run {
            try await client.query("""
                SELECT period FROM round WHERE survey_id = \(survey) AND period_start >= \(range.start.description)
                  AND period_end <= \(range.end.description) ORDER BY period_start
                """, logger: logger).collect().compactMap { Period(try $0.decode(String.self)) }
        }
    }

    public func enpsCounts(survey: String, range: PeriodRange, by: GroupBy, minGroupSize: Int) async throws(PulseError) -> [String: ENPSCounts] {
        let logger = self.logger
        return try await run {
            try await client.withConnection { c in
                let rounds = try await Self.roundsByID(survey: survey, range: range, on: c, logger: logger)
                guard !rounds.isEmpty else { return [:] }
                let anonymous = try await Self.responseGroups(rounds: Array(rounds.keys), anonymousOnly: true, on: c, logger: logger)
                let grouping = try await Self.regrouping(groups: anonymous, threshold: minGroupSize, on: c, logger: logger)
                var binds = PostgresBindings()
                binds.append(Array(rounds.keys))
                var identified: [ResponseGroupSums] = []
                for try await row in try await c.query(PostgresQuery(unsafeSQL: ResponseRollups.identifiedENPSSumsSQL(by: by, rounds: "round_id = ANY($1)"),
                                                                     binds: binds), logger: logger) {
                    var r = RowCells(row)
                    identified.append(ResponseRollups.identifiedENPSSums(try r.stringOrNil(), by: by, promoters: try r.int(),
                                                                         passives: try r.int(), detractors: try r.int()))
                }
                return ResponseRollups.enpsCounts(groups: identified + anonymous, regrouping: grouping,
                                                  respondents: try await Self.enpsRespondents(survey: survey, rounds: rounds, on: c, logger: logger),
                                                  by: by)
            }
        }
    }

    public func invitedCounts(survey: String, range: PeriodRange, by: GroupBy) async throws(PulseError) -> [String: Int]? {
        let logger = self.logger
        return try await run {
            try await client.withConnection { c -> [String: Int]? in
                let sources = try await c.query("""
                    SELECT DISTINCT source FROM round WHERE survey_id = \(survey) AND period_start >= \(range.start.description)
                      AND period_end <= \(range.end.description)
                    """, logger: logger).collect().map { try $0.decode(String.self) }
                guard !sources.isEmpty, !sources.contains("imported") else { return nil }
                var counts: [String: Int] = [:]
                for row in try await c.query("""
                    SELECT i.team, i.manager_email, i.region, COUNT(*)::BIGINT FROM invitation i JOIN round r ON r.id = i.round_id
                    WHERE r.survey_id = \(survey) AND r.period_start >= \(range.start.description) AND r.period_end <= \(range.end.description)
                      AND i.sent_at IS NOT NULL
                    GROUP BY i.team, i.manager_email, i.region
                    """, logger: logger).collect() {
                    let (team, manager, region, n) = try row.decode((String?, String?, String?, Int).self)
                    counts[by.group(of: GroupKeys(team: team, managerEmail: manager, region: region)), default: 0] += n
                }
                return counts
            }
        }
    }

    public func moraleCells(survey: String, range: PeriodRange, by: GroupBy,
                            minGroupSize: Int) async throws(PulseError) -> [String: [Period: MoraleCell]] {
        let logger = self.logger
        return try await run {
            try await client.withConnection { c in
                let rounds = try await Self.roundsByID(survey: survey, range: range, on: c, logger: logger)
                let groups = try await Self.responseGroups(rounds: Array(rounds.keys), on: c, logger: logger)
                let grouping = try await Self.regrouping(groups: groups, threshold: minGroupSize, on: c, logger: logger)
                return ResponseRollups.moraleCells(groups: groups, regrouping: grouping, periods: rounds, by: by)
            }
        }
    }

    public func anonymousAnswersLeftOut(survey: String, range: PeriodRange, minGroupSize: Int) async throws(PulseError) -> [LeftOutAnswers] {
        let logger = self.logger
        return try await run {
            try await client.withConnection { c in
                let rounds = try await Self.roundsByID(survey: survey, range: range, on: c, logger: logger)
                let grouping = try await Self.regrouping(rounds: Array(rounds.keys), threshold: minGroupSize, on: c, logger: logger)
                return grouping.leftOut.compactMap { id, n in rounds[id].map { LeftOutAnswers(period: $0, answers: n) } }
                    .sorted { $0.period.start < $1.period.start }
            }
        }
    }

    public func numericAnswers(survey: String, range: PeriodRange, minGroupSize: Int) async throws(PulseError) -> NumericAnswers {
        let logger = self.logger
        return try await run {
            try await client.withConnection { c in
                let version = try await c.query("""
                    SELECT survey_version_id FROM round WHERE survey_id = \(survey) AND period_start >= \(range.start.description)
                      AND period_end <= \(range.end.description) ORDER BY period_start DESC LIMIT 1
                    """, logger: logger).collect().first?.decode(Int64.self)
                var definition: SurveyDefinition?
                if let version { definition = try await Self.definition(versionID: version, on: c, logger: logger) }
                let rounds = try await Self.roundsByID(survey: survey, range: range, on: c, logger: logger)
                let grouping = try await Self.regrouping(rounds: Array(rounds.keys), threshold: minGroupSize, on: c, logger: logger)
                var byResponse: [Int64: [String: Int]] = [:]
                let rows = try await c.query("""
                    SELECT a.response_id, a.question_id, a.number, s.round_id, s.rep_id IS NULL FROM answer a
                    JOIN response s ON s.id = a.response_id
                    WHERE s.round_id = ANY(\(Array(rounds.keys))) AND a.number IS NOT NULL
                    """, logger: logger)
                for try await (response, question, number, round, anonymous) in rows.decode((Int64, String, Int, Int64, Bool).self) {
                    if anonymous, grouping.isLeftOut(round: round) { continue }
                    byResponse[response, default: [:]][question] = number
                }
                return NumericAnswers(definition: definition, responses: byResponse.values)
            }
        }
    }
}
