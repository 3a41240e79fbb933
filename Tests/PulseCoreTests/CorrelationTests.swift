import Foundation
import Testing
@testable import PulseCore

/// Every statistic of `pulse correlate` against SciPy and Pingouin on the same data
/// (`Fixtures/correlation.json`, written by `Fixtures/make_correlation.py`), to 1e-9.
@Suite struct CorrelationTests {
    struct Fixture: Decodable {
        struct Row: Decodable { var rep: Int; var week: Int; var morale: Double; var calls: Double }
        struct Stat: Decodable { var r: Double?; var rho: Double?; var p: Double; var ci95: [Double]?; var df: Int? }
        var rows: [Row]
        var pearson: Stat
        var spearman: Stat
        var rm_corr: Stat
        var pearson_first5: Stat
        var ranks: [Double]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/correlation.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    func close(_ a: Double?, _ b: Double?, _ what: String) {
        guard let a, let b else { Issue.record("\(what): missing (\(String(describing: a)) vs \(String(describing: b)))"); return }
        #expect(abs(a - b) <= 1e-9 * max(1, abs(b)), "\(what): \(a) vs \(b)")
    }

    @Test func pearsonMatchesSciPy() throws {
        let f = Self.fixture
        let c = try #require(Statistics.pearson(f.rows.map(\.morale), f.rows.map(\.calls)))
        close(c.r, f.pearson.r, "r")
        close(c.p, f.pearson.p, "p")
        close(c.ci95?.lowerBound, f.pearson.ci95?[0], "ci low")
        close(c.ci95?.upperBound, f.pearson.ci95?[1], "ci high")
        let small = try #require(Statistics.pearson(Array(f.rows.map(\.morale).prefix(5)), Array(f.rows.map(\.calls).prefix(5))))
        close(small.r, f.pearson_first5.r, "r of 5")
        close(small.p, f.pearson_first5.p, "p of 5")
    }

    @Test func spearmanMatchesSciPy() throws {
        let f = Self.fixture
        let c = try #require(Statistics.spearman(f.rows.map(\.morale), f.rows.map(\.calls)))
        close(c.r, f.spearman.rho, "rho")
        close(c.p, f.spearman.p, "p")
        #expect(Statistics.ranks([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]) == f.ranks, "ties take their average rank")
    }

    @Test func ranksAreEachValuesPlaceAmongTheOthers() {
        // By definition: 1 + the values below it + half of the others equal to it.
        var rng = SystemRandomNumberGenerator()
        for (count, spread) in [(0, 1), (1, 1), (2, 1), (500, 3), (500, 40), (500, 1_000_000)] {
            let values = (0..<count).map { _ in Double(Int.random(in: 0..<spread, using: &rng)) - Double(spread / 2) } + (count > 2 ? [-0.0, 0.0] : [])
            let expected = values.map { v in
                1 + Double(values.filter { $0 < v }.count) + Double(values.filter { $0 == v }.count - 1) / 2
            }
            #expect(Statistics.ranks(values) == expected, "\(count) values of \(spread)")
        }
    }

    @Test func withinRepMatchesPingouin() throws {
        let f = Self.fixture
        let subjects = Dictionary(grouping: f.rows, by: \.rep).sorted { $0.key < $1.key }.map { $0.value.map { (x: $0.morale, y: $0.calls) } }
        let c = try #require(Statistics.repeatedMeasures(subjects))
        close(c.r, f.rm_corr.r, "r")
        #expect(c.df == f.rm_corr.df)
        close(c.p, f.rm_corr.p, "p")
        close(c.ci95?.lowerBound, f.rm_corr.ci95?[0], "ci low")
        close(c.ci95?.upperBound, f.rm_corr.ci95?[1], "ci high")
    }

    @Test func tooFewPairsOrRepsGiveAMessageNotANumber() {
        let range = PeriodRange(Period("2026-W47")!)
        let w = Period("2026-W47")!
        let morale: [Int64: [Period: Double]] = [1: [w: 50], 2: [w: 60]]
        let kpis: [Int64: [Period: Double]] = [1: [w: 10], 2: [w: 20]]
        let r = CorrelationReport.compute(survey: "s", kpi: .calls, lag: 0, range: range, morale: morale, kpis: kpis,
                                          groups: nil, minGroupSize: 5)
        #expect(r.results[0].pearson == nil && r.results[0].withinRep == nil)
        #expect(r.sentence(r.results[0]).hasPrefix("Not enough data to say: only 2 rep-weeks"))
    }

    @Test func theSentenceSaysDirectionSizeAndNotCause() {
        var morale: [Int64: [Period: Double]] = [:], kpis: [Int64: [Period: Double]] = [:]
        let weeks = try! PeriodRange(from: Period("2026-W40")!, to: Period("2026-W47")!).weeks
        for rep in Int64(1)...6 {
            for (i, w) in weeks.enumerated() {
                let m = Double(40 + 5 * ((Int(rep) * 7 + i * 3) % 9))
                morale[rep, default: [:]][w] = m
                kpis[rep, default: [:]][w.next] = m / 2 + Double(rep * 10) // a week later, more calls
            }
        }
        let range = try! PeriodRange(from: weeks.first!, to: weeks.last!)
        let r = CorrelationReport.compute(survey: "s", kpi: .calls, lag: 1, range: range, morale: morale, kpis: kpis,
                                          groups: nil, minGroupSize: 5)
        let s = r.sentence(r.results[0])
        #expect(s.hasPrefix("Within the same rep, weeks of higher morale came with clearly more calls 1 week later; r = 1.00"), "\(s)")
        #expect(s.contains("n = 48 rep-weeks, 6 reps") && s.hasSuffix("this shows association, not cause."))
    }
}
