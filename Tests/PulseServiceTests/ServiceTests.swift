import Foundation
import PulseCore
import PulseService
import PulseStore
import Testing

/// The reports, prep notes and team reports as a library, on an in-memory store: what the
/// commands and the demo print comes from here.
@Suite struct ServiceTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    func csv(_ text: String, _ file: String = "test.csv") throws -> CSVReader { try CSVReader(bytes: Array(text.utf8), file: file) }

    /// Eleven reps: six in east, three in smb and two in ops (one manager, one region),
    /// answering the shipped anonymous eNPS survey in one quarter; `importThreshold` is
    /// the min_group_size of the import.
    func seeded(answers: Int = 11, importThreshold: Int = 5) throws -> (AppDatabase, [String: SurveyDefinition]) {
        let db = try AppDatabase.inMemory()
        var roster = "email,name,team,manager_email,region\n"
        for i in 0..<11 { roster += "r\(i)@x.org,R\(i),\(i < 6 ? "east" : i < 9 ? "smb" : "ops"),m@x.org,APAC\n" }
        _ = try db.importRoster(try csv(roster), now: now)
        let enps = try SurveyDefinition.load(yaml: DefaultSurveys.enps, file: "enps.yaml")
        var rows = "email,survey,period,enps\n"
        for i in 0..<answers { rows += "r\(i)@x.org,enps,2026-Q4,\(i % 11)\n" }
        _ = try db.importResponses(try csv(rows), surveys: ["enps": enps], threshold: importThreshold, now: now)
        return (db, ["enps": enps])
    }

    @Test func eNPSByTeamShowsOnlyGroupsOfTheThreshold() async throws {
        let (db, _) = try seeded()
        let report = try await ReportQueries.enps(SQLiteAnswerStore(db), survey: "enps", range: PeriodRange(Period("2026-Q4")!), by: .team, minGroupSize: 5)
        let shown = Dictionary(uniqueKeysWithValues: report.groups.map { ($0.group, $0.responses ?? -1) })
        // east keeps its six; smb's three and ops's two count together under (none).
        #expect(shown == ["east": 6, GroupBy.noneLabel: 5], "\(shown)")
    }

    /// Answers imported under a threshold of 3 and read under 5: the round's groups are
    /// made again under 5, and a round under 5 in all is left out and said so.
    @Test func aRoundUnderTheThresholdOfTheDayIsLeftOutEverywhere() async throws {
        let (db, surveys) = try seeded(answers: 4, importThreshold: 3)
        let q4 = PeriodRange(Period("2026-Q4")!)
        let report = try await ReportQueries.enps(SQLiteAnswerStore(db), survey: "enps", range: q4, by: .all, minGroupSize: 5)
        #expect(report.groups.allSatisfy { ($0.responses ?? 0) == 0 }, "\(report.groups)")
        #expect(try db.anonymousAnswersLeftOut(survey: "enps", range: q4, minGroupSize: 5).map(\.answers) == [4])
        #expect(try db.anonymousAnswersLeftOut(survey: "enps", range: q4, minGroupSize: 3).isEmpty)
        // The team report says so in its notes.
        let weeks = try PeriodRange(from: Period.week(of: Period("2026-Q4")!.start), to: Period.week(of: Period("2026-Q4")!.end))
        let team = try await TeamReportBuilder(db: SQLiteAnswerStore(db), surveys: surveys, threshold: 5).build(
            team: nil, range: weeks, moraleSurvey: "enps", enpsSurvey: "enps", kpi: .activity, generated: Day(iso: "2026-12-31")!)
        #expect(team.notes.contains { $0.contains("4 anonymous answers to enps 2026-Q4 left out") }, "\(team.notes)")
        #expect(team.enps.allSatisfy { ($0.1.responses ?? 0) == 0 })
    }

    /// A prep note shows the rep's team's anonymous eNPS only as the group's figure, and
    /// nothing for a rep whose small team is counted with others.
    @Test func aPrepNoteShowsTheTeamsFigureNeverTheRepsOwn() async throws {
        let (db, surveys) = try seeded()
        let builder = try await PrepBuilder(db: SQLiteAnswerStore(db), surveys: surveys, config: PulseConfig(), asOf: Day(iso: "2026-12-31")!)
        let east = try #require(try db.reps().first { $0.email == "r0@x.org" })
        let smb = try #require(try db.reps().first { $0.email == "r7@x.org" })
        let eastNote = try await builder.note(for: east), smbNote = try await builder.note(for: smb)
        #expect(eastNote.teamENPS?.group.responses ?? 0 >= 5, "\(String(describing: eastNote.teamENPS))")
        #expect((smbNote.teamENPS?.group.responses ?? 0) == 0, "smb's three answers are not shown as smb's")
        #expect(smbNote.enpsHistory.isEmpty && eastNote.enpsHistory.isEmpty, "no rep's own anonymous answer")
    }
}
