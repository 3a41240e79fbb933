import Foundation
import PostgresNIO
import PulseCore

/// The rollups of answers (`response_group`, `enps_respondent`; see `ResponseGroupSums`)
/// on PostgreSQL: kept by statement triggers on `response` that sum each statement's
/// rows (its transition tables) at once, in the statement's transaction, so that a
/// `COPY` or a bulk insert costs one aggregate, not a trigger per row. Two writers of
/// one group meet on the unique keys (`NULLS NOT DISTINCT`) and add up.
extension PostgresAnswerStore {
    /// A round (`r`) of a weekly survey: its period is an ISO week.
    static let weekly = "r.period ~ '^[0-9]{4}-W[0-9]{2}$'"

    /// The statements that add (`sign` 1) or take away (`-1`) the rows of a transition
    /// table (`rows`) to the rollups.
    static func rollupStatements(_ rows: String, sign: Int) -> String {
        let k = "s.team IS NOT DISTINCT FROM %.team AND s.manager_email IS NOT DISTINCT FROM %.manager_email AND s.region IS NOT DISTINCT FROM %.region"
        func keys(_ other: String) -> String { k.replacingOccurrences(of: "s.", with: "e.").replacingOccurrences(of: "%", with: other) }
        var s = """
            INSERT INTO response_group AS g (round_id, identified, team, manager_email, region, responses, promoters, passives,
                                             detractors, morale_answers, morale_nano)
            SELECT round_id, rep_id IS NOT NULL, team, manager_email, region, \(sign) * COUNT(*), \(sign) * COUNT(*) FILTER (WHERE enps >= 9),
                   \(sign) * COUNT(*) FILTER (WHERE enps BETWEEN 7 AND 8), \(sign) * COUNT(*) FILTER (WHERE enps <= 6),
                   \(sign) * COUNT(morale), \(sign) * COALESCE(SUM(round((morale * 1e9)::numeric)), 0)::BIGINT
            FROM \(rows) GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT (round_id, identified, team, manager_email, region) DO UPDATE SET
                responses = g.responses + EXCLUDED.responses, promoters = g.promoters + EXCLUDED.promoters,
                passives = g.passives + EXCLUDED.passives, detractors = g.detractors + EXCLUDED.detractors,
                morale_answers = g.morale_answers + EXCLUDED.morale_answers, morale_nano = g.morale_nano + EXCLUDED.morale_nano;

            """
        let spans = """
            SELECT r.survey_id, s.rep_id, s.team, s.manager_email, s.region, COUNT(*) AS n, MIN(r.period_start) AS f,
                   MAX(r.period_start) AS l
            FROM \(rows) s JOIN round r ON r.id = s.round_id WHERE s.rep_id IS NOT NULL AND s.enps IS NOT NULL GROUP BY 1, 2, 3, 4, 5
            """
        // An identified rep's morale in a weekly round is their morale that week (one round per survey and week).
        s += sign > 0 ? """
            INSERT INTO morale_week AS m (survey_id, rep_id, week_start, morale)
            SELECT r.survey_id, s.rep_id, r.period_start, s.morale FROM \(rows) s JOIN round r ON r.id = s.round_id
            WHERE s.rep_id IS NOT NULL AND s.morale IS NOT NULL AND \(weekly)
            ON CONFLICT (survey_id, rep_id, week_start) DO UPDATE SET morale = EXCLUDED.morale;

            """ : """
            DELETE FROM morale_week m USING \(rows) s JOIN round r ON r.id = s.round_id
            WHERE s.rep_id IS NOT NULL AND m.survey_id = r.survey_id AND m.rep_id = s.rep_id AND m.week_start = r.period_start
              AND \(weekly);

            """
        if sign > 0 {
            s += """
                INSERT INTO enps_respondent AS e (survey_id, rep_id, team, manager_email, region, answers, first_start, last_start)
                SELECT survey_id, rep_id, team, manager_email, region, n, f, l FROM (\(spans)) d
                ON CONFLICT (survey_id, rep_id, team, manager_email, region) DO UPDATE SET answers = e.answers + EXCLUDED.answers,
                    first_start = LEAST(e.first_start, EXCLUDED.first_start), last_start = GREATEST(e.last_start, EXCLUDED.last_start);

                """
        } else {
            s += """
                DELETE FROM response_group WHERE responses = 0 AND round_id IN (SELECT round_id FROM \(rows));
                UPDATE enps_respondent e SET answers = e.answers - d.n FROM (\(spans)) d
                WHERE e.survey_id = d.survey_id AND e.rep_id = d.rep_id AND \(keys("d"));
                DELETE FROM enps_respondent WHERE answers = 0 AND rep_id IN (SELECT rep_id FROM \(rows));
                UPDATE enps_respondent e SET first_start = x.f, last_start = x.l FROM (
                    SELECT r.survey_id, s.rep_id, s.team, s.manager_email, s.region, MIN(r.period_start) AS f, MAX(r.period_start) AS l
                    FROM response s JOIN round r ON r.id = s.round_id
                    WHERE s.enps IS NOT NULL AND s.rep_id IN (SELECT rep_id FROM \(rows) WHERE rep_id IS NOT NULL AND enps IS NOT NULL)
                    GROUP BY 1, 2, 3, 4, 5) x
                WHERE e.survey_id = x.survey_id AND e.rep_id = x.rep_id AND \(keys("x"))
                  AND (e.first_start <> x.f OR e.last_start <> x.l);

                """
        }
        return s
    }

