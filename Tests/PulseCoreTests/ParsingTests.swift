import Testing
@testable import PulseCore

@Suite("Numbers and dates from CRM exports")
struct ParsingTests {
    @Test func money() {
        let cases: [(String, Int?)] = [
            ("$1,234.50", 123_450), ("1 234,50 ₽", 123_450), ("1.234,50 €", 123_450), ("2500.0", 250_000), ("40000", 4_000_000),
            ("1,234", 123_400), ("1,5", 150), ("12.345.678", 1_234_567_800), ("RM 99.90", 9_990), ("฿1,000", 100_000),
            ("(1,234.50)", -123_450), ("-12", -1_200), ("1 234,50 руб.", 123_450), ("USD 10", 1_000), ("1\u{202F}000", 100_000),
            ("ten dollars", nil), ("", nil), ("1.234", 123_400), ("0.125", nil), ("12abc34", nil), ("1,2,3.4,5", nil),
        ]
        for (text, cents) in cases { #expect(Parse.cents(text) == cents, "\(text)") }
    }

    @Test func counts() {
        #expect(Parse.count("1,234") == 1234 && Parse.count("12") == 12 && Parse.count("1 000") == 1000)
        #expect(Parse.count("3.5") == nil && Parse.count("-2") == nil && Parse.count("") == nil && Parse.count("x") == nil)
    }

    @Test func dates() {
        #expect(DateFormat.iso.parse("2026-11-03")?.description == "2026-11-03")
        #expect(DateFormat.iso.parse("2026-11-03T10:00:00Z")?.description == "2026-11-03")
        #expect(DateFormat.monthFirst.parse("11/3/2026")?.description == "2026-11-03")
        #expect(DateFormat.dayFirst.parse("03/11/2026")?.description == "2026-11-03")
        #expect(DateFormat.dotted.parse("03.11.2026")?.description == "2026-11-03")
        #expect(DateFormat.monthFirst.parse("13/3/2026") == nil && DateFormat.dayFirst.parse("31/02/2026") == nil)
        #expect(DateFormat.iso.parse("11/03/2026") == nil && DateFormat.dotted.parse("3.11.26") == nil)
    }

    @Test func weeklyKPIsFollowTheContract() {
        let monday = Day(iso: "2026-11-02")!
        let days = [ActivityDay(repID: 1, day: monday, calls: 5, dealsWon: 1, dealsLost: 1, revenueWonCents: 100_000),
                    ActivityDay(repID: 1, day: monday + 1, calls: nil, emails: 3, dealsWon: 0, dealsLost: 0),
                    ActivityDay(repID: 1, day: monday + 7, meetings: 2)]
        let quotas = [Quota(repID: 1, period: Period("2026-11")!, cents: 3_000_000)]
        let k = WeeklyKPIs.compute(days: days, quotas: quotas)
        #expect(k.count == 2, "a rep-week exists only with an activity row")
        #expect(k[0].calls == 5 && k[0].emails == 3 && k[0].meetings == nil && k[0].activity == 8)
        #expect(k[0].winRate == 0.5 && k[0].avgDealSize == 1000)
        #expect(abs(k[0].quotaAttainment! - 100_000.0 / 700_000.0) < 1e-12, "30,000 over 30 days, 7 of them")
        #expect(k[1].winRate == nil && k[1].avgDealSize == nil && k[1].quotaAttainment == nil, "missing, not zero")
        // A week across two quota periods takes its days from each.
        let q = [Quota(repID: 1, period: Period("2026-11")!, cents: 3_000_000), Quota(repID: 1, period: Period("2026-12")!, cents: 6_200_000)]
        let w49 = Period("2026-W49")! // 30 Nov to 6 Dec
        #expect(abs(WeeklyKPIs.quotaOverlap(q, from: w49.start, to: w49.end)! - 1_300_000) < 1e-6)
    }
}
