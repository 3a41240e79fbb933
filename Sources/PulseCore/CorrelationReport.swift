import Foundation

/// Does morale move with a KPI? Each rep's morale in week t against the same rep's KPI
/// in week t + lag (the contract's `pulse correlate`).
public struct CorrelationReport: Sendable {
    public struct Result: Sendable {
        public var group: String?
        public var n: Int
        public var reps: Int
        public var pearson: Correlation?
        public var spearman: Correlation?
        public var withinRep: Correlation?
        public var suppressed = false
        /// Why a figure is missing, in words.
        public var notes: [String] = []
    }

    public var survey: String
    public var kpi: KPI
    public var lag: Int
    public var range: PeriodRange
    public var by: String?
    public var results: [Result]

    /// Fewest pairs for any correlation, and fewest reps for the within-rep one.
    public static let minPairs = 10
    public static let minReps = 3

    /// Pairs morale with the KPI and computes the three correlations.
    /// - Parameters:
    ///   - morale: each rep's weekly morale.
    ///   - kpis: each rep's weekly value of the KPI (rep-weeks with activity only).
    ///   - groups: rep → group, for `--by team`; `nil` for one result over everyone.
    public static func compute(survey: String, kpi: KPI, lag: Int, range: PeriodRange, morale: [Int64: [Period: Double]],
                               kpis: [Int64: [Period: Double]], groups: [Int64: String]?, minGroupSize: Int) -> CorrelationReport {
        compute(survey: survey, kpi: kpi, lag: lag, range: range, morale: RepWeekSeries(morale), kpis: RepWeekSeries(kpis),
                groups: groups, minGroupSize: minGroupSize)
    }

    /// The same over rep-week series: the two are walked side by side in rep and week
    /// order, each morale week meeting the KPI's week `lag` weeks on.
    public static func compute(survey: String, kpi: KPI, lag: Int, range: PeriodRange, morale: RepWeekSeries,
                               kpis: RepWeekSeries, groups: [Int64: String]?, minGroupSize: Int) -> CorrelationReport {
        var pairsByRep: [Int64: [(x: Double, y: Double)]] = [:]
        let shift = 7 * lag, first = range.start.ordinal, last = range.end.ordinal
        var j = 0
        var current: (rep: Int64, pairs: [(x: Double, y: Double)])?
        for i in 0..<morale.count {
            let rep = morale.reps[i], monday = morale.mondays[i]
            guard monday >= first && monday + 6 <= last else { continue }
            let target = monday + shift
            while j < kpis.count && (kpis.reps[j], kpis.mondays[j]) < (rep, target) { j += 1 }
            guard j < kpis.count, kpis.reps[j] == rep, kpis.mondays[j] == target else { continue }
            if current?.rep != rep {
                if let c = current { pairsByRep[c.rep] = c.pairs }
                current = (rep, [])
            }
            current!.pairs.append((morale.values[i], kpis.values[j]))
        }
        if let c = current { pairsByRep[c.rep] = c.pairs }
        func result(_ group: String?, _ reps: [Int64]) -> Result {
            let subjects = reps.sorted().compactMap { pairsByRep[$0] }.map { $0.sorted { ($0.x, $0.y) < ($1.x, $1.y) } }
            let xs = subjects.flatMap { $0.map(\.x) }, ys = subjects.flatMap { $0.map(\.y) }
            var r = Result(group: group, n: xs.count, reps: subjects.count)
            if group != nil && subjects.count < minGroupSize {
                r.suppressed = true
                r.notes.append("fewer than \(minGroupSize) reps: hidden (the anonymity threshold)")
                r.n = 0; r.reps = 0
                return r
            }
            if xs.count < minPairs {
                r.notes.append("only \(xs.count) rep-weeks with both a morale answer and \(kpi.label): at least \(minPairs) are needed")
                return r
            }
            r.pearson = Statistics.pearson(xs, ys)
            r.spearman = Statistics.spearman(xs, ys)
            if r.pearson == nil { r.notes.append("morale or \(kpi.label) does not vary: no correlation") }
            if subjects.count < minReps {
                r.notes.append("within-rep correlation needs at least \(minReps) reps with pairs; there are \(subjects.count)")
            } else {
                r.withinRep = Statistics.repeatedMeasures(subjects)
                if r.withinRep == nil && r.pearson != nil {
                    r.notes.append("no rep's morale or \(kpi.label) varies from week to week: no within-rep correlation")
                }
            }
            return r
        }
        let results: [Result]
        if let groups {
            var members: [String: [Int64]] = [:]
            for rep in RepWeekSeries.union(morale.distinctReps, kpis.distinctReps) {
                members[groups[rep] ?? GroupBy.noneLabel, default: []].append(rep)
            }
            results = members.keys.sorted().map { result($0, members[$0]!) }
        } else {
            results = [result(nil, RepWeekSeries.union(morale.distinctReps, kpis.distinctReps))]
        }
        return CorrelationReport(survey: survey, kpi: kpi, lag: lag, range: range, by: groups == nil ? nil : "team", results: results)
    }