    /// v7: the rollups of answers, their triggers, and their rows filled from the answers there.
    static var responseRollupMigration: [String] {
        func function(_ name: String, _ body: String) -> String {
            "CREATE FUNCTION \(name)() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN\n\(body)RETURN NULL; END $$"
        }
        return [
            """
            CREATE TABLE response_group (
                round_id BIGINT NOT NULL REFERENCES round(id), identified BOOLEAN NOT NULL, team TEXT, manager_email TEXT,
                region TEXT, responses BIGINT NOT NULL, promoters BIGINT NOT NULL, passives BIGINT NOT NULL,
                detractors BIGINT NOT NULL, morale_answers BIGINT NOT NULL, morale_nano BIGINT NOT NULL)
            """,
            "CREATE UNIQUE INDEX response_group_key ON response_group (round_id, identified, team, manager_email, region) NULLS NOT DISTINCT",
            """
            CREATE TABLE enps_respondent (
                survey_id TEXT NOT NULL REFERENCES survey(id), rep_id BIGINT NOT NULL REFERENCES rep(id), team TEXT,
                manager_email TEXT, region TEXT, answers BIGINT NOT NULL, first_start TEXT NOT NULL, last_start TEXT NOT NULL)
            """,
            "CREATE UNIQUE INDEX enps_respondent_key ON enps_respondent (survey_id, rep_id, team, manager_email, region) NULLS NOT DISTINCT",
            """
            CREATE TABLE morale_week (
                survey_id TEXT NOT NULL REFERENCES survey(id), rep_id BIGINT NOT NULL REFERENCES rep(id), week_start TEXT NOT NULL,
                morale DOUBLE PRECISION NOT NULL, PRIMARY KEY (survey_id, rep_id, week_start))
            """,
            "CREATE INDEX response_rep ON response (rep_id) WHERE rep_id IS NOT NULL",
            function("pulse_response_rollup_insert", rollupStatements("new_rows", sign: 1)),
            function("pulse_response_rollup_delete", rollupStatements("old_rows", sign: -1)),
            function("pulse_response_rollup_update", rollupStatements("old_rows", sign: -1) + rollupStatements("new_rows", sign: 1)),
            """
            CREATE TRIGGER response_rollup_insert AFTER INSERT ON response REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION pulse_response_rollup_insert()
            """,
            """
            CREATE TRIGGER response_rollup_delete AFTER DELETE ON response REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION pulse_response_rollup_delete()
            """,
            """
            CREATE TRIGGER response_rollup_update AFTER UPDATE ON response REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION pulse_response_rollup_update()
            """,
        ] + fillResponseRollups
    }

    /// The sums of `response_group` over the raw rows, as a query.
    static let responseGroupSums = """
        SELECT round_id, rep_id IS NOT NULL AS identified, team, manager_email, region, COUNT(*)::BIGINT,
               COUNT(*) FILTER (WHERE enps >= 9)::BIGINT, COUNT(*) FILTER (WHERE enps BETWEEN 7 AND 8)::BIGINT,
               COUNT(*) FILTER (WHERE enps <= 6)::BIGINT, COUNT(morale)::BIGINT,
               COALESCE(SUM(round((morale * 1e9)::numeric)), 0)::BIGINT
        FROM response GROUP BY 1, 2, 3, 4, 5
        """

