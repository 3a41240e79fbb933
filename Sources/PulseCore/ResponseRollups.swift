import Foundation

/// The rollups of answers kept at write time, so that `enps` and `trends` read a row per
/// round and group instead of every response:
///
/// - `response_group`: per round, kind (identified or anonymous) and stored group keys,
///   the responses, their eNPS categories and the sum of their morale. Anonymous answers
///   are stored under the tags of `AnonymousCells` (atoms of at least the threshold), so
///   a row of anonymous answers sums an atom or more: nothing finer than the figures may
///   show. Reports regroup them per round (`AnonymousRegrouping`) as before.
/// - `enps_respondent`: per survey, identified rep and group keys, how many eNPS answers
///   the rep gave under those keys and the first and last round they fall in, so that
///   distinct respondents over a range are counted without reading the responses
///   (`RespondentSpan.counts(in:)`); only a rep whose answers straddle the range's edge
///   is looked up in the responses.
///
/// Both engines keep them by triggers on `response`, in the transaction of the write.
/// Morale is summed in billionths (an integer), so that adding and taking away answers
/// leaves no rounding behind and a check against the raw rows is exact.
public struct ResponseGroupSums: Sendable, Hashable {
    public var roundID: Int64
    public var identified: Bool
    public var keys: GroupKeys
    public var responses: Int
    public var promoters: Int
    public var passives: Int
    public var detractors: Int
    public var moraleAnswers: Int
    public var moraleNano: Int64

    public init(roundID: Int64, identified: Bool, keys: GroupKeys, responses: Int, promoters: Int, passives: Int,
                detractors: Int, moraleAnswers: Int, moraleNano: Int64) {
        self.roundID = roundID; self.identified = identified; self.keys = keys; self.responses = responses
        self.promoters = promoters; self.passives = passives; self.detractors = detractors
        self.moraleAnswers = moraleAnswers; self.moraleNano = moraleNano
    }

    /// The answers that gave an eNPS score.
    public var enpsAnswers: Int { promoters + passives + detractors }

    /// The sums as one comparable line.
    var line: String { "\(responses) responses, \(promoters)/\(passives)/\(detractors) eNPS, \(moraleAnswers) morale summing \(moraleNano)e-9" }

    /// The row's key, in words.
    var subject: String {
        "round \(roundID) \(identified ? "identified" : "anonymous") "
            + "[\([keys.team, keys.managerEmail, keys.region].map { $0 ?? "-" }.joined(separator: ", "))]"
    }
}

/// An identified rep's eNPS answers to one survey under one set of group keys: how many,
/// and the starts of the first and last rounds they fall in.
public struct RespondentSpan: Sendable, Hashable {
    public var repID: Int64
    public var keys: GroupKeys
    public var answers: Int
    public var first: Day
    public var last: Day

    public init(repID: Int64, keys: GroupKeys, answers: Int, first: Day, last: Day) {
        self.repID = repID; self.keys = keys; self.answers = answers; self.first = first; self.last = last
    }

    var line: String { "\(answers) answers from \(first) to \(last)" }
}

/// Whether a span of answers has one in a range of rounds.
public enum SpanInRange: Sendable, Equatable {
    /// Every round of the survey from its first to its last answer is in the range.
    case inside
    /// None of them is.
    case outside
    /// Some are: only the responses can tell.
    case straddles
}

/// The rounds of a survey by start, with those inside a report's range marked.
public struct RoundsInRange: Sendable {
    private var starts: [Day] = []
    /// Rounds inside the range among the first k (by start).
    private var insideBefore: [Int] = [0]

    /// - Parameters:
    ///   - all: the starts of every round of the survey.
    ///   - inside: the starts of those inside the range.
    public init(all: some Sequence<Day>, inside: Set<Day>) {
        starts = Array(Set(all)).sorted()
        for s in starts { insideBefore.append(insideBefore.last! + (inside.contains(s) ? 1 : 0)) }
    }

    /// Where a span of answers falls: a span's ends are rounds it answered, so when every
    /// round between them is inside the range it has an answer there, and when none is it
    /// has none.
    public func classify(first: Day, last: Day) -> SpanInRange {
        let lo = lowerBound(first), hi = lowerBound(last + 1)
        let rounds = hi - lo, inside = insideBefore[hi] - insideBefore[lo]
        if rounds > 0 && inside == rounds { return .inside }
        if inside == 0 { return .outside }
        return .straddles
    }

