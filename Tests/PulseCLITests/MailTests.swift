import Foundation
import Testing

/// A real SMTP server on loopback (aiosmtpd with STARTTLS and AUTH), run for one test.
final class SMTPServer {
    let child: ChildServer
    let dir: String
    let port: Int

    init(dir: String, port: Int = 0, args: [String] = []) throws {
        self.dir = dir
        child = try ChildServer({ p in
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3", Fixtures.url("smtp_server.py").path, dir, "--port", String(port)] + args
        }, readyOnStderr: false)
        // "READY <port>" once the server listens.
        self.port = try child.port(#/^READY (\d+)$/#)
    }

    func stop() { child.stop() }

    /// The messages received, parsed by Python's email package.
    func received() throws -> [[String: Any]] { try readMail(dir) }
}

@Suite(.serialized, .timeLimit(.minutes(5))) struct MailTests {
    static let roster = """
        email,name,team,manager_email,locale,timezone
        somchai@example.org,สมชาย ใจดี,east,lead@example.org,th,Asia/Bangkok
        anna@example.org,Анна Петрова,east,lead@example.org,ru,Europe/Moscow
        aisha@example.org,Aisha Rahman,west,lead@example.org,ms,Asia/Kuala_Lumpur
        tom@example.org,"O'Brien, Tom",west,lead@example.org,en,Europe/London
        mia@example.org,Mia,west,lead@example.org,pt-BR,

        """

    /// A workspace with the shipped surveys, the roster above and SMTP settings.
    func workspace(port: Int, certDir: String, password: String = "s3cret", extra: String = "") throws -> Workspace {
        let w = try Workspace()
        #expect(try w.pulse("init").status == 0)
        try w.write("pulse.yaml", """
            organization: Acme Sales
            base_url: https://pulse.example.org
            mail:
              transport: smtp
              from: "Pulse at Acme <pulse@acme.example>"
              smtp:
                url: smtp://127.0.0.1:\(port)
                tls: required
                user: pulse
                password_env: TEST_SMTP_PASSWORD
                ca_file: \(certDir)/cert.pem
                timeout_seconds: 10
                max_connections: 2
                retry_base_seconds: 0.2
            \(extra)
            """)
        try w.write("roster.csv", Self.roster)
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        return w
    }

    func send(_ w: Workspace, _ args: String..., password: String = "s3cret") throws -> Run {
        try w.pulse(["send", "enps", "--period", TestClock.quarter] + args, env: ["TEST_SMTP_PASSWORD": password])
    }

    func outbox(_ w: Workspace) throws -> [String: Any] {
        try #require(try w.pulse("outbox", "--format", "json", "--limit", "100").json() as? [String: Any])
    }

    @Test func aRoundArrivesAsProperMIMEOverSTARTTLSWithAuth() throws {
        let w0 = try Workspace()
        defer { w0.remove() }
        let server = try SMTPServer(dir: w0.path("mail"))
        defer { server.stop() }
        let w = try workspace(port: server.port, certDir: w0.path("mail"))
        defer { w.remove() }
        let r = try send(w)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("5 invitations queued") && r.stdout.contains("5 sent"), "\(r.stderr)")
        let mail = try server.received()
        #expect(mail.count == 5)
        let byTo = Dictionary(uniqueKeysWithValues: mail.map { ($0["to"] as! String, $0) })
        let thai = try #require(byTo["somchai@example.org"])
        #expect(thai["to_name"] as? String == "สมชาย ใจดี")
        #expect((thai["subject"] as? String)?.contains("ใช้เวลาหนึ่งนาที") == true, "\(thai["subject"]!)")
        #expect(byTo["anna@example.org"]?["to_name"] as? String == "Анна Петрова")
        #expect(byTo["tom@example.org"]?["to_name"] as? String == "O'Brien, Tom")
        #expect((byTo["tom@example.org"]?["text"] as? String)?.hasPrefix("Hi Tom,") == true)
        // pt-BR has no strings of its own: English.
        #expect((byTo["mia@example.org"]?["text"] as? String)?.contains("Hi Mia,") == true)
        for m in mail {
            #expect(m["type"] as? String == "multipart/alternative")
            #expect(m["parts"] as? [String] == ["text/plain", "text/html"])
            #expect(m["mime_version"] as? String == "1.0")
            #expect((m["defects"] as? [String])?.isEmpty == true, "\(m["defects"]!)")
            #expect((m["max_line"] as? Int ?? 999) <= 78, "line of \(m["max_line"]!)")
            #expect(m["bare_lf"] as? Bool == false)
            #expect((m["from"] as? String) == "Pulse at Acme <pulse@acme.example>")
            let html = try #require(m["html"] as? String), text = try #require(m["text"] as? String)
            // Eleven one-click links, 0 to 10, to the rep's personal page; the page itself in both parts.
            let links = (0...10).filter { html.contains("/enps/\($0)\"") }
            #expect(links.count == 11, "\(links)")
            let link = try #require(text.split(whereSeparator: \.isNewline).first { $0.hasPrefix("https://pulse.example.org/s/") && !$0.contains("/enps/") })
            #expect(link.count > "https://pulse.example.org/s/".count + 40, "at least 128 bits of token")
            #expect(html.contains(String(link)))
        }
        // Anonymous survey: the mail says so.
        #expect((byTo["tom@example.org"]?["text"] as? String)?.contains("only for groups of at least 5 people, never one by one") == true)
        // The outbox says sent with the server's reply, and keeps no body (the link) after.
        let o = try outbox(w)
        #expect((o["counts"] as? [String: Int])?["sent"] == 5)
        let replies = (o["messages"] as! [[String: Any]]).compactMap { $0["server_reply"] as? String }
        #expect(replies.allSatisfy { $0.hasPrefix("250") }, "\(replies)")
        // Again: nobody is invited twice.
        let again = try send(w)
        #expect(again.stdout.contains("0 invitations queued, 5 reps already invited"), "\(again.stderr)")
        #expect(try server.received().count == 5)
    }

