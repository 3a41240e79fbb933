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

    /// Spellings of money a mature import reads, beside those the existing exports use.
    @Test(arguments: [
        (".50", 50), ("$.99", 99), ("0,5", 50), ("1,234,567.89", 123_456_789), ("1.234.567,89", 123_456_789),
        ("1 200,50", 120_050), ("EUR 1200", 120_000), ("1200 EUR", 120_000), ("$1,200", 120_000), ("1'234.50", 123_450),
        ("US$ 1,200", 120_000), ("-$12.50", -1_250), ("$-12.50", -1_250), ("- 12", -1_200), ("1,23,456.00", 12_345_600),
        ("2500.000", 250_000), ("12.50 €", 1_250), ("€ 12,50", 1_250), ("12 kr", 1_200), ("Rp 15.000", 1_500_000),
        ("10000000000000", 1_000_000_000_000_000), ("1 000 000", 100_000_000),
    ] as [(String, Int)])
    func amountsThatRead(_ text: String, _ cents: Int) {
        #expect(Parse.cents(text) == cents, "\(text)")
    }

    /// Which cells show their decimal mark, and which could be read with either.
    @Test func decimalEvidence() {
        let cases: [(String, DecimalEvidence)] = [
            ("1234", .none), ("1 234", .none), ("$1,234.50", .shows(.point)), ("1.234,50 €", .shows(.comma)), ("12.5", .shows(.point)),
            (".50", .shows(.point)), ("1.234.567", .shows(.comma)), ("1,234,567", .shows(.point)), ("1,234", .ambiguous),
            ("1.234", .ambiguous), ("1,5", .ambiguous), ("0,50", .ambiguous), ("Rp 15.000", .ambiguous), ("1234.5678", .shows(.point)),
            ("1 234,50 ₽", .shows(.comma)), ("1'234.5", .shows(.point)), ("1 000.000", .shows(.point)), ("RM 1,5", .ambiguous),
        ]
        for (text, evidence) in cases { #expect(Parse.decimalEvidence(text) == evidence, "\(text)") }
    }

    /// With a decimal mark given, the other one separates thousands only.
    @Test func amountsWithAGivenDecimalMark() {
        let cases: [(String, DecimalMark, Int?)] = [
            ("1,234", .point, 123_400), ("1,234", .comma, nil), ("1,5", .comma, 150), ("1,5", .point, nil), ("1.234", .comma, 123_400),
            ("1.234", .point, nil), ("1.234,50", .comma, 123_450), ("1.234,50", .point, nil), ("1,234.50", .comma, nil),
            ("1234.50", .comma, nil), ("1 234,5", .comma, 123_450), ("$2,000", .point, 200_000), ("1,2,3", .comma, nil), ("12", .comma, 1_200),
        ]
        for (text, mark, cents) in cases { #expect((try? Parse.amount(text, decimal: mark).get()) == cents, "\(text) with \(mark)") }
    }

    /// What does not read cleanly as money is refused, with a reason and a spelling that would read.
    @Test(arguments: [
        "12k", "$1.5M", "1.2.3", "1,2,3", "12,34,5", "1,2345", "1.234,5.6", "0.125", "12.", "12-", "$$12", "12 USD EUR",
        "--12", "1,234.5,6", "1e5", "0x10", "١٢٣", "１２", "12 k", "1 2", "1,234 567", "1.234 567,50", "12 dollars", "usd 12",
        "99999999999999999", "99999999999999999999", "10000000000001", "1.5 mln", "(12", "12)", ".", "$",
    ])
    func amountsThatDoNotRead(_ text: String) {
        #expect(Parse.cents(text) == nil, "\(text)")
        if case let .failure(problem) = Parse.amount(text) {
            // Too large says the limit; anything else the spellings that would read.
            let huge = ["99999999999999999", "99999999999999999999", "10000000000001"].contains(text)
            #expect(problem.tooLarge == huge, "\(text): \(problem)")
            #expect(problem.reason.contains(huge ? "at most 10,000,000,000,000" : "like"), "\(text): \(problem.reason)")
        } else {
            Issue.record("\(text) was read as an amount")
        }
    }

    /// The importers' byte-level fast path never traps, and leaves every spelling it does
    /// not read exactly like `cents` to it.
    @Test(arguments: ["12345678901234567", "99999999999999999.99", "999999999999999999", "1234567890123456.5", "10000000000001"])
    func plainCentsOfHugeAmountsIsNilNotATrap(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBufferPointer { Parse.plainCents($0) } == nil, "\(text)")
        #expect(Parse.cents(text) == nil, "\(text)")
    }

    @Test func plainCentsAgreesWithCents() {
        for text in ["0", "7", "1234", "1234.5", "1234.50", "10000000000000", "0.01", "0012.30"] {
            let fast = Array(text.utf8).withUnsafeBufferPointer { Parse.plainCents($0) }
            #expect(fast == Parse.cents(text), "\(text)")
        }
    }

    @Test(arguments: [("1,234", 1234), ("12", 12), ("1 000", 1000), ("1'000", 1000), ("1,234,567", 1_234_567), ("0", 0),
                      ("007", 7), ("1\u{A0}000", 1000), ("1000000000", 1_000_000_000)] as [(String, Int)])
    func countsThatRead(_ text: String, _ n: Int) {
        #expect(Parse.count(text) == n, "\(text)")
    }

    @Test(arguments: ["12,5", "1,23", "3.5", "-2", "", "x", "1.234", "12.0", "99999999999999999999", "1000000001", "1,2345",
                      ",123", "123,", "+3", "1 2", "1,234 567", "12abc", "٣"])
    func countsThatDoNotRead(_ text: String) {
        #expect(Parse.count(text) == nil, "\(text)")
        if case let .failure(problem) = Parse.wholeNumber(text) {
            #expect(!problem.reason.isEmpty, "\(text)")
        } else {
            Issue.record("\(text) was read as a count")
        }
    }

    @Test func countsOfManyDigitsAreRefusedNotATrap() {
        let bytes = Array("99999999999999999".utf8)
        #expect(bytes.withUnsafeBufferPointer { Parse.plainCount($0) } == nil, "over the largest count")
        #expect(Array("1000000000".utf8).withUnsafeBufferPointer { Parse.plainCount($0) } == 1_000_000_000)
    }

    @Test(arguments: [
        (DateFormat.iso, "2026-11-03T10:00:00.123+03:00"), (.iso, "2026-11-03T10:00:00+0300"), (.iso, "2026-11-03T10:00"),
        (.iso, "2026-11-03 10:00:00Z"), (.monthFirst, "11/03/2026 10:00 AM"), (.monthFirst, "11/3/2026 9:05"),
        (.monthFirst, "11/3/2026, 9:05 pm"), (.dayFirst, "3/11/2026 21:05:09"), (.dotted, "3.11.2026 10:00"),
    ] as [(DateFormat, String)])
    func datesWithATimeRead(_ format: DateFormat, _ text: String) {
        #expect(format.parse(text)?.description == "2026-11-03", "\(text)")
    }

    @Test(arguments: [
        (DateFormat.iso, "2026-11-03xyz"), (.iso, "2026-11-03T"), (.iso, "2026-11-03T25:00"), (.iso, "2026-11-03 garbage"),
        (.iso, "2026-11-3"), (.iso, "20261103"), (.iso, "2026-11-03T10:00:00Zjunk"), (.iso, "2026-11-03 10:61"),
        (.monthFirst, "11/3/2026x"), (.monthFirst, "11/3/26"), (.monthFirst, "+11/3/2026"), (.monthFirst, "11/3/2026 junk"),
        (.monthFirst, "011/3/2026"), (.dotted, "03.11.2026г"), (.dotted, "3.11.26"), (.dayFirst, "3/11/2026 10"),
    ] as [(DateFormat, String)])
    func datesThatDoNotReadCleanlyAreRefusedWithTheSpellingThatWould(_ format: DateFormat, _ text: String) {
        #expect(format.parse(text) == nil, "\(text)")
        if case let .failure(problem) = format.check(text) {
            #expect(problem.reason.contains("like") || problem.reason.contains("write"), "\(text): \(problem.reason)")
        } else {
            Issue.record("\(text) was read as a date")
        }
        if format == .iso && text == "2026-11-03xyz" {
            #expect((try? format.check(text).get()) == nil)
            if case let .failure(p) = format.check(text) { #expect(p.reason.contains("write 2026-11-03"), "\(p.reason)") }
        }
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
