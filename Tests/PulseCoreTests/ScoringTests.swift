import Foundation
import Testing
@testable import PulseCore

@Suite("eNPS and morale scoring")
struct ScoringTests {
    @Test func categoryEdges() {
        #expect(ENPSCategory(score: 0) == .detractor)
        #expect(ENPSCategory(score: 6) == .detractor)
        #expect(ENPSCategory(score: 7) == .passive)
        #expect(ENPSCategory(score: 8) == .passive)
        #expect(ENPSCategory(score: 9) == .promoter)
        #expect(ENPSCategory(score: 10) == .promoter)
        #expect(ENPSCategory(score: 11) == nil && ENPSCategory(score: -1) == nil)
    }

    @Test func percentRoundsTrueHalvesAwayFromZero() {
        #expect(Rounding.percentTenths(1, 16) == 6.3)
        #expect(Rounding.percentTenths(-1, 16) == -6.3)
        #expect(Rounding.percentTenths(1, 6) == 16.7)
        #expect(Rounding.percentTenths(0, 7) == 0)
        #expect(Rounding.percentTenths(-7, 7) == -100)
        #expect(Rounding.round(2.25, places: 1) == 2.3)
        #expect(Rounding.round(-2.25, places: 1) == -2.3)
    }

    /// The interval follows the formula stated beside it, recomputed here by hand.
    @Test func confidenceInterval() throws {
        // 3 promoters, 2 passives, 1 detractor of 6: p − q = 1/3, Var = (4/6 − 1/9) / 6.
        let ci = try #require(ENPSReport.confidenceInterval(promoters: 3, detractors: 1, responses: 6))
        let half = 1.959963984540054 * ((4.0 / 6 - 1.0 / 9) / 6).squareRoot()
        #expect(ci.lowerBound == Rounding.round(100 * (1.0 / 3 - half), places: 1))
        #expect(ci.upperBound == Rounding.round(100 * (1.0 / 3 + half), places: 1))
        #expect(ci.lowerBound == -26.3 && ci.upperBound == 93.0)
        #expect(ENPSReport.confidenceInterval(promoters: 1, detractors: 0, responses: 1) == nil)
        // All promoters: no spread, the interval is the point.
        #expect(ENPSReport.confidenceInterval(promoters: 5, detractors: 0, responses: 5) == 100...100)
    }

    @Test func suppressionHidesSmallGroupsAndOneMore() {
        #expect(Suppression.suppressed(["a": 5, "b": 6, "c": 9], minGroupSize: 5) == [])
        #expect(Suppression.suppressed(["a": 4, "b": 6, "c": 9], minGroupSize: 5) == ["a", "b"])
        #expect(Suppression.suppressed(["a": 4, "b": 2, "c": 9], minGroupSize: 5) == ["a", "b"])
        #expect(Suppression.suppressed(["a": 4, "b": 0, "c": 9], minGroupSize: 5) == ["a", "c"])
        #expect(Suppression.suppressed(["a": 4], minGroupSize: 5) == ["a"])
        // Ties on size go by name.
        #expect(Suppression.suppressed(["z": 1, "c": 7, "b": 7], minGroupSize: 5) == ["z", "b"])
    }

    func fact(_ team: String, _ rep: Int64, enps: Int? = nil, morale: Double? = nil, week: Int = 47) -> ResponseFact {
        ResponseFact(period: .week(year: 2026, week: week), keys: GroupKeys(team: team), respondent: .rep(rep),
                     enps: enps, morale: morale)
    }

    @Test func enpsReportPerGroup() throws {
        let range = PeriodRange(Period("2026-W47")!)
        var facts = (1...6).map { fact("west", $0, enps: [10, 9, 9, 8, 7, 3][Int($0) - 1]) }
        facts += (7...8).map { fact("east", $0, enps: 10) }
        facts += (9...13).map { fact("", $0, enps: 0) }
        let r = ENPSReport.compute(survey: "s", range: range, by: .team, facts: facts,
                                   invited: ["west": 8, "east": 3, "(none)": 5], minGroupSize: 5)
        #expect(r.groups.map(\.group) == ["(none)", "east", "west"])
        let west = try #require(r.groups.last)
        #expect(west.responses == 6 && west.promoters == 3 && west.passives == 2 && west.detractors == 1)
        #expect(west.enps == 33.3 && west.responseRate == 0.75 && west.respondents == 6)
        // east has 2 respondents: hidden, and the smallest other group with it.
        #expect(r.groups[1].suppressed && r.groups[1].enps == nil && r.groups[1].invited == nil)
        #expect(r.groups[0].suppressed)
        #expect(!west.suppressed)
    }

