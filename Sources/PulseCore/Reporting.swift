import Foundation

/// How the anonymous answers of some rounds are reported, the rule every engine applies
/// at read time: per round, the groups of `AnonymousCells.tags(counts:threshold:)` over
/// the round's stored group keys (under the larger of the threshold and the one the
/// round promised), so that every figure is a sum over atoms of at least the threshold,
/// whatever wrote the answers and whatever the threshold was then. A round with fewer
/// anonymous answers than the threshold is left out of every figure.
public struct AnonymousRegrouping: Sendable {
    private var tags: [Int64: [GroupKeys: GroupKeys]] = [:]
    /// Answers per round left out.
    public private(set) var leftOut: [Int64: Int] = [:]

    public init() {}

    /// - Parameters:
    ///   - counts: per round, the anonymous answers stored under each group key.
    ///   - promised: per round, the threshold its mail or pages promised.
    public init(counts: [Int64: [GroupKeys: Int]], promised: [Int64: Int], threshold: Int) {
        for (round, c) in counts {
            if let t = AnonymousCells.tags(counts: c, threshold: max(threshold, promised[round] ?? 0)) { tags[round] = t }
            else { leftOut[round] = c.values.reduce(0, +) }
        }
    }

    /// The groups an anonymous answer of a round is reported in, or `nil` when it is left out.
    public func reported(round: Int64, _ keys: GroupKeys) -> GroupKeys? { tags[round]?[keys] }

    public func isLeftOut(round: Int64) -> Bool { leftOut[round] != nil }
}

/// A round's anonymous answers that no figure uses.
public struct LeftOutAnswers: Sendable, Equatable {
    public var period: Period
    public var answers: Int
    public init(period: Period, answers: Int) { self.period = period; self.answers = answers }
}

/// What `pulse enps` and `pulse trends` read of a store: figures aggregated by the
/// engine, anonymous answers regrouped by `AnonymousRegrouping`.
public protocol ReportStore: Sendable {
    /// Whether a survey has ever been stored (a round or a version).
    func knowsSurvey(_ id: String) async throws(PulseError) -> Bool

    /// The period of a survey's latest round starting on or before a day.
    func latestRoundPeriod(survey: String, onOrBefore day: Day) async throws(PulseError) -> Period?

    /// The periods of a survey's rounds inside a range, in order.
    func roundPeriods(survey: String, range: PeriodRange) async throws(PulseError) -> [Period]

    /// eNPS answers per group, for `ENPSReport.compute(counts:)`.
    func enpsCounts(survey: String, range: PeriodRange, by: GroupBy, minGroupSize: Int) async throws(PulseError) -> [String: ENPSCounts]

    /// Invitations per group, or `nil` when any round of the range was imported.
    func invitedCounts(survey: String, range: PeriodRange, by: GroupBy) async throws(PulseError) -> [String: Int]?

    /// Morale per group and round period, for `TrendsReport.compute(cells:)`.
    func moraleCells(survey: String, range: PeriodRange, by: GroupBy,
                     minGroupSize: Int) async throws(PulseError) -> [String: [Period: MoraleCell]]

    /// The anonymous answers of the range's rounds that no figure uses, by round.
    func anonymousAnswersLeftOut(survey: String, range: PeriodRange, minGroupSize: Int) async throws(PulseError) -> [LeftOutAnswers]

    /// The numeric answers of each response (`pulse drivers`), none of a round left out.
    func numericAnswers(survey: String, range: PeriodRange, minGroupSize: Int) async throws(PulseError) -> NumericAnswers
}

/// The numeric answers of a survey's responses over a range, with the definition of its
/// latest round there: in an order of their own (not the random ids of anonymous
/// answers), so that sums over them are, to their last bit, a function of the answers.
public struct NumericAnswers: Sendable {
    public var definition: SurveyDefinition?
    public var responses: [[String: Int]]

    public init(definition: SurveyDefinition?, responses: some Sequence<[String: Int]>) {
        self.definition = definition
        func key(_ r: [String: Int]) -> String { r.keys.sorted().map { "\($0)=\(r[$0]!)" }.joined(separator: "&") }
        self.responses = responses.map { (key($0), $0) }.sorted { $0.0 < $1.0 }.map(\.1)
    }
}

/// What `pulse kpi show` and `pulse correlate` read of a store: daily activity summed
/// into rep-weeks by the rule every engine shares (`WeeklySummer`), quotas, revenue,
/// and identified reps' weekly morale.
public protocol KPIStore: Sendable {
    /// Weekly KPIs of every rep (or of these reps) with activity in the weeks from `start`
    /// to `end`, by rep and week.
    func weeklyKPIs(from start: Day, to end: Day, reps: [Int64]?) async throws(PulseError) -> [WeeklyKPIs]

    /// One KPI of every rep-week (of these reps) with activity, by rep and week.
    func weeklyValues(of kpi: KPI, from start: Day, to end: Day, reps: [Int64]?) async throws(PulseError) -> [Int64: [Period: Double]]

    /// Quotas overlapping a span of days.
    func quotas(from start: Day, to end: Day) async throws(PulseError) -> [Quota]

    /// Revenue won per rep over a span of days, in cents (reps with activity only).
    func revenueCents(from start: Day, to end: Day) async throws(PulseError) -> [Int64: Int]

    /// Each identified rep's weekly morale for a survey, by rep and week.
    func weeklyMorale(survey: String, range: PeriodRange) async throws(PulseError) -> [Int64: [Period: Double]]

    /// The same as one series in rep and week order (what `correlate` walks).
    func weeklyMoraleSeries(survey: String, range: PeriodRange) async throws(PulseError) -> RepWeekSeries

    /// One KPI of every rep-week with activity, as one series in rep and week order.
    func weeklyValueSeries(of kpi: KPI, from start: Day, to end: Day) async throws(PulseError) -> RepWeekSeries
}

extension KPIStore {
    /// Weekly KPIs of every rep with activity.
    public func weeklyKPIs(from start: Day, to end: Day) async throws(PulseError) -> [WeeklyKPIs] {
        try await weeklyKPIs(from: start, to: end, reps: nil)
    }

    /// One KPI of every rep-week with activity.
    public func weeklyValues(of kpi: KPI, from start: Day, to end: Day) async throws(PulseError) -> [Int64: [Period: Double]] {
        try await weeklyValues(of: kpi, from: start, to: end, reps: nil)
    }
}

/// One-on-ones: notes kept with the actions agreed in them, and what a prep note reads of
/// one rep's history.
public protocol OneOnOneStore: Sendable {
    /// Keeps a note with its action items in one transaction; the note's id and the actions' ids.
    func addNote(rep: Rep, text: String, actions: [String], now: Date) async throws(PulseError) -> (note: Int64, actions: [Int64])

    /// A rep's notes, newest first, each with its action items.
    func notes(rep: Rep) async throws(PulseError) -> [OneOnOneNote]

    /// Action items of a rep (or of every rep) still open on `day` (created by then, not
    /// done by then), oldest first.
    func openActions(repID: Int64?, asOf day: Day) async throws(PulseError) -> [ActionItem]

    /// Marks an action item done; the item as it was before, `nil` when there is none.
    func completeAction(id: Int64, now: Date) async throws(PulseError) -> ActionItem?

    /// Everything a prep note reads about one rep up to the end of `asOf`: the rep's
    /// identified answers, the rounds they were sent, their weekly KPIs and the team's
    /// (`teamReps`) over `weeks` weeks back, and the quota period holding the day.
    func prepHistory(rep: Rep, asOf: Day, weeks: Int, teamReps: [Int64]) async throws(PulseError) -> PrepHistory
}