    /// The rows of `enps_respondent` over the raw rows, as a query.
    static let respondentSpanSums = """
        SELECT r.survey_id, s.rep_id, s.team, s.manager_email, s.region, COUNT(*)::BIGINT, MIN(r.period_start), MAX(r.period_start)
        FROM response s JOIN round r ON r.id = s.round_id WHERE s.rep_id IS NOT NULL AND s.enps IS NOT NULL GROUP BY 1, 2, 3, 4, 5
        """

    /// The rows of `morale_week` over the raw rows, as a query.
    static let moraleWeeks = """
        SELECT r.survey_id, s.rep_id, r.period_start AS week_start, s.morale FROM response s JOIN round r ON r.id = s.round_id
        WHERE s.rep_id IS NOT NULL AND s.morale IS NOT NULL AND \(weekly)
        """

    /// Sums the rollups of answers again from the responses.
    static let fillResponseRollups = [
        "DELETE FROM response_group",
        "DELETE FROM enps_respondent",
        "DELETE FROM morale_week",
        "INSERT INTO morale_week (survey_id, rep_id, week_start, morale) \(moraleWeeks)",
        """
        INSERT INTO response_group (round_id, identified, team, manager_email, region, responses, promoters, passives, detractors,
                                    morale_answers, morale_nano)
        \(responseGroupSums)
        """,
        """
        INSERT INTO enps_respondent (survey_id, rep_id, team, manager_email, region, answers, first_start, last_start)
        \(respondentSpanSums)
        """,
    ]

    /// The `response_group` rows of some rounds (every round when `nil`), as held or as the
    /// responses sum to.
    static func responseGroups(rounds: [Int64]?, fromResponses: Bool = false, anonymousOnly: Bool = false, on c: PostgresConnection,
                               logger: Logger) async throws -> [ResponseGroupSums] {
        if let rounds, rounds.isEmpty { return [] }
        let source = fromResponses ? "(\(responseGroupSums)) t" : """
            (SELECT round_id, identified, team, manager_email, region, responses, promoters, passives, detractors, morale_answers,
                    morale_nano FROM response_group) t
            """
        var binds = PostgresBindings()
        binds.append(rounds)
        var out: [ResponseGroupSums] = []
        let rows = try await c.query(PostgresQuery(unsafeSQL: "SELECT * FROM \(source) WHERE ($1::BIGINT[] IS NULL OR round_id = ANY($1))\(anonymousOnly ? " AND NOT identified" : "")",
                                                   binds: binds), logger: logger)
        for try await row in rows {
            var r = RowCells(row)
            out.append(ResponseGroupSums(roundID: try r.int64(), identified: try r.bool(),
                                         keys: GroupKeys(team: try r.stringOrNil(), managerEmail: try r.stringOrNil(), region: try r.stringOrNil()),
                                         responses: try r.int(), promoters: try r.int(), passives: try r.int(), detractors: try r.int(),
                                         moraleAnswers: try r.int(), moraleNano: try r.int64()))
        }
        return out
    }

    /// The `enps_respondent` rows of a survey (of every survey when `nil`), as held or as
    /// the responses give them.
    static func respondentSpans(survey: String?, fromResponses: Bool = false, on c: PostgresConnection,
                                logger: Logger) async throws -> [(survey: String, span: RespondentSpan)] {
        let source = fromResponses ? "(\(respondentSpanSums)) t"
            : "(SELECT survey_id, rep_id, team, manager_email, region, answers, first_start, last_start FROM enps_respondent) t"
        var binds = PostgresBindings()
        binds.append(survey)
        var out: [(survey: String, span: RespondentSpan)] = []
        let rows = try await c.query(PostgresQuery(unsafeSQL: "SELECT * FROM \(source) WHERE $1::TEXT IS NULL OR survey_id = $1",
                                                   binds: binds), logger: logger)
        for try await row in rows {
            var r = RowCells(row)
            let s = try r.string(), rep = try r.int64()
            let team = try r.stringOrNil(), manager = try r.stringOrNil(), region = try r.stringOrNil(), n = try r.int()
            guard let f = Day(iso: try r.string()), let l = Day(iso: try r.string()) else { continue }
            out.append((s, RespondentSpan(repID: rep, keys: GroupKeys(team: team, managerEmail: manager, region: region),
                                          answers: n, first: f, last: l)))
        }
        return out
    }

