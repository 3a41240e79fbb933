import Foundation
import PulseCore
import Testing
@testable import PulseStore

@Suite struct StoreTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    func csv(_ text: String, _ file: String = "test.csv") throws -> CSVReader {
        try CSVReader(bytes: Array(text.utf8), file: file)
    }

    func survey(_ yaml: String) throws -> SurveyDefinition { try SurveyDefinition.load(yaml: yaml, file: "s.yaml") }

    static let pulseV1 = """
        id: pulse
        title: Pulse
        anonymity: identified
        questions:
          - {id: energy, type: scale, text: Energy, min: 1, max: 5}
          - {id: enps, type: enps, text: Recommend?}
        """

    static let pulseV2 = """
        id: pulse
        title: Pulse
        anonymity: identified
        questions:
          - {id: energy, type: scale, text: Energy, min: 1, max: 5}
          - {id: focus, type: scale, text: Focus, min: 0, max: 10}
          - {id: enps, type: enps, text: Recommend?}
        """

    func seeded() throws -> AppDatabase {
        let db = try AppDatabase.inMemory()
        _ = try db.importRoster(try csv("""
            email,name,team,region
            a@x.org,A,west,EMEA
            b@x.org,B,west,EMEA
            c@x.org,C,east,APAC
            """), now: now)
        return db
    }

    @Test func rosterUpsertKeepsAbsentColumnsAndClearsEmptyCells() throws {
        let db = try seeded()
        let s = try db.importRoster(try csv("email,team\nA@X.org,\nb@x.org,north\nd@x.org,north\n"), now: now)
        #expect(s.added == 1 && s.updated == 2 && s.unchanged == 0)
        let a = try #require(try db.rep(email: "a@x.org"))
        #expect(a.team == nil, "an empty cell in a present column clears the value")
        #expect(a.region == "EMEA" && a.name == "A", "absent columns are left as they were")
        #expect(try db.rep(email: "b@x.org")?.team == "north")
    }

    @Test func deactivatedRepsStayInactiveOnReimport() throws {
        let db = try seeded()
        #expect(try db.deactivate(email: "c@x.org", now: now))
        #expect(try db.deactivate(email: "c@x.org", now: now) == false)
        let s = try db.importRoster(try csv("email,name,team\nc@x.org,C,east\n"), now: now)
        #expect(s.inactive == ["c@x.org"])
        #expect(try db.rep(email: "c@x.org")?.active == false)
        #expect(try db.reps(includeInactive: false).map(\.email) == ["a@x.org", "b@x.org"])
        #expect(throws: PulseError.self) { try db.deactivate(email: "nobody@x.org", now: now) }
    }

    @Test func roundsKeepTheVersionTheyUsed() throws {
        let db = try seeded()
        let v1 = try survey(Self.pulseV1), v2 = try survey(Self.pulseV2)
        _ = try db.importResponses(try csv("email,survey,period,energy,enps\na@x.org,pulse,2026-W46,4,9\n"),
                                   surveys: ["pulse": v1], now: now)
        // The file changes: a new round uses version 2 ...
        _ = try db.importResponses(try csv("email,survey,period,energy,focus,enps\na@x.org,pulse,2026-W47,4,7,9\n"),
                                   surveys: ["pulse": v2], now: now)
        let rounds = try db.roundSummaries(survey: "pulse")
        #expect(rounds.map(\.version) == [1, 2])
        // ... while the old round still checks answers against version 1.
        #expect {
            try db.importResponses(try csv("email,survey,period,energy,focus,enps\nb@x.org,pulse,2026-W46,4,7,9\n"),
                                   surveys: ["pulse": v2], now: now)
        } throws: { error in
            (error as? PulseError)?.description.contains("test.csv:2: focus: pulse (version 1, used by the round 2026-W46) has no question \"focus\"") == true
        }
        // Morale follows each version's own scales: 4 on 1..5 is 75; (75 + 70) / 2 with focus 7 on 0..10.
        let facts = try db.responseFacts(survey: "pulse", range: PeriodRange(from: Period("2026-W46")!, to: Period("2026-W47")!), minGroupSize: 1)
        #expect(facts.map(\.morale).sorted { ($0 ?? 0) < ($1 ?? 0) } == [72.5, 75])
        #expect(try db.surveyHistory()["pulse"]?.versions == 2)
    }

    @Test func aFailedImportWritesNothing() throws {
        let db = try seeded()
        let v1 = try survey(Self.pulseV1)
        #expect(throws: PulseError.self) {
            try db.importResponses(try csv("email,survey,period,energy,enps\na@x.org,pulse,2026-W46,4,9\nb@x.org,pulse,2026-W46,4,12\n"),
                                   surveys: ["pulse": v1], now: now)
        }
        #expect(try db.rounds().isEmpty)
        #expect(try db.surveyHistory().isEmpty)
    }

    @Test func identifiedAnswersUpsertByRepSurveyAndPeriod() throws {
        let db = try seeded()
        let v1 = try survey(Self.pulseV1)
        let first = try db.importResponses(try csv("email,survey,period,energy,enps\na@x.org,pulse,2026-W46,4,9\n"),
                                           surveys: ["pulse": v1], now: now)
        #expect(first.added == 1)
        let second = try db.importResponses(try csv("email,survey,period,energy,enps\na@x.org,pulse,2026-W46,2,9\n"),
                                            surveys: ["pulse": v1], now: now)
        #expect(second.updated == 1 && second.added == 0)
        let facts = try db.responseFacts(survey: "pulse", range: PeriodRange(Period("2026-W46")!), minGroupSize: 1)
        #expect(facts.count == 1 && facts[0].morale == 25)
    }

    @Test func theRosterSnapshotGroupsAnswers() throws {
        let db = try seeded()
        let v1 = try survey(Self.pulseV1)
        _ = try db.importResponses(try csv("email,survey,period,energy,enps\nc@x.org,pulse,2026-W46,4,9\n"),
                                   surveys: ["pulse": v1], now: now)
        // c moves team afterwards; the answer stays with the team c was in.
        _ = try db.importRoster(try csv("email,team\nc@x.org,west\n"), now: now)
        let facts = try db.responseFacts(survey: "pulse", range: PeriodRange(Period("2026-W46")!), minGroupSize: 1)
        #expect(facts.first?.keys.team == "east")
    }

    /// The reports sum in SQL; the same figures must come out of the per-response facts,
    /// for identified and anonymous answers, every grouping, one period and a range.
    @Test func sqlSumsGiveTheSameReportsAsTheFacts() throws {
        let db = try AppDatabase.inMemory()
        var roster = "email,team,manager_email,region\n"
        for i in 0..<40 { roster += "r\(i)@x.org,\(["west", "east", "north", ""][i % 4]),m\(i % 3)@x.org,\(["EMEA", "APAC"][i % 2])\n" }
        _ = try db.importRoster(try csv(roster), now: now)
        let anonymous = try survey(Self.pulseV1.replacingOccurrences(of: "id: pulse", with: "id: anon")
            .replacingOccurrences(of: "identified", with: "anonymous"))
        var rng = SystemRandomNumberGenerator()
        for (id, definition) in [("pulse", try survey(Self.pulseV1)), ("anon", anonymous)] {
            var rows = "email,survey,period,energy,enps\n"
            for week in 40...45 { for i in 0..<40 where Int.random(in: 0..<10, using: &rng) < 8 {
                rows += "r\(i)@x.org,\(id),2026-W\(week),\(Int.random(in: 1...5, using: &rng)),\(Int.random(in: 0...10, using: &rng))\n"
            } }
            _ = try db.importResponses(try csv(rows), surveys: [id: definition], now: now)
        }
        let weeks = (40...45).map { Period("2026-W\($0)")! }
        for id in ["pulse", "anon"] {
            for range in [PeriodRange(weeks[2]), try PeriodRange(from: weeks[0], to: weeks[5])] {
                for by in GroupBy.allCases {
                    for threshold in [3, 9] {
                        let facts = try db.responseFacts(survey: id, range: range, minGroupSize: threshold)
                        let a = ENPSReport.compute(survey: id, range: range, by: by, facts: facts, invited: nil, minGroupSize: threshold)
                        let b = ENPSReport.compute(survey: id, range: range, by: by, counts: try db.enpsCounts(survey: id, range: range, by: by, minGroupSize: threshold),
                                                   invited: nil, minGroupSize: threshold)
                        #expect(a == b, "\(id) \(range) \(by) \(threshold)")
                        let periods = range.weeks
                        let t1 = TrendsReport.compute(survey: id, range: range, by: by, periods: periods, facts: facts, minGroupSize: threshold)
                        let t2 = TrendsReport.compute(survey: id, range: range, by: by, periods: periods,
                                                      cells: try db.moraleCells(survey: id, range: range, by: by, minGroupSize: threshold), minGroupSize: threshold)
                        #expect(t1 == t2, "\(id) \(range) \(by) \(threshold)")
                    }
                }
            }
        }
        let morale = try db.weeklyMorale(survey: "pulse", range: try PeriodRange(from: weeks[0], to: weeks[5]))
        let facts = try db.responseFacts(survey: "pulse", range: try PeriodRange(from: weeks[0], to: weeks[5]), minGroupSize: 1)
        #expect(morale.values.map(\.count).reduce(0, +) == facts.count)
        #expect(try db.weeklyMorale(survey: "anon", range: try PeriodRange(from: weeks[0], to: weeks[5])).isEmpty, "no rep behind anonymous answers")
    }

    @Test func fileDatabasesAreCheckedBeforeUse() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("p.sqlite").path
        let db = try AppDatabase.open(path: good, create: true)
        #expect(try db.schemaVersion() == "v9-response-rollups")
        let text = dir.appendingPathComponent("text.sqlite").path
        try "hello, this is not SQLite at all".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(throws: PulseError.runtime("\(text) is not a Pulse database: it is not an SQLite file (point --db or PULSE_DB at the right file)")) {
            try AppDatabase.open(path: text)
        }
        #expect(throws: PulseError.self) { try AppDatabase.open(path: dir.appendingPathComponent("no/such/dir.sqlite").path, create: true) }
    }

    /// A database from before the rollups gets them filled when it is opened, the same as
    /// summing its days; weekly KPIs read from the rollup equal those summed from the days.
    @Test func theRollupOfActivityIsFilledByItsMigrationAndMatchesTheDays() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-rollup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("p.sqlite").path
        do {
            let db = try AppDatabase.open(path: path, create: true)
            _ = try db.importRoster(try csv("email,name\na@x.org,A\nb@x.org,B\n"), now: now)
            var text = "email,date,calls,emails,revenue_won\n"
            for d in 0..<40 { text += "\(d % 3 == 0 ? "b" : "a")@x.org,\(Day(iso: "2026-09-27")! + d),\(d),\(d % 2 == 0 ? "" : "1"),\(d % 5 == 0 ? "10.50" : "")\n" }
            _ = try db.importActivity(try csv(text))
            _ = try db.importResponses(try csv("email,survey,period,energy,enps\na@x.org,pulse,2026-W46,4,9\nb@x.org,pulse,2026-W46,2,3\n"
                                               + "a@x.org,pulse,2026-W47,5,10\n"), surveys: ["pulse": try survey(Self.pulseV1)], now: now)
            // As a Pulse before v8 left it: no rollups, the migrations not applied.
            try db.dbWriter.write { d in
                try d.execute(sql: """
                    DROP TABLE activity_week; DROP TABLE response_group; DROP TABLE enps_respondent; DROP TABLE morale_week; DROP TABLE rollup_pause;
                    DROP TRIGGER response_rollup_insert; DROP TRIGGER response_rollup_delete; DROP TRIGGER response_rollup_update;
                    DELETE FROM grdb_migrations WHERE identifier IN ('v8-rollups', 'v9-response-rollups')
                    """)
            }
        }
        let db = try AppDatabase.open(path: path)
        #expect(try db.schemaVersion() == "v9-response-rollups")
        let check = try db.rollupCheck()
        #expect(check.differences.isEmpty && check.rows > 10, "\(check)")
        // Two rounds, one identified group each (no team); a's two eNPS answers under one span, b's under another;
        // three rep-weeks of morale.
        #expect(check.responseGroups == 2 && check.respondents == 2 && check.moraleWeeks == 3, "\(check)")
        let counts = try db.enpsCounts(survey: "pulse", range: PeriodRange(from: Period("2026-W46")!, to: Period("2026-W47")!),
                                       by: .all, minGroupSize: 1)
        #expect(counts["all"] == ENPSCounts(promoters: 2, passives: 0, detractors: 1, respondents: 2), "\(counts)")
        let fromRollup = try db.weeklyKPIs(from: Day(iso: "2026-09-01")!, to: Day(iso: "2026-12-31")!)
        var fromDays: [WeeklyKPIs] = []
        try db.dbWriter.read { d in
            try db.forEachWeeklyKPIsFromDays(d, from: nil, to: nil, reps: nil, quotas: []) { fromDays.append($0) }
        }
        #expect(fromRollup == fromDays && fromRollup.count == check.rows)
        // 2026-09-27 is a Sunday: its week is W39 and holds one day, b's (0 calls, no emails); the next day starts W40.
        let w39 = fromRollup.filter { $0.week == Period("2026-W39") }
        #expect(w39.count == 1 && w39.first?.calls == 0 && w39.first?.emails == nil && w39.first?.revenueWonCents == 1050, "\(w39)")
    }

    @Test func aKPIThatIsOneColumnIsReadAsTheWeeklyKPIsComputeIt() throws {
        let db = try seeded()
        // Cells left empty on some days and whole KPIs on others, so some rep-weeks have
        // a value and others none; deals and revenue on a few days.
        var text = "email,date,calls,emails,meetings,deals_won,deals_lost,revenue_won\n"
        for d in 0..<60 {
            let email = ["a", "b", "c"][d % 3] + "@x.org"
            let calls = d % 4 == 0 ? "" : "\(d)", emails = d % 7 < 3 ? "" : "\(d % 5)", meetings = d % 9 == 0 ? "2" : ""
            text += "\(email),\(Day(iso: "2026-09-01")! + d),\(calls),\(emails),\(meetings),\(d % 11 == 0 ? "1" : ""),"
                + "\(d % 13 == 0 ? "1" : ""),\(d % 11 == 0 ? "\(d * 7).25" : "")\n"
        }
        // A week of a deal and nothing else: no activity, no calls.
        text += "c@x.org,2026-11-09,,,,1,,5.00\n"
        _ = try db.importActivity(try csv(text))
        let single: [KPI] = [.calls, .emails, .meetings, .activity, .opportunitiesCreated, .dealsWon, .revenueWon]
        #expect(KPI.allCases.filter { $0.rollupSum != nil } == single)
        for kpi in single {
            for (from, to) in [("2026-09-01", "2026-10-30"), ("2026-09-10", "2026-09-20"), ("2026-10-05", "2027-01-01")] {
                let (start, end) = (Day(iso: from)!, Day(iso: to)!)
                let column = try db.weeklyValueSeries(of: kpi, from: start, to: end)
                let kpis = try db.weeklyValueSeriesFromKPIs(of: kpi, from: start, to: end)
                #expect(column == kpis, "\(kpi) \(from) \(to)")
                #expect(kpi == .opportunitiesCreated || !column.isEmpty, "\(kpi) \(from) \(to)")
            }
        }
    }
}
