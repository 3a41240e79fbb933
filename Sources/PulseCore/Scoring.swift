import Foundation

/// The eNPS category of one answer: promoters 9-10, passives 7-8, detractors 0-6.
public enum ENPSCategory: String, Sendable, Codable, CaseIterable {
    case promoter, passive, detractor

    public init?(score: Int) {
        switch score {
        case 9...10: self = .promoter
        case 7...8: self = .passive
        case 0...6: self = .detractor
        default: return nil
        }
    }
}

/// The attribute a report breaks its groups down by.
public enum GroupBy: String, Sendable, CaseIterable, Codable {
    case team, manager, region, all

    /// The label of the group a response belongs to.
    public func group(of keys: GroupKeys) -> String {
        let value: String?
        switch self {
        case .team: value = keys.team
        case .manager: value = keys.managerEmail
        case .region: value = keys.region
        case .all: return "all"
        }
        guard let v = value, !v.isEmpty else { return GroupBy.noneLabel }
        return v
    }

    /// The column of the rollups (`response_group`, `enps_respondent`) holding the
    /// attribute; a NULL for `all`, valid SQL on both engines.
    public var rollupColumn: String {
        switch self {
        case .team: "team"
        case .manager: "manager_email"
        case .region: "region"
        case .all: "CAST(NULL AS TEXT)"
        }
    }

    /// The group of responses whose rep had no value for the attribute.
    public static let noneLabel = "(none)"
}

/// The group attributes of a response, as they were when it was given.
public struct GroupKeys: Sendable, Hashable {
    public var team: String?
    public var managerEmail: String?
    public var region: String?

    public init(team: String? = nil, managerEmail: String? = nil, region: String? = nil) {
        self.team = team; self.managerEmail = managerEmail; self.region = region
    }
}

/// Who gave a response, as far as a report may know.
public enum Respondent: Sendable, Hashable {
    /// A rep of an identified survey.
    case rep(Int64)
    /// An answer to an anonymous survey: it counts as its own respondent within a period.
    case anonymous(Int64)
}

/// One response as the reports read it: no answer texts, only what they count.
public struct ResponseFact: Sendable {
    public var period: Period
    public var keys: GroupKeys
    public var respondent: Respondent
    public var enps: Int?
    public var morale: Double?

    public init(period: Period, keys: GroupKeys, respondent: Respondent, enps: Int? = nil, morale: Double? = nil) {
        self.period = period; self.keys = keys; self.respondent = respondent; self.enps = enps; self.morale = morale
    }
}

public enum Rounding {
    /// `value` rounded half away from zero to `places` decimals.
    public static func round(_ value: Double, places: Int) -> Double {
        let f = pow(10.0, Double(places))
        return (value * f).rounded(.toNearestOrAwayFromZero) / f
    }

    /// `value` rounded half away from zero to `places` decimals, where a value within a
    /// hundred-millionth of a unit of the last place from a half counts as that half.
    /// Morale and its means are fractions with small denominators (43.75 is a mean of
    /// 41.67 and 45.83), and their sums, in binary or in the billionths the rollups keep,
    /// can land a hair below the half. A true value that near a half and not on it needs
    /// a fraction with a denominator in the tens of millions.
    public static func roundKeepingHalves(_ value: Double, places: Int) -> Double {
        let f = pow(10.0, Double(places))
        let scaled = value * f, below = scaled.rounded(.down)
        if abs(scaled - below - 0.5) < 1e-8 { return (scaled >= 0 ? below + 1 : below) / f }
        return scaled.rounded(.toNearestOrAwayFromZero) / f
    }

    /// 100 × numerator / denominator rounded half away from zero to one decimal, in
    /// integers so that a true half (100 × 1 / 16 = 6.25) is never lost to binary fractions.
    public static func percentTenths(_ numerator: Int, _ denominator: Int) -> Double {
        precondition(denominator > 0)
        let scaled = 1000 * abs(numerator)
        let tenths = (2 * scaled + denominator) / (2 * denominator)
        return Double(numerator < 0 ? -tenths : tenths) / 10
    }
}

/// The anonymity threshold with complementary suppression.
public enum Suppression {
    /// Which groups of one breakdown to suppress.
    ///
    /// A group with 1 to `minGroupSize - 1` respondents is suppressed. A group with no
    /// respondent has nothing to hide and is left alone. When exactly one group is
    /// suppressed, the smallest of the others (by respondents, then by name) is
    /// suppressed too, so that the hidden one cannot be worked out by subtracting the
    /// shown groups from a total.
    public static func suppressed(_ respondents: [String: Int], minGroupSize: Int) -> Set<String> {
        var hidden = Set(respondents.filter { $0.value > 0 && $0.value < minGroupSize }.map(\.key))
        if hidden.count == 1 {
            let next = respondents
                .filter { !hidden.contains($0.key) && $0.value > 0 }
                .min { ($0.value, $0.key) < ($1.value, $1.key) }
            if let next { hidden.insert(next.key) }
        }
        return hidden
    }
}

