/// The rep a prep note is about.
public struct PrepRep: Sendable, Equatable {
    public var id: Int64
    public var email: String
    public var name: String?
    public var team: String?
    public var managerEmail: String?
    public var active: Bool

    public init(id: Int64, email: String, name: String?, team: String?, managerEmail: String?, active: Bool) {
        self.id = id; self.email = email; self.name = name; self.team = team; self.managerEmail = managerEmail; self.active = active
    }

    public var displayName: String { name.flatMap { $0.isEmpty ? nil : $0 } ?? email }
}

/// One identified response of the rep, with the definition it was given under.
public struct PrepResponse: Sendable {
    public var survey: String
    public var period: Period
    public var morale: Double?
    public var enps: Int?
    public var definition: SurveyDefinition
    public var numbers: [String: Int] = [:]
    public var texts: [String: String] = [:]

    public init(survey: String, period: Period, morale: Double?, enps: Int?, definition: SurveyDefinition) {
        self.survey = survey; self.period = period; self.morale = morale; self.enps = enps; self.definition = definition
    }

    /// The ISO week a response counts in: its round's period's first week.
    public var week: Period { Period.week(of: period.start) }
}

/// A round of an identified survey the rep was sent.
public struct PrepInvitation: Sendable {
    public var period: Period
    public var survey: String
    public var answered: Bool
    public init(period: Period, survey: String, answered: Bool) { self.period = period; self.survey = survey; self.answered = answered }
}

extension PrepRep {
    public init(_ rep: Rep) {
        self.init(id: rep.id ?? 0, email: rep.email, name: rep.name, team: rep.team, managerEmail: rep.managerEmail,
                  active: rep.active)
    }
}

/// A note of a one-on-one and its action items.
public struct OneOnOneNote: Sendable, Equatable {
    public var id: Int64
    public var text: String
    public var createdAt: String
    public var actions: [ActionItem]

    public init(id: Int64, text: String, createdAt: String, actions: [ActionItem]) {
        self.id = id; self.text = text; self.createdAt = createdAt; self.actions = actions
    }
}

/// An action item agreed in a one-on-one.
public struct ActionItem: Sendable, Equatable {
    public var id: Int64
    public var noteID: Int64?
    public var email: String
    public var text: String
    public var createdAt: String
    public var doneAt: String?

    public init(id: Int64, noteID: Int64?, email: String, text: String, createdAt: String, doneAt: String?) {
        self.id = id; self.noteID = noteID; self.email = email; self.text = text; self.createdAt = createdAt; self.doneAt = doneAt
    }

    /// The day it was agreed.
    public var since: String { String(createdAt.prefix(10)) }
}

/// The team's eNPS from an anonymous survey: the only eNPS a prep note may show then.
public struct TeamENPS: Sendable, Equatable {
    public var survey: String
    public var range: PeriodRange
    public var team: String
    public var group: ENPSGroup
    public init(survey: String, range: PeriodRange, team: String, group: ENPSGroup) {
        self.survey = survey; self.range = range; self.team = team; self.group = group
    }
}

/// What the store knows about one rep up to the as-of day.
public struct PrepHistory: Sendable {
    public var rep: PrepRep
    public var asOf: Day
    public var deactivatedAt: String?
    public var responses: [PrepResponse] = []
    public var firstAnswer: Period?
    /// Newest first.
    public var invitations: [PrepInvitation] = []
    public var hasActivity = false
    public var weeklyKPIs: [WeeklyKPIs] = []
    public var teamWeeklyKPIs: [WeeklyKPIs] = []
    /// The rep's pipeline KPIs by week over the same weeks (empty: no opportunity or lead counts).
    public var pipelineWeeks: [Period: PipelineWeek] = [:]
    /// The team's reps' pipeline KPIs by rep and week, for the team's medians.
    public var teamPipelineWeeks: [Int64: [Period: PipelineWeek]] = [:]
    public var quota: Quota?
    public var revenueInQuotaPeriodCents: Int?
    public var teamENPS: TeamENPS?
    public var openActions: [ActionItem] = []

    public init(rep: PrepRep, asOf: Day) { self.rep = rep; self.asOf = asOf }
}