    // MARK: - Output

    static func json(_ c: Correlation?, rho: Bool = false, df: Bool = false) -> JSON {
        guard let c else { return .null }
        var fields: [(String, JSON)] = [(rho ? "rho" : "r", .double(c.r))]
        if df { fields.append(("df", .int(c.df))) }
        fields.append(("p", .double(c.p)))
        if !rho { fields.append(("ci95", c.ci95.map { .array([.double($0.lowerBound), .double($0.upperBound)]) } ?? .null)) }
        return .object(fields)
    }

    func json(_ r: Result) -> [(String, JSON)] {
        var fields: [(String, JSON)] = []
        if let g = r.group { fields.append(("group", .string(g))) }
        fields += [("n", .int(r.n)), ("reps", .int(r.reps)),
                   ("pearson", Self.json(r.pearson)), ("spearman", Self.json(r.spearman, rho: true)),
                   ("within_rep", Self.json(r.withinRep, df: true))]
        if r.group != nil { fields.append(("suppressed", .bool(r.suppressed))) }
        fields.append(("summary", .string(sentence(r))))
        if !r.notes.isEmpty { fields.append(("notes", .array(r.notes.map(JSON.string)))) }
        return fields
    }

    public var json: JSON {
        var top: [(String, JSON)] = [("survey", .string(survey)), ("kpi", .string(kpi.rawValue)), ("lag", .int(lag)),
                                     ("from", .string(range.from.description)), ("to", .string(range.to.description))]
        if by != nil {
            top.append(("by", .string("team")))
            top.append(("groups", .array(results.map { .object(json($0)) })))
        } else if let only = results.first {
            top += json(only)
        }
        return .object(top)
    }

    /// One row per method (and team, with `--by team`): the figures of the table and its sentence.
    public var csv: String {
        var w = CSVWriter()
        w.header((by != nil ? ["team"] : []) + ["survey", "kpi", "lag", "from", "to", "method", "r", "ci95_low", "ci95_high", "p",
                                                "df", "n", "reps", "suppressed", "summary"])
        for r in results {
            let methods: [(String, Correlation?)] = [("pearson", r.pearson), ("spearman", r.spearman), ("within_rep", r.withinRep)]
            for (method, c) in methods {
                let row: [CSVWriter.Cell] = [
                    .text(survey), .text(kpi.rawValue), .int(lag), .text(range.from.description), .text(range.to.description),
                    .text(method), .number(c?.r), .number(c?.ci95?.lowerBound), .number(c?.ci95?.upperBound), .number(c?.p),
                    .int(method == "within_rep" ? c?.df : nil), .int(r.suppressed ? nil : r.n), .int(r.suppressed ? nil : r.reps),
                    .bool(r.suppressed), .text(sentence(r)),
                ]
                w.row((by != nil ? [.text(r.group)] : []) + row)
            }
        }
        return w.text
    }

    /// The finding as a manager would say it.
    public func sentence(_ r: Result) -> String {
        if r.suppressed { return "Not shown: the team is under the anonymity threshold." }
        guard let main = r.withinRep ?? r.pearson else {
            return "Not enough data to say: " + (r.notes.first ?? "no pairs") + "."
        }
        let within = r.withinRep != nil
        let more = kpi == .salesCycleDays ? ("longer", "shorter")
            : [.winRate, .quotaAttainment, .avgDealSize, .winRate13w, .avgDealSize13w, .pipelineVelocity, .leadConversion].contains(kpi)
            ? ("higher", "lower") : ("more", "fewer")
        let lagText = lag == 0 ? "" : lag > 0 ? " \(lag) week\(lag == 1 ? "" : "s") later" : " \(-lag) week\(lag == -1 ? "" : "s") earlier"
        let subject = within ? "within the same rep, weeks of higher morale" : "across reps and weeks, higher morale"
        let figures = "r = \(Self.format(main.r)), p \(Self.formatP(main.p, relation: true)), n = \(r.n) rep-weeks, \(r.reps) reps"
        let strength: String
        switch abs(main.r) {
        case ..<0.1: strength = ""
        case ..<0.3: strength = "slightly "
        case ..<0.5: strength = ""
        default: strength = "clearly "
        }
        if main.p >= 0.05 || abs(main.r) < 0.1 {
            return "No clear link between morale and \(kpi.label)\(lagText) (\(within ? "within reps, " : "")\(figures)); "
                + "this shows association, not cause."
        }
        let direction = main.r > 0 ? more.0 : more.1
        let text = "\(subject) came with \(strength)\(direction) \(kpi.label)\(lagText); \(figures); this shows association, not cause."
        return text.prefix(1).uppercased() + text.dropFirst()
    }