/// Distinct respondents among facts. Anonymous answers cannot be told apart across
/// periods, so they count as the most answers seen in any one period: a lower bound of
/// the true number, which keeps the threshold on the safe side.
func distinctRespondents(_ facts: some Sequence<ResponseFact>) -> Int {
    var reps: Set<Int64> = []
    var anonymousPerPeriod: [Period: Int] = [:]
    for f in facts {
        switch f.respondent {
        case let .rep(id): reps.insert(id)
        case .anonymous: anonymousPerPeriod[f.period, default: 0] += 1
        }
    }
    return max(reps.count, anonymousPerPeriod.values.max() ?? 0)
}

// MARK: - eNPS

/// One group's eNPS answers, counted.
public struct ENPSCounts: Sendable, Equatable {
    public var promoters = 0
    public var passives = 0
    public var detractors = 0
    /// Distinct respondents (anonymous ones counted as in `distinctRespondents`).
    public var respondents = 0
    public var responses: Int { promoters + passives + detractors }

    public init(promoters: Int = 0, passives: Int = 0, detractors: Int = 0, respondents: Int = 0) {
        self.promoters = promoters; self.passives = passives; self.detractors = detractors; self.respondents = respondents
    }

    public mutating func add(score: Int) {
        switch ENPSCategory(score: score) {
        case .promoter: promoters += 1
        case .passive: passives += 1
        case .detractor: detractors += 1
        case nil: break
        }
    }
}

public struct ENPSGroup: Sendable, Equatable {
    public var group: String
    public var invited: Int?
    public var responses: Int?
    public var respondents: Int?
    public var responseRate: Double?
    public var promoters: Int?
    public var passives: Int?
    public var detractors: Int?
    public var enps: Double?
    public var ci95: ClosedRange<Double>?
    public var suppressed: Bool

    public init(group: String, invited: Int?, responses: Int?, respondents: Int?, responseRate: Double?, promoters: Int?,
                passives: Int?, detractors: Int?, enps: Double?, ci95: ClosedRange<Double>?, suppressed: Bool) {
        self.group = group; self.invited = invited; self.responses = responses; self.respondents = respondents
        self.responseRate = responseRate; self.promoters = promoters; self.passives = passives; self.detractors = detractors
        self.enps = enps; self.ci95 = ci95; self.suppressed = suppressed
    }
}

public struct ENPSReport: Sendable, Equatable {
    public var survey: String
    public var range: PeriodRange
    public var by: GroupBy
    public var groups: [ENPSGroup]

    /// Scores eNPS per group.
    /// - Parameters:
    ///   - facts: the responses of the survey's rounds inside the range.
    ///   - invited: invitations per group, or `nil` where the answers were imported
    ///     and nobody was invited through Pulse.
    public static func compute(survey: String, range: PeriodRange, by: GroupBy, facts: [ResponseFact],
                               invited: [String: Int]?, minGroupSize: Int) -> ENPSReport {
        var byGroup: [String: [ResponseFact]] = [:]
        for f in facts where f.enps != nil { byGroup[by.group(of: f.keys), default: []].append(f) }
        let counts = byGroup.mapValues { answers -> ENPSCounts in
            var c = ENPSCounts()
            for f in answers { c.add(score: f.enps!) }
            c.respondents = distinctRespondents(answers)
            return c
        }
        return compute(survey: survey, range: range, by: by, counts: counts, invited: invited, minGroupSize: minGroupSize)
    }

    /// Scores eNPS per group from counts (what the store sums in SQL for large ranges).
    public static func compute(survey: String, range: PeriodRange, by: GroupBy, counts: [String: ENPSCounts],
                               invited: [String: Int]?, minGroupSize: Int) -> ENPSReport {
        var counts = counts
        for g in (invited ?? [:]).keys where counts[g] == nil { counts[g] = ENPSCounts() }
        let hidden = Suppression.suppressed(counts.mapValues(\.respondents), minGroupSize: minGroupSize)
        let groups = counts.keys.sorted().map { name -> ENPSGroup in
            let c = counts[name]!
            let inv = invited.map { $0[name] ?? 0 }
            if hidden.contains(name) {
                return ENPSGroup(group: name, invited: nil, responses: nil, respondents: nil, responseRate: nil,
                                 promoters: nil, passives: nil, detractors: nil, enps: nil, ci95: nil, suppressed: true)
            }
            let n = c.responses
            let rate = inv.flatMap { $0 > 0 ? Rounding.round(Double(n) / Double($0), places: 3) : nil }
            return ENPSGroup(group: name, invited: inv, responses: n, respondents: c.respondents,
                             responseRate: rate, promoters: c.promoters, passives: c.passives, detractors: c.detractors,
                             enps: n > 0 ? Rounding.percentTenths(c.promoters - c.detractors, n) : nil,
                             ci95: confidenceInterval(promoters: c.promoters, detractors: c.detractors, responses: n),
                             suppressed: false)
        }
        return ENPSReport(survey: survey, range: range, by: by, groups: groups)
    }