/// The thresholds of the flags (`prep:` in `pulse.yaml`).
public struct PrepThresholds: Sendable, Equatable {
    /// Points under the baseline that make a drop.
    public var moraleDropPoints = 15.0
    /// Morale under this is low.
    public var lowMorale = 50.0
    /// Unanswered rounds in a row.
    public var nonResponseRounds = 2
    /// Pace to quota under this is a risk.
    public var quotaPace = 0.8
    /// A week's activity this share under the rep's own average is a drop.
    public var activityDrop = 0.3
    /// Activity this many times the rep's average or the team's median is high.
    public var highActivity = 1.2
    /// Morale this many points under the baseline counts as falling (for burnout risk).
    public var moraleFallPoints = 5.0
    /// A win rate under this share of the team's median is low conversion.
    public var lowConversion = 0.75
    /// Win rate and pipeline velocity this share under the rep's own averages, with more
    /// opportunities open than their average, is a stalled pipeline.
    public var pipelineStall = 0.3
    /// Weeks in the trend (and in the rep's own averages).
    public var trendWeeks = 12

    public init() {}
}

public struct PrepFlag: Sendable, Equatable {
    public var code: String
    public var detail: String
}

public struct QuestionMove: Sendable, Equatable {
    public var question: String
    public var text: String
    public var latest: Double
    public var baseline: Double
    public var change: Double { latest - baseline }
}

public struct KPIComparison: Sendable, Equatable {
    public var kpi: KPI
    public var value: Double?
    public var ownAverage: Double?
    public var teamMedian: Double?
}

public struct QuotaProgress: Sendable, Equatable {
    public var period: Period
    public var quotaCents: Int
    public var revenueCents: Int
    public var attainment: Double
    /// Attainment divided by the share of the period gone: 1.0 is on track.
    public var pace: Double
    public var elapsedDays: Int
}

/// A one-on-one preparation note.
public struct PrepNote: Sendable {
    public var rep: PrepRep
    public var asOf: Day
    public var deactivatedAt: String?
    public var latestWeek: Period?
    public var latest: Double?
    public var baseline: Double?
    public var trend: [(period: Period, morale: Double?)]
    public var moves: [QuestionMove]
    public var enpsHistory: [(period: Period, score: Int)]
    public var teamENPS: TeamENPS?
    public var comments: [(period: Period, question: String, text: String)]
    public var kpiWeek: Period
    public var kpis: [KPIComparison]
    /// The pipeline KPIs of the same week, in `pipelineKPIs` order (values `nil` where the
    /// rep has no opportunity or lead in the weeks read).
    public var pipeline: [KPIComparison]
    /// Whether any of the rep's pipeline KPIs has a value in the weeks read.
    public var hasPipeline: Bool
    public var quota: QuotaProgress?
    public var flags: [PrepFlag]
    public var talkingPoints: [String]
    public var openActions: [ActionItem]
    /// What the note could not say, in plain words.
    public var missing: [String]

    public var latestENPS: (period: Period, score: Int)? { enpsHistory.last }
}

extension PrepNote {
    /// The KPIs a note compares, in the order shown.
    public static let shownKPIs: [KPI] = [.calls, .emails, .meetings, .activity, .opportunitiesCreated, .dealsWon, .revenueWon,
                                          .winRate, .quotaAttainment]
    /// The pipeline KPIs a note compares, in the order shown.
    public static let pipelineKPIs: [KPI] = [.opportunitiesOpen, .salesCycleDays, .winRate13w, .avgDealSize13w,
                                             .pipelineVelocity, .leadConversion]

