import Foundation
import Testing

/// Rounds, invitations, reminders and schedules through the `file` transport: every
/// message lands as an .eml file that Python's email package parses.
@Suite(.timeLimit(.minutes(5))) struct SendTests {
    /// Somchai is in Bangkok (UTC+7), Anna in Moscow (UTC+3), Tom in London (UTC+0 in November).
    static let roster = """
        email,name,team,locale,timezone
        somchai@example.org,สมชาย ใจดี,east,th,Asia/Bangkok
        anna@example.org,Анна Петрова,east,ru,Europe/Moscow
        tom@example.org,Tom Hale,west,en,Europe/London

        """

    func workspace() throws -> Workspace {
        let w = try Workspace()
        #expect(try w.pulse("init").status == 0)
        try w.write("pulse.yaml", """
            organization: Acme Sales
            base_url: https://pulse.example.org
            timezone: UTC
            mail:
              transport: file
              outbox_dir: \(w.path("outbox"))
            reminders:
              max: 1
              min_days_apart: 2

            """)
        try w.write("roster.csv", Self.roster)
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        return w
    }

    func messages(_ w: Workspace) throws -> [[String: Any]] { try readMail(w.path("outbox")) }

    func weekly(_ w: Workspace) throws -> [[String: Any]] {
        try messages(w).filter { TestClock.namesWeek($0["subject"]) }
    }

    func rounds(_ w: Workspace) throws -> [[String: Any]] {
        try #require(try w.pulse("rounds", "list", "--format", "json").json() as? [[String: Any]])
    }

    @Test func aDryRunStoresAndSendsNothingAndSendIsIdempotent() throws {
        let w = try workspace()
        defer { w.remove() }
        let now = ["PULSE_NOW": TestClock.at(0, "10:00")]
        let dry = try w.pulse(["send", "weekly-pulse", "--dry-run"], env: now)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("somchai@example.org") && dry.stdout.contains("สัปดาห์"), "\(dry.stdout)")
        #expect(dry.stdout.contains("3 invitations would go out for weekly-pulse \(TestClock.week())"), "\(dry.stderr)")
        #expect(try rounds(w).isEmpty, "a dry run opens no round")
        let written = FileManager.default.fileExists(atPath: w.path("outbox")) ? try messages(w).count : 0
        #expect(written == 0, "a dry run writes no message")

        let sent = try w.pulse(["send", "weekly-pulse"], env: now)
        #expect(sent.status == 0, "\(sent.stderr)")
        let mail = try messages(w)
        #expect(mail.count == 3)
        #expect(Set(mail.map { $0["to"] as! String }) == ["somchai@example.org", "anna@example.org", "tom@example.org"])
        let anna = try #require(mail.first { $0["to"] as? String == "anna@example.org" })
        #expect((anna["subject"] as? String)?.hasPrefix("Еженедельный опрос – неделя с ") == true, "\(anna["subject"] ?? "")")
        #expect(TestClock.namesWeek(anna["subject"]))
        #expect((anna["text"] as? String)?.contains("руководитель видит") == true, "an identified survey says who sees")

        let again = try w.pulse(["send", "weekly-pulse"], env: now)
        #expect(again.stdout.contains("0 invitations queued, 3 reps already invited"), "\(again.stderr)")
        #expect(try messages(w).count == 3)
        let round = try #require(try rounds(w).first)
        #expect(round["invited"] as? Int == 3 && round["source"] as? String == "sent")
    }

    @Test func badRequestsSayWhatIsWrong() throws {
        let w = try workspace()
        defer { w.remove() }
        let unknown = try w.pulse("send", "weekly-puls")
        #expect(unknown.status == 65 && unknown.stderr.contains("error: weekly-puls: no such survey; did you mean weekly-pulse?"), "\(unknown.stderr)")
        let team = try w.pulse("send", "weekly-pulse", "--team", "wset")
        #expect(team.status == 65 && team.stderr.contains("did you mean west?") && team.stderr.contains("east, west"), "\(team.stderr)")
        // A period that is neither this week nor the next: refused unless --force.
        let past = try w.pulse("send", "weekly-pulse", "--period", TestClock.week(-2))
        #expect(past.status == 64 && past.stderr.contains("is neither the current week (\(TestClock.week())) nor the next (\(TestClock.week(1)))")
                && past.stderr.contains("pass --force"), "\(past.stderr)")
        let ahead = try w.pulse("send", "weekly-pulse", "--period", TestClock.week(3), "--dry-run")
        #expect(ahead.status == 64 && ahead.stderr.contains("still to come"), "\(ahead.stderr)")
        let forced = try w.pulse("send", "weekly-pulse", "--period", TestClock.week(-2), "--force")
        #expect(forced.status == 0 && forced.stdout.contains("3 invitations queued"), "\(forced.stderr)")
        let period = try w.pulse("send", "weekly-pulse", "--period", "2026-W54")
        #expect(period.status == 64, "\(period.stderr)")
        let noRound = try w.pulse("remind", "weekly-pulse", "--period", "2026-W40")
        #expect(noRound.status == 64 && noRound.stderr.contains("no round"), "\(noRound.stderr)")
        #expect(try w.pulse(["send", "weekly-pulse", "--period", TestClock.week()], env: ["PULSE_NOW": TestClock.day(0).description]).status == 0)
        #expect(try w.pulse("rounds", "close", "weekly-pulse", "--period", TestClock.week()).status == 0)
        let closed = try w.pulse("send", "weekly-pulse", "--period", TestClock.week())
        #expect(closed.status == 64 && closed.stderr.contains("closed"), "\(closed.stderr)")
        try w.write("Surveys/broken.yaml", "id: broken\ntitle: B\nanonymity: identified\nquestions: []\n")
        // A broken file beside: the closed round's own error, and the file named too.
        let closedAndBroken = try w.pulse("send", "weekly-pulse", "--period", TestClock.week())
        #expect(closedAndBroken.status == 64 && closedAndBroken.stderr.contains("closed") && closedAndBroken.stderr.contains("broken.yaml"),
                "\(closedAndBroken.stderr)")
        // The next week goes out, and the broken file is the error (65) that cron reports.
        let broken = try w.pulse(["send", "weekly-pulse", "--period", TestClock.week(1)], env: ["PULSE_NOW": TestClock.at(6, "10:00")])
        #expect(broken.status == 65 && broken.stderr.contains("broken.yaml") && broken.stdout.contains("3 invitations queued"), "\(broken.stderr)")
    }

    @Test func remindersGoOnlyToThoseWhoHaveNotAnswered() throws {
        let w = try workspace()
        defer { w.remove() }
        #expect(try w.pulse(["send", "weekly-pulse", "--period", TestClock.week()], env: ["PULSE_NOW": TestClock.at(0, "10:00")]).status == 0)
        // Anna answers (through a form export).
        try w.write("answers.csv", "email,survey,period,energy,workload,support,quota_confidence\nanna@example.org,weekly-pulse,\(TestClock.week()),4,3,5,2\n")
        #expect(try w.pulse("responses", "import", "answers.csv").status == 0)
        // Too soon: at least two days after the invitation.
        let early = try w.pulse(["remind", "weekly-pulse", "--period", TestClock.week()], env: ["PULSE_NOW": TestClock.at(1, "10:00")])
        #expect(early.status == 0 && early.stdout.contains("0 reminders queued"), "\(early.stderr)")
        let due = try w.pulse(["remind", "weekly-pulse", "--period", TestClock.week()], env: ["PULSE_NOW": TestClock.at(2, "11:00")])
        #expect(due.status == 0 && due.stdout.contains("2 reminders queued"), "\(due.stderr)")
        let reminders = try messages(w).filter { TestClock.namesWeek($0["subject"]) && $0["message_id"].map { "\($0)".contains(".reminder@") } == true }
        #expect(Set(reminders.map { $0["to"] as! String }) == ["somchai@example.org", "tom@example.org"])
        // At most one per round (reminders.max: 1).
        let more = try w.pulse(["remind", "weekly-pulse", "--period", TestClock.week()], env: ["PULSE_NOW": TestClock.at(4, "11:00")])
        #expect(more.stdout.contains("0 reminders queued"), "\(more.stderr)")
    }

    /// The weekly pulse goes out on Monday at 09:00 in each rep's own time zone.
    @Test func tickSendsAtLocalTimeAndOverlappingTicksInviteOnce() throws {
        let w = try workspace()
        defer { w.remove() }
        // Monday 03:00 UTC: 10:00 in Bangkok, 06:00 in Moscow, 03:00 in London.
        let first = try w.pulse(["tick"], env: ["PULSE_NOW": TestClock.at(0, "03:00")])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(Set(try weekly(w).map { $0["to"] as! String }) == ["somchai@example.org"])
        // The quarterly eNPS was due on the first Monday of the quarter, which has passed, and
        // has no round yet: it goes out now, once, to everyone.
        #expect(first.stdout.contains("enps \(TestClock.quarter): 3 invitations queued"), "\(first.stderr)")
        // 06:30 UTC: 09:30 in Moscow. Two ticks at once: Anna is invited once.
        let env = w.environment.merging(["PULSE_NOW": TestClock.at(0, "06:30")]) { $1 }
        let ticks = try (0..<2).map { _ -> Process in
            let p = Process()
            p.executableURL = try Binary.pulse()
            p.arguments = ["tick"]
            p.environment = env
            p.currentDirectoryURL = w.dir
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in ticks { p.waitUntilExit(); #expect(p.terminationStatus == 0) }
        #expect(try weekly(w).map { $0["to"] as! String }.sorted() == ["anna@example.org", "somchai@example.org"])
        // 09:30 UTC: London.
        #expect(try w.pulse(["tick"], env: ["PULSE_NOW": TestClock.at(0, "09:30")]).status == 0)
        #expect(try weekly(w).count == 3)
        #expect(try messages(w).count == 6)
        // Each invitation stays open five days from when it went out: the round closes with
        // the last one (London's, sent at 09:30), not before.
        let open = try w.pulse(["tick"], env: ["PULSE_NOW": TestClock.at(5, "09:29")])
        #expect(open.status == 0 && !open.stdout.contains("closed weekly-pulse"), "\(open.stderr)")
        let close = try w.pulse(["tick"], env: ["PULSE_NOW": TestClock.at(5, "09:30")])
        #expect(close.stdout.contains("closed weekly-pulse \(TestClock.week())"), "\(close.stderr)")
        let round = try #require(try rounds(w).first { $0["period"] as? String == TestClock.week() })
        #expect(round["closed_at"] is String)
        #expect(try weekly(w).count == 3, "no reminder for a closed round")
        // The eNPS round is still open and nobody answered: one reminder each (at the tick
        // before, two days after the invitations).
        #expect(open.stdout.contains("enps \(TestClock.quarter): 3 reminders queued"), "\(open.stderr)")
        #expect(try messages(w).count == 9)
    }
}