    /// The 95% interval of eNPS, in points.
    ///
    /// eNPS is the difference of two proportions of the same sample, p = promoters / n and
    /// q = detractors / n. Each answer scores +1, 0 or −1, so
    ///     Var(p − q) = [p + q − (p − q)²] / n,
    /// and the interval is 100 × [(p − q) ± 1.96 · √Var], clipped to [−100, 100]. `nil`
    /// under two answers, where the variance says nothing.
    public static func confidenceInterval(promoters: Int, detractors: Int, responses n: Int) -> ClosedRange<Double>? {
        guard n >= 2 else { return nil }
        let p = Double(promoters) / Double(n), q = Double(detractors) / Double(n)
        let variance = (p + q - (p - q) * (p - q)) / Double(n)
        let half = Statistics.z975 * variance.squareRoot()
        let lo = max(-100, 100 * (p - q - half)), hi = min(100, 100 * (p - q + half))
        return Rounding.round(lo, places: 1)...Rounding.round(hi, places: 1)
    }
}

// MARK: - Morale trends

public struct TrendPoint: Sendable, Equatable {
    public var period: Period
    public var morale: Double?
    public var respondents: Int?
    public var suppressed: Bool

    public init(period: Period, morale: Double?, respondents: Int?, suppressed: Bool) {
        self.period = period; self.morale = morale; self.respondents = respondents; self.suppressed = suppressed
    }
}

public struct TrendSeries: Sendable, Equatable {
    public var group: String
    public var points: [TrendPoint]
}

public struct TrendsReport: Sendable, Equatable {
    public var survey: String
    public var range: PeriodRange
    public var by: GroupBy
    public var series: [TrendSeries]

    /// Morale per group and round period (the contract's definition): a rep's morale for
    /// a period is the mean of their responses; a group's is the mean over its reps.
    /// - Parameter periods: the round periods to show, in order (one point each).
    public static func compute(survey: String, range: PeriodRange, by: GroupBy, periods: [Period],
                               facts: [ResponseFact], minGroupSize: Int) -> TrendsReport {
        // group → period → respondent → (sum, count)
        var byRespondent: [String: [Period: [Respondent: (Double, Int)]]] = [:]
        for f in facts {
            guard let m = f.morale else { continue }
            let g = by.group(of: f.keys)
            let old = byRespondent[g, default: [:]][f.period, default: [:]][f.respondent] ?? (0, 0)
            byRespondent[g, default: [:]][f.period, default: [:]][f.respondent] = (old.0 + m, old.1 + 1)
        }
        let cells = byRespondent.mapValues { periods in
            periods.mapValues { reps in
                MoraleCell(sumOfMeans: reps.values.reduce(0.0) { $0 + $1.0 / Double($1.1) }, respondents: reps.count)
            }
        }
        return compute(survey: survey, range: range, by: by, periods: periods, cells: cells, minGroupSize: minGroupSize)
    }

    /// The same from each group's and period's sum of respondents' morale (what the
    /// store sums in SQL: one response per respondent and round).
    public static func compute(survey: String, range: PeriodRange, by: GroupBy, periods: [Period],
                               cells: [String: [Period: MoraleCell]], minGroupSize: Int) -> TrendsReport {
        var hiddenByPeriod: [Period: Set<String>] = [:]
        for period in periods {
            let counts = cells.mapValues { $0[period]?.respondents ?? 0 }
            hiddenByPeriod[period] = Suppression.suppressed(counts, minGroupSize: minGroupSize)
        }
        let series = cells.keys.sorted().map { g in
            TrendSeries(group: g, points: periods.map { period in
                if hiddenByPeriod[period]?.contains(g) == true {
                    return TrendPoint(period: period, morale: nil, respondents: nil, suppressed: true)
                }
                guard let cell = cells[g]?[period], cell.respondents > 0 else {
                    return TrendPoint(period: period, morale: nil, respondents: 0, suppressed: false)
                }
                return TrendPoint(period: period, morale: Rounding.roundKeepingHalves(cell.sumOfMeans / Double(cell.respondents), places: 1),
                                  respondents: cell.respondents, suppressed: false)
            })
        }
        return TrendsReport(survey: survey, range: range, by: by, series: series)
    }
}

/// A group's morale in one period, before the mean: the sum of its respondents' morale.
public struct MoraleCell: Sendable, Equatable {
    public var sumOfMeans: Double
    public var respondents: Int
    public init(sumOfMeans: Double, respondents: Int) { self.sumOfMeans = sumOfMeans; self.respondents = respondents }
}