    /// Builds the note (the contract's definitions of latest morale and baseline).
    public static func compute(_ h: PrepHistory, thresholds t: PrepThresholds = PrepThresholds()) -> PrepNote {
        let asOfWeek = Period.week(of: h.asOf)
        let responses = h.responses.filter { $0.period.start <= h.asOf }

        // Morale per week, and per scale question per week (0-100 like the index).
        var moraleSums: [Period: (Double, Int)] = [:]
        var questionSums: [String: [Period: (Double, Int)]] = [:]
        var questionText: [String: String] = [:]
        for r in responses {
            let w = r.week
            if let m = r.morale {
                let old = moraleSums[w] ?? (0, 0)
                moraleSums[w] = (old.0 + m, old.1 + 1)
            }
            for q in r.definition.questions where q.type == .scale {
                guard let n = r.numbers[q.id], let lo = q.min, let hi = q.max, hi > lo else { continue }
                let v = 100 * Double(n - lo) / Double(hi - lo)
                let old = questionSums[q.id]?[w] ?? (0, 0)
                questionSums[q.id, default: [:]][w] = (old.0 + v, old.1 + 1)
                questionText[q.id] = q.text.text(for: "en")
            }
        }
        let morale = moraleSums.mapValues { $0.0 / Double($0.1) }
        let latestWeek = morale.keys.filter { $0 <= asOfWeek }.max()
        func baseline(_ series: [Period: Double], before week: Period) -> Double? {
            let values = (1...4).compactMap { series[Period.week(of: week.start - 7 * $0)] }
            return values.count >= 2 ? values.reduce(0, +) / Double(values.count) : nil
        }
        let latest = latestWeek.flatMap { morale[$0] }
        let base = latestWeek.flatMap { baseline(morale, before: $0) }
        let trend = (0..<t.trendWeeks).reversed().map { k -> (Period, Double?) in
            let w = Period.week(of: asOfWeek.start - 7 * k)
            return (w, morale[w].map { Rounding.round($0, places: 1) })
        }
        var moves: [QuestionMove] = []
        if let latestWeek {
            for (id, sums) in questionSums {
                let series = sums.mapValues { $0.0 / Double($0.1) }
                guard let now = series[latestWeek], let before = baseline(series, before: latestWeek) else { continue }
                moves.append(QuestionMove(question: id, text: questionText[id] ?? id, latest: Rounding.round(now, places: 1),
                                          baseline: Rounding.round(before, places: 1)))
            }
        }
        moves.sort { (abs($0.change), $1.question) > (abs($1.change), $0.question) }

        let enpsHistory = responses.compactMap { r in r.enps.map { (r.period, $0) } }
        let commentsFrom = asOfWeek.start - 21
        let comments = responses.filter { $0.period.start >= commentsFrom }.flatMap { r in
            r.definition.questions.compactMap { q -> (period: Period, question: String, text: String)? in
                guard q.type == .text, let text = r.texts[q.id] else { return nil }
                return (r.period, q.id, text)
            }
        }

        // KPIs: last week, the full week before the as-of day's (CRM exports lag the day).
        let kpiWeek = Period.week(of: asOfWeek.start - 7)
        let mine = Dictionary(h.weeklyKPIs.map { ($0.week, $0) }, uniquingKeysWith: { a, _ in a })
        let teamThisWeek = h.teamWeeklyKPIs.filter { $0.week == kpiWeek }
        let earlier = h.weeklyKPIs.filter { $0.week < kpiWeek }
        let kpis = shownKPIs.map { kpi in
            KPIComparison(kpi: kpi, value: mine[kpiWeek]?.value(kpi),
                          ownAverage: Statistics.mean(earlier.compactMap { $0.value(kpi) }),
                          teamMedian: Statistics.median(teamThisWeek.compactMap { $0.value(kpi) }))
        }
        let earlierPipeline = h.pipelineWeeks.filter { $0.key < kpiWeek }.values
        let pipeline = pipelineKPIs.map { kpi in
            KPIComparison(kpi: kpi, value: h.pipelineWeeks[kpiWeek]?.value(kpi),
                          ownAverage: Statistics.mean(earlierPipeline.compactMap { $0.value(kpi) }),
                          teamMedian: Statistics.median(h.teamPipelineWeeks.values.compactMap { $0[kpiWeek]?.value(kpi) }))
        }
        let hasPipeline = !h.pipelineWeeks.isEmpty
        var quota: QuotaProgress?
        if let q = h.quota {
            let revenue = h.revenueInQuotaPeriodCents ?? 0
            let elapsed = h.asOf - q.period.start + 1
            let attainment = Double(revenue) / Double(q.cents)
            quota = QuotaProgress(period: q.period, quotaCents: q.cents, revenueCents: revenue,
                                  attainment: Rounding.round(attainment, places: 3),
                                  pace: Rounding.round(attainment / (Double(elapsed) / Double(q.period.dayCount)), places: 3),
                                  elapsedDays: elapsed)
        }

        // What is missing.
        var missing: [String] = []
        if !h.rep.active { missing.append("\(h.rep.email) is deactivated\(h.deactivatedAt.map { " (since \($0.prefix(10)))" } ?? ""): no new rounds go to them") }
        if responses.isEmpty {
            missing.append(h.firstAnswer.map { "no answers on or before \(h.asOf) (the first is for \($0))" }
                           ?? "no answers from \(h.rep.email) yet")
        } else if latest == nil {
            missing.append("no morale yet: the answers have no scale questions")
        } else if base == nil {
            missing.append("no baseline: fewer than two answered weeks in the four before \(latestWeek!)")
        }
        if !h.hasActivity { missing.append("no activity imported for \(h.rep.email) (pulse kpi import)") }
        else if mine[kpiWeek] == nil { missing.append("no activity rows for \(kpiWeek)") }
        if h.quota == nil { missing.append("no quota covers \(h.asOf) (pulse kpi import --quota)") }
        if !hasPipeline {
            missing.append("no opportunities or leads for \(h.rep.email) in the weeks read (pulse kpi import --opportunities, --leads)")
        }

        var note = PrepNote(rep: h.rep, asOf: h.asOf, deactivatedAt: h.deactivatedAt, latestWeek: latestWeek,
                            latest: latest.map { Rounding.round($0, places: 1) }, baseline: base.map { Rounding.round($0, places: 1) },
                            trend: trend, moves: moves, enpsHistory: enpsHistory, teamENPS: h.teamENPS, comments: comments,
                            kpiWeek: kpiWeek, kpis: kpis, pipeline: pipeline, hasPipeline: hasPipeline, quota: quota, flags: [], talkingPoints: [], openActions: h.openActions,
                            missing: missing)
        note.flags = flags(note, history: h, thresholds: t)
        note.talkingPoints = talkingPoints(note)
        return note
    }