    @Test func aTransientFailureIsRetriedAndAPermanentOneRecorded() throws {
        let w0 = try Workspace()
        defer { w0.remove() }
        let server = try SMTPServer(dir: w0.path("mail"), args: ["--fail-first", "2", "--reject", "anna@example.org"])
        defer { server.stop() }
        let w = try workspace(port: server.port, certDir: w0.path("mail"))
        defer { w.remove() }
        let r = try send(w)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("4 sent") && r.stdout.contains("1 failed"), "\(r.stderr)")
        let mail = try server.received()
        #expect(Set(mail.map { $0["to"] as! String }) == ["somchai@example.org", "aisha@example.org", "tom@example.org", "mia@example.org"])
        let messages = try outbox(w)["messages"] as! [[String: Any]]
        let failed = try #require(messages.first { $0["status"] as? String == "failed" })
        #expect(failed["to"] as? String == "anna@example.org")
        #expect((failed["last_error"] as? String)?.contains("550") == true, "\(failed)")
        #expect(messages.contains { ($0["attempts"] as? Int ?? 0) >= 2 && $0["status"] as? String == "sent" })
    }

    @Test func aServerThatIsDownLosesNothing() throws {
        let w0 = try Workspace()
        defer { w0.remove() }
        // Reserve a port, then start nothing on it.
        let probe = try SMTPServer(dir: w0.path("mail"))
        let port = probe.port
        probe.stop()
        let w = try workspace(port: port, certDir: w0.path("mail"), extra: "    max_attempts: 2\n")
        defer { w.remove() }
        let down = try send(w, "--max-wait", "1")
        #expect(down.status == 1, "\(down.stderr)")
        #expect(down.stderr.contains("stay queued"), "\(down.stderr)")
        #expect((try outbox(w)["counts"] as? [String: Int])?["queued"] == 5)
        // The server comes back: the next run sends every message, once.
        let server = try SMTPServer(dir: w0.path("mail"), port: port)
        defer { server.stop() }
        let flush = try w.pulse(["outbox", "--flush"], env: ["TEST_SMTP_PASSWORD": "s3cret"])
        #expect(flush.status == 0, "\(flush.stderr)")
        #expect(try server.received().count == 5)
        #expect((try outbox(w)["counts"] as? [String: Int])?["sent"] == 5)
    }

    @Test func aWrongPasswordStopsWithAClearError() throws {
        let w0 = try Workspace()
        defer { w0.remove() }
        let server = try SMTPServer(dir: w0.path("mail"))
        defer { server.stop() }
        let w = try workspace(port: server.port, certDir: w0.path("mail"))
        defer { w.remove() }
        let r = try send(w, password: "wrong")
        #expect(r.status == 1)
        #expect(r.stderr.contains("refused the user name or password"), "\(r.stderr)")
        #expect(!r.stderr.contains("wrong"), "the password is never printed")
        #expect(try server.received().isEmpty)
        #expect((try outbox(w)["counts"] as? [String: Int])?["queued"] == 5)
        let missing = try w.pulse(["send", "enps", "--period", TestClock.quarter])
        #expect(missing.status == 1 && missing.stderr.contains("TEST_SMTP_PASSWORD"), "\(missing.stderr)")
    }

    /// `pulse doctor` logs in to the real server without sending, and says what is wrong.
    @Test func doctorChecksTheMailServerAndTheFiles() throws {
        let w0 = try Workspace()
        defer { w0.remove() }
        let server = try SMTPServer(dir: w0.path("mail"))
        defer { server.stop() }
        let w = try workspace(port: server.port, certDir: w0.path("mail"))
        defer { w.remove() }
        let good = try w.pulse(["doctor"], env: ["TEST_SMTP_PASSWORD": "s3cret"])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        #expect(good.stdout.contains("ok   database") && good.stdout.contains("integrity ok"), "\(good.stdout)")
        #expect(good.stdout.contains("ok   mail server smtp://127.0.0.1:\(server.port) accepts us"), "\(good.stdout)")
        #expect(good.stdout.contains("ok   surveys: enps, weekly-pulse"))
        let wrong = try w.pulse(["doctor"], env: ["TEST_SMTP_PASSWORD": "wrong"])
        #expect(wrong.status == 1 && wrong.stdout.contains("FAIL mail server: the server refused the user name or password"), "\(wrong.stdout)")
        #expect(!wrong.stdout.contains("wrong\n") && !wrong.stdout.contains("s3cret"), "no password is printed")
        #expect(try server.received().isEmpty, "doctor sends nothing")
        server.stop()
        let down = try w.pulse(["doctor"], env: ["TEST_SMTP_PASSWORD": "s3cret"])
        #expect(down.status == 1 && down.stdout.contains("FAIL mail server: cannot reach"), "\(down.stdout)")

        // A password written into a file others can read; a damaged database.
        let config = try String(contentsOfFile: w.path("pulse.yaml"), encoding: .utf8)
        try w.write("pulse.yaml", config.replacingOccurrences(of: "    user: pulse\n", with: "    user: pulse\n    password: hunter2\n"))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: w.path("pulse.yaml"))
        let leaky = try w.pulse(["doctor", "--no-mail"])
        #expect(leaky.stdout.contains("warn") && leaky.stdout.contains("holds a password") && leaky.stdout.contains("chmod 600"), "\(leaky.stdout)")
        #expect(!leaky.stdout.contains("hunter2"))
        let send = try w.pulse(["send", "enps", "--period", TestClock.quarter, "--dry-run"])
        #expect(send.stderr.contains("holds a password"), "every command that reads the file warns: \(send.stderr)")
        // Everything into the main file first, then garbage over the pages after the first.
        _ = try python("sqlite_exec.py", [w.path("pulse.sqlite"), "PRAGMA wal_checkpoint(TRUNCATE)"])
        let size = try FileManager.default.attributesOfItem(atPath: w.path("pulse.sqlite"))[.size] as? Int ?? 0
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: w.path("pulse.sqlite")))
        try handle.seek(toOffset: 4096)
        handle.write(Data(repeating: 0x5A, count: max(0, size - 4096)))
        try handle.close()
        let damaged = try w.pulse(["doctor", "--no-mail"])
        #expect(damaged.status == 1 && damaged.stdout.contains("FAIL database"), "\(damaged.stdout)\(damaged.stderr)")
    }

    @Test func aKilledSendIsResumedWithoutLoss() throws {
        let w0 = try Workspace()
        defer { w0.remove() }
        let server = try SMTPServer(dir: w0.path("mail"))
        defer { server.stop() }
        let w = try workspace(port: server.port, certDir: w0.path("mail"), extra: "    rate_per_minute: 120\n")
        defer { w.remove() }
        // Half a second per message: kill the run in the middle of the round.
        let p = Process()
        p.executableURL = try Binary.pulse()
        p.arguments = ["send", "enps", "--period", TestClock.quarter]
        p.environment = w.environment.merging(["TEST_SMTP_PASSWORD": "s3cret"]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        Thread.sleep(forTimeInterval: 1.2)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let before = try server.received().count
        #expect(before < 5, "the kill came after the round was sent; \(before) arrived")
        let resumed = try w.pulse(["outbox", "--flush"], env: ["TEST_SMTP_PASSWORD": "s3cret"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let mail = try server.received()
        let recipients = mail.map { $0["to"] as! String }
        #expect(Set(recipients).count == 5, "every rep got their invitation")
        // A second copy only inside the window, with the same Message-ID.
        let duplicates = recipients.count - Set(recipients).count
        #expect(duplicates <= 1, "\(duplicates) duplicates")
        let ids = Dictionary(grouping: mail, by: { $0["to"] as! String }).values.filter { $0.count > 1 }
        for copies in ids { #expect(Set(copies.map { $0["message_id"] as! String }).count == 1) }
    }

    /// A password in `mail.smtp.url` is refused, pointing at `password_env`; a user name in
    /// it is never printed, nor kept in the outbox's errors.
    @Test func aPasswordInTheSMTPURLIsRefusedAndNoUserInfoIsPrintedOrStored() throws {
        let w0 = try Workspace()
        defer { w0.remove() }
        // Reserve a port, then start nothing on it.
        let probe = try SMTPServer(dir: w0.path("mail"))
        let port = probe.port
        probe.stop()
        let w = try workspace(port: port, certDir: w0.path("mail"), extra: "    max_attempts: 2\n")
        defer { w.remove() }
        let config = try String(contentsOfFile: w.path("pulse.yaml"), encoding: .utf8)
        try w.write("pulse.yaml", config.replacingOccurrences(of: "url: smtp://127.0.0.1:", with: "url: smtp://mailbot-7f3a:hunter2@127.0.0.1:"))
        for args in [["send", "enps", "--period", TestClock.quarter], ["doctor"], ["tick"]] {
            let r = try w.pulse(args, env: ["TEST_SMTP_PASSWORD": "s3cret"])
            let output = r.stdout + r.stderr
            #expect(r.status != 0 && output.contains("password_env") && output.contains("mail.smtp.url"), "\(args): \(output)")
            #expect(!output.contains("hunter2") && !output.contains("mailbot-7f3a"), "\(args): \(output)")
        }
        #expect(try w.pulse(["send", "enps", "--period", TestClock.quarter], env: ["TEST_SMTP_PASSWORD": "s3cret"]).status == 65)

        // A user name alone is allowed, and never shown: not in what send, doctor and
        // outbox print, not in the database.
        try w.write("pulse.yaml", config.replacingOccurrences(of: "url: smtp://127.0.0.1:", with: "url: smtp://mailbot-7f3a@127.0.0.1:"))
        var seen: [String] = []
        for args in [["send", "enps", "--period", TestClock.quarter, "--max-wait", "1"], ["doctor"], ["outbox"],
                     ["outbox", "--format", "json"], ["outbox", "--format", "csv"], ["outbox", "--flush"]] {
            let r = try w.pulse(args, env: ["TEST_SMTP_PASSWORD": "s3cret"])
            seen.append(r.stdout + r.stderr)
            #expect(!(r.stdout + r.stderr).contains("mailbot-7f3a"), "\(args): \(r.stdout)\(r.stderr)")
        }
        #expect(seen[0].contains("127.0.0.1:\(port)"), "the server is still named: \(seen[0])")
        let errors = try #require(try outbox(w)["messages"] as? [[String: Any]]).compactMap { $0["last_error"] as? String }
        #expect(errors.count == 5 && errors.allSatisfy { !$0.isEmpty }, "\(errors)")
        let stored = try python("sqlite_exec.py", [w.path("pulse.sqlite"), "SELECT last_error, server_reply FROM outbox"])
        #expect(stored.contains("127.0.0.1") && !stored.contains("mailbot-7f3a"), "\(stored)")
        for file in ["pulse.sqlite", "pulse.sqlite-wal"] {
            let bytes = FileManager.default.contents(atPath: w.path(file)) ?? Data()
            #expect(bytes.range(of: Data("mailbot-7f3a".utf8)) == nil, "\(file) holds the URL's user")
        }
        // An error an older Pulse stored with the URL in it is shown without its user info.
        _ = try python("sqlite_exec.py", [w.path("pulse.sqlite"),
            "UPDATE outbox SET last_error = 'Failed sending to smtp://old-bot:hunter2@mail.example:25 (gave up)'"])
        for args in [["outbox"], ["outbox", "--format", "json"], ["outbox", "--format", "csv"]] {
            let r = try w.pulse(args)
            #expect(r.stdout.contains("mail.example") && !r.stdout.contains("old-bot") && !r.stdout.contains("hunter2"), "\(args): \(r.stdout)")
        }
    }
}
