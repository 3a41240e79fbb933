import Foundation
import PulseCore
import Testing

/// `pulse` end to end on one PostgreSQL database: several senders, tickers and answer
/// servers at once, each rep invited and mailed once, each acknowledged answer kept once,
/// and the same listings as on SQLite. Runs where `PULSE_TEST_POSTGRES` names a server
/// (`scripts/test` starts a throwaway cluster); under `CI=true` it must.
@Suite(.serialized, .timeLimit(.minutes(3))) struct PostgresTests {
    static let server = ProcessInfo.processInfo.environment["PULSE_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    static let key = Data((0..<32).map { UInt8(($0 * 37 + 11) % 256) }).base64EncodedString()
    static let reps = 12

    @Test func postgresRunsInCI() {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(Self.server != nil, "CI runs the PostgreSQL end-to-end tests: scripts/test sets PULSE_TEST_POSTGRES")
        }
    }

    /// Runs psql on a database and returns its unaligned output.
    func psql(_ url: String, _ sql: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["psql", url, "-v", "ON_ERROR_STOP=1", "-Atc", sql]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func count(_ url: String, _ sql: String) throws -> Int { Int(try psql(url, sql)) ?? -1 }

    /// Runs a statement on a SQLite file behind Pulse's back (python's sqlite3), as an operator could.
    func sqliteBehindPulse(_ path: String, _ sql: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()", path, sql]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(sql)")
    }

    /// A new, empty database on the test server; its URL.
    func database() throws -> String {
        let server = try #require(Self.server)
        let name = "e" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        _ = try psql(server, "CREATE DATABASE \(name)")
        return server.replacing(#/\/[^\/]+$/#, with: "/\(name)")
    }

    /// A workspace on `db` with the shipped surveys and twelve reps in two teams, UTC.
    func workspace(db: String, config: String) throws -> Workspace {
        let w = try Workspace()
        try w.write("pulse.yaml", config)
        let r = try w.pulse(["init"], env: env(db))
        #expect(r.status == 0 && r.stderr.contains("schema v7-response-rollups"), "\(r.stderr)")
        var roster = "email,name,team,manager_email,timezone\n"
        for i in 0..<Self.reps { roster += "rep\(i)@example.org,Rep \(i),\(i % 2 == 0 ? "east" : "west"),lead@example.org,UTC\n" }
        try w.write("roster.csv", roster)
        #expect(try w.pulse(["roster", "import", "roster.csv"], env: env(db)).status == 0)
        return w
    }

    /// A SQLite workspace beside a PostgreSQL one: the same config and the same roster file
    /// (imported unless the test imports it on both).
    func sqliteTwin(of pg: Workspace, config: String? = nil, importRoster: Bool = true) throws -> Workspace {
        let lite = try Workspace()
        if let config { try lite.write("pulse.yaml", config) }
        #expect(try lite.pulse("init").status == 0)
        try lite.write("roster.csv", try String(contentsOfFile: pg.path("roster.csv"), encoding: .utf8))
        if importRoster { #expect(try lite.pulse("roster", "import", "roster.csv").status == 0) }
        return lite
    }

    /// Runs one command on the PostgreSQL workspace and its SQLite twin, and expects the
    /// same exit code, stdout and stderr (stdout after `normalize`); the PostgreSQL run.
    func onBoth(_ pg: Workspace, _ lite: Workspace, db: String, _ args: [String],
                normalize: (String) -> String = { $0 }) throws -> Run {
        let a = try pg.pulse(args, env: env(db)), b = try lite.pulse(args)
        #expect(a.status == b.status && normalize(a.stdout) == normalize(b.stdout) && a.stderr == b.stderr,
                "\(args):\n\(a.status) \(a.stdout)\(a.stderr)\n\(b.status) \(b.stdout)\(b.stderr)")
        return a
    }

    func env(_ db: String, _ extra: [String: String] = [:]) -> [String: String] {
        ["PULSE_DB": db, "PULSE_TOKEN_KEY": Self.key, "TEST_SMTP_PASSWORD": "s3cret"].merging(extra) { $1 }
    }

    /// Runs the same command in several processes at once.
    func atOnce(_ w: Workspace, _ runs: [[String]], env: [String: String]) throws -> [Run] {
        let results = Results(runs.count)
        DispatchQueue.concurrentPerform(iterations: runs.count) { i in
            results.set(i, Result { try w.pulse(runs[i], env: env) })
        }
        return try results.all.map { try $0!.get() }
    }

    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [Result<Run, any Error>?]
        init(_ n: Int) { items = Array(repeating: nil, count: n) }
        func set(_ i: Int, _ r: Result<Run, any Error>) { lock.withLock { items[i] = r } }
        var all: [Result<Run, any Error>?] { lock.withLock { items } }
    }

    func queued(_ r: Run) -> Int {
        r.stdout.split(separator: "\n").compactMap { $0.firstMatch(of: #/(\d+) invitations? queued/#).flatMap { Int($0.1) } }.reduce(0, +)
    }

    @Test func twoSendsAndTwoTicksAtOnceInviteAndMailEachRepOnce() throws {
        guard Self.server != nil else { return }
        let db = try database()
        let w0 = try Workspace()
        defer { w0.remove() }
        let smtp = try SMTPServer(dir: w0.path("mail"))
        defer { smtp.stop() }
        let w = try workspace(db: db, config: """
            base_url: https://pulse.example.org
            mail:
              transport: smtp
              from: "Pulse <pulse@acme.example>"
              smtp:
                url: smtp://127.0.0.1:\(smtp.port)
                tls: required
                user: pulse
                password_env: TEST_SMTP_PASSWORD
                ca_file: \(w0.path("mail"))/cert.pem
                max_connections: 2
            """)
        defer { w.remove() }
        let sends = try atOnce(w, Array(repeating: ["send", "enps", "--period", TestClock.quarter], count: 2), env: env(db))
        #expect(sends.allSatisfy { $0.status == 0 }, "\(sends.map(\.stderr))")
        #expect(sends.map(queued).reduce(0, +) == Self.reps, "\(sends.map(\.stdout))")
        #expect(try count(db, "SELECT COUNT(*) FROM invitation") == Self.reps)
        // The weekly pulse is due at 09:00 in each rep's zone; the suite's clock is 10:00 UTC.
        let ticks = try atOnce(w, [["tick"], ["tick"]], env: env(db))
        #expect(ticks.allSatisfy { $0.status == 0 }, "\(ticks.map(\.stderr))")
        #expect(ticks.map(queued).reduce(0, +) == Self.reps, "\(ticks.map(\.stdout))")
        let mail = try smtp.received()
        let pairs = mail.map { "\($0["to"] as? String ?? "?") \($0["subject"] as? String ?? "?")" }
        #expect(mail.count == 2 * Self.reps && Set(pairs).count == 2 * Self.reps, "each rep mailed once per round: \(pairs.sorted())")
        #expect(Set(mail.compactMap { $0["to"] as? String }).count == Self.reps)
        #expect(try count(db, "SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND body IS NULL") == 2 * Self.reps)
        #expect(try count(db, "SELECT COUNT(*) FROM outbox WHERE status <> 'sent' OR claimed_by IS NOT NULL") == 0, "no claim is left")
        let rounds = try #require(try w.pulse(["rounds", "list", "--format", "json"], env: env(db)).json() as? [[String: Any]])
        #expect(rounds.map { "\($0["survey"]!) \($0["invited"]!)" }.sorted() == ["enps \(Self.reps)", "weekly-pulse \(Self.reps)"])
        // Again: nothing more goes out.
        let again = try w.pulse(["tick"], env: env(db))
        let total = try smtp.received().count
        #expect(again.status == 0 && queued(again) == 0 && total == 2 * Self.reps, "\(again.stdout)")
    }

    /// A sender killed mid-round leaves its messages claimed under a lease, not a
    /// process id: another worker (on any machine) does not take them while the lease
    /// runs, and takes them once it has ended. Every rep gets the invitation; a copy is
    /// sent twice only inside the window (accepted, not yet marked, at most one per
    /// connection per kill).
    @Test func aKilledSenderLeavesNothingClaimedForEver() throws {
        guard Self.server != nil else { return }
        let db = try database()
        let w0 = try Workspace()
        defer { w0.remove() }
        let smtp = try SMTPServer(dir: w0.path("mail"))
        defer { smtp.stop() }
        let w = try Workspace()
        defer { w.remove() }
        try w.write("pulse.yaml", """
            mail:
              transport: smtp
              smtp:
                url: smtp://127.0.0.1:\(smtp.port)
                tls: required
                user: pulse
                password_env: TEST_SMTP_PASSWORD
                ca_file: \(w0.path("mail"))/cert.pem
                max_connections: 2
                rate_per_minute: 600
            """)
        #expect(try w.pulse(["init"], env: env(db)).status == 0)
        try w.write("roster.csv", "email,name,team\n" + (0..<40).map { "r\($0)@example.org,R \($0),t\($0 % 4)\n" }.joined())
        #expect(try w.pulse(["roster", "import", "roster.csv"], env: env(db)).status == 0)
        let p = Process()
        p.executableURL = try Binary.pulse()
        p.arguments = ["send", "enps", "--period", TestClock.quarter]
        p.environment = w.environment.merging(env(db)) { $1 }
        p.currentDirectoryURL = w.dir
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        Thread.sleep(forTimeInterval: 1.5)
        #expect(p.isRunning, "40 messages at 10 a second take longer than the kill's delay")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let claimed = try count(db, "SELECT COUNT(*) FROM outbox WHERE status = 'sending'")
        #expect(claimed > 0 && claimed < 40, "the killed sender held \(claimed) messages")
        // Another worker at once: the lease runs, nothing claimed is taken.
        let early = try w.pulse(["outbox", "--flush"], env: env(db))
        #expect(early.status == 0 && early.stdout.contains("0 sent"), "\(early.stdout) \(early.stderr)")
        #expect(try count(db, "SELECT COUNT(*) FROM outbox WHERE status = 'sending'") == claimed)
        // Six minutes on, the lease has ended: the messages go.
        let late = try w.pulse(["outbox", "--flush"], env: env(db, ["PULSE_NOW": TestClock.at(0, "10:06")]))
        #expect(late.status == 0 && late.stdout.contains("\(claimed) sent"), "\(late.stdout) \(late.stderr)")
        let recipients = try smtp.received().compactMap { $0["to"] as? String }
        #expect(Set(recipients).count == 40, "every rep got their invitation")
        #expect(recipients.count - Set(recipients).count <= 2, "\(recipients.count - Set(recipients).count) duplicates after one kill")
        #expect(try count(db, "SELECT COUNT(*) FROM outbox WHERE status <> 'sent' OR claimed_by IS NOT NULL") == 0)
    }

    /// Each rep's link, by rep number, from the file outbox (emptied after).
    func links(_ w: Workspace) throws -> [Int: String] {
        var out: [Int: String] = [:]
        for mail in try readMail(w.path("outbox")) {
            let text = try #require(mail["text"] as? String)
            let link = String(try #require(text.firstMatch(of: #/(http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]{43})\s/#)?.1))
            let to = try #require(mail["to"] as? String)
            out[try #require(to.firstMatch(of: #/rep(\d+)@/#).flatMap { Int($0.1) })] = link
        }
        try FileManager.default.removeItem(atPath: w.path("outbox"))
        return out
    }

    func serve(_ w: Workspace, db: String, env extra: [String: String] = [:]) throws -> (ChildServer, Int) {
        let child = try ChildServer({ p in
            p.executableURL = try Binary.pulse()
            p.arguments = ["serve", "--port", "0"]
            p.environment = w.environment.merging(["PULSE_DB": db].merging(extra) { $1 }) { $1 }
            p.currentDirectoryURL = w.dir
        }, readyOnStderr: true)
        return (child, try child.port(#/127\.0\.0\.1:(\d+)/#))
    }

    func moved(_ link: String, to port: Int) -> String { link.replacing(#/:\d+\/s\//#, with: ":\(port)/s/") }

    /// Two `serve` on one database, answers given through both, one stopped and one killed:
    /// identified answers are stored once whichever server took them; anonymous answers
    /// wait in each server for a batch of at least the threshold. The stopped server writes
    /// its six; the killed one loses its six (the design's one loss), and once its lease has
    /// ended those reps count as not having answered, so reminders reach them.
    @Test func twoServersKeepEveryAcknowledgedAnswerOnce() throws {
        guard Self.server != nil else { return }
        let db = try database()
        let w = try workspace(db: db, config: "")
        defer { w.remove() }
        let (a, portA) = try serve(w, db: db)
        defer { a.stop() }
        let (b, portB) = try serve(w, db: db)
        defer { b.stop() }
        try w.write("pulse.yaml", "base_url: http://127.0.0.1:\(portA)\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\n")
        #expect(try w.pulse(["send", "enps", "--period", TestClock.quarter], env: env(db)).status == 0)
        var links = ["enps": try self.links(w)]
        #expect(try w.pulse(["send", "weekly-pulse", "--period", TestClock.week()], env: env(db)).status == 0)
        links["weekly-pulse"] = try self.links(w)
        #expect(links["enps"]?.count == Self.reps && links["weekly-pulse"]?.count == Self.reps, "\(links.mapValues(\.count))")
        for i in 0..<Self.reps {
            let port = i < Self.reps / 2 ? portA : portB
            #expect(try python("post_form.py", [moved(links["enps"]![i]!, to: port), "enps=\(i % 11)"]) == "200")
            let weekly = moved(links["weekly-pulse"]![i]!, to: i % 2 == 0 ? portA : portB)
            #expect(try python("post_form.py", [weekly, "energy=4", "workload=3", "support=5", "quota_confidence=2"]) == "200")
        }
        // An identified answer edited through the other server replaces the first.
        #expect(try python("post_form.py", [moved(links["weekly-pulse"]![0]!, to: portB), "energy=1", "workload=1", "support=1",
                                            "quota_confidence=1"]) == "200")
        let weeklyRound = "(SELECT id FROM round WHERE survey_id = 'weekly-pulse')", enpsRound = "(SELECT id FROM round WHERE survey_id = 'enps')"
        #expect(try count(db, "SELECT COUNT(*) FROM response WHERE round_id = \(weeklyRound)") == Self.reps)
        #expect(try psql(db, "SELECT a.number FROM answer a JOIN response r ON r.id = a.response_id JOIN rep ON rep.id = r.rep_id "
            + "WHERE rep.email = 'rep0@example.org' AND a.question_id = 'energy'") == "1")
        #expect(try count(db, "SELECT COUNT(*) FROM response WHERE round_id = \(enpsRound)") == 0, "anonymous answers are held")
        #expect(try count(db, "SELECT COUNT(*) FROM invitation WHERE held_by IS NOT NULL") == Self.reps)
        #expect(try count(db, "SELECT COUNT(DISTINCT held_by) FROM invitation WHERE held_by IS NOT NULL") == 2, "one lease per server")
        // Opened through either server, a link already answered says so.
        let page = try python("fetch_page.py", [moved(links["enps"]![0]!, to: portB)])
        #expect(page.contains("Already answered"), "\(page.prefix(300))")
        kill(b.process.processIdentifier, SIGKILL)
        b.process.waitUntilExit()
        a.stop()
        #expect(try count(db, "SELECT COUNT(*) FROM response WHERE round_id = \(enpsRound)") == Self.reps / 2)
        #expect(try count(db, "SELECT COUNT(*) FROM response WHERE round_id = \(enpsRound) AND rep_id IS NULL") == Self.reps / 2)
        #expect(try count(db, "SELECT COUNT(*) FROM invitation WHERE round_id = \(enpsRound) AND answered") == Self.reps / 2)
        // Three days on, the killed server's lease has long ended: its six reps are reminded.
        let plan = try w.pulse(["remind", "enps", "--period", TestClock.quarter, "--dry-run"],
                               env: env(db, ["PULSE_NOW": TestClock.at(3, "10:00")]))
        #expect(plan.status == 0, "\(plan.stderr)")
        let due = plan.stdout.split(separator: "\n").filter { $0.contains("due now") }.compactMap { $0.firstMatch(of: #/rep(\d+)@/#).flatMap { Int($0.1) } }
        #expect(due.sorted() == Array(Self.reps / 2..<Self.reps), "\(plan.stdout)")
    }

    /// The same data gives the same listings on both engines.
    @Test func theListingsAreTheSameOnSQLiteAndPostgreSQL() throws {
        guard Self.server != nil else { return }
        let db = try database()
        let config = "mail:\n  transport: file\n  outbox_dir: ./outbox\n"
        let pg = try workspace(db: db, config: config)
        defer { pg.remove() }
        let lite = try sqliteTwin(of: pg, config: config, importRoster: false)
        defer { lite.remove() }
        for w in [pg, lite] {
            let e = w.dir == pg.dir ? env(db) : [:]
            #expect(try w.pulse(["roster", "import", "roster.csv"], env: e).status == 0)
            #expect(try w.pulse(["roster", "deactivate", "rep3@example.org"], env: e).status == 0)
            #expect(try w.pulse(["send", "enps", "--period", TestClock.quarter, "--team", "east"], env: e).status == 0)
            #expect(try w.pulse(["send", "weekly-pulse", "--period", TestClock.week()], env: e).status == 0)
            #expect(try w.pulse(["rounds", "close", "enps", "--period", TestClock.quarter], env: e).status == 0)
        }
        /// Times are the pinned clock plus how long each run took: left out.
        func listing(_ w: Workspace, _ args: [String]) throws -> String {
            let r = try w.pulse(args, env: w.dir == pg.dir ? env(db) : [:])
            #expect(r.status == 0, "\(args): \(r.stderr)")
            return r.stdout.replacing(#/"[a-z_]*_at":"[^"]*"/#, with: "time")
        }
        for args in [["roster", "list", "--all", "--format", "json"], ["roster", "list", "--format", "csv"], ["rounds", "list", "--format", "json"],
                     ["rounds", "list"], ["remind", "weekly-pulse", "--period", TestClock.week(), "--dry-run"]] {
            #expect(try listing(pg, args) == listing(lite, args), "\(args)")
        }
        let outbox = { (w: Workspace) throws -> [String] in
            let o = try #require(try w.pulse(["outbox", "--format", "json"], env: w.dir == pg.dir ? env(db) : [:]).json() as? [String: Any])
            return (o["messages"] as? [[String: Any]] ?? []).map { "\($0["to"]!) \($0["subject"]!) \($0["status"]!) \($0["attempts"]!)" }.sorted()
        }
        #expect(try outbox(pg) == outbox(lite))
    }

    /// Failed look-ups are counted in the database, so that guessing links through two
    /// servers is as slow as through one: the 31st unknown token from one address gets
    /// 429 whichever server it reaches (each server alone had seen 15). The table keeps an
    /// address and a time, never the token looked up.
    @Test func failedLookUpsAreCountedAcrossServers() throws {
        guard Self.server != nil else { return }
        let db = try database()
        let w = try workspace(db: db, config: "")
        defer { w.remove() }
        let (a, portA) = try serve(w, db: db)
        defer { a.stop() }
        let (b, portB) = try serve(w, db: db)
        defer { b.stop() }
        var statuses: [String] = []
        for i in 0..<31 {
            let token = String(repeating: String(UnicodeScalar(UInt8(65 + i % 26))), count: 43)
            statuses.append(try python("post_form.py", ["http://127.0.0.1:\(i % 2 == 0 ? portA : portB)/s/\(token)", "enps=5"]))
        }
        #expect(statuses.dropLast() == Array(repeating: "404", count: 30) && statuses.last == "429", "\(statuses)")
        #expect(try count(db, "SELECT COUNT(*) FROM look_up_failure WHERE address = '127.0.0.1'") == 31)
        #expect(try count(db, "SELECT COUNT(*) FROM look_up_failure WHERE address LIKE '%AAAA%' OR at LIKE '%AAAA%'") == 0)
    }

    /// The same answers, given through the pages of each engine's `serve`, give the same
    /// eNPS, trends and drivers on both: JSON, CSV and tables, by team and overall, and
    /// the same refusal for a survey drivers cannot rank.
    @Test func theReportsAreTheSameOnSQLiteAndPostgreSQL() throws {
        guard Self.server != nil else { return }
        let db = try database()
        // A threshold of 7 over 12 answers: each serve holds every anonymous answer until it
        // stops and writes them as one batch, so both engines store the same groups (two
        // batches drawn at random could differ between them, and so would their figures).
        let pg = try workspace(db: db, config: "min_group_size: 7\n")
        defer { pg.remove() }
        let lite = try sqliteTwin(of: pg, config: "min_group_size: 7\n")
        defer { lite.remove() }
        func e(_ w: Workspace) -> [String: String] { w.dir == pg.dir ? env(db) : [:] }
        let scales = ["growth", "recognition", "manager_support", "manageable_workload", "tools", "belonging", "targets"]
        for w in [pg, lite] {
            #expect(try w.pulse(["init", "--with", "engagement"], env: e(w)).status == 0)
            let (server, port) = w.dir == pg.dir ? try serve(w, db: db) : try serve(w, db: w.path("pulse.sqlite"))
            defer { server.stop() }
            try w.write("pulse.yaml", "base_url: http://127.0.0.1:\(port)\nmin_group_size: 7\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\n")
            #expect(try w.pulse(["send", "enps", "--period", TestClock.quarter], env: e(w)).status == 0)
            let enps = try links(w)
            #expect(try w.pulse(["send", "weekly-pulse", "--period", TestClock.week()], env: e(w)).status == 0)
            let weekly = try links(w)
            for i in 0..<Self.reps {
                #expect(try python("post_form.py", [enps[i]!, "enps=\((i * 7) % 11)"]) == "200")
                guard i % 6 != 5 else { continue }
                #expect(try python("post_form.py", [weekly[i]!, "energy=\(i % 5 + 1)", "workload=\((i + 2) % 5 + 1)", "support=\(5 - i % 3)",
                                                    "quota_confidence=\(i % 4 + 1)"]) == "200")
            }
            #expect(try w.pulse(["send", "engagement", "--period", TestClock.quarter], env: e(w)).status == 0)
            for (i, link) in try links(w).sorted(by: { $0.key < $1.key }) {
                let fields = ["enps=\((i * 5 + 3) % 11)"] + scales.enumerated().map { "\($0.element)=\((i + $0.offset * (i % 3)) % 5 + 1)" }
                #expect(try python("post_form.py", [link] + fields) == "200")
            }
        }
        for args in [["enps", "--survey", "enps", "--by", "team", "--format", "json"], ["enps", "--survey", "enps", "--format", "csv"],
                     ["enps", "--survey", "enps", "--by", "region"], ["trends", "--survey", "weekly-pulse", "--by", "team", "--format", "json"],
                     ["trends", "--survey", "weekly-pulse", "--format", "csv"], ["trends", "--survey", "enps", "--by", "team"],
                     ["rounds", "list", "--format", "csv"], ["drivers", "--survey", "engagement", "--format", "json"],
                     ["drivers", "--format", "csv"], ["drivers", "--survey", "engagement"], ["drivers", "--survey", "enps"]] {
            let a = try onBoth(pg, lite, db: db, args) { $0.replacing(#/\d{4}-\d\d-\d\dT[\d:]+Z/#, with: "time") }
            #expect(a.status == 0 || args.last == "enps", "\(args): \(a.stderr)")
        }
        let report = try #require(try pg.pulse(["enps", "--survey", "enps", "--by", "team", "--format", "json"], env: env(db)).json() as? [String: Any])
        let responses = (report["groups"] as? [[String: Any]] ?? []).compactMap { $0["responses"] as? Int }
        #expect(responses.reduce(0, +) == Self.reps, "every anonymous answer counted once: \(report)")
    }

    /// The KPI imports by the same rules on both engines: the same summaries, warnings and
    /// notes, the same refusals naming file, line and field with nothing written, the same
    /// upserts on a second and a changed file; `kpi show` agrees after. On PostgreSQL, a
    /// killed import leaves nothing, and two at once both land whole.
    @Test func theKPIImportsAreTheSameOnSQLiteAndPostgreSQL() throws {
        guard Self.server != nil else { return }
        let db = try database()
        let pg = try workspace(db: db, config: "")
        defer { pg.remove() }
        let lite = try sqliteTwin(of: pg)
        defer { lite.remove() }
        let day0 = Day(iso: "2026-10-05")!
        var activity = "Owner,Date,calls,emails,meetings,deals_won,deals_lost,revenue_won,pipeline_value\n"
        var changed = activity
        for d in 0..<28 {
            for r in 0..<Self.reps where (r + d) % 5 != 0 {
                let revenue = r % 3 == 0 ? "\"$1,234.50\"" : r % 3 == 1 ? "" : "\(d * 100 + r)"
                let rest = "\(d % 4),\(r % 2 == 0 ? "" : "1"),\(d % 6 == 0 ? 1 : 0),\(d % 9 == 0 ? 1 : 0),\(revenue),\(r * 1000)\n"
                activity += "rep\(r)@example.org,\(day0 + d),\(r + d % 7)," + rest
                changed += "rep\(r)@example.org,\(day0 + d),\(r == 2 && d == 4 ? 99 : r + d % 7)," + rest
            }
        }
        activity += "rep1@example.org,\(day0 + 1),\(1 + 1 % 7),1,1,0,0,,1000\n"   // the same as its earlier row: allowed
        activity += "Stranger@Example.org,\(day0),3,,,,,,\n"
        changed += "Stranger@Example.org,\(day0),3,,,,,,\n"
        changed += "rep0@example.org,\(day0 + 40),4,,,,,,\n"
        let quota = "email,period,quota\n" + (0..<Self.reps).map { "rep\($0)@example.org,2026-Q4,\"€\(10 + $0).000,00\"\n" }.joined()
        let bad = """
            Owner,Date,calls,emails,meetings,deals_won,deals_lost,revenue_won,pipeline_value
            rep0@example.org,2026-10-05,3,1,,,,,
            rep0@example.org,2026-10-05,4,1,,,,,
            nobody@example.org,2026-10-06,1,,,,,,
            rep1@example.org,2026-13-01,1,,,,,,
            rep2@example.org,2026-10-07,-3,x,,,,"1,5",

            """
        let overlap = "email,period,quota\nrep0@example.org,2026-11,5000\nrep1@example.org,2026-Q1,5000\nrep1@example.org,2026-Q1,6000\n"
        // Opportunities and leads, and weekly answers to correlate them with.
        var opps = "id,email,created,closed,status,amount\n"
        for i in 0..<90 {
            let created = day0 - 40 + (i * 7) % 70
            let status = ["Prospecting", "Closed Won", "closed lost", "won"][i % 4]
            opps += "OPP-\(i),rep\(i % Self.reps)@example.org,\(created),\(created + 5 + i % 20),\(status),\(i % 5 == 0 ? "" : "\(1000 + i * 10)")\n"
        }
        var leads = "id,email,created,converted\n"
        for i in 0..<60 {
            let created = day0 - 30 + (i * 5) % 70
            leads += "L-\(i),rep\(i % Self.reps)@example.org,\(created),\(i % 3 == 0 ? "" : (created + i % 10).description)\n"
        }
        var answers = "email,survey,period,energy,workload,support,quota_confidence\n"
        for week in 41...50 {
            for r in 0..<Self.reps { answers += "rep\(r)@example.org,weekly-pulse,2026-W\(week),\(1 + (week + r) % 5),3,\(1 + (week * r) % 5),4\n" }
        }
        for w in [pg, lite] {
            try w.write("opps.csv", opps)
            try w.write("leads.csv", leads)
            try w.write("answers.csv", answers)
            try w.write("activity.csv", activity)
            try w.write("changed.csv", changed)
            try w.write("quota.csv", quota)
            try w.write("bad.csv", bad)
            try w.write("overlap.csv", overlap)
        }
        let map = ["--map", "email=Owner", "--map", "date=Date"]
        let steps: [[String]] = [
            ["kpi", "import", "activity.csv"] + map,
            ["kpi", "import", "activity.csv", "--skip-unknown"] + map,
            ["kpi", "import", "activity.csv", "--skip-unknown"] + map,
            ["kpi", "import", "changed.csv", "--skip-unknown"] + map,
            ["kpi", "import", "bad.csv"] + map,
            ["kpi", "import", "--quota", "quota.csv"],
            ["kpi", "import", "--quota", "quota.csv"],
            ["kpi", "import", "--quota", "overlap.csv"],
            ["kpi", "show", "--from", "2026-W41", "--to", "2026-W50", "--by", "rep", "--format", "json"],
            ["kpi", "show", "--from", "2026-W41", "--to", "2026-W50", "--format", "csv"],
            ["kpi", "import", "--opportunities", "opps.csv"],
            ["kpi", "import", "--opportunities", "opps.csv"],
            ["kpi", "import", "--leads", "leads.csv"],
            ["responses", "import", "answers.csv"],
            ["kpi", "show", "--from", "2026-W41", "--to", "2026-W50", "--by", "rep", "--format", "json"],
            ["kpi", "show", "--from", "2026-W41", "--to", "2026-W50", "--format", "csv"],
            ["correlate", "--survey", "weekly-pulse", "--kpi", "pipeline_velocity", "--from", "2026-W41", "--to", "2026-W50", "--format", "json"],
            ["correlate", "--survey", "weekly-pulse", "--kpi", "lead_conversion", "--lag", "1", "--from", "2026-W41", "--to", "2026-W50",
             "--format", "json"],
        ]
        for (step, args) in steps.enumerated() {
            let a = try onBoth(pg, lite, db: db, args)
            switch step {
            case 0: #expect(a.status == 65 && a.stderr.contains("activity.csv") && a.stderr.contains("stranger@example.org"), "\(a.stderr)")
            case 1: #expect(a.status == 0 && a.stderr.contains("added, 0 updated, 0 unchanged, 1 skipped"), "\(a.stderr)")
            case 2: #expect(a.status == 0 && a.stderr.contains("activity: 0 added, 0 updated,"), "\(a.stderr)")
            case 3: #expect(a.status == 0 && a.stderr.contains("activity: 1 added, 1 updated,"), "\(a.stderr)")
            case 4:
                #expect(a.status == 65 && a.stderr.contains("bad.csv:3") && a.stderr.contains("on line 2") && a.stderr.contains("bad.csv:4")
                        && a.stderr.contains("bad.csv:5") && a.stderr.contains("bad.csv:6"), "\(a.stderr)")
            case 5: #expect(a.status == 0 && a.stderr.contains("quotas: \(Self.reps) added"), "\(a.stderr)")
            case 6: #expect(a.status == 0 && a.stderr.contains("quotas: 0 added, 0 updated, \(Self.reps) unchanged"), "\(a.stderr)")
            case 7: #expect(a.status == 65 && a.stderr.contains("overlaps the quota for 2026-Q4 already stored"), "\(a.stderr)")
            case 10: #expect(a.status == 0 && a.stderr.contains("opportunities: 90 added, 0 updated, 0 unchanged"), "\(a.stderr)")
            case 11: #expect(a.status == 0 && a.stderr.contains("opportunities: 0 added, 0 updated, 90 unchanged"), "\(a.stderr)")
            case 12: #expect(a.status == 0 && a.stderr.contains("leads: 60 added"), "\(a.stderr)")
            case 13: #expect(a.status == 0 && a.stderr.contains("responses: \(10 * Self.reps) added"), "\(a.stderr)")
            case 14: #expect(a.status == 0 && a.stdout.contains("\"pipeline_velocity\":") && a.stdout.contains(#/"lead_conversion": ?[0-9]/#), "\(a.stdout)")
            case 16, 17:
                let n = (try? JSONSerialization.jsonObject(with: Data(a.stdout.utf8)) as? [String: Any])?["n"] as? Int ?? 0
                #expect(a.status == 0 && n >= 10, "\(args): \(a.stdout)\(a.stderr)")
            default: #expect(a.status == 0 && !a.stdout.isEmpty, "\(args): \(a.stderr)")
            }
        }
        let rows = try count(db, "SELECT COUNT(*) FROM activity")
        #expect(rows > 200 && rows == activity.split(separator: "\n").count - 3 + 1, "\(rows) rows: a refused file wrote nothing")
        // Killed mid-import: whole or absent. Two at once: one waits for the other, both land.
        var big = "email,date,calls\n"
        for i in 0..<120_000 { big += "rep\(i % Self.reps)@example.org,\(Day(iso: "1990-01-01")! + i / Self.reps),\(i % 13)\n" }
        try pg.write("big.csv", big)
        var kills = 0
        for delay in [0.3, 0.8] where try killedMidRun(pg, ["kpi", "import", "big.csv"], after: delay, env: env(db)) {
            kills += 1
            #expect(try count(db, "SELECT COUNT(*) FROM activity") == rows, "a killed import left rows behind")
        }
        let both = try atOnce(pg, [["kpi", "import", "big.csv"], ["kpi", "import", "big.csv"]], env: env(db))
        #expect(both.allSatisfy { $0.status == 0 }, "\(both.map(\.stderr))")
        #expect(Set(both.map { $0.stderr.contains("120000 added") }) == [true, false], "\(both.map(\.stderr))")
        #expect(try count(db, "SELECT COUNT(*) FROM activity") == rows + 120_000)
        print("postgres: kpi import killed mid-run \(kills) times with nothing left behind; two at once: \(both.map { $0.stderr.trimmingCharacters(in: .whitespacesAndNewlines) })")
    }

    /// The rollup of activity into rep-weeks after every kind of write to activity, on
    /// both engines: `pulse doctor` sums the days again and finds it equal, `kpi show`
    /// (which reads the rollup) gives what the test sums from its own files, and a rollup
    /// changed behind Pulse's back is found and summed again.
    @Test func theRollupsMatchTheDailyRowsAfterEveryWrite() throws {
        guard Self.server != nil else { return }
        let db = try database()
        let pg = try workspace(db: db, config: "")
        defer { pg.remove() }
        let lite = try sqliteTwin(of: pg)
        defer { lite.remove() }
        // Three weeks from Monday 2026-10-05, weekdays, every rep: calls = rep + day, emails only on Mondays.
        let day0 = Day(iso: "2026-10-05")!
        var rows: [(rep: Int, day: Day, calls: Int, emails: Int?)] = []
        for d in 0..<21 where (day0 + d).weekday <= 5 {
            for r in 0..<Self.reps { rows.append((r, day0 + d, r + d, (day0 + d).weekday == 1 ? 2 : nil)) }
        }
        func write(_ name: String, _ rows: [(rep: Int, day: Day, calls: Int, emails: Int?)]) throws {
            let text = "email,date,calls,emails\n" + rows.map { "rep\($0.rep)@example.org,\($0.day),\($0.calls),\($0.emails.map(String.init) ?? "")\n" }.joined()
            try pg.write(name, text)
            try lite.write(name, text)
        }
        /// What `kpi show --by rep` must say: each rep-week's calls and emails summed from `rows`.
        func expected(_ rows: [(rep: Int, day: Day, calls: Int, emails: Int?)]) -> [String: String] {
            var calls: [String: Int] = [:], emails: [String: Int] = [:]
            for r in rows {
                let key = "rep\(r.rep)@example.org \(Period.week(of: r.day))"
                calls[key, default: 0] += r.calls
                if let e = r.emails { emails[key, default: 0] += e }
            }
            return calls.mapValues { String($0) }.merging(emails.mapValues { "/\($0)" }) { $0 + $1 }
        }
        func check(_ step: String, _ rows: [(rep: Int, day: Day, calls: Int, emails: Int?)]) throws {
            let weeks = Set(rows.map { "\($0.rep) \(Period.week(of: $0.day))" }).count
            for (w, e) in [(pg, env(db)), (lite, [String: String]())] {
                let doctor = try w.pulse(["doctor", "--no-mail"], env: e)
                #expect(doctor.stdout.contains("ok   rollups: \(weeks) rep-weeks of activity, each as its daily rows sum"),
                        "\(step): \(doctor.stdout)")
            }
            let shown = try onBoth(pg, lite, db: db, ["kpi", "show", "--by", "rep", "--from", "2026-W41", "--to", "2026-W50", "--format", "json"])
            var got: [String: String] = [:]
            for row in (try shown.json() as? [String: Any])?["rows"] as? [[String: Any]] ?? [] {
                let key = "\(row["rep"]!) \(row["week"]!)"
                got[key] = "\(row["calls"] as? Int ?? -1)" + ((row["emails"] as? Int).map { "/\($0)" } ?? "")
            }
            #expect(got == expected(rows), "\(step)")
        }
        try write("activity.csv", rows)
        _ = try onBoth(pg, lite, db: db, ["kpi", "import", "activity.csv"])
        try check("import", rows)
        // The next export: one day changed, a new week begun; the rest unchanged.
        var next: [(rep: Int, day: Day, calls: Int, emails: Int?)] = rows.map { $0.rep == 3 && $0.day == day0 + 2 ? ($0.rep, $0.day, 50, $0.emails) : $0 }
        next += (0..<Self.reps).map { ($0, day0 + 28, 1, nil) }
        try write("next.csv", next)
        _ = try onBoth(pg, lite, db: db, ["kpi", "import", "next.csv"])
        try check("re-import", next)
        // One rep's Wednesday and Thursday removed, then everyone's second week.
        _ = try onBoth(pg, lite, db: db, ["kpi", "delete", "--from", "\(day0 + 2)", "--to", "\(day0 + 3)", "--rep", "rep3@example.org", "--yes"])
        next.removeAll { $0.rep == 3 && ($0.day == day0 + 2 || $0.day == day0 + 3) }
        try check("kpi delete of one rep's days", next)
        _ = try onBoth(pg, lite, db: db, ["kpi", "delete", "--from", "\(day0 + 7)", "--to", "\(day0 + 13)", "--yes"])
        next.removeAll { $0.day >= day0 + 7 && $0.day <= day0 + 13 }
        try check("kpi delete of a week", next)
        _ = try onBoth(pg, lite, db: db, ["roster", "erase", "rep5@example.org", "--yes"])
        next.removeAll { $0.rep == 5 }
        try check("roster erase", next)

        // A rollup changed behind Pulse's back is found, named, and summed again.
        _ = try psql(db, "UPDATE activity_week SET calls = calls + 1 WHERE rep_id = (SELECT id FROM rep WHERE email = 'rep4@example.org') AND week_start = '2026-10-05'")
        try sqliteBehindPulse(lite.path("pulse.sqlite"),
                              "UPDATE activity_week SET calls = calls + 1 WHERE rep_id = (SELECT id FROM rep WHERE email = 'rep4@example.org') AND week_start = '2026-10-05'")
        for (w, e) in [(pg, env(db)), (lite, [String: String]())] {
            let found = try w.pulse(["doctor", "--no-mail"], env: e)
            #expect(found.status == 1 && found.stdout.contains("FAIL rollups: 1 rep-week of activity differs")
                    && found.stdout.contains("rep4@example.org 2026-W41: holds ") && found.stdout.contains("--rebuild-rollups"), "\(found.stdout)")
            let fixed = try w.pulse(["doctor", "--no-mail", "--rebuild-rollups"], env: e)
            #expect(fixed.status == 0 && fixed.stdout.contains("ok   rollups summed again: "), "\(fixed.stdout)")
        }
        try check("rebuilt", next)
    }

    /// The rollups of answers (`response_group`, `enps_respondent`, `morale_week`) match the responses
    /// after every kind of write to them, on both engines: identified imports, a
    /// re-import after the roster moved reps, anonymous answers, `rounds delete`,
    /// `roster erase`; eNPS and trends read from them agree with the figures worked out
    /// here from the rows written, over the whole range and over one that cuts reps'
    /// answers in two; a rollup changed behind Pulse's back is found and summed again.
    @Test func theRollupsOfAnswersMatchTheResponsesAfterEveryWrite() throws {
        guard Self.server != nil else { return }
        let db = try database()
        let pg = try workspace(db: db, config: "")
        defer { pg.remove() }
        let lite = try sqliteTwin(of: pg)
        defer { lite.remove() }
        let survey = """
            id: team-enps
            title: Team eNPS
            anonymity: identified
            questions:
              - {id: energy, type: scale, text: Energy, min: 1, max: 5}
              - {id: enps, type: enps, text: Recommend?, optional: true}
            """
        let weeks = ["2026-W41", "2026-W42", "2026-W43", "2026-W44"]
        /// rep → week → (enps, energy, the team the response is stored under); rep r answers
        /// from week r % 2 on, and skips eNPS in week 3 when r is 3.
        var answers: [Int: [String: (enps: Int?, energy: Int, team: String)]] = [:]
        for r in 0..<Self.reps {
            for (i, w) in weeks.enumerated() where i >= r % 2 {
                answers[r, default: [:]][w] = (r == 3 && i == 3 ? nil : (r * 3 + i) % 11, 1 + (r + i) % 5, r % 2 == 0 ? "east" : "west")
            }
        }
        var teams = (0..<Self.reps).map { $0 % 2 == 0 ? "east" : "west" }
        func file(_ rows: [Int: [String: (enps: Int?, energy: Int, team: String)]]) -> String {
            "email,survey,period,energy,enps\n" + rows.keys.sorted().flatMap { r in
                rows[r]!.keys.sorted().map { w in "rep\(r)@example.org,team-enps,\(w),\(rows[r]![w]!.energy),\(rows[r]![w]!.enps.map(String.init) ?? "")\n" }
            }.joined()
        }
        func write(_ name: String, _ text: String) throws { try pg.write(name, text); try lite.write(name, text) }
        try write("Surveys/team-enps.yaml", survey)
        /// eNPS by team over weeks `from`...`to` as the contract defines it, from the rows written.
        func expected(_ from: Int, _ to: Int) -> [String: (responses: Int, respondents: Int, enps: Double)] {
            var out: [String: (responses: Int, respondents: Int, enps: Double)] = [:]
            for team in ["east", "west"] {
                var n = 0, p = 0, d = 0, reps: Set<Int> = []
                for (r, byWeek) in answers {
                    for (w, a) in byWeek { if a.team == team, let e = a.enps, let i = weeks.firstIndex(of: w), i >= from && i <= to {
                        n += 1; reps.insert(r); if e >= 9 { p += 1 }; if e <= 6 { d += 1 }
                    } }
                }
                if n > 0 { out[team] = (n, reps.count, (1000 * Double(p - d) / Double(n)).rounded() / 10) }
            }
            return out
        }
        func check(_ step: String) throws {
            for (w, e) in [(pg, env(db)), (lite, [String: String]())] {
                let doctor = try w.pulse(["doctor", "--no-mail"], env: e)
                #expect(doctor.status == 0 && doctor.stdout.contains(" of answers, ") && !doctor.stdout.contains("FAIL rollups"),
                        "\(step): \(doctor.stdout)")
            }
            for (from, to) in [(0, 3), (1, 2), (2, 3)] {
                let shown = try onBoth(pg, lite, db: db, ["enps", "--survey", "team-enps", "--from", weeks[from], "--to", weeks[to],
                                                          "--by", "team", "--format", "json"])
                var got: [String: (responses: Int, respondents: Int, enps: Double)] = [:]
                for g in (try shown.json() as? [String: Any])?["groups"] as? [[String: Any]] ?? [] {
                    if let n = g["responses"] as? Int, let k = g["respondents"] as? Int, let e = g["enps"] as? Double {
                        got[g["group"] as! String] = (n, k, e)
                    }
                }
                let want = expected(from, to)
                #expect(got.keys.sorted() == want.keys.sorted() && want.allSatisfy { got[$0.key].map { "\($0)" } == "\($0.value)" },
                        "\(step), \(weeks[from])...\(weeks[to]): \(got) against \(want)")
            }
            _ = try onBoth(pg, lite, db: db, ["trends", "--survey", "team-enps", "--from", weeks[0], "--to", weeks[3], "--by", "team",
                                              "--format", "json"])
        }
        try write("answers.csv", file(answers))
        _ = try onBoth(pg, lite, db: db, ["responses", "import", "answers.csv"])
        try check("import")
        // Two reps change teams; their answers are imported again, one of them changed: that
        // one moves to the rep's new team, the others stay where they were given.
        teams[0] = "west"; teams[1] = "east"
        var roster = "email,name,team,manager_email,timezone\n"
        for i in 0..<Self.reps { roster += "rep\(i)@example.org,Rep \(i),\(teams[i]),lead@example.org,UTC\n" }
        try write("roster.csv", roster)
        _ = try onBoth(pg, lite, db: db, ["roster", "import", "roster.csv"])
        answers[0]![weeks[2]]!.enps = 10
        answers[0]![weeks[2]]!.team = "west"
        try write("again.csv", file(answers))
        _ = try onBoth(pg, lite, db: db, ["responses", "import", "again.csv"])
        try check("re-import after a roster change")
        // Anonymous answers to the shipped eNPS survey, beside them.
        let anonymous = "email,survey,period,enps\n" + (0..<Self.reps).map { "rep\($0)@example.org,enps,2026-Q4,\($0 % 11)\n" }.joined()
        try write("anonymous.csv", anonymous)
        _ = try onBoth(pg, lite, db: db, ["responses", "import", "anonymous.csv"])
        try check("anonymous answers")
        _ = try onBoth(pg, lite, db: db, ["enps", "--survey", "enps", "--period", "2026-Q4", "--by", "team", "--format", "json"])
        _ = try onBoth(pg, lite, db: db, ["rounds", "delete", "team-enps", "--period", weeks[1], "--yes"])
        for r in answers.keys { answers[r]![weeks[1]] = nil }
        try check("rounds delete")
        _ = try onBoth(pg, lite, db: db, ["roster", "erase", "rep5@example.org", "--yes"])
        answers[5] = nil
        try check("roster erase")

        // A rollup changed behind Pulse's back is found, named, and summed again.
        let tampering = "UPDATE response_group SET promoters = promoters + 1 WHERE round_id = (SELECT MIN(id) FROM round WHERE survey_id = 'team-enps') AND team = 'east'"
        _ = try psql(db, tampering)
        try sqliteBehindPulse(lite.path("pulse.sqlite"), tampering)
        for (w, e) in [(pg, env(db)), (lite, [String: String]())] {
            let found = try w.pulse(["doctor", "--no-mail"], env: e)
            #expect(found.status == 1 && found.stdout.contains("FAIL rollups: 1 row of the rollups of answers differs from the responses")
                    && found.stdout.contains("response_group: round ") && found.stdout.contains("identified [east, lead@example.org, -]"),
                    "\(found.stdout)")
            let fixed = try w.pulse(["doctor", "--no-mail", "--rebuild-rollups"], env: e)
            #expect(fixed.status == 0 && fixed.stdout.contains("ok   rollups summed again: "), "\(fixed.stdout)")
        }
        try check("rebuilt")
    }

    /// Answers collected elsewhere import by the same rules on both engines: identified
    /// answers upserted (added, unchanged, updated), rounds opened, a bad file refused
    /// whole with every problem by line and field, a too-small anonymous batch refused,
    /// anonymous answers stored once (a second import of them is counted, not stored),
    /// rows by personal token; then the same reports. On PostgreSQL alone: an import
    /// killed mid-run leaves nothing, and two at once wait for each other.
    @Test func theResponsesImportsAreTheSameOnSQLiteAndPostgreSQL() throws {
        guard Self.server != nil else { return }
        let db = try database()
        let config = "mail:\n  transport: file\n  outbox_dir: ./outbox\n"
        let pg = try workspace(db: db, config: config)
        defer { pg.remove() }
        let lite = try sqliteTwin(of: pg, config: config)
        defer { lite.remove() }
        func e(_ w: Workspace) -> [String: String] { w.dir == pg.dir ? env(db) : [:] }
        let (w1, w2, w0) = (TestClock.week(-2), TestClock.week(-1), TestClock.week())
        let head = "Email,survey,period,submitted_at,energy,workload,support,quota_confidence,comment,mood\n"
        func row(_ r: Int, _ week: String, energy: Int? = nil) -> String {
            let comment = r % 4 == 0 ? "busy, \"\"good\"\" week" : ""
            return "rep\(r)@example.org,weekly-pulse,\(week),\(TestClock.day(-14 + r % 3))T09:3\(r % 10):00Z,\(energy ?? 1 + r % 5),\(1 + (r + 1) % 5),"
                + "\(1 + (r + 2) % 5),\(1 + (r * 3) % 5),\"\(comment)\",\(r)\n"
        }
        let weekly = head + (0..<Self.reps).map { row($0, w1) }.joined()
        let changed = head + (0..<Self.reps).map { row($0, w1, energy: $0 == 5 ? 5 : nil) }.joined()
            + (0..<Self.reps / 2).map { row($0, w2) }.joined()
        let bad = head + [
            row(0, w1),
            "nobody@example.org,weekly-pulse,\(w1),,3,3,3,3,,\n",
            "rep1@example.org,weekly-pulse,\(w1),,9,3,3,3,,\n",
            "rep2@example.org,weekly-pulse,\(w1),,,3,3,3,,\n",
            "rep3@example.org,nosuch,\(w1),,3,3,3,3,,\n",
            "rep4@example.org,weekly-pulse,\(TestClock.quarter),,3,3,3,3,,\n",
            "rep0@example.org,weekly-pulse,\(w1),,2,3,3,3,,\n",
            "rep6@example.org,weekly-pulse,\(w1),yesterday,3,3,3,3,,\n",
            "rep7@example.org,weekly-pulse,,,3,3,3,3,,\n",
        ].joined()
        let enpsHead = "email,survey,period,enps,reason,submitted_at\n"
        let few = enpsHead + (0..<3).map { "rep\($0)@example.org,enps,\(TestClock.quarter),\($0 + 6),,\(TestClock.now)\n" }.joined()
        let all = enpsHead + (0..<Self.reps).map { "rep\($0)@example.org,enps,\(TestClock.quarter),\(($0 * 7) % 11),reason \($0),\(TestClock.now)\n" }.joined()
        let extra = "email,survey,period,enps,energy\nrep0@example.org,enps,\(TestClock.quarter),9,4\n"
        for w in [pg, lite] {
            for (name, text) in [("weekly.csv", weekly), ("changed.csv", changed), ("bad.csv", bad), ("few.csv", few), ("all.csv", all),
                                 ("extra.csv", extra)] {
                try w.write(name, text)
            }
        }
        let map = ["--map", "email=Email"]
        let steps: [[String]] = [
            ["responses", "import", "weekly.csv"] + map,
            ["responses", "import", "weekly.csv"] + map,
            ["responses", "import", "changed.csv"] + map,
            ["responses", "import", "bad.csv"] + map,
            ["responses", "import", "few.csv"],
            ["responses", "import", "extra.csv"],
            ["responses", "import", "all.csv"],
            ["responses", "import", "all.csv"],
            ["responses", "export", "--survey", "weekly-pulse", "--format", "json"],
            ["responses", "export", "--survey", "weekly-pulse"],
            ["trends", "--survey", "weekly-pulse", "--by", "team", "--from", w1, "--to", w2, "--format", "json"],
            ["enps", "--survey", "enps", "--period", TestClock.quarter, "--by", "team", "--format", "json"],
            ["enps", "--survey", "enps", "--period", TestClock.quarter, "--format", "json"],
        ]
        for (step, args) in steps.enumerated() {
            let a = try onBoth(pg, lite, db: db, args)
            switch step {
            case 0: #expect(a.status == 0 && a.stderr.contains("responses: \(Self.reps) added, 0 updated, 0 unchanged")
                            && a.stderr.contains("rounds opened for imported answers: weekly-pulse \(w1)")
                            && a.stderr.contains("column \"mood\" is not a question"), "\(a.stderr)")
            case 1: #expect(a.status == 0 && a.stderr.contains("responses: 0 added, 0 updated, \(Self.reps) unchanged"), "\(a.stderr)")
            case 2: #expect(a.status == 0 && a.stderr.contains("responses: \(Self.reps / 2) added, 1 updated, \(Self.reps - 1) unchanged"), "\(a.stderr)")
            case 3:
                for part in ["bad.csv:3: email: nobody@example.org is not in the roster", "bad.csv:4: energy: 9 is out of range",
                             "bad.csv:5: energy: an answer is required", "bad.csv:6: survey: unknown survey \"nosuch\"",
                             "bad.csv:7: period:", "bad.csv:8: rep0@example.org answered weekly-pulse for \(w1) on line 2 too",
                             "bad.csv:9: submitted_at:", "bad.csv:10: period: is empty"] {
                    #expect(a.status == 65 && a.stderr.contains(part), "\(part): \(a.stderr)")
                }
            case 4: #expect(a.status == 65 && a.stderr.contains("3 new anonymous answers to enps \(TestClock.quarter) in this file, fewer than min_group_size (5)"),
                            "\(a.stderr)")
            case 5: #expect(a.status == 65 && a.stderr.contains("extra.csv:2: energy: enps has no question \"energy\""), "\(a.stderr)")
            case 6: #expect(a.status == 0 && a.stderr.contains("responses: \(Self.reps) added") && a.stderr.contains("submitted_at is not kept"), "\(a.stderr)")
            case 7: #expect(a.status == 0 && a.stderr.contains("\(Self.reps) anonymous answers were from reps who had already answered")
                            && a.stderr.contains("responses: 0 added, 0 updated, 0 unchanged"), "\(a.stderr)")
            default: #expect(a.status == 0 && !a.stdout.isEmpty, "\(args): \(a.stderr)")
            }
        }
        // Anonymous answers keep no rep and no time on PostgreSQL too.
        #expect(try count(db, "SELECT COUNT(*) FROM response r JOIN round d ON d.id = r.round_id WHERE d.survey_id = 'enps' "
                          + "AND r.rep_id IS NULL AND r.submitted_at IS NULL") == Self.reps)
        #expect(try count(db, "SELECT COUNT(*) FROM response r JOIN round d ON d.id = r.round_id WHERE d.survey_id = 'enps'") == Self.reps)

        // Rows by personal token: the links of a send, one of them for another period.
        var tokenFiles: [String] = []
        for w in [pg, lite] {
            #expect(try w.pulse(["send", "weekly-pulse", "--period", w0], env: e(w)).status == 0)
            let links = try links(w)
            func token(_ r: Int) -> String { String(links[r]!.split(separator: "/").last!) }
            var text = "token,survey,period,energy,workload,support,quota_confidence\n"
            for r in 0..<5 { text += "\(token(r)),weekly-pulse,\(w0),\(1 + r % 5),2,3,4\n" }
            try w.write("tokens.csv", text)
            try w.write("wrong.csv", text + "\(token(6)),weekly-pulse,\(w1),3,3,3,3\nnot-a-token,weekly-pulse,\(w0),3,3,3,3\n")
            tokenFiles.append(text)
        }
        #expect(tokenFiles[0] != tokenFiles[1], "each engine's links are its own")
        for (step, args) in [["responses", "import", "wrong.csv"], ["responses", "import", "tokens.csv"],
                             ["rounds", "show", "weekly-pulse", "--period", w0, "--format", "json"],
                             ["trends", "--survey", "weekly-pulse", "--from", w1, "--to", w0, "--format", "json"]].enumerated() {
            let a = try onBoth(pg, lite, db: db, args) { $0.replacing(#/"[a-z_]*_at":"[^"]*"/#, with: "time") }
            switch step {
            case 0: #expect(a.status == 65 && a.stderr.contains("wrong.csv:7: token: the token belongs to another survey or period")
                            && a.stderr.contains("wrong.csv:8: token: no invitation has this token"), "\(a.stderr)")
            case 1: #expect(a.status == 0 && a.stderr.contains("responses: 5 added, 0 updated, 0 unchanged"), "\(a.stderr)")
            default: #expect(a.status == 0, "\(args): \(a.stderr)")
            }
        }

        // Killed mid-import: whole or absent. Two at once: one waits for the other.
        let before = try count(db, "SELECT COUNT(*) FROM response")
        var big = "email,survey,period,energy,workload,support,quota_confidence\n"
        for week in 0..<400 {
            let period = Period.week(of: Day(iso: "1995-01-02")! + 7 * week).description
            for r in 0..<Self.reps { big += "rep\(r)@example.org,weekly-pulse,\(period),\(1 + (r + week) % 5),3,3,3\n" }
        }
        try pg.write("big.csv", big)
        var kills = 0
        for delay in [0.5, 1.5] where try killedMidRun(pg, ["responses", "import", "big.csv"], after: delay, env: env(db)) {
            kills += 1
            #expect(try count(db, "SELECT COUNT(*) FROM response") == before, "a killed import left responses behind")
            #expect(try count(db, "SELECT COUNT(*) FROM round WHERE period < '2000'") == 0, "a killed import left rounds behind")
        }
        let both = try atOnce(pg, [["responses", "import", "big.csv"], ["responses", "import", "big.csv"]], env: env(db))
        #expect(both.allSatisfy { $0.status == 0 }, "\(both.map(\.stderr))")
        #expect(Set(both.map { $0.stderr.contains("responses: 4800 added, 0 updated, 0 unchanged") }) == [true, false]
                && both.contains { $0.stderr.contains("responses: 0 added, 0 updated, 4800 unchanged") }, "\(both.map(\.stderr))")
        #expect(try count(db, "SELECT COUNT(*) FROM response") == before + 4800)
        #expect(both.allSatisfy { $0.stderr.contains("rounds opened for imported answers") == $0.stderr.contains("4800 added") })
        #expect(both.contains { $0.stderr.contains("400 rounds opened for imported answers: weekly-pulse 1995-W01, weekly-pulse 1995-W02, "
                                                    + "weekly-pulse 1995-W03 and 397 more, to weekly-pulse 2002-W35") }, "\(both.map(\.stderr))")
        print("postgres: responses import killed mid-run \(kills) times with nothing left behind; two at once: \(both.map { $0.stderr.split(separator: "\n").last ?? "" })")
    }

    /// The demo's workspace (roster, eight weeks of identified and anonymous answers,
    /// activity, quotas, notes, sent rounds) moves whole: every table read back and
    /// compared, and every report that runs on PostgreSQL gives the same output as on the
    /// SQLite file. A second copy into the same database is refused; a token key in the
    /// environment that is not the key file's stops the copy before anything is written.
    @Test func theDemoWorkspaceMovesWholeAndReportsTheSame() throws {
        guard Self.server != nil else { return }
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("demo", "demo", "--date", "2026-11-22").status == 0)
        let lite = ["PULSE_DB": w.path("demo/pulse.sqlite"), "PULSE_CONFIG": w.path("demo/pulse.yaml"), "PULSE_SURVEYS": w.path("demo/Surveys"),
                    "PULSE_TOKEN_KEY": ""]
        #expect(try w.pulse(["notes", "add", "aisha@acme.example", "--text", "Q4 pipeline,\tส่งเอกสาร\nC:\\deals \\N not null\r", "--action", "Send the pricing sheet",
                             "--action", "Book a call with Anna"], env: lite).status == 0)
        let db = try database()
        let wrongKey = try w.pulse(["db", "copy", "--to", db], env: lite.merging(["PULSE_TOKEN_KEY": Self.key]) { $1 })
        #expect(wrongKey.status == 1 && wrongKey.stderr.contains("another key") && wrongKey.stderr.contains("nothing was copied"),
                "\(wrongKey.stderr)")
        #expect(try psql(db, "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'rep'") == "0",
                "refused before the database was even migrated")
        let copy = try w.pulse(["db", "copy", "--to", db], env: lite)
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(copy.stderr.contains("base64 -w0 \(w.path("demo/pulse.sqlite")).key"), "\(copy.stderr)")
        for table in ["rep", "survey_version", "round", "invitation", "response", "answer", "activity", "quota", "note", "action_item"] {
            let n = try python("sqlite_exec.py", [w.path("demo/pulse.sqlite"), "SELECT COUNT(*) FROM \(table)"])
            let rows = (try JSONSerialization.jsonObject(with: Data(n.utf8)) as? [[Int]])?.first?.first ?? -1
            let copied = try count(db, "SELECT COUNT(*) FROM \(table)")
            #expect(rows > 0 && copied == rows, "\(table): \(rows) rows, \(copied) copied")
            #expect(copy.stdout.contains(try Regex("\n\(table) +\(rows) +[0-9a-f]{16}\n")), "\(table) in \(copy.stdout)")
        }
        let key = try Data(contentsOf: URL(fileURLWithPath: w.path("demo/pulse.sqlite.key"))).base64EncodedString()
        let pg = lite.merging(["PULSE_DB": db, "PULSE_TOKEN_KEY": key]) { $1 }
        for args in [["roster", "list", "--all", "--format", "json"], ["rounds", "list", "--format", "json"], ["outbox", "--format", "csv"],
                     ["enps", "--survey", "engagement", "--by", "team", "--format", "json"], ["enps", "--survey", "engagement", "--by", "manager"],
                     ["trends", "--survey", "weekly-pulse", "--by", "team", "--format", "json"], ["trends", "--survey", "weekly-pulse"],
                     ["trends", "--survey", "engagement", "--by", "region", "--format", "csv"], ["drivers", "--format", "json"], ["drivers"],
                     ["kpi", "show", "--from", "2026-W40", "--to", "2026-W47", "--format", "json"],
                     ["kpi", "show", "--from", "2026-W44", "--to", "2026-W47", "--by", "rep", "--format", "csv"],
                     ["kpi", "show", "--from", "2026-W40", "--to", "2026-W47", "--team", "enterprise"],
                     ["correlate", "--survey", "weekly-pulse", "--kpi", "calls", "--format", "json"],
                     ["correlate", "--survey", "weekly-pulse", "--kpi", "quota_attainment", "--lag", "-1", "--by", "team"],
                     ["correlate", "--survey", "weekly-pulse", "--kpi", "win_rate", "--format", "csv"],
                     ["correlate", "--survey", "weekly-pulse", "--kpi", "activity", "--lag", "1", "--format", "json"],
                     ["correlate", "--survey", "weekly-pulse", "--kpi", "revenue_won", "--by", "team", "--format", "json"],
                     ["correlate", "--survey", "engagement", "--kpi", "calls"],
                     ["prep", "niran@acme.example", "--as-of", "2026-11-22"],
                     ["prep", "niran@acme.example", "--as-of", "2026-11-22", "--format", "json"],
                     ["prep", "aisha@acme.example", "--as-of", "2026-11-22", "--format", "html"],
                     ["prep", "nobody@acme.example"],
                     ["report", "--team", "enterprise", "--as-of", "2026-11-22", "--format", "json"],
                     ["report", "--as-of", "2026-11-22", "--format", "md"],
                     ["report", "--team", "enterprise", "--as-of", "2026-11-22", "--survey", "engagement", "--kpi", "calls", "--format", "json"],
                     ["report", "--team", "enterprise", "--as-of", "2026-11-22"],
                     ["notes", "list", "aisha@acme.example", "--format", "json"], ["notes", "list", "aisha@acme.example"],
                     ["actions", "list", "--format", "csv"], ["actions", "list", "aisha@acme.example"],
                     ["survey", "list", "--format", "json"], ["survey", "list"]] {
            let a = try w.pulse(args, env: pg), b = try w.pulse(args, env: lite)
            let refused = args == ["correlate", "--survey", "engagement", "--kpi", "calls"]
            if args == ["prep", "nobody@acme.example"] {
                #expect(a.status == 65 && a.status == b.status && a.stderr == b.stderr, "\(a.stderr) \(b.stderr)")
                continue
            }
            #expect(a.status == (refused ? 64 : 0) && a.status == b.status && a.stdout == b.stdout && a.stderr == b.stderr
                    && (refused || !a.stdout.isEmpty), "\(args):\n\(a.stdout)\(a.stderr)\n\(b.stdout)\(b.stderr)")
        }
        // The same writes on both give the same results: a note with its actions, an
        // action done (twice), and the prep notes of a whole team written to a folder.
        for env in [pg, lite] {
            let dir = w.path(env["PULSE_DB"] == db ? "prep-pg" : "prep-lite")
            let steps = [["notes", "add", "niran@acme.example", "--text", "Late nights", "--action", "Move two demos"],
                         ["actions", "done", "1"], ["actions", "done", "1"], ["actions", "done", "999"],
                         ["prep", "--team", "enterprise", "--as-of", "2026-11-22", "--format", "json", "--out", dir]]
            var outputs: [String] = []
            for args in steps {
                let r = try w.pulse(args, env: env)
                outputs.append("\(r.status) \(r.stdout) \(r.stderr.replacingOccurrences(of: dir, with: "DIR"))")
            }
            #expect(outputs[0].hasPrefix("0 ") && outputs[0].contains("note 2 kept") && outputs[1].contains("action #1 done"),
                    "\(outputs)")
            #expect(outputs[2].contains("already done") && outputs[3].hasPrefix("65 ") && outputs[4].hasPrefix("0 "), "\(outputs)")
            try w.write(env["PULSE_DB"] == db ? "steps-pg" : "steps-lite", outputs.joined(separator: "\n"))
        }
        #expect(try String(contentsOfFile: w.path("steps-pg"), encoding: .utf8) == String(contentsOfFile: w.path("steps-lite"), encoding: .utf8))
        let notes = try FileManager.default.contentsOfDirectory(atPath: w.path("prep-lite")).sorted()
        let notesPG = try FileManager.default.contentsOfDirectory(atPath: w.path("prep-pg")).sorted()
        #expect(notes.count >= 5 && notes == notesPG, "\(notes) \(notesPG)")
        for name in notes {
            let a = try String(contentsOfFile: w.path("prep-pg/\(name)"), encoding: .utf8)
            let b = try String(contentsOfFile: w.path("prep-lite/\(name)"), encoding: .utf8)
            #expect(a == b && a.contains("\"flags\""), "\(name)")
        }
        for args in [["notes", "list", "niran@acme.example", "--format", "json"], ["actions", "list", "--format", "json"],
                     ["prep", "niran@acme.example", "--format", "json"]] {
            let a = try w.pulse(args, env: pg), b = try w.pulse(args, env: lite)
            #expect(a.status == 0 && a.stdout == b.stdout && a.stdout.contains("Move two demos"),
                    "\(args): \(a.stdout)\(a.stderr)\n\(b.stdout)")
        }
        // And back into a new SQLite file, with its key: the same reports, the same links.
        let wrong = try w.pulse(["db", "copy", "--to", w.path("back.sqlite")], env: pg.merging(["PULSE_TOKEN_KEY": Self.key]) { $1 })
        #expect(wrong.status == 1 && wrong.stderr.contains("another key") && wrong.stderr.contains("Nothing was copied"), "\(wrong.stderr)")
        let noKey = try w.pulse(["db", "copy", "--to", w.path("back.sqlite")], env: pg.merging(["PULSE_TOKEN_KEY": ""]) { $1 })
        #expect(noKey.status == 1 && noKey.stderr.contains("none was given"), "\(noKey.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: w.dir.path).filter { $0.hasPrefix("back.sqlite") }.isEmpty,
                "a refused copy leaves no file behind")
        let back = try w.pulse(["db", "copy", "--to", w.path("back.sqlite")], env: pg)
        #expect(back.status == 0 && back.stderr.contains("back.sqlite.key"), "\(back.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: w.dir.path).filter { $0.hasPrefix("back.sqlite") }.sorted()
                == ["back.sqlite", "back.sqlite.key"], "the file alone holds the copy: no log or partial file beside it")
        for table in ["rep", "round", "invitation", "response", "answer", "activity", "note", "action_item"] {
            let n = try count(db, "SELECT COUNT(*) FROM \(table)")
            #expect(back.stdout.contains(try Regex("\n\(table) +\(n) +[0-9a-f]{16}\n")), "\(table) in \(back.stdout)")
        }
        #expect(FileManager.default.contents(atPath: w.path("back.sqlite.key")) == FileManager.default.contents(atPath: w.path("demo/pulse.sqlite.key")))
        #expect(FileModeTests.mode(w.path("back.sqlite.key")) == 0o600 && FileModeTests.mode(w.path("back.sqlite")) == 0o600)
        let returned = lite.merging(["PULSE_DB": w.path("back.sqlite")]) { $1 }
        for args in [["trends", "--survey", "weekly-pulse", "--by", "team", "--format", "json"], ["notes", "list", "niran@acme.example"],
                     ["prep", "niran@acme.example", "--format", "json"], ["rounds", "list", "--format", "csv"], ["outbox", "--format", "csv"]] {
            let a = try w.pulse(args, env: returned), b = try w.pulse(args, env: lite)
            #expect(a.status == 0 && a.stdout == b.stdout && !a.stdout.isEmpty, "\(args): \(a.stdout)\(a.stderr)\n\(b.stdout)")
        }
        let exists = try w.pulse(["db", "copy", "--to", w.path("back.sqlite")], env: pg)
        #expect(exists.status == 64 && exists.stderr.contains("exists"), "\(exists.stderr)")
        let again = try w.pulse(["db", "copy", "--to", db], env: lite)
        #expect(again.status == 64 && again.stderr.contains("already holds Pulse data"), "\(again.stderr)")
        // A link mailed from the SQLite workspace opens from the PostgreSQL one.
        let mail = try readMail(w.path("demo/outbox"))
        let text = try #require(mail.first?["text"] as? String)
        let token = String(try #require(text.firstMatch(of: #/\/s\/([A-Za-z0-9_-]{43})/#)?.1))
        // On the demo's own clock (its --date, noon UTC), whatever the suite's clock: the
        // demo's round is open then.
        let (server, port) = try serve(w, db: db, env: ["PULSE_NOW": "2026-11-22T12:00:00Z"])
        defer { server.stop() }
        let page = try python("fetch_page.py", ["http://127.0.0.1:\(port)/s/\(token)"])
        #expect(page.contains("<form") || page.contains("Already answered"), "\(page.prefix(400))")
        server.stop()
        // Rounds seen rep by rep, answers exported, and the removals, counted then applied:
        // the same on both engines, and the reports after them too.
        let maintenance: [[String]] = [
            ["rounds", "show", "weekly-pulse", "--period", "2026-W45", "--format", "json"], ["rounds", "show", "weekly-pulse", "--period", "2026-W47"],
            ["rounds", "show", "enps", "--period", "2026-Q4", "--format", "csv"], ["rounds", "show", "nosuch", "--period", "2026-W45"],
            ["rounds", "show", "weekly-pulse", "--period", "2025-W01"],
            ["responses", "export", "--survey", "weekly-pulse", "--format", "json"],
            ["responses", "export", "--survey", "weekly-pulse", "--from", "2026-W44", "--to", "2026-W45"],
            ["responses", "export", "--survey", "enps"],
            ["kpi", "delete", "--from", "2026-10-01", "--to", "2026-10-07"], ["kpi", "delete", "--from", "2026-10-01", "--to", "2026-10-07", "--yes"],
            ["kpi", "delete", "--from", "2026-10-01", "--to", "2026-10-31", "--rep", "niran@acme.example", "--yes"],
            ["kpi", "delete", "--from", "2026-10-01", "--to", "2026-10-31", "--rep", "nobody@acme.example"],
            ["rounds", "delete", "weekly-pulse", "--period", "2026-W41"], ["rounds", "delete", "weekly-pulse", "--period", "2026-W41", "--yes"],
            ["roster", "erase", "aisha@acme.example"], ["roster", "erase", "aisha@acme.example", "--yes"],
            ["trends", "--survey", "weekly-pulse", "--by", "team", "--format", "json"], ["rounds", "list", "--format", "csv"],
            ["kpi", "show", "--from", "2026-W40", "--to", "2026-W47", "--by", "rep", "--format", "csv"],
            ["roster", "list", "--all", "--format", "csv"], ["actions", "list"],
        ]
        for args in maintenance {
            let a = try w.pulse(args, env: pg), b = try w.pulse(args, env: lite)
            #expect(a.status == b.status && a.stdout == b.stdout && a.stderr == b.stderr,
                    "\(args):\n\(a.status) \(a.stdout)\(a.stderr)\n\(b.status) \(b.stdout)\(b.stderr)")
            let refused = args.contains("nosuch") || args.contains("2025-W01") || args.contains("nobody@acme.example") || args.last == "enps"
            #expect(refused ? a.status != 0 : a.status == 0, "\(args): \(a.stderr)")
            if args.last == "--yes" { #expect(a.stdout.hasPrefix("removed "), "\(args): \(a.stdout)") }
        }
        #expect(try count(db, "SELECT COUNT(*) FROM rep WHERE email = 'aisha@acme.example'") == 0)
        #expect(try count(db, "SELECT COUNT(*) FROM round WHERE period = '2026-W41'") == 0)
        #expect(try count(db, "SELECT COUNT(*) FROM activity WHERE day BETWEEN '2026-10-01' AND '2026-10-07'") == 0)
    }

    /// What a person gets wrong about a PostgreSQL database is said plainly, with the
    /// contract's exit codes, and nothing is half-written.
    @Test func badDatabaseSettingsSayWhatToFix() throws {
        guard let server = Self.server else { return }
        let db = try database()
        let w = try workspace(db: db, config: "")
        defer { w.remove() }
        let withPassword = server.replacing(#/postgres@/#, with: "postgres:hunter2@")
        let r1 = try w.pulse(["roster", "list"], env: env(withPassword))
        #expect(r1.status == 64 && r1.stderr.contains("PGPASSWORD") && !r1.stderr.contains("hunter2"), "\(r1.stderr)")
        let port = try python("free_port.py", []).trimmingCharacters(in: .whitespacesAndNewlines)
        let r2 = try w.pulse(["roster", "list"], env: env("postgresql://postgres@127.0.0.1:\(port)/pulse"))
        #expect(r2.status == 1 && r2.stderr.contains("cannot reach PostgreSQL at 127.0.0.1:\(port)"), "\(r2.stderr)")
        let r3 = try w.pulse(["roster", "list"], env: env(server.replacing(#/\/[^\/]+$/#, with: "/nosuchdb")))
        #expect(r3.status == 1 && r3.stderr.contains("nosuchdb") && r3.stderr.contains("does not exist"), "\(r3.stderr)")
        let backup = try w.pulse(["backup", w.path("b.dump")], env: env(db))
        #expect(backup.status == 64 && backup.stderr.contains("pg_dump --format=custom --file \(w.path("b.dump"))")
                && backup.stderr.contains("token key") && !FileManager.default.fileExists(atPath: w.path("b.dump")), "\(backup.stderr)")
        // doctor says whether the database answers, and what it holds.
        let good = try w.pulse(["doctor", "--no-mail"], env: env(db))
        #expect(good.status == 0 && good.stdout.contains("reachable, schema v7-response-rollups") && good.stdout.contains("12 rep")
                && good.stdout.contains("token key from the environment"), "\(good.stdout)\(good.stderr)")
        let away = try w.pulse(["doctor", "--no-mail"], env: env("postgresql://postgres@127.0.0.1:\(port)/pulse"))
        #expect(away.status == 1 && away.stdout.contains("FAIL database: cannot reach PostgreSQL at 127.0.0.1:\(port)"), "\(away.stdout)")
        let r5 = try w.pulse(["send", "enps", "--period", TestClock.quarter], env: env(db, ["PULSE_TOKEN_KEY": ""]))
        #expect(r5.status == 1 && r5.stderr.contains("PULSE_TOKEN_KEY"), "\(r5.stderr)")
        let r6 = try w.pulse(["send", "enps", "--period", TestClock.quarter], env: env(db, ["PULSE_TOKEN_KEY": "c2hvcnQ="]))
        #expect(r6.status == 1 && r6.stderr.contains("does not hold a token key"), "\(r6.stderr)")
        #expect(try count(db, "SELECT COUNT(*) FROM round") == 0, "nothing was opened")
        try w.write("pg.yaml", "database:\n  password_env: PULSE_TEST_NO_SUCH_VARIABLE\n")
        let r8 = try w.pulse(["roster", "list"], env: env(db, ["PULSE_CONFIG": w.path("pg.yaml")]))
        #expect(r8.status == 1 && r8.stderr.contains("PULSE_TEST_NO_SUCH_VARIABLE"), "\(r8.stderr)")
        // A user that must give a password (the cluster asks pulse_password for one): none,
        // a wrong one, then the right one, which the output never repeats.
        let guarded = server.replacing(#/postgres@/#, with: "pulse_password@").replacing(#/\/[^\/]+$/#, with: "/pulse_password")
        let none = try w.pulse(["init"], env: env(guarded, ["PGPASSWORD": ""]))
        #expect(none.status == 1 && none.stderr.contains("asks for a password and none was given") && none.stderr.contains("PGPASSWORD"),
                "\(none.stderr)")
        let wrong = try w.pulse(["init"], env: env(guarded, ["PGPASSWORD": "not-the-password"]))
        #expect(wrong.status == 1 && wrong.stderr.contains("refused the user pulse_password") && wrong.stderr.contains("PGPASSWORD")
                && !wrong.stderr.contains("not-the-password"), "\(wrong.stderr)")
        try w.write("pw.yaml", "database:\n  password_env: PULSE_TEST_DB_PASSWORD\n")
        let right = try w.pulse(["init"], env: env(guarded, ["PULSE_CONFIG": w.path("pw.yaml"), "PULSE_TEST_DB_PASSWORD": "pulse-test-password"]))
        #expect(right.status == 0 && right.stderr.contains("schema v7-response-rollups") && !(right.stdout + right.stderr).contains("pulse-test-password"),
                "\(right.stderr)")
        #expect(try psql(guarded.replacing(#/pulse_password@/#, with: "postgres@"), "SELECT COUNT(*) FROM pulse_migration") == "7",
                "nothing was written before the right password; all seven migrations after")
        // A schema from a newer Pulse is refused before anything is read or written.
        _ = try psql(db, "INSERT INTO pulse_migration (id, applied_at) VALUES ('v99-future', 'now')")
        let r9 = try w.pulse(["roster", "list"], env: env(db))
        #expect(r9.status == 1 && r9.stderr.contains("newer version of Pulse"), "\(r9.stderr)")
    }
}