    static func flags(_ n: PrepNote, history h: PrepHistory, thresholds t: PrepThresholds) -> [PrepFlag] {
        var flags: [PrepFlag] = []
        func fmt(_ x: Double) -> String { String(Rounding.round(x, places: 1)) }
        func pct(_ x: Double) -> String { "\(Int((x * 100).rounded()))%" }
        if let l = n.latest, let b = n.baseline, b - l >= t.moraleDropPoints {
            flags.append(PrepFlag(code: "morale_drop", detail: "morale \(fmt(l)) in \(n.latestWeek!), \(fmt(b - l)) points under the baseline of \(fmt(b)) (the four weeks before)"))
        }
        if let l = n.latest, l < t.lowMorale {
            flags.append(PrepFlag(code: "low_morale", detail: "morale \(fmt(l)) in \(n.latestWeek!) is under \(fmt(t.lowMorale))"))
        }
        // Rounds in a row without an answer, newest first; the as-of day's own round may still be answered.
        var streak: [PrepInvitation] = []
        for i in h.invitations where !(i.period.start <= n.asOf && n.asOf <= i.period.end && !i.answered) {
            if i.answered { break }
            streak.append(i)
        }
        if streak.count >= t.nonResponseRounds {
            flags.append(PrepFlag(code: "non_response", detail: "the last \(streak.count) rounds went unanswered (\(streak.reversed().map { "\($0.survey) \($0.period)" }.joined(separator: ", ")))"))
        }
        if let e = n.latestENPS, e.score <= 6, e.period.end >= n.asOf - 7 * t.trendWeeks {
            flags.append(PrepFlag(code: "detractor", detail: "answered \(e.score) of 10 to the eNPS question in \(e.period) (a detractor)"))
        }
        if let q = n.quota, q.elapsedDays >= 7, q.pace < t.quotaPace {
            flags.append(PrepFlag(code: "quota_risk", detail: "\(pct(q.attainment)) of the \(q.period) quota with \(pct(Double(q.elapsedDays) / Double(q.period.dayCount))) of the period gone: on pace for \(pct(q.pace))"))
        }
        let activity = n.kpis.first { $0.kpi == .activity }
        if let a = activity?.value, let avg = activity?.ownAverage, avg > 0,
           h.weeklyKPIs.filter({ $0.week < n.kpiWeek && $0.activity != nil }).count >= 3, a <= (1 - t.activityDrop) * avg {
            flags.append(PrepFlag(code: "activity_drop", detail: "activity \(Int(a)) in \(n.kpiWeek), \(pct(1 - a / avg)) under their own average of \(fmt(avg))"))
        }
        let falling = n.latest != nil && n.baseline != nil && n.baseline! - n.latest! >= t.moraleFallPoints
        if falling {
            var high: [String] = []
            if let a = activity?.value, let avg = activity?.ownAverage, avg > 0, a >= t.highActivity * avg { high.append("activity \(Int(a)) against their average of \(fmt(avg))") }
            if let q = n.quota, q.elapsedDays >= 7, q.pace >= 1 { high.append("on pace for \(pct(q.pace)) of quota") }
            if !high.isEmpty {
                flags.append(PrepFlag(code: "burnout_risk", detail: "\(high.joined(separator: " and ")) while morale fell \(fmt(n.baseline! - n.latest!)) points"))
            }
        }
        if let a = activity?.value, let median = activity?.teamMedian, median > 0, a >= t.highActivity * median {
            // Conversion over the weeks shown: the rep's win rate against the team's median win rate.
            func winRate(_ weeks: [WeeklyKPIs]) -> Double? {
                let won = weeks.compactMap(\.dealsWon).reduce(0, +), lost = weeks.compactMap(\.dealsLost).reduce(0, +)
                return won + lost >= 3 ? Double(won) / Double(won + lost) : nil
            }
            let teamRates = Dictionary(grouping: h.teamWeeklyKPIs, by: \.repID).values.compactMap(winRate)
            if let mine = winRate(h.weeklyKPIs), let teamMedian = Statistics.median(teamRates), teamMedian > 0,
               mine <= t.lowConversion * teamMedian {
                flags.append(PrepFlag(code: "coaching_need", detail: "activity \(Int(a)) against a team median of \(fmt(median)), but a win rate of \(pct(mine)) against the team's \(pct(teamMedian))"))
            }
        }
        if let stall = pipelineStall(n, history: h, thresholds: t) { flags.append(stall) }
        return flags
    }