    @Test func anonymousAnswersCountAsALowerBoundOfRespondents() {
        let range = try! PeriodRange(from: Period("2026-W46")!, to: Period("2026-W47")!)
        let facts = (1...4).map { i in
            ResponseFact(period: .week(year: 2026, week: 46 + Int(i % 2)), keys: GroupKeys(team: "t"),
                         respondent: .anonymous(i), enps: 10)
        }
        // 4 answers over two weeks, 2 per week: only 2 distinct people are certain.
        let r = ENPSReport.compute(survey: "s", range: range, by: .all, facts: facts, invited: nil, minGroupSize: 3)
        #expect(r.groups.count == 1 && r.groups[0].suppressed)
        let shown = ENPSReport.compute(survey: "s", range: range, by: .all, facts: facts, invited: nil, minGroupSize: 2)
        #expect(shown.groups[0].respondents == 2 && shown.groups[0].responses == 4 && shown.groups[0].responseRate == nil)
    }

    @Test func trendsAverageRepsNotResponses() throws {
        let w47 = Period("2026-W47")!
        // Rep 1 answered twice (40 and 60 → 50), reps 2 and 3 once (80, 20): (50 + 80 + 20) / 3.
        let facts = [fact("t", 1, morale: 40), fact("t", 1, morale: 60), fact("t", 2, morale: 80), fact("t", 3, morale: 20),
                     fact("u", 4, morale: 100), fact("a", 5, morale: 10), fact("a", 6, morale: 10), fact("a", 7, morale: 10)]
        let r = TrendsReport.compute(survey: "s", range: PeriodRange(w47), by: .team,
                                     periods: [Period("2026-W46")!, w47], facts: facts, minGroupSize: 3)
        let t = try #require(r.series.first { $0.group == "t" })
        #expect(t.points[1].morale == 50 && t.points[1].respondents == 3)
        #expect(t.points[0].morale == nil && t.points[0].respondents == 0 && !t.points[0].suppressed)
        let u = try #require(r.series.first { $0.group == "u" })
        #expect(u.points[1].suppressed && u.points[1].morale == nil)
        // u alone would be hidden; the smallest other group ("a" before "t" on a tie) goes with it.
        let a = try #require(r.series.first { $0.group == "a" })
        #expect(a.points[1].suppressed && !t.points[1].suppressed)
    }

    @Test func moraleIndexOfOneResponse() throws {
        let s = try SurveyDefinition.load(yaml: DefaultSurveys.weeklyPulse, file: "weekly-pulse.yaml")
        let answers: [String: AnswerValue] = ["energy": .number(5), "workload": .number(1), "support": .number(3),
                                              "quota_confidence": .number(4), "comment": .text("fine")]
        #expect(s.morale(of: answers) == (100 + 0 + 50 + 75) / 4.0)
        #expect(s.morale(of: ["comment": .text("x")]) == nil)
    }

    @Test func moraleRescalesEachQuestionByItsOwnRange() throws {
        let s = try SurveyDefinition.load(yaml: """
            id: mixed
            title: Mixed
            anonymity: identified
            questions:
              - {id: a, type: scale, text: A, min: 0, max: 10}
              - {id: b, type: scale, text: B, min: 1, max: 7}
              - {id: c, type: scale, text: C, min: -2, max: 2}
              - {id: e, type: enps, text: E}
            """, file: "mixed.yaml")
        // 100·7/10 = 70, 100·(4−1)/6 = 50, 100·(−2+2)/4 = 0; the eNPS answer is not morale.
        #expect(s.morale(of: ["a": .number(7), "b": .number(4), "c": .number(-2), "e": .number(10)]) == 40)
        #expect(s.morale(of: ["b": .number(7)]) == 100, "a skipped question is left out, not counted as 0")
    }

    @Test func emptyAndSingleAnswerGroups() {
        let range = PeriodRange(Period("2026-W47")!)
        let facts = [fact("solo", 1, enps: 10)]
        let r = ENPSReport.compute(survey: "s", range: range, by: .team, facts: facts,
                                   invited: ["solo": 1, "quiet": 4], minGroupSize: 1)
        let quiet = r.groups.first { $0.group == "quiet" }!
        #expect(quiet.responses == 0 && quiet.enps == nil && quiet.ci95 == nil && quiet.responseRate == 0 && !quiet.suppressed)
        let solo = r.groups.first { $0.group == "solo" }!
        #expect(solo.enps == 100 && solo.ci95 == nil, "one answer: a score, but no interval")
    }
}
