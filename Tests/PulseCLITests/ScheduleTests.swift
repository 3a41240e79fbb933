import Foundation
import PulseCore
import Testing

/// Scheduled sends through the built binary: `pulse tick` stepped through five weeks of
/// `PULSE_NOW` in eight time zones, checked against send times worked out from each zone's
/// own calendar; closing times in the rep's zone; reminders and dry runs.
@Suite(.serialized, .timeLimit(.minutes(4))) struct ScheduleTests {
    static let zones = ["Pacific/Kiritimati", "Asia/Kathmandu", "Asia/Bangkok", "Europe/Berlin", "Europe/London",
                        "America/St_Johns", "America/Los_Angeles", "Pacific/Pago_Pago"]

    static let surveys: [(file: String, every: String, on: String, at: String, days: Int)] = [
        ("midweek", "week", "wednesday", "09:00", 2),
        ("fortnight", "2weeks", "monday", "07:30", 5),
        ("monthly", "month", "sunday", "08:00", 3),
    ]

    func workspace() throws -> Workspace {
        let w = try Workspace()
        #expect(try w.pulse("init").status == 0)
        for file in try FileManager.default.contentsOfDirectory(atPath: w.path("Surveys")) {
            try FileManager.default.removeItem(atPath: w.path("Surveys/" + file))
        }
        for s in Self.surveys {
            try w.write("Surveys/\(s.file).yaml", """
                id: \(s.file)
                title: \(s.file)
                anonymity: identified
                schedule:
                  every: \(s.every)
                  on: \(s.on)
                  at: "\(s.at)"
                  close_after_days: \(s.days)
                questions:
                  - id: energy
                    type: scale
                    min: 1
                    max: 5
                    text: Energy?

                """)
        }
        try w.write("pulse.yaml", "timezone: UTC\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\nreminders:\n  max: 1\n  min_days_apart: 1\n")
        try w.write("roster.csv", "email,name,timezone\n" + Self.zones.enumerated().map { "r\($0.offset)@example.org,R\($0.offset),\($0.element)\n" }.joined())
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        return w
    }

    /// The local send times of a schedule in a zone between two moments, found by walking
    /// that zone's calendar day by day (not with Pulse's own code).
    static func sends(every: String, on: String, at: String, zone: TimeZone, from: Date, to: Date) -> [Date] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let weekday = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"].firstIndex(of: on)! + 1
        let hm = at.split(separator: ":").map { Int($0)! }
        // 2026-11-30 (a Monday of 2026-W49) starts a fortnight of `2weeks`.
        let anchor = calendar.date(from: DateComponents(year: 2026, month: 11, day: 30))!
        var out: [Date] = []
        var day = calendar.startOfDay(for: from.addingTimeInterval(-2 * 86_400))
        while day < to {
            let c = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            var sends = c.weekday == weekday
            if every == "2weeks" { sends = sends && ((calendar.dateComponents([.day], from: anchor, to: day).day! % 14) + 14) % 14 == 0 }
            if every == "month" { sends = sends && c.day! <= 7 }
            if sends, let t = calendar.date(from: DateComponents(year: c.year, month: c.month, day: c.day, hour: hm[0], minute: hm[1])),
               t >= from, t < to {
                out.append(t)
            }
            day = calendar.date(byAdding: .day, value: 1, to: day)!
        }
        return out
    }


    static func stamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }

    /// Every rep is invited once per round, at the first tick after their own local send
    /// time (never early, late or twice), on a Wednesday, every 14 days and on a month's
    /// first Sunday; each invitation stays open its whole window; no round opens empty;
    /// no reminder goes out after a window has closed.
    @Test func fiveWeeksOfTicksInEightZones() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["PULSE_SCHEDULE_SEED"] ?? "") ?? 5
        var rng = SeededRandom(seed: seed)
        let w = try workspace()
        defer { w.remove() }
        let start = ISO8601DateFormatter().date(from: TestClock.at(-3, "00:00"))!
        let end = start.addingTimeInterval(36 * 86_400)
        var ticks: [Date] = []
        var t = start
        while t < end {
            ticks.append(t)
            t = t.addingTimeInterval(Double(3 * 3600 + 60 * Int.random(in: -40...40, using: &rng)))
        }
        let began = Date()
        for tick in ticks {
            let r = try w.pulse(["tick"], env: ["PULSE_NOW": Self.stamp(tick)])
            #expect(r.status == 0, "tick at \(Self.stamp(tick)): \(r.stderr)")
        }
        let seconds = Date().timeIntervalSince(began)
        let db = w.path("pulse.sqlite")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(try python("sqlite_exec.py", [db, """
            SELECT r.survey_id, rep.email, i.created_at, i.closes_at, r.closes_at FROM invitation i
            JOIN round r ON r.id = i.round_id JOIN rep ON rep.id = i.rep_id
            """]).utf8)) as? [[String]])
        var got: [String: [(created: String, closes: String, roundCloses: String)]] = [:]
        for row in rows { got["\(row[0]) \(row[1])", default: []].append((row[2], row[3], row[4])) }
        var problems: [String] = []
        var expectedCount = 0
        // Sends from the first tick on, and at least a tick before the last.
        let from = ticks[0].addingTimeInterval(1), to = ticks.last!.addingTimeInterval(-1)
        for s in Self.surveys {
            for (i, zone) in Self.zones.enumerated() {
                let key = "\(s.file) r\(i)@example.org"
                let want = Self.sends(every: s.every, on: s.on, at: s.at, zone: TimeZone(identifier: zone)!, from: from, to: to)
                expectedCount += want.count
                let mine = (got[key] ?? []).sorted { $0.created < $1.created }
                // A round whose send time was before the first tick is sent at the first tick.
                let inRange = mine.filter { $0.created != Self.stamp(ticks[0]) }
                if inRange.count != want.count {
                    problems.append("\(key): invited at \(inRange.map(\.created)), due at \(want.map(Self.stamp))")
                    continue
                }
                for (sendAt, inv) in zip(want, inRange) {
                    let first = Self.stamp(ticks.first { $0 >= sendAt }!)
                    if inv.created != first { problems.append("\(key): invited at \(inv.created), first tick after \(Self.stamp(sendAt)) is \(first)") }
                    let created = ISO8601DateFormatter().date(from: inv.created)!
                    if inv.closes != Self.stamp(created.addingTimeInterval(Double(s.days) * 86_400)) {
                        problems.append("\(key): the invitation of \(inv.created) closes at \(inv.closes), not \(s.days) days later")
                    }
                    if inv.roundCloses < inv.closes { problems.append("\(key): the round closes at \(inv.roundCloses), before \(inv.closes)") }
                }
            }
        }
        #expect(problems.isEmpty, "seed \(seed): \(problems.prefix(8).joined(separator: "\n"))")
        #expect(try python("sqlite_exec.py", [db, "SELECT COUNT(*) FROM round r WHERE NOT EXISTS (SELECT 1 FROM invitation i WHERE i.round_id = r.id)"]) == "[[0]]",
                "a round opened with no invitation")
        let late = try python("sqlite_exec.py", [db, """
            SELECT COUNT(*), SUM(o.created_at >= i.closes_at) FROM outbox o JOIN invitation i ON i.id = o.invitation_id WHERE o.kind = 'reminder'
            """])
        let lateCounts = try #require(try JSONSerialization.jsonObject(with: Data(late.utf8)) as? [[Int]])
        #expect(lateCounts[0][0] > 0 && lateCounts[0][1] == 0, "reminders after their window closed: \(late)")
        print("schedule: \(ticks.count) ticks of pulse tick over 36 days in \(Self.zones.count) zones (seed \(seed)) in \(String(format: "%.1f", seconds)) s: \(rows.count) invitations (\(expectedCount) due in range), \(lateCounts[0][0]) reminders, \(problems.count) problems")
    }

    /// The mail gives the closing date and time in the rep's zone, or in pulse.yaml's for a
    /// rep without one, with the zone named.
    @Test func theClosingTimeIsInTheRepsZone() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        try w.write("pulse.yaml", "timezone: Asia/Bangkok\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\n")
        try w.write("roster.csv", "email,name,locale,timezone\npago@example.org,Sina,en,Pacific/Pago_Pago\nnozone@example.org,Noi,en,\n")
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        let now = TestClock.at(0, "10:00")
        #expect(try w.pulse(["send", "weekly-pulse", "--period", TestClock.week()], env: ["PULSE_NOW": now]).status == 0)
        let closes = ISO8601DateFormatter().date(from: now)!.addingTimeInterval(5 * 86_400)
        func localDate(_ zone: String) -> String {
            let f = DateFormatter()
            // English readers in zones of no English-writing country Pulse knows read
            // international English: day first.
            f.locale = Locale(identifier: "en-001")
            f.timeZone = TimeZone(identifier: zone)
            f.dateStyle = .long
            return f.string(from: closes)
        }
        let mails = try readMail(w.path("outbox"))
        for (to, zone, hour) in [("pago@example.org", "Pacific/Pago_Pago", "11:00"), ("nozone@example.org", "Asia/Bangkok", "5:00")] {
            let text = try #require(mails.first { $0["to"] as? String == to }?["text"] as? String)
                .replacingOccurrences(of: "\n", with: " ")
            #expect(text.contains("closes on \(localDate(zone)) at \(hour)") && text.contains("(\(zone))"), "\(to): \(text)")
        }
        // Pago Pago is a day behind Bangkok here.
        #expect(localDate("Pacific/Pago_Pago") != localDate("Asia/Bangkok"))
    }

    /// No reminder for a round whose closing time has passed, even before a tick closed it.
    @Test func noReminderAfterTheRoundClosed() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        try w.write("pulse.yaml", "timezone: UTC\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\nreminders:\n  max: 1\n  min_days_apart: 2\n")
        try w.write("roster.csv", "email,name\na@example.org,A\nb@example.org,B\n")
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        let week = TestClock.week()
        #expect(try w.pulse(["send", "weekly-pulse", "--period", week], env: ["PULSE_NOW": TestClock.at(0, "10:00")]).status == 0)

        let plan = try w.pulse(["remind", "weekly-pulse", "--period", week, "--dry-run"], env: ["PULSE_NOW": TestClock.at(1, "10:00")])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("a@example.org") && plan.stdout.contains("due at \(TestClock.day(2))T10:00:"), "\(plan.stdout)")
        #expect(try readMail(w.path("outbox")).count == 2, "a dry run sends nothing")
        #expect(try w.pulse(["remind", "weekly-pulse", "--period", week], env: ["PULSE_NOW": TestClock.at(2, "11:00")]).status == 0)
        let after = try w.pulse(["remind", "weekly-pulse", "--period", week, "--dry-run"], env: ["PULSE_NOW": TestClock.at(3, "11:00")])
        #expect(after.stdout.contains("none: 1 of 1 sent (reminders.max)"), "\(after.stdout)")

        // Five days after it was sent the round has closed, though no tick has marked it.
        let late = try w.pulse(["remind", "weekly-pulse", "--period", week], env: ["PULSE_NOW": TestClock.at(5, "10:01")])
        #expect(late.status == 64 && late.stderr.contains("closed at \(TestClock.at(5, "10:00"))"), "\(late.stderr)")
        try w.write("pulse.yaml", "timezone: UTC\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\nreminders:\n  max: 3\n  min_days_apart: 1\n")
        let tick = try w.pulse(["tick"], env: ["PULSE_NOW": TestClock.at(5, "10:01")])
        #expect(tick.status == 0 && tick.stdout.contains("closed weekly-pulse \(week)") && !tick.stdout.contains("weekly-pulse \(week): 2 reminders"), "\(tick.stderr)")
        let reminders = try readMail(w.path("outbox")).filter { "\($0["message_id"] ?? "")".contains(".reminder@") }
        #expect(reminders.count == 2, "one reminder each, none after the close")
    }

    /// `tick --dry-run` says what it would do and why, and changes nothing.
    @Test func aDryTickSaysWhatItWouldDo() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        try w.write("pulse.yaml", "timezone: UTC\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\n")
        try w.write("roster.csv", "email,name,timezone\nsomchai@example.org,S,Asia/Bangkok\ntom@example.org,T,Europe/London\n")
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        let week = TestClock.week()
        let dryFirst = try w.pulse(["tick", "--dry-run"], env: ["PULSE_NOW": TestClock.at(0, "01:00")])
        #expect(dryFirst.stdout.contains("enps \(TestClock.quarter): would open the round and invite 2 reps (their send time, monday 09:00 local, has come)"),
                "\(dryFirst.stdout)")
        #expect(try w.pulse("rounds", "list", "--format", "json").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "a dry run opens nothing")
        let written = FileManager.default.fileExists(atPath: w.path("outbox")) ? try readMail(w.path("outbox")).count : 0
        #expect(written == 0, "nor sends")
        // Monday 01:00 UTC: 08:00 in Bangkok, 01:00 in London. Nobody is due for the weekly
        // pulse, and its round does not open empty; the quarter's eNPS goes out.
        let early = try w.pulse(["tick"], env: ["PULSE_NOW": TestClock.at(0, "01:00")])
        #expect(early.status == 0 && !early.stdout.contains("weekly-pulse") && early.stdout.contains("enps \(TestClock.quarter): 2 invitations queued"),
                "\(early.stderr)")
        let rounds = try #require(try w.pulse("rounds", "list", "--format", "json").json() as? [[String: Any]])
        #expect(rounds.map { $0["survey"] as? String } == ["enps"], "\(rounds)")
        let dry = try w.pulse(["tick", "--dry-run"], env: ["PULSE_NOW": TestClock.at(0, "03:00")])
        #expect(dry.status == 0, "\(dry.stderr)")
        for line in [
            "weekly-pulse \(week): would open the round and invite 1 rep (their send time, monday 09:00 local, has come)",
            "weekly-pulse: 1 rep not yet due; the next is tom@example.org for \(week) at \(TestClock.at(0, "09:00")) (monday 09:00 local, Europe/London)",
            "dry run at \(TestClock.at(0, "03:00")): nothing was stored or sent",
        ] {
            #expect(dry.stdout.contains(line), "\(line) in \(dry.stdout)")
        }
        #expect(!dry.stdout.contains("enps \(TestClock.quarter): would"), "both reps have their eNPS invitation: \(dry.stdout)")
    }
}