    private func lowerBound(_ d: Day) -> Int {
        var lo = 0, hi = starts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if starts[mid] < d { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

public enum ResponseRollups {
    /// The identified reps who answered inside a range, with the keys they answered
    /// under, as far as their spans tell, and the reps whose spans straddle the range's
    /// edge (to be looked up in the responses of the range's rounds).
    /// - Parameters:
    ///   - starts: the starts of every round of the survey.
    ///   - inside: the starts of the range's rounds.
    public static func respondents(_ spans: [RespondentSpan], starts: [Day], inside: Set<Day>)
        -> (counted: [(repID: Int64, keys: GroupKeys)], straddling: Set<Int64>) {
        let rounds = RoundsInRange(all: starts, inside: inside)
        var counted: [(repID: Int64, keys: GroupKeys)] = []
        var straddling: Set<Int64> = []
        for s in spans {
            switch rounds.classify(first: s.first, last: s.last) {
            case .inside: counted.append((s.repID, s.keys))
            case .outside: break
            case .straddles: straddling.insert(s.repID)
            }
        }
        return (counted, straddling)
    }

    /// The identified rows of `response_group` with eNPS answers, summed in SQL by the one
    /// key a report groups by (the same SQL on SQLite and PostgreSQL): a row per value of
    /// the key, as `identifiedENPSSums(_:by:)` reads it, instead of a row per round and
    /// key set. `rounds` is the engine's condition on `round_id`.
    public static func identifiedENPSSumsSQL(by: GroupBy, rounds: String) -> String {
        """
        SELECT \(by.rollupColumn), CAST(SUM(promoters) AS BIGINT), CAST(SUM(passives) AS BIGINT), CAST(SUM(detractors) AS BIGINT)
        FROM response_group WHERE \(rounds) AND identified AND promoters + passives + detractors > 0 GROUP BY 1
        """
    }

    /// A row of that query as the identified group sums `enpsCounts` takes (the key alone
    /// under its attribute; no round, which only anonymous rows need).
    public static func identifiedENPSSums(_ key: String?, by: GroupBy, promoters: Int, passives: Int, detractors: Int) -> ResponseGroupSums {
        var keys = GroupKeys()
        switch by {
        case .team: keys.team = key
        case .manager: keys.managerEmail = key
        case .region: keys.region = key
        case .all: break
        }
        return ResponseGroupSums(roundID: 0, identified: true, keys: keys, responses: promoters + passives + detractors, promoters: promoters,
                                 passives: passives, detractors: detractors, moraleAnswers: 0, moraleNano: 0)
    }

    /// eNPS counts per group from the rollups of a range's rounds.
    /// - Parameters:
    ///   - groups: the `response_group` rows of the range's rounds.
    ///   - regrouping: how the range's anonymous answers are reported.
    ///   - respondents: identified reps per group key set who answered inside the range
    ///     (`RespondentSpan`s inside it, and the straddling ones found in the responses).
    public static func enpsCounts(groups: [ResponseGroupSums], regrouping: AnonymousRegrouping,
                                  respondents: [(repID: Int64, keys: GroupKeys)], by: GroupBy) -> [String: ENPSCounts] {
        var counts: [String: ENPSCounts] = [:]
        var anonymousPerRound: [String: [Int64: Int]] = [:]
        for g in groups where g.enpsAnswers > 0 {
            let name: String
            if g.identified { name = by.group(of: g.keys) } else {
                guard let keys = regrouping.reported(round: g.roundID, g.keys) else { continue }
                name = by.group(of: keys)
                anonymousPerRound[name, default: [:]][g.roundID, default: 0] += g.enpsAnswers
            }
            counts[name, default: ENPSCounts()].promoters += g.promoters
            counts[name, default: ENPSCounts()].passives += g.passives
            counts[name, default: ENPSCounts()].detractors += g.detractors
        }
        var reps: [String: Set<Int64>] = [:]
        for r in respondents { reps[by.group(of: r.keys), default: []].insert(r.repID) }
        for name in counts.keys {
            // Anonymous answers cannot be told apart across rounds: they count as the most in any one round.
            counts[name]!.respondents = max(reps[name]?.count ?? 0, anonymousPerRound[name]?.values.max() ?? 0)
        }
        return counts
    }

    /// Morale per group and round from the rollups of a range's rounds: a respondent has
    /// one response per round, so a cell's respondents are its answers with morale.
    public static func moraleCells(groups: [ResponseGroupSums], regrouping: AnonymousRegrouping,
                                   periods: [Int64: Period], by: GroupBy) -> [String: [Period: MoraleCell]] {
        // By round id first (cheaper to hash than a period), then by the rounds' periods.
        var nano: [String: [Int64: (sum: Int64, n: Int)]] = [:]
        for g in groups where g.moraleAnswers > 0 {
            guard periods[g.roundID] != nil else { continue }
            let name: String
            if g.identified { name = by.group(of: g.keys) } else {
                guard let keys = regrouping.reported(round: g.roundID, g.keys) else { continue }
                name = by.group(of: keys)
            }
            nano[name, default: [:]][g.roundID, default: (0, 0)].sum += g.moraleNano
            nano[name]![g.roundID]!.n += g.moraleAnswers
        }
        return nano.mapValues { rounds in
            var cells: [Period: (sum: Int64, n: Int)] = [:]
            for (round, cell) in rounds {
                let c = cells[periods[round]!] ?? (0, 0)
                cells[periods[round]!] = (c.sum + cell.sum, c.n + cell.n)
            }
            return cells.mapValues { MoraleCell(sumOfMeans: Double($0.sum) / 1e9, respondents: $0.n) }
        }
    }

    /// The anonymous answers of each round and stored key set, for `AnonymousRegrouping`.
    public static func anonymousCounts(_ groups: [ResponseGroupSums]) -> [Int64: [GroupKeys: Int]] {
        var out: [Int64: [GroupKeys: Int]] = [:]
        for g in groups where !g.identified { out[g.roundID, default: [:]][g.keys, default: 0] += g.responses }
        return out
    }

    /// Where the rollup of weekly morale differs from the responses' morale.
    public static func differences(heldMorale: [(survey: String, series: RepWeekSeries)],
                                   summedMorale: [(survey: String, series: RepWeekSeries)]) -> [RollupDifference] {
        struct Key: Hashable { var survey: String; var rep: Int64; var monday: Int }
        var fromRows: [Key: Double] = [:]
        for (s, series) in summedMorale { for i in 0..<series.count { fromRows[Key(survey: s, rep: series.reps[i], monday: series.mondays[i])] = series.values[i] } }
        var out: [RollupDifference] = []
        func week(_ k: Key) -> Period { Period.week(of: Day(ordinal: k.monday)) }
        for (s, series) in heldMorale {
            for i in 0..<series.count {
                let key = Key(survey: s, rep: series.reps[i], monday: series.mondays[i])
                let other = fromRows.removeValue(forKey: key)
                if other != series.values[i] {
                    out.append(RollupDifference(table: "morale_week", subject: "\(s) \(week(key))", repID: key.rep,
                                                held: "morale \(series.values[i])", summed: other.map { "morale \($0)" }))
                }
            }
        }
        for key in fromRows.keys.sorted(by: { ($0.survey, $0.rep, $0.monday) < ($1.survey, $1.rep, $1.monday) }) {
            out.append(RollupDifference(table: "morale_week", subject: "\(key.survey) \(week(key))", repID: key.rep,
                                        held: nil, summed: "morale \(fromRows[key]!)"))
        }
        return out
    }

    /// Where the rollups of answers differ from the same sums over the raw rows.
    public static func differences(held: [ResponseGroupSums], summed: [ResponseGroupSums],
                                   heldSpans: [(survey: String, span: RespondentSpan)],
                                   summedSpans: [(survey: String, span: RespondentSpan)]) -> [RollupDifference] {
        struct GroupKey: Hashable { var round: Int64; var identified: Bool; var keys: GroupKeys }
        var out: [RollupDifference] = []
        var fromRows: [GroupKey: ResponseGroupSums] = [:]
        for g in summed { fromRows[GroupKey(round: g.roundID, identified: g.identified, keys: g.keys)] = g }
        var seen: Set<GroupKey> = []
        for g in held {
            let key = GroupKey(round: g.roundID, identified: g.identified, keys: g.keys)
            // Two rows of one key are a difference too: the reports would count them twice.
            let other = seen.insert(key).inserted ? fromRows.removeValue(forKey: key) : nil
            if other?.line != g.line {
                out.append(RollupDifference(table: "response_group", subject: g.subject, held: g.line, summed: other?.line))
            }
        }
        for g in fromRows.values.sorted(by: { ($0.roundID, $0.subject) < ($1.roundID, $1.subject) }) {
            out.append(RollupDifference(table: "response_group", subject: g.subject, held: nil, summed: g.line))
        }
        struct SpanKey: Hashable { var survey: String; var rep: Int64; var keys: GroupKeys }
        func subject(_ s: String, _ r: RespondentSpan) -> String {
            "\(s) rep \(r.repID) [\([r.keys.team, r.keys.managerEmail, r.keys.region].map { $0 ?? "-" }.joined(separator: ", "))]"
        }
        var spans: [SpanKey: RespondentSpan] = [:]
        for (s, r) in summedSpans { spans[SpanKey(survey: s, rep: r.repID, keys: r.keys)] = r }
        var seenSpans: Set<SpanKey> = []
        for (s, r) in heldSpans {
            let key = SpanKey(survey: s, rep: r.repID, keys: r.keys)
            let other = seenSpans.insert(key).inserted ? spans.removeValue(forKey: key) : nil
            if other?.line != r.line {
                out.append(RollupDifference(table: "enps_respondent", subject: subject(s, r), repID: r.repID, held: r.line, summed: other?.line))
            }
        }
        for (key, r) in spans.sorted(by: { ($0.key.survey, $0.key.rep) < ($1.key.survey, $1.key.rep) }) {
            out.append(RollupDifference(table: "enps_respondent", subject: subject(key.survey, r), repID: r.repID, held: nil, summed: r.line))
        }
        return out
    }
}