    static func format(_ x: Double) -> String { String(format: "%.2f", x) }
    static func formatP(_ p: Double, relation: Bool = false) -> String {
        p < 0.001 ? "< 0.001" : (relation ? "= " : "") + String(format: "%.3f", p)
    }

    public func table(style: Style) -> String {
        var out = style.bold(TerminalText.escaped("Morale and \(kpi.label) · \(survey) · \(range.from) to \(range.to)"
                             + (lag == 0 ? "" : " · lag \(lag) week\(abs(lag) == 1 ? "" : "s")"))) + "\n\n"
        for r in results {
            if let g = r.group { out += style.bold(TerminalText.escaped(g)) + "\n" }
            if !r.suppressed && r.n > 0 {
                var t = TextTable([("correlation", .left), ("r", .right), ("95% interval", .right), ("p", .right), ("n", .right)])
                func row(_ name: String, _ c: Correlation?, n: String) {
                    guard let c else { return }
                    let ci = c.ci95.map { "\(Self.format($0.lowerBound)) to \(Self.format($0.upperBound))" } ?? "–"
                    t.add([name, Self.format(c.r), ci, Self.formatP(c.p), n])
                }
                row("pearson", r.pearson, n: "\(r.n)")
                row("spearman", r.spearman, n: "\(r.n)")
                row("within rep", r.withinRep, n: "\(r.n) (\(r.reps) reps, df \(r.withinRep?.df ?? 0))")
                out += t.render(style: style)
            }
            out += TerminalText.escaped(sentence(r)) + "\n\n"
        }
        return out
    }
}

/// One value per rep-week, in rep and then week order, each week as its Monday's day
/// number: what `correlate` pairs, read straight from the rollups in their key order,
/// without a dictionary per rep.
public struct RepWeekSeries: Sendable, Equatable {
    public private(set) var reps: [Int64] = []
    public private(set) var mondays: [Int] = []
    public private(set) var values: [Double] = []
    private var ordered = true

    public init() {}

    /// From values by rep and week (weeks only; other periods are left out).
    public init(_ byRep: [Int64: [Period: Double]]) {
        for rep in byRep.keys.sorted() {
            for (period, v) in byRep[rep]!.filter({ $0.key.kind == .week }).sorted(by: { $0.key.start < $1.key.start }) {
                append(rep: rep, monday: period.start.ordinal, value: v)
            }
        }
    }

    public var count: Int { reps.count }
    public var isEmpty: Bool { reps.isEmpty }

    /// The reps with at least one value.
    public var repSet: Set<Int64> { Set(reps) }

    /// The same in order, without a set when the series is in rep order.
    public var distinctReps: [Int64] {
        guard ordered else { return repSet.sorted() }
        var out: [Int64] = []
        for r in reps where out.last != r { out.append(r) }
        return out
    }

    /// The reps in either of two ordered lists of distinct reps, in order.
    static func union(_ a: [Int64], _ b: [Int64]) -> [Int64] {
        var out: [Int64] = []
        out.reserveCapacity(max(a.count, b.count))
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i] < b[j]) { out.append(a[i]); i += 1 }
            else if i == a.count || b[j] < a[i] { out.append(b[j]); j += 1 }
            else { out.append(a[i]); i += 1; j += 1 }
        }
        return out
    }

    /// Adds a rep-week; out of order ones are sorted by `finish()`.
    public mutating func append(rep: Int64, monday: Int, value: Double) {
        if let r = reps.last, (rep, monday) <= (r, mondays.last!) { ordered = false }
        reps.append(rep); mondays.append(monday); values.append(value)
    }

    /// In rep and week order (a later value of the same rep-week wins).
    public mutating func finish() {
        guard !ordered else { return }
        let order = reps.indices.sorted { (reps[$0], mondays[$0], $0) < (reps[$1], mondays[$1], $1) }
        var out = RepWeekSeries()
        for i in order {
            if let r = out.reps.last, r == reps[i], out.mondays.last! == mondays[i] { out.values[out.values.count - 1] = values[i]; continue }
            out.append(rep: reps[i], monday: mondays[i], value: values[i])
        }
        self = out
    }

    /// The values by rep and week.
    public var byRep: [Int64: [Period: Double]] {
        var out: [Int64: [Period: Double]] = [:]
        for i in reps.indices { out[reps[i], default: [:]][Period.week(of: Day(ordinal: mondays[i]))] = values[i] }
        return out
    }
}