    /// Identified reps with an eNPS answer in a survey's rounds inside a range, with the
    /// keys they answered under (see the SQLite engine's).
    static func enpsRespondents(survey: String, rounds: [Int64: Period], on c: PostgresConnection,
                                logger: Logger) async throws -> [(repID: Int64, keys: GroupKeys)] {
        var starts: [Day] = []
        for try await s in try await c.query("SELECT period_start FROM round WHERE survey_id = \(survey)", logger: logger)
            .decode(String.self) { if let d = Day(iso: s) { starts.append(d) } }
        var (out, straddling) = ResponseRollups.respondents(
            try await respondentSpans(survey: survey, on: c, logger: logger).map(\.span), starts: starts,
            inside: Set(rounds.values.map(\.start)))
        guard !straddling.isEmpty else { return out }
        let rows = try await c.query("""
            SELECT DISTINCT rep_id, team, manager_email, region FROM response
            WHERE round_id = ANY(\(Array(rounds.keys))) AND rep_id = ANY(\(Array(straddling))) AND enps IS NOT NULL
            """, logger: logger)
        for try await (rep, team, manager, region) in rows.decode((Int64, String?, String?, String?).self) {
            out.append((rep, GroupKeys(team: team, managerEmail: manager, region: region)))
        }
        return out
    }

    /// Each identified rep's weekly morale (of one survey, over a range, when given), from
    /// `morale_week` or the responses, by survey in rep and week order.
    static func moraleSeries(survey: String?, range: PeriodRange?, fromResponses: Bool = false, on c: PostgresConnection,
                             logger: Logger) async throws -> [(survey: String, series: RepWeekSeries)] {
        var binds = PostgresBindings()
        binds.append(survey)
        binds.append(range?.start.description)
        binds.append(range.map { ($0.end - 6).description })
        let source = fromResponses ? "(\(moraleWeeks)) t" : "morale_week"
        let rows = try await c.query(PostgresQuery(unsafeSQL: """
            SELECT survey_id, rep_id, week_start, morale FROM \(source)
            WHERE ($1::TEXT IS NULL OR survey_id = $1) AND ($2::TEXT IS NULL OR week_start BETWEEN $2 AND $3)
            ORDER BY survey_id COLLATE "C", rep_id, week_start COLLATE "C"
            """, binds: binds), logger: logger)
        var out: [(survey: String, series: RepWeekSeries)] = []
        for try await row in rows {
            var r = RowCells(row)
            let s = try r.string(), rep = try r.int64()
            let week = try r.string(), morale = try r.double()
            guard let monday = Day(iso: week) else { continue }
            if out.last?.survey != s { out.append((s, RepWeekSeries())) }
            out[out.count - 1].series.append(rep: rep, monday: monday.ordinal, value: morale)
        }
        return out
    }

    /// The rollups of answers held, against the same sums over the responses.
    static func responseRollupCheck(on c: PostgresConnection, logger: Logger) async throws
        -> (groups: Int, respondents: Int, moraleWeeks: Int, differences: [RollupDifference]) {
        let held = try await responseGroups(rounds: nil, on: c, logger: logger)
        let spans = try await respondentSpans(survey: nil, on: c, logger: logger)
        let morale = try await moraleSeries(survey: nil, range: nil, on: c, logger: logger)
        let differences = ResponseRollups.differences(
            held: held, summed: try await responseGroups(rounds: nil, fromResponses: true, on: c, logger: logger),
            heldSpans: spans, summedSpans: try await respondentSpans(survey: nil, fromResponses: true, on: c, logger: logger))
            + ResponseRollups.differences(heldMorale: morale,
                                          summedMorale: try await moraleSeries(survey: nil, range: nil, fromResponses: true, on: c, logger: logger))
        return (held.count, spans.count, morale.reduce(0) { $0 + $1.series.count }, differences)
    }
}