    /// More opportunities open than the rep's own average while their 13-week win rate and
    /// pipeline velocity both run `pipelineStall` or more under their own averages (of 3
    /// earlier weeks at least): deals come in but stop moving.
    static func pipelineStall(_ n: PrepNote, history h: PrepHistory, thresholds t: PrepThresholds) -> PrepFlag? {
        func comparison(_ kpi: KPI) -> (value: Double, average: Double)? {
            guard let c = n.pipeline.first(where: { $0.kpi == kpi }), let v = c.value, let a = c.ownAverage,
                  h.pipelineWeeks.filter({ $0.key < n.kpiWeek && $0.value.value(kpi) != nil }).count >= 3 else { return nil }
            return (v, a)
        }
        guard let open = comparison(.opportunitiesOpen), let rate = comparison(.winRate13w),
              let velocity = comparison(.pipelineVelocity), open.value > open.average,
              rate.average > 0, velocity.average > 0,
              rate.value <= (1 - t.pipelineStall) * rate.average, velocity.value <= (1 - t.pipelineStall) * velocity.average
        else { return nil }
        func fmt(_ x: Double) -> String { String(Rounding.round(x, places: 1)) }
        func pct(_ x: Double) -> String { "\(Int((x * 100).rounded()))%" }
        return PrepFlag(code: "pipeline_stall", detail: "\(Int(open.value)) opportunities open in \(n.kpiWeek) against their average of "
            + "\(fmt(open.average)), while the 13-week win rate is \(pct(rate.value)) (their average \(pct(rate.average))) and "
            + "pipeline velocity \(grouped(velocity.value)) a day (their average \(grouped(velocity.average)))")
    }

    /// Open questions that follow from the flags and from what moved.
    static func talkingPoints(_ n: PrepNote) -> [String] {
        var points: [String] = []
        for f in n.flags {
            switch f.code {
            case "morale_drop": points.append("Your latest pulse was well below the month before. What has changed for you?")
            case "low_morale": points.append("What would make next week a better week for you?")
            case "non_response": points.append("The last few pulses went unanswered. Is the survey still useful to you, or is something getting in the way?")
            case "detractor": points.append("What would have to change for you to recommend working here?")
            case "quota_risk": points.append("Which deals can still close this period, and where could I help most?")
            case "activity_drop":
                points.append("Activity was lower than usual last week. What took your time?")
            case "burnout_risk": points.append("You have been carrying a lot while your energy dipped. How sustainable does your current pace feel?")
            case "coaching_need": points.append("You are putting in a lot of activity; at which stage do your deals stall, and what would help them move?")
            case "pipeline_stall": points.append("More of your deals are open than usual, but fewer are closing. Which ones have stopped moving, and what is holding each one up?")
            default: break
            }
        }
        if let down = n.moves.first(where: { $0.change <= -15 }) {
            points.append("Your answer to \"\(down.text)\" went down. What is behind that?")
        }
        if let up = n.moves.first(where: { $0.change >= 15 }) {
            points.append("Your answer to \"\(up.text)\" went up. What helped?")
        }
        if !n.openActions.isEmpty { points.append("Where do we stand on what we agreed last time?") }
        if points.isEmpty { points.append("What went well this week that we should do more of?") }
        return points
    }
}
