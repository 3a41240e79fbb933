import Foundation
import PostgresNIO
import PulseCore

/// The PostgreSQL engine of `ReportStore`: the server aggregates (one row per group,
/// score and round, never one per response), and the anonymous answers are regrouped
/// by the rule every engine shares (`AnonymousRegrouping`).
extension PostgresAnswerStore: ReportStore {
    /// The group a response is counted in, as SQL: empty and NULL are one "(none)".
    static func groupExpression(_ by: GroupBy) -> String {
        switch by {
        case .team: "NULLIF(s.team, '')"
        case .manager: "NULLIF(s.manager_email, '')"
        case .region: "NULLIF(s.region, '')"
        case .all: "NULL::TEXT"
        }
    }

    static func label(_ by: GroupBy, _ value: String?) -> String {
        by == .all ? "all" : (value.flatMap { $0.isEmpty ? nil : $0 } ?? GroupBy.noneLabel)
    }

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
        var promised: [Int64: Int] = [:]
        for row in try await c.query("SELECT id, min_group_size FROM round WHERE id = ANY(\(rounds)) AND min_group_size IS NOT NULL",
                                     logger: logger).collect() {
            let (id, k) = try row.decode((Int64, Int).self)
            promised[id] = k
        }
        var counts: [Int64: [GroupKeys: Int]] = [:]
        for row in try await c.query("""
            SELECT round_id, team, manager_email, region, COUNT(*)::BIGINT FROM response
            WHERE rep_id IS NULL AND round_id = ANY(\(rounds)) GROUP BY round_id, team, manager_email, region
            """, logger: logger).collect() {
            let (round, team, manager, region, n) = try row.decode((Int64, String?, String?, String?, Int).self)
            counts[round, default: [:]][GroupKeys(team: team, managerEmail: manager, region: region)] = n
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
                let rounds = Array(try await Self.roundsByID(survey: survey, range: range, on: c, logger: logger).keys)
                let grouping = try await Self.regrouping(rounds: rounds, threshold: minGroupSize, on: c, logger: logger)
                var out: [String: ENPSCounts] = [:]
                func add(_ label: String, score: Int, count n: Int) {
                    var counts = out[label] ?? ENPSCounts()
                    switch ENPSCategory(score: score) {
                    case .promoter: counts.promoters += n
                    case .passive: counts.passives += n
                    case .detractor: counts.detractors += n
                    case nil: break
                    }
                    out[label] = counts
                }
                let group = Self.groupExpression(by)
                for row in try await c.query(PostgresQuery(unsafeSQL: """
                    SELECT \(group) AS g, s.enps, COUNT(*)::BIGINT FROM response s
                    WHERE s.round_id = ANY($1) AND s.enps IS NOT NULL AND s.rep_id IS NOT NULL GROUP BY 1, 2
                    """, binds: Self.binds(rounds)), logger: logger).collect() {
                    let (g, score, n) = try row.decode((String?, Int, Int).self)
                    add(Self.label(by, g), score: score, count: n)
                }
                var reps: [String: Int] = [:]
                for row in try await c.query(PostgresQuery(unsafeSQL: """
                    SELECT \(group) AS g, COUNT(DISTINCT s.rep_id)::BIGINT FROM response s
                    WHERE s.round_id = ANY($1) AND s.enps IS NOT NULL AND s.rep_id IS NOT NULL GROUP BY 1
                    """, binds: Self.binds(rounds)), logger: logger).collect() {
                    let (g, n) = try row.decode((String?, Int).self)
                    reps[Self.label(by, g), default: 0] += n
                }
                // Anonymous answers cannot be told apart across rounds: they count as the
                // most in any one round.
                var anonymousPerRound: [String: [Int64: Int]] = [:]
                for row in try await c.query("""
                    SELECT round_id, team, manager_email, region, enps, COUNT(*)::BIGINT FROM response
                    WHERE round_id = ANY(\(rounds)) AND enps IS NOT NULL AND rep_id IS NULL GROUP BY 1, 2, 3, 4, 5
                    """, logger: logger).collect() {
                    let (round, team, manager, region, score, n) = try row.decode((Int64, String?, String?, String?, Int, Int).self)
                    guard let keys = grouping.reported(round: round, GroupKeys(team: team, managerEmail: manager, region: region)) else { continue }
                    let label = by.group(of: keys)
                    add(label, score: score, count: n)
                    anonymousPerRound[label, default: [:]][round, default: 0] += n
                }
                for label in out.keys {
                    out[label]!.respondents = max(reps[label] ?? 0, anonymousPerRound[label]?.values.max() ?? 0)
                }
                return out
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
                let ids = Array(rounds.keys)
                let grouping = try await Self.regrouping(rounds: ids, threshold: minGroupSize, on: c, logger: logger)
                var out: [String: [Period: MoraleCell]] = [:]
                func add(_ label: String, round: Int64, sum: Double, count n: Int) {
                    guard let period = rounds[round] else { return }
                    var cell = out[label]?[period] ?? MoraleCell(sumOfMeans: 0, respondents: 0)
                    cell.sumOfMeans += sum
                    cell.respondents += n
                    out[label, default: [:]][period] = cell
                }
                for row in try await c.query(PostgresQuery(unsafeSQL: """
                    SELECT s.round_id, \(Self.groupExpression(by)) AS g, SUM(s.morale), COUNT(*)::BIGINT FROM response s
                    WHERE s.round_id = ANY($1) AND s.morale IS NOT NULL AND s.rep_id IS NOT NULL GROUP BY 1, 2
                    """, binds: Self.binds(ids)), logger: logger).collect() {
                    let (round, g, sum, n) = try row.decode((Int64, String?, Double, Int).self)
                    add(Self.label(by, g), round: round, sum: sum, count: n)
                }
                for row in try await c.query("""
                    SELECT round_id, team, manager_email, region, SUM(morale), COUNT(*)::BIGINT FROM response
                    WHERE round_id = ANY(\(ids)) AND morale IS NOT NULL AND rep_id IS NULL GROUP BY 1, 2, 3, 4
                    """, logger: logger).collect() {
                    let (round, team, manager, region, sum, n) = try row.decode((Int64, String?, String?, String?, Double, Int).self)
                    guard let keys = grouping.reported(round: round, GroupKeys(team: team, managerEmail: manager, region: region)) else { continue }
                    add(by.group(of: keys), round: round, sum: sum, count: n)
                }
                return out
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
