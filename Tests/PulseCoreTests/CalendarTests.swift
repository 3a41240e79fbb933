import Foundation
import Testing
@testable import PulseCore

@Suite("Days and periods")
struct CalendarTests {
    /// Every day from 2015 to 2030 against Foundation's ISO 8601 calendar.
    @Test func isoWeeksMatchFoundation() throws {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var date = try #require(calendar.date(from: DateComponents(year: 2015, month: 1, day: 1)))
        var day = try #require(Day(year: 2015, month: 1, day: 1))
        let last = try #require(Day(year: 2030, month: 12, day: 31))
        while day <= last {
            let c = calendar.dateComponents([.year, .month, .day, .weekday, .weekOfYear, .yearForWeekOfYear], from: date)
            #expect(day.parts.year == c.year && day.parts.month == c.month && day.parts.day == c.day, "\(day)")
            #expect(day.isoWeek.week == c.weekOfYear && day.isoWeek.year == c.yearForWeekOfYear, "\(day)")
            // Foundation: 1 = Sunday; Day: 1 = Monday.
            #expect(day.weekday == (c.weekday! + 5) % 7 + 1, "\(day)")
            date = calendar.date(byAdding: .day, value: 1, to: date)!
            day = day + 1
        }
    }

    @Test func parsesTheContractSpellings() {
        #expect(Period("2026-W47") == .week(year: 2026, week: 47))
        #expect(Period("2026-w05") == .week(year: 2026, week: 5))
        #expect(Period("2026-11") == .month(year: 2026, month: 11))
        #expect(Period("2026-Q4") == .quarter(year: 2026, quarter: 4))
        #expect(Period("2020-W53") == .week(year: 2020, week: 53))
        #expect(Period("2026-W53") == .week(year: 2026, week: 53), "2026 starts on a Thursday: 53 weeks")
        for bad in ["2025-W53", "2026-W54", "2027-W53", "2026-W00", "2026-W5", "2026-13", "2026-00", "2026-Q5", "2026-Q0",
                    "2026", "26-W01", "2026/W01", "", "2026-W1a", "abcd-W01"] {
            #expect(Period(bad) == nil, "\(bad)")
        }
    }

    @Test func periodBoundaries() throws {
        let w = try #require(Period("2026-W01"))
        #expect(w.start.description == "2025-12-29" && w.end.description == "2026-01-04")
        #expect(w.previous == .week(year: 2025, week: 52))
        #expect(Period("2020-W53")!.next == .week(year: 2021, week: 1))
        #expect(Period("2024-02")!.dayCount == 29)
        #expect(Period("2026-Q1")!.end.description == "2026-03-31")
        #expect(Period("2026-Q4")!.next == .quarter(year: 2027, quarter: 1))
        #expect(Period.week(of: Day(iso: "2027-01-01")!) == .week(year: 2026, week: 53))
        #expect(Period.week(of: Day(iso: "2027-01-04")!) == .week(year: 2027, week: 1))
        #expect(Day.isoWeeksIn(year: 2025) == 52 && Day.isoWeeksIn(year: 2026) == 53)
        #expect(Period("2026-W49")!.isWithin(Period("2026-11")!) == false, "W49 runs into December")
        #expect(Period("2026-W46")!.isWithin(Period("2026-11")!))
    }

    @Test func rangesListTheirWeeksAndRefuseBackwards() throws {
        let r = try PeriodRange(from: Period("2026-W50")!, to: Period("2027-W01")!)
        #expect(r.weeks.map(\.description) == ["2026-W50", "2026-W51", "2026-W52", "2026-W53", "2027-W01"])
        #expect(throws: PulseError.self) { try PeriodRange(from: Period("2026-W47")!, to: Period("2026-W46")!) }
    }

    @Test func parsesIsoDays() {
        #expect(Day(iso: "2024-02-29")?.description == "2024-02-29")
        #expect(Day(iso: "2023-02-29") == nil)
        #expect(Day(iso: "2026-1-01") == nil)
        #expect(Day(iso: "2026-13-01") == nil)
        #expect(Day(year: 2026, month: 11, day: 23)!.weekday == 1)
    }
}
