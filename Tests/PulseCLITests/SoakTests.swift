import Foundation
import Testing

/// Everything at once, for a bounded time on loopback: answers posted to `pulse serve`
/// from 16 connections (each rep twice: an answer and an edit), `pulse tick` sending the
/// weekly round through the real SMTP server, and `pulse kpi import` loading 150,000 rows.
/// Afterwards every acknowledged answer is stored exactly once, every invitation was
/// sent exactly once, and no command failed (no "database is locked").
@Suite(.serialized, .timeLimit(.minutes(5))) struct SoakTests {
    @Test func answersTickAndImportAtOnce() throws {
        let w0 = try Workspace()
        defer { w0.remove() }
        let smtp = try SMTPServer(dir: w0.path("mail"))
        defer { smtp.stop() }
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        try w.write("pulse.yaml", """
            timezone: UTC
            mail:
              transport: smtp
              smtp:
                url: smtp://127.0.0.1:\(smtp.port)
                user: pulse
                password_env: TEST_SMTP_PASSWORD
                ca_file: \(w0.path("mail"))/cert.pem
                max_connections: 4
            """)
        let reps = 120
        try w.write("roster.csv", "email,name,team\n" + (0..<reps).map { "r\($0)@example.org,R \($0),t\($0 % 8)\n" }.joined())
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        let env = ["TEST_SMTP_PASSWORD": "s3cret", "PULSE_NOW": TestClock.now]
        // The quarter's anonymous eNPS round first: its links are what the reps answer.
        let sent = try w.pulse(["send", "enps", "--period", TestClock.quarter], env: env)
        #expect(sent.status == 0, "\(sent.stderr)")
        let links = try smtp.received().map { mail in
            String((mail["text"] as! String).firstMatch(of: #/\/s\/([A-Za-z0-9_-]{43})/#)!.1)
        }
        #expect(links.count == reps)
        var csv = "email,date,calls\n"
        for i in 0..<150_000 { csv += "r\(i % reps)@example.org,\(Day2.iso(19_000 + i / reps)),\(i % 23)\n" }
        try w.write("activity.csv", csv)

        let server = try Server(w)
        defer { server.stop() }
        var jobs: [[String]] = []
        for (i, token) in links.enumerated() {
            jobs.append(["http://127.0.0.1:\(server.port)/s/\(token)", "enps=\(i % 11)&reason=first"])
        }
        for (i, token) in links.enumerated() {
            jobs.append(["http://127.0.0.1:\(server.port)/s/\(token)", "enps=\((i + 3) % 11)&reason=edited"])
        }
        let file = w.path("jobs.json")
        try JSONSerialization.data(withJSONObject: jobs).write(to: URL(fileURLWithPath: file))

        func start(_ args: [String], python script: String? = nil) throws -> (Process, URL) {
            let p = Process()
            let out = w.dir.appendingPathComponent("out-\(UUID().uuidString)")
            FileManager.default.createFile(atPath: out.path, contents: nil)
            if let script {
                p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                p.arguments = ["python3", Fixtures.url(script).path] + args
            } else {
                p.executableURL = try Binary.pulse()
                p.arguments = args
                p.environment = w.environment.merging(env) { $1 }
                p.currentDirectoryURL = w.dir
            }
            p.standardOutput = try FileHandle(forWritingTo: out)
            p.standardError = p.standardOutput
            try p.run()
            return (p, out)
        }
        let started = Date()
        let posts = try start([file, "16"], python: "post_concurrent.py")
        let tick = try start(["tick"])
        let importer = try start(["kpi", "import", "activity.csv"])
        for (p, _) in [posts, tick, importer] { p.waitUntilExit() }
        let seconds = Date().timeIntervalSince(started)

        let tickOut = try String(contentsOf: tick.1, encoding: .utf8), importOut = try String(contentsOf: importer.1, encoding: .utf8)
        #expect(tick.0.terminationStatus == 0, "\(tickOut)")
        #expect(importer.0.terminationStatus == 0, "\(importOut)")
        #expect(!tickOut.contains("locked") && !importOut.contains("locked"))
        let results = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: posts.1)) as? [[Any]])
        // The first post of each rep is stored (200); the second, to an anonymous survey
        // already answered, is refused (409) and changes nothing.
        let ok = results.filter { ($0[1] as? Int) == 200 }.count
        let firsts = results.filter { ($0[0] as? Int ?? 0) < reps }, repeats = results.filter { ($0[0] as? Int ?? 0) >= reps }
        #expect(firsts.allSatisfy { ($0[1] as? Int) == 200 }, "every first post answered 200: \(firsts.filter { ($0[1] as? Int) != 200 }.prefix(5))")
        #expect(repeats.allSatisfy { ($0[1] as? Int) == 409 }, "every second post answered 409: \(repeats.filter { ($0[1] as? Int) != 409 }.prefix(5))")

        // Each rep's answer once (the first: it cannot be changed), each invitation mailed once.
        // serve holds the last answers back for a batch; its stop writes them.
        server.stop()
        let db = w.path("pulse.sqlite")
        let stored = try python("sqlite_exec.py", [db, """
            SELECT COUNT(*), SUM(a.text = 'edited') FROM response s JOIN round r ON r.id = s.round_id
            JOIN answer a ON a.response_id = s.id AND a.question_id = 'reason' WHERE r.survey_id = 'enps'
            """])
        #expect(stored == "[[\(reps), 0]]", "\(stored)")
        #expect(try python("sqlite_exec.py", [db, "SELECT COUNT(*) FROM invitation i JOIN round r ON r.id = i.round_id WHERE r.survey_id = 'enps' AND i.answered"]) == "[[\(reps)]]")
        let weekly = try smtp.received().filter { TestClock.namesWeek($0["subject"]) }.map { $0["to"] as! String }
        #expect(weekly.count == reps && Set(weekly).count == reps, "the weekly round: \(weekly.count) mails to \(Set(weekly).count) reps")
        #expect(try python("sqlite_exec.py", [db, "SELECT COUNT(*) FROM activity"]) == "[[150000]]")
        #expect(try python("sqlite_exec.py", [db, "PRAGMA integrity_check"]) == #"[["ok"]]"#)
        print("soak: \(2 * reps) posts from 16 connections (\(ok) answered 200, the \(repeats.count) second answers 409), a tick mailing \(weekly.count) invitations to \(Set(weekly).count) reps and a 150,000-row import at once in \(String(format: "%.1f", seconds)) s; stored \(stored) (responses, edited)")
    }
}
