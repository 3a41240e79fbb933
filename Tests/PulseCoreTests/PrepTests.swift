import Testing
@testable import PulseCore

/// The flags that need KPIs and identified eNPS, checked on histories built by hand.
@Suite("Prep note flags")
struct PrepFlagTests {
    static let survey = try! SurveyDefinition.load(yaml: """
        id: pulse
        title: Pulse
        anonymity: identified
        questions:
          - {id: energy, type: scale, text: Energy, min: 1, max: 5}
          - {id: enps, type: enps, text: Recommend?}
        """, file: "pulse.yaml")

    func history(morale: [Int: Double], enps: [Int: Int] = [:], activity: [Int: (calls: Int, won: Int, lost: Int)] = [:],
                 team: [Int64: [Int: (calls: Int, won: Int, lost: Int)]] = [:]) -> PrepHistory {
        var h = PrepHistory(rep: PrepRep(id: 1, email: "a@x.example", name: "A", team: "t", managerEmail: nil, active: true),
                            asOf: Period("2026-W48")!.start)
        for week in Set(morale.keys).union(enps.keys).sorted() {
            var r = PrepResponse(survey: "pulse", period: Period("2026-W\(week)")!, morale: morale[week], enps: enps[week],
                                 definition: Self.survey)
            if let m = morale[week] { r.numbers["energy"] = 1 + Int(m / 25) }
            h.responses.append(r)
        }
        func weeks(_ rep: Int64, _ rows: [Int: (calls: Int, won: Int, lost: Int)]) -> [WeeklyKPIs] {
            rows.keys.sorted().map { w in
                var k = WeeklyKPIs(repID: rep, week: Period("2026-W\(w)")!)
                (k.calls, k.dealsWon, k.dealsLost) = (rows[w]!.calls, rows[w]!.won, rows[w]!.lost)
                return k
            }
        }
        h.hasActivity = !activity.isEmpty
        h.weeklyKPIs = weeks(1, activity)
        h.teamWeeklyKPIs = h.weeklyKPIs + team.flatMap { weeks($0.key, $0.value) }
        return h
    }

    func codes(_ h: PrepHistory) -> [String] { PrepNote.compute(h).flags.map(\.code) }

    @Test func burnoutRiskIsHighActivityWhileMoraleFalls() {
        let morale = [43: 75.0, 44: 75, 45: 75, 46: 75, 47: 62.5]
        let busy = [43: (40, 1, 1), 44: (40, 1, 1), 45: (40, 1, 1), 46: (40, 1, 1), 47: (60, 1, 1)]
        #expect(codes(history(morale: morale, activity: busy)) == ["burnout_risk"])
        let usual = busy.merging([47: (40, 1, 1)]) { $1 }
        #expect(codes(history(morale: morale, activity: usual)).isEmpty, "usual activity: not burnout")
        #expect(codes(history(morale: morale.merging([47: 75]) { $1 }, activity: busy)).isEmpty, "steady morale: not burnout")
    }

    @Test func coachingNeedIsHighActivityWithLowConversion() {
        let morale = [46: 75.0, 47: 75]
        let mine = [44: (30, 0, 3), 45: (30, 0, 3), 46: (30, 1, 3), 47: (30, 0, 2)]
        let peer = [44: (20, 2, 2), 45: (20, 2, 2), 46: (20, 2, 2), 47: (20, 2, 2)]
        let team: [Int64: [Int: (calls: Int, won: Int, lost: Int)]] = [2: peer, 3: peer]
        #expect(codes(history(morale: morale, activity: mine, team: team)) == ["coaching_need"])
        let converting = [44: (30, 2, 2), 45: (30, 2, 2), 46: (30, 2, 2), 47: (30, 2, 2)]
        #expect(codes(history(morale: morale, activity: converting, team: team)).isEmpty)
    }

    @Test func detractorOnlyFromTheRepsOwnIdentifiedAnswer() {
        let note = PrepNote.compute(history(morale: [46: 75, 47: 75], enps: [46: 9, 47: 5]))
        #expect(note.flags.map(\.code) == ["detractor"])
        #expect(note.latestENPS?.score == 5 && note.enpsHistory.count == 2)
        #expect(note.json.serialized().contains(#""category": "detractor""#))
    }

    @Test func thresholdsComeFromTheConfiguration() throws {
        let config = try PulseConfig.load(yaml: "prep:\n  morale_drop_points: 10\n  low_morale: 70\n", file: "pulse.yaml")
        let h = history(morale: [44: 75, 45: 75, 46: 75, 47: 62.5])
        #expect(codes(h).isEmpty)
        #expect(PrepNote.compute(h, thresholds: config.prepThresholds).flags.map(\.code) == ["morale_drop", "low_morale"])
        #expect(throws: PulseError.self) { try PulseConfig.load(yaml: "prep:\n  quota_pace: -1\n", file: "pulse.yaml") }
    }
}
