import Foundation
import PulseCore
import Testing

/// A year of ticks (about 26,000, every 20 minutes with seeded jitter) in 18 time zones,
/// through the decisions `pulse tick` makes (`Schedule.due`, `roundCloses`), against send
/// times worked out independently from each zone's own calendar with Foundation.
/// `PULSE_SCHEDULE_SEED` replays a run.
@Suite struct ScheduleSimulationTests {
    static let zones = [
        "Pacific/Kiritimati", "Pacific/Auckland", "Australia/Lord_Howe", "Australia/Sydney", "Asia/Tokyo", "Asia/Bangkok",
        "Asia/Kathmandu", "Asia/Kolkata", "Europe/Moscow", "Europe/Berlin", "Europe/London", "Atlantic/Azores", "UTC",
        "America/Sao_Paulo", "America/St_Johns", "America/New_York", "America/Los_Angeles", "Pacific/Pago_Pago",
    ].map { TimeZone(identifier: $0)! }

    static let schedules: [(name: String, schedule: Schedule)] = [
        ("weekly monday", Schedule(every: .week, on: "monday", at: "09:00", closeAfterDays: 5)),
        ("weekly wednesday", Schedule(every: .week, on: "wednesday", at: "17:30", closeAfterDays: 2)),
        ("weekly sunday", Schedule(every: .week, on: "sunday", at: "08:00", closeAfterDays: 3)),
        ("every 2 weeks", Schedule(every: .twoWeeks, on: "thursday", at: "09:00", closeAfterDays: 5)),
        ("monthly", Schedule(every: .month, on: "monday", at: "09:00", closeAfterDays: 7)),
        ("quarterly", Schedule(every: .quarter, on: "friday", at: "10:00", closeAfterDays: 14)),
    ]

    /// The local send days of a schedule in a zone, found by walking that zone's own calendar.
    static func referenceSends(_ s: Schedule, zone: TimeZone, from: Date, to: Date) -> [Date] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let target = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"].firstIndex(of: s.on ?? "monday")! + 1
        let parts = (s.at ?? "09:00").split(separator: ":").map { Int($0)! }
        var day = calendar.startOfDay(for: from.addingTimeInterval(-86_400 * 2))
        var sends: [Date] = []
        // A Thursday that starts a "2weeks" fortnight: 2026-12-03 is in 2026-W49, which runs.
        let anchor = calendar.date(from: DateComponents(year: 2026, month: 12, day: 3))!
        while day < to {
            let c = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            var sends_today = c.weekday == target
            switch s.every {
            case .week: break
            case .twoWeeks:
                let days = calendar.dateComponents([.day], from: anchor, to: day).day!
                sends_today = sends_today && ((days % 14) + 14) % 14 == 0
            case .month: sends_today = sends_today && c.day! <= 7
            case .quarter: sends_today = sends_today && c.day! <= 7 && [1, 4, 7, 10].contains(c.month!)
            }
            if sends_today, let at = calendar.date(from: DateComponents(year: c.year, month: c.month, day: c.day, hour: parts[0], minute: parts[1])),
               at >= from, at < to {
                sends.append(at)
            }
            day = calendar.date(byAdding: .day, value: 1, to: day)!
        }
        return sends
    }


    @Test func aYearOfTicksInEighteenZonesSendsEachRepOnceAtTheirTimeAndKeepsEveryWindowOpen() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["PULSE_SCHEDULE_SEED"] ?? "") ?? 11
        var rng = SeededRandom(seed: seed)
        let start = ISO8601DateFormatter().date(from: "2026-12-01T00:00:00Z")!
        let end = ISO8601DateFormatter().date(from: "2027-12-01T00:00:00Z")!
        var ticks: [Date] = []
        var t = start
        while t < end {
            ticks.append(t)
            t = t.addingTimeInterval(Double(20 * 60 + Int.random(in: -300...300, using: &rng)))
        }
        #expect(ticks.count > 25_000)
        var failures: [String] = []
        var invitations = 0
        for (name, schedule) in Self.schedules {
            // What tick does, as a model of the store: a round opens with its first
            // invitation, with a closing time from roundCloses; each invitation's window
            // runs openDays from when it was sent and can move the round's closing later;
            // a closed round invites nobody.
            struct Round { var closes: Date; var closed = false }
            var rounds: [Period: Round] = [:]
            var invited: [Int: [(period: Period, sendAt: Date, at: Date, closes: Date)]] = [:]
            for tick in ticks {
                for (period, round) in rounds where !round.closed && round.closes <= tick { rounds[period]!.closed = true }
                for (z, zone) in Self.zones.enumerated() {
                    guard let due = schedule.due(at: tick, zone: zone) else { continue }
                    if invited[z]?.contains(where: { $0.period == due.period }) == true { continue }
                    if rounds[due.period] == nil {
                        rounds[due.period] = Round(closes: schedule.roundCloses(in: due.period, zones: Self.zones, now: tick))
                    }
                    guard !rounds[due.period]!.closed else {
                        failures.append("\(name): \(zone.identifier) not invited to \(due.period): the round closed first")
                        continue
                    }
                    let closes = tick.addingTimeInterval(Double(schedule.openDays) * 86_400)
                    rounds[due.period]!.closes = max(rounds[due.period]!.closes, closes)
                    invited[z, default: []].append((due.period, due.sendAt, tick, closes))
                    invitations += 1
                }
            }
            for (z, zone) in Self.zones.enumerated() {
                // Sends in the simulated year, six hours from its ends.
                let from = start.addingTimeInterval(6 * 3600), to = end.addingTimeInterval(-6 * 3600)
                let expected = Self.referenceSends(schedule, zone: zone, from: from, to: to)
                let got = (invited[z] ?? []).filter { $0.sendAt >= from && $0.sendAt < to }
                if expected.count != got.count {
                    failures.append("\(name) \(zone.identifier): \(got.count) invitations, expected \(expected.count)")
                    continue
                }
                for (want, inv) in zip(expected, got) {
                    // Never early, never late: the first tick at or after the local send time.
                    let firstTick = ticks.first { $0 >= want }!
                    if inv.sendAt != want || inv.at != firstTick {
                        failures.append("\(name) \(zone.identifier) \(inv.period): invited at \(inv.at), due at \(want) (first tick \(firstTick))")
                    }
                    if let round = rounds[inv.period], round.closes < inv.closes {
                        failures.append("\(name) \(zone.identifier) \(inv.period): the round closes before the rep's window ends")
                    }
                }
                if schedule.every == .twoWeeks {
                    for (a, b) in zip(expected, expected.dropFirst()) where abs(b.timeIntervalSince(a) - 14 * 86_400) > 3600 {
                        failures.append("\(name) \(zone.identifier): sends \(a) and \(b) are not 14 days apart")
                    }
                }
            }
        }
        #expect(failures.isEmpty, "seed \(seed): \(failures.prefix(10).joined(separator: "\n"))")
        print("schedule simulation (seed \(seed)): \(ticks.count) ticks, \(Self.zones.count) zones, \(Self.schedules.count) schedules, \(invitations) invitations, \(failures.count) problems")
    }

    @Test func twoWeeksMeansFourteenDaysAcrossTheYearEnd() throws {
        let s = Schedule(every: .twoWeeks, on: "monday", at: "09:00", closeAfterDays: 5)
        let runs = (0..<10).map { Period.week(of: Day(year: 2026, month: 11, day: 30)! + 7 * $0) }.filter(s.runs(in:)).map(\.description)
        #expect(runs == ["2026-W49", "2026-W51", "2026-W53", "2027-W02", "2027-W04"])
    }
}
