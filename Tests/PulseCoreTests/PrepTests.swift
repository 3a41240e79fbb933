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
    /// A week of pipeline KPIs: velocity follows from open × rate × size / cycle.
    static func pipelineWeek(open: Int, rate: Double, size: Double = 1000, cycle: Double) -> PipelineWeek {
        var k = PipelineWeek()
        (k.opportunitiesOpen, k.winRate13w, k.avgDealSize13w, k.salesCycleDays, k.leadConversion) = (open, rate, size, cycle, 0.25)
        return k
    }

    /// W43 to W46: 5 open, win rate 50%, velocity 5 × 0.5 × 1,000 / 25 = 100 a day. W47
    /// (the note's KPI week) as given.
    func stalling(_ last: PipelineWeek, earlierWeeks: ClosedRange<Int> = 43...46) -> PrepHistory {
        var h = history(morale: [46: 75, 47: 75])
        for w in earlierWeeks { h.pipelineWeeks[Period("2026-W\(w)")!] = Self.pipelineWeek(open: 5, rate: 0.5, cycle: 25) }
        h.pipelineWeeks[Period("2026-W47")!] = last
        h.teamPipelineWeeks = [1: h.pipelineWeeks, 2: [Period("2026-W47")!: Self.pipelineWeek(open: 2, rate: 0.6, cycle: 20)],
                               3: [Period("2026-W47")!: Self.pipelineWeek(open: 4, rate: 0.2, cycle: 30)]]
        return h
    }

    @Test func pipelineStallIsMoreOpenDealsWhileWinRateAndVelocityFall() throws {
        // 8 open against 5; win rate 30% against 50% (≤ 0.7 × 50%); velocity 8 × 0.3 × 1,000 / 40 = 60 against 100 (≤ 70).
        let note = PrepNote.compute(stalling(Self.pipelineWeek(open: 8, rate: 0.3, cycle: 40)))
        #expect(note.flags.map(\.code) == ["pipeline_stall"])
        #expect(note.flags.first?.detail == "8 opportunities open in 2026-W47 against their average of 5.0, while the 13-week win rate "
            + "is 30% (their average 50%) and pipeline velocity 60 a day (their average 100)")
        #expect(note.talkingPoints.first?.hasPrefix("More of your deals are open than usual") == true, "\(note.talkingPoints)")
        let open = try #require(note.pipeline.first { $0.kpi == .opportunitiesOpen })
        #expect(open.value == 8 && open.ownAverage == 5 && open.teamMedian == 4, "the median of 8, 2 and 4")
        let velocity = try #require(note.pipeline.first { $0.kpi == .pipelineVelocity })
        #expect(velocity.value == 60 && velocity.ownAverage == 100 && velocity.teamMedian == 60, "velocities 60, 60 and 26.7")
        #expect(note.hasPipeline && note.markdown.contains("## Pipeline, last week"))
        #expect(note.json.serialized().contains(#""pipeline_velocity": 60.0"#))

        // Each condition alone is not enough: velocity 8 × 0.3 × 1,000 / 30 = 80 is over 70.
        #expect(codes(stalling(Self.pipelineWeek(open: 8, rate: 0.3, cycle: 30))).isEmpty)
        // 5 open is not more than their average (velocity 5 × 0.3 × 1,000 / 40 = 37.5).
        #expect(codes(stalling(Self.pipelineWeek(open: 5, rate: 0.3, cycle: 40))).isEmpty)
        // A win rate of 40% is over 0.7 × 50% (velocity 8 × 0.4 × 1,000 / 64 = 50).
        #expect(codes(stalling(Self.pipelineWeek(open: 8, rate: 0.4, cycle: 64))).isEmpty)
        // Two earlier weeks are too few for an average to fall under.
        #expect(codes(stalling(Self.pipelineWeek(open: 8, rate: 0.3, cycle: 40), earlierWeeks: 45...46)).isEmpty)
        // The threshold comes from pulse.yaml: 50% under is not reached by 40% under.
        let config = try PulseConfig.load(yaml: "prep:\n  pipeline_stall: 0.5\n", file: "pulse.yaml")
        #expect(PrepNote.compute(stalling(Self.pipelineWeek(open: 8, rate: 0.3, cycle: 40)), thresholds: config.prepThresholds).flags.isEmpty)
        #expect(throws: PulseError.self) { try PulseConfig.load(yaml: "prep:\n  pipeline_stall: 1.5\n", file: "pulse.yaml") }
    }

    @Test func aNoteWithoutPipelineSaysSoAndShowsNoPipelineTable() {
        let note = PrepNote.compute(history(morale: [46: 75, 47: 75]))
        #expect(!note.hasPipeline && !note.markdown.contains("## Pipeline") && !note.html.contains("<h2>Pipeline"))
        #expect(note.missing.contains("no opportunities or leads for a@x.example in the weeks read (pulse kpi import --opportunities, --leads)"))
        #expect(note.pipeline.allSatisfy { $0.value == nil && $0.ownAverage == nil && $0.teamMedian == nil })
        #expect(note.json.serialized().contains(#""opportunities_open": null"#))
    }

    @Test func numbersAreShownAsPreciseAsTheyNeed() {
        #expect(SVGChart.tick(0.25, span: 1) == "0.25" && SVGChart.tick(1, span: 1) == "1" && SVGChart.tick(-0.001, span: 1) == "0")
        #expect(SVGChart.tick(120.4, span: 400) == "120" && SVGChart.tick(3.5, span: 8) == "3.5")

        #expect(PrepNote.grouped(12_000) == "12,000" && PrepNote.grouped(12_000.5) == "12,000.50")
        #expect(PrepNote.grouped(999.996) == "1,000" && PrepNote.grouped(-0.001) == "0" && PrepNote.grouped(-1234.5) == "-1,234.50")
    }
}
