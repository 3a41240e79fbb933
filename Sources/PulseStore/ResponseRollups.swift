import Foundation
import GRDB
import PulseCore

/// The rollups of answers (`response_group`, `enps_respondent`; see `ResponseGroupSums`)
/// on SQLite: kept by triggers on `response`, so that every write to it (imports, web
/// answers, anonymous batches, `rounds delete`, `roster erase`, `db copy`) changes them in
/// its own transaction.
extension AppDatabase {
    /// v9: the rollups of answers, their triggers, and their rows filled from the answers
    /// already there.
    static func registerResponseRollupMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v9-response-rollups") { db in
            try db.execute(sql: """
                CREATE TABLE response_group (
                    round_id INTEGER NOT NULL REFERENCES round(id),
                    identified INTEGER NOT NULL,
                    team TEXT,
                    manager_email TEXT,
                    region TEXT,
                    responses INTEGER NOT NULL,
                    promoters INTEGER NOT NULL,
                    passives INTEGER NOT NULL,
                    detractors INTEGER NOT NULL,
                    morale_answers INTEGER NOT NULL,
                    morale_nano INTEGER NOT NULL
                );
                CREATE INDEX response_group_key ON response_group(round_id, identified, team, manager_email, region);
                CREATE TABLE enps_respondent (
                    survey_id TEXT NOT NULL REFERENCES survey(id),
                    rep_id INTEGER NOT NULL REFERENCES rep(id),
                    team TEXT,
                    manager_email TEXT,
                    region TEXT,
                    answers INTEGER NOT NULL,
                    first_start TEXT NOT NULL,
                    last_start TEXT NOT NULL
                );
                CREATE INDEX enps_respondent_key ON enps_respondent(survey_id, rep_id, team, manager_email, region);
                CREATE TABLE rollup_pause (since TEXT);
                CREATE TABLE morale_week (
                    survey_id TEXT NOT NULL REFERENCES survey(id),
                    rep_id INTEGER NOT NULL REFERENCES rep(id),
                    week_start TEXT NOT NULL,
                    morale REAL NOT NULL,
                    PRIMARY KEY (survey_id, rep_id, week_start)
                ) WITHOUT ROWID;
                """)
            try db.execute(sql: responseRollupTriggers)
            try fillResponseRollups(db)
        }
    }

    /// The statements a trigger runs to add (`sign` 1, row `NEW`) or take away (`-1`,
    /// `OLD`) one response.
    private static func rollupStatements(_ row: String, sign: Int) -> String {
        let group = """
            round_id = \(row).round_id AND identified = (\(row).rep_id IS NOT NULL) AND team IS \(row).team
                AND manager_email IS \(row).manager_email AND region IS \(row).region
            """
        let respondent = """
            \(row).rep_id IS NOT NULL AND \(row).enps IS NOT NULL
                AND survey_id = (SELECT survey_id FROM round WHERE id = \(row).round_id) AND rep_id = \(row).rep_id
                AND team IS \(row).team AND manager_email IS \(row).manager_email AND region IS \(row).region
            """
        let start = "(SELECT period_start FROM round WHERE id = \(row).round_id)"
        let op = sign > 0 ? "+" : "-"
        // An identified rep's morale in a weekly round is their morale that week (one round per survey and week).
        var s = sign > 0 ? """
            INSERT OR REPLACE INTO morale_week (survey_id, rep_id, week_start, morale)
            SELECT r.survey_id, \(row).rep_id, r.period_start, \(row).morale FROM round r
            WHERE r.id = \(row).round_id AND \(row).rep_id IS NOT NULL AND \(row).morale IS NOT NULL AND \(weekly);

            """ : """
            DELETE FROM morale_week WHERE \(row).rep_id IS NOT NULL AND rep_id = \(row).rep_id
              AND (survey_id, week_start) IN (SELECT r.survey_id, r.period_start FROM round r WHERE r.id = \(row).round_id AND \(weekly));

            """
        if sign > 0 {
            s += """
                INSERT INTO response_group (round_id, identified, team, manager_email, region, responses, promoters, passives,
                                            detractors, morale_answers, morale_nano)
                SELECT \(row).round_id, \(row).rep_id IS NOT NULL, \(row).team, \(row).manager_email, \(row).region, 0, 0, 0, 0, 0, 0
                WHERE NOT EXISTS (SELECT 1 FROM response_group WHERE \(group));
                INSERT INTO enps_respondent (survey_id, rep_id, team, manager_email, region, answers, first_start, last_start)
                SELECT r.survey_id, \(row).rep_id, \(row).team, \(row).manager_email, \(row).region, 0, r.period_start, r.period_start
                FROM round r WHERE r.id = \(row).round_id AND \(row).rep_id IS NOT NULL AND \(row).enps IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM enps_respondent WHERE \(respondent));

                """
        }
        s += """
            UPDATE response_group SET responses = responses \(op) 1,
                promoters = promoters \(op) IFNULL(\(row).enps >= 9, 0),
                passives = passives \(op) IFNULL(\(row).enps BETWEEN 7 AND 8, 0),
                detractors = detractors \(op) IFNULL(\(row).enps <= 6, 0),
                morale_answers = morale_answers \(op) (\(row).morale IS NOT NULL),
                morale_nano = morale_nano \(op) IFNULL(CAST(round(\(row).morale * 1e9) AS INTEGER), 0)
            WHERE \(group);

            """
        if sign > 0 {
            s += """
                UPDATE enps_respondent SET answers = answers + 1, first_start = min(first_start, \(start)),
                    last_start = max(last_start, \(start))
                WHERE \(respondent);

                """
        } else {
            let answered = """
                FROM response s JOIN round r ON r.id = s.round_id
                WHERE s.rep_id = \(row).rep_id AND r.survey_id = enps_respondent.survey_id AND s.enps IS NOT NULL
                  AND s.team IS \(row).team AND s.manager_email IS \(row).manager_email AND s.region IS \(row).region
                """
            s += """
                DELETE FROM response_group WHERE \(group) AND responses = 0;
                UPDATE enps_respondent SET answers = answers - 1 WHERE \(respondent);
                DELETE FROM enps_respondent WHERE \(respondent) AND answers = 0;
                UPDATE enps_respondent SET first_start = (SELECT MIN(r.period_start) \(answered)),
                    last_start = (SELECT MAX(r.period_start) \(answered))
                WHERE \(respondent);

                """
        }
        return s
    }

    /// The triggers that keep the rollups of answers: an update is the old row taken away
    /// and the new one added.
    static var responseRollupTriggers: String {
        """
        CREATE TRIGGER response_rollup_insert AFTER INSERT ON response WHEN NOT EXISTS (SELECT 1 FROM rollup_pause) BEGIN
        \(rollupStatements("NEW", sign: 1))END;
        CREATE TRIGGER response_rollup_delete AFTER DELETE ON response WHEN NOT EXISTS (SELECT 1 FROM rollup_pause) BEGIN
        \(rollupStatements("OLD", sign: -1))END;
        CREATE TRIGGER response_rollup_update AFTER UPDATE OF round_id, rep_id, team, manager_email, region, morale, enps ON response
        WHEN NOT EXISTS (SELECT 1 FROM rollup_pause) BEGIN
        \(rollupStatements("OLD", sign: -1))\(rollupStatements("NEW", sign: 1))END;
        """
    }

    /// A round (`r`) of a weekly survey: its period is an ISO week.
    static let weekly = "r.period GLOB '[0-9][0-9][0-9][0-9]-W[0-9][0-9]'"

    /// The sums of `response_group` over the raw rows (of the responses `condition`
    /// accepts), as a query.
    static func responseGroupSums(where condition: String = "TRUE") -> String {
        """
        SELECT round_id, rep_id IS NOT NULL AS identified, team, manager_email, region, COUNT(*),
               SUM(IFNULL(enps >= 9, 0)), SUM(IFNULL(enps BETWEEN 7 AND 8, 0)), SUM(IFNULL(enps <= 6, 0)),
               COUNT(morale), IFNULL(SUM(CAST(round(morale * 1e9) AS INTEGER)), 0)
        FROM response WHERE \(condition) GROUP BY round_id, identified, team, manager_email, region
        """
    }

    /// The rows of `enps_respondent` over the raw rows (`s`, their rounds `r`, as far as
    /// `condition` accepts them), as a query.
    static func respondentSpans(where condition: String = "TRUE") -> String {
        """
        SELECT r.survey_id, s.rep_id, s.team, s.manager_email, s.region, COUNT(*), MIN(r.period_start), MAX(r.period_start)
        FROM response s JOIN round r ON r.id = s.round_id WHERE s.rep_id IS NOT NULL AND s.enps IS NOT NULL AND \(condition)
        GROUP BY r.survey_id, s.rep_id, s.team, s.manager_email, s.region
        """
    }

    /// The rows of `morale_week` over the raw rows (as far as `condition` accepts them), as a query.
    static func moraleWeeks(where condition: String = "TRUE") -> String {
        """
        SELECT r.survey_id, s.rep_id, r.period_start AS week_start, s.morale FROM response s JOIN round r ON r.id = s.round_id
        WHERE s.rep_id IS NOT NULL AND s.morale IS NOT NULL AND \(weekly) AND \(condition)
        """
    }

    /// Runs a bulk write to `response` (an import) with the triggers paused, then sums
    /// the rollups of the rounds it touched again, set by set, in the same transaction:
    /// a row in `rollup_pause` that no other connection ever sees, since it is gone
    /// before the commit (and a rollback takes it with the rest).
    static func withRollupsPaused<T>(_ db: Database, _ body: () throws -> (T, touched: Set<Int64>)) throws -> T {
        try db.execute(sql: "INSERT INTO rollup_pause (since) VALUES (datetime('now'))")
        let (result, touched) = try body()
        try db.execute(sql: "DELETE FROM rollup_pause")
        guard !touched.isEmpty else { return result }
        try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS rollup_rounds (id INTEGER PRIMARY KEY); DELETE FROM temp.rollup_rounds")
        let insert = try db.makeStatement(sql: "INSERT INTO temp.rollup_rounds (id) VALUES (?)")
        for id in touched { try insert.execute(arguments: [id]) }
        let rounds = "(SELECT id FROM temp.rollup_rounds)"
        let surveys = "(SELECT survey_id FROM round WHERE id IN \(rounds))"
        let reps = "(SELECT rep_id FROM response WHERE round_id IN \(rounds) AND rep_id IS NOT NULL)"
        try db.execute(sql: """
            DELETE FROM response_group WHERE round_id IN \(rounds);
            INSERT INTO response_group (round_id, identified, team, manager_email, region, responses, promoters, passives,
                                        detractors, morale_answers, morale_nano)
            \(responseGroupSums(where: "round_id IN \(rounds)"));
            DELETE FROM morale_week WHERE (survey_id, week_start) IN (SELECT r.survey_id, r.period_start FROM round r WHERE r.id IN \(rounds) AND \(weekly));
            INSERT OR REPLACE INTO morale_week (survey_id, rep_id, week_start, morale) \(moraleWeeks(where: "s.round_id IN \(rounds)"));
            DELETE FROM enps_respondent WHERE survey_id IN \(surveys) AND rep_id IN \(reps);
            INSERT INTO enps_respondent (survey_id, rep_id, team, manager_email, region, answers, first_start, last_start)
            \(respondentSpans(where: "r.survey_id IN \(surveys) AND s.rep_id IN \(reps)"));
            """)
        return result
    }

    /// Sums the rollups of answers again from the responses.
    static func fillResponseRollups(_ db: Database) throws {
        try db.execute(sql: """
            DELETE FROM rollup_pause;
            DELETE FROM response_group;
            DELETE FROM enps_respondent;
            DELETE FROM morale_week;
            INSERT INTO morale_week (survey_id, rep_id, week_start, morale)
            \(moraleWeeks());
            INSERT INTO response_group (round_id, identified, team, manager_email, region, responses, promoters, passives,
                                        detractors, morale_answers, morale_nano)
            \(responseGroupSums());
            INSERT INTO enps_respondent (survey_id, rep_id, team, manager_email, region, answers, first_start, last_start)
            \(respondentSpans());
            """)
    }

    /// The `response_group` rows of some rounds (every round when `nil`), as held or as
    /// the responses sum to.
    static func responseGroups(_ db: Database, rounds: (some Collection<Int64>)?, fromResponses: Bool = false,
                               anonymousOnly: Bool = false) throws -> [ResponseGroupSums] {
        if let rounds, rounds.isEmpty { return [] }
        var conditions = rounds.map { ["round_id IN (\($0.map(String.init).joined(separator: ",")))"] } ?? []
        if anonymousOnly { conditions.append("NOT identified") }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let sql = fromResponses
            ? "SELECT * FROM (\(Self.responseGroupSums()))\(filter)"
            : """
              SELECT round_id, identified, team, manager_email, region, responses, promoters, passives, detractors,
                     morale_answers, morale_nano FROM response_group\(filter)
              """
        var out: [ResponseGroupSums] = []
        try RawRows(db.makeStatement(sql: sql), arguments: []).forEach { row in
            out.append(ResponseGroupSums(
                roundID: row.int64(0)!, identified: row.int64(1) != 0,
                keys: GroupKeys(team: row.string(2), managerEmail: row.string(3), region: row.string(4)),
                responses: row.int(5) ?? 0, promoters: row.int(6) ?? 0, passives: row.int(7) ?? 0, detractors: row.int(8) ?? 0,
                moraleAnswers: row.int(9) ?? 0, moraleNano: row.int64(10) ?? 0))
        }
        return out
    }

    /// The `enps_respondent` rows of a survey (of every survey when `nil`), as held or as
    /// the responses give them.
    static func respondentSpans(_ db: Database, survey: String?, fromResponses: Bool = false) throws -> [(survey: String, span: RespondentSpan)] {
        let sql = fromResponses
            ? "SELECT * FROM (\(Self.respondentSpans()))"
            : "SELECT survey_id, rep_id, team, manager_email, region, answers, first_start, last_start FROM enps_respondent"
        var out: [(survey: String, span: RespondentSpan)] = []
        let statement = try db.makeStatement(sql: sql + (survey == nil ? "" : " WHERE survey_id = ?"))
        try RawRows(statement, arguments: survey.map { [$0] } ?? []).forEach { row in
            guard let first = row.day(6), let last = row.day(7) else { return }
            out.append((row.string(0) ?? "", RespondentSpan(
                repID: row.int64(1)!, keys: GroupKeys(team: row.string(2), managerEmail: row.string(3), region: row.string(4)),
                answers: row.int(5) ?? 0, first: first, last: last)))
        }
        return out
    }

    /// Identified reps with an eNPS answer in a survey's rounds inside a range, with the
    /// keys they answered under: from the spans, and from the responses for the reps whose
    /// span straddles the range's edge.
    static func enpsRespondents(_ db: Database, survey: String, rounds: [Int64: Period]) throws -> [(repID: Int64, keys: GroupKeys)] {
        let all = try String.fetchAll(db, sql: "SELECT period_start FROM round WHERE survey_id = ?", arguments: [survey]).compactMap { Day(iso: $0) }
        var (out, straddling) = ResponseRollups.respondents(try Self.respondentSpans(db, survey: survey).map(\.span), starts: all,
                                                            inside: Set(rounds.values.map(\.start)))
        guard !straddling.isEmpty else { return out }
        let statement = try db.makeStatement(sql: """
            SELECT DISTINCT rep_id, team, manager_email, region FROM response
            WHERE round_id IN (\(rounds.keys.map(String.init).joined(separator: ","))) AND rep_id IS NOT NULL AND enps IS NOT NULL
            """)
        try RawRows(statement, arguments: []).forEach { row in
            guard let rep = row.int64(0), straddling.contains(rep) else { return }
            out.append((rep, GroupKeys(team: row.string(1), managerEmail: row.string(2), region: row.string(3))))
        }
        return out
    }

    /// Each identified rep's weekly morale for a survey over a range (these reps only,
    /// when given), from `morale_week` in its key order.
    static func moraleSeries(_ db: Database, survey: String?, range: PeriodRange?, reps: [Int64]? = nil,
                             fromResponses: Bool = false) throws -> [(survey: String, series: RepWeekSeries)] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let survey { conditions.append("survey_id = ?"); arguments += [survey] }
        if let range { conditions.append("week_start BETWEEN ? AND ?"); arguments += [range.start.description, (range.end - 6).description] }
        if let reps { conditions.append("rep_id IN (\(reps.map(String.init).joined(separator: ",")))") }
        let source = fromResponses ? "(\(Self.moraleWeeks()))" : "morale_week"
        let statement = try db.makeStatement(sql: """
            SELECT survey_id, rep_id, week_start, morale FROM \(source)\(conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            ORDER BY survey_id, rep_id, week_start
            """)
        var out: [(survey: String, series: RepWeekSeries)] = []
        var last: [UInt8]?
        try RawRows(statement, arguments: arguments).forEach { row in
            guard let rep = row.int64(1), let monday = row.day(2), let m = row.double(3) else { return }
            // One survey asked for: every row is of it.
            let same = survey != nil ? !out.isEmpty : row.withText(0) { b in b.map { last?.elementsEqual($0) ?? false } ?? false }
            if !same {
                let id = row.string(0) ?? ""
                last = Array(id.utf8)
                out.append((id, RepWeekSeries()))
            }
            out[out.count - 1].series.append(rep: rep, monday: monday.ordinal, value: m)
        }
        return out
    }

    /// The rollups of answers held, against the same sums over the responses.
    static func responseRollupCheck(_ db: Database) throws -> (groups: Int, respondents: Int, moraleWeeks: Int, differences: [RollupDifference]) {
        let held = try responseGroups(db, rounds: [Int64]?.none)
        let spans = try respondentSpans(db, survey: nil)
        let morale = try moraleSeries(db, survey: nil, range: nil)
        let differences = ResponseRollups.differences(
            held: held, summed: try responseGroups(db, rounds: [Int64]?.none, fromResponses: true),
            heldSpans: spans, summedSpans: try respondentSpans(db, survey: nil, fromResponses: true))
            + ResponseRollups.differences(heldMorale: morale, summedMorale: try moraleSeries(db, survey: nil, range: nil, fromResponses: true))
        return (held.count, spans.count, morale.reduce(0) { $0 + $1.series.count }, differences)
    }
}
