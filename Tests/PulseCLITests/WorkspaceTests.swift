import Foundation
import Testing

/// Where the database is (or is not), and survey folders with a broken file in them.
@Suite(.timeLimit(.minutes(5))) struct WorkspaceTests {
    /// A typo in `--db` or `PULSE_DB` creates nothing: only `init` and `demo` make a database.
    @Test(arguments: [
        ["roster", "list"], ["roster", "import", "roster.csv"], ["enps", "--survey", "enps", "--period", "2026-Q4"],
        ["kpi", "show", "--from", "2026-W45", "--to", "2026-W46"], ["send", "weekly-pulse"], ["tick"], ["remind", "weekly-pulse"], ["rounds", "list"],
        ["outbox"], ["serve", "--port", "0"], ["backup", "copy.sqlite"], ["prep", "a@example.org"],
        ["notes", "add", "a@example.org", "--text", "hi"], ["responses", "import", "roster.csv"],
    ])
    func aMissingDatabaseIsNotCreated(_ args: [String]) throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        try w.write("roster.csv", "email\na@example.org\n")
        for db in [w.path("typo.sqlite"), w.path("elsewhere/pulse.sqlite")] {
            let r = try w.pulse(args, env: ["PULSE_DB": db])
            #expect(r.status != 0, "\(args)")
            #expect(r.stderr.contains("error: no database at \(db): run pulse init, or set --db or PULSE_DB"), "\(args): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: db), "\(args) created \(db)")
            #expect(!FileManager.default.fileExists(atPath: db + ".key"), "\(args) created a key file beside \(db)")
        }
        // An empty file (left by an init that failed half-way) is not a database either.
        FileManager.default.createFile(atPath: w.path("empty.sqlite"), contents: nil)
        let empty = try w.pulse(args, env: ["PULSE_DB": w.path("empty.sqlite")])
        #expect(empty.status != 0 && empty.stderr.contains("no database at \(w.path("empty.sqlite"))"), "\(args): \(empty.stderr)")
        #expect((try FileManager.default.attributesOfItem(atPath: w.path("empty.sqlite"))[.size] as? Int) == 0)
    }

    /// Runs `pulse` as an unprivileged user when the tests run as root (root writes anywhere).
    func asOther(_ w: Workspace, _ args: [String]) throws -> Run {
        guard geteuid() == 0 else { return try w.pulse(args) }
        return try w.pulse(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", try Binary.pulse().path] + args,
                           executable: URL(fileURLWithPath: "/usr/bin/setpriv"))
    }

    /// A database on a read-only folder (a mounted backup, a colleague's copy): the reports
    /// read it; a change says in plain words why it cannot be made, never `SQLite error 14`.
    @Test func aReadOnlyFolderIsReadAndAWriteSaysWhy() throws {
        let w = try Workspace()
        defer {
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: w.path("ro"))
            w.remove()
        }
        #expect(try w.pulse("init").status == 0)
        try w.copyFixture("roster.csv")
        try w.copyFixture("responses.csv")
        try w.copyFixture("Surveys/check.yaml", as: "Surveys/check.yaml")
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        #expect(try w.pulse("responses", "import", "responses.csv").status == 0)
        let expected = try w.pulse("enps", "--survey", "check", "--period", "2026-W47", "--by", "team", "--format", "json")
        #expect(expected.status == 0, "\(expected.stderr)")
        // A clean copy (no -wal, no -shm) into a folder nobody may write.
        try FileManager.default.createDirectory(atPath: w.path("ro"), withIntermediateDirectories: true)
        _ = try python("sqlite_exec.py", [w.path("pulse.sqlite"), "VACUUM INTO '\(w.path("ro/pulse.sqlite"))'"])
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: w.path("ro/pulse.sqlite"))
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: w.path("ro"))
        for dir in [w.dir.path, w.path("Surveys")] {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: w.path("Surveys/check.yaml"))
        for file in ["roster.csv", "pulse.yaml"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: w.path(file))
        }
        let db = ["--db", w.path("ro/pulse.sqlite")]
        let read = try asOther(w, ["enps", "--survey", "check", "--period", "2026-W47", "--by", "team", "--format", "json"] + db)
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.stdout == expected.stdout)
        let list = try asOther(w, ["roster", "list"] + db)
        #expect(list.status == 0 && list.stdout.contains("north0@example.org"), "\(list.stderr)")
        let write = try asOther(w, ["roster", "deactivate", "north0@example.org"] + db)
        #expect(write.status == 1, "\(write.stderr)")
        #expect(write.stderr.contains("error: the database \(w.path("ro/pulse.sqlite")) is read-only here"), "\(write.stderr)")
        #expect(!write.stderr.contains("SQLite error") && !write.stderr.contains("PRAGMA"), "\(write.stderr)")
        try w.write("new.csv", "email,name\nnew@example.org,New Rep\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: w.path("new.csv"))
        let imported = try asOther(w, ["roster", "import", "new.csv"] + db)
        #expect(imported.status == 1 && imported.stderr.contains("is read-only here"), "\(imported.stderr)")
        #expect(!imported.stderr.contains("SQLite error"), "\(imported.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: w.path("ro"))
        #expect(files == ["pulse.sqlite"], "nothing was written beside it: \(files)")
    }

    static let broken = """
        id: broken
        title: Broken
        anonymity: secret
        questions:
          - id: mood
            type: slider
            text: How are you?
            min: low
            max: 5
          - id: reason
            type: text
            text: Why?
            optional: maybe
        schedule:
          every: daily
          close_after_days: soon

        """

    /// `survey validate` names every problem of a file in one run, wrong types included.
    @Test func validateListsEveryProblemAtOnce() throws {
        let w = try Workspace()
        defer { w.remove() }
        try w.write("Surveys/broken.yaml", Self.broken)
        let r = try w.pulse("survey", "validate", w.path("Surveys/broken.yaml"))
        #expect(r.status == 65)
        let file = w.path("Surveys/broken.yaml")
        for expected in [
            "\(file):3: anonymity: \"secret\" is not one of: identified, anonymous",
            "\(file):6: questions[0].type: \"slider\" is not one of: scale, enps, text, choice",
            "\(file):8: questions[0].min: \"low\" is not a whole number",
            "\(file):13: questions[1].optional: \"maybe\" is not true or false",
            "\(file):15: schedule.every: \"daily\" is not one of: week, 2weeks, month, quarter",
            "\(file):16: schedule.close_after_days: \"soon\" is not a whole number",
        ] {
            #expect(r.stderr.contains("error: " + expected), "\(expected) in \(r.stderr)")
        }
    }

    /// One broken file beside good ones: send, remind and tick do the good ones' work,
    /// name the broken file and its first problem, and exit 65 (cron mails it).
    @Test func oneBrokenSurveyStopsNothingElse() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        try w.write("pulse.yaml", "timezone: UTC\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\n")
        try w.write("roster.csv", "email,name,team\na@example.org,A,t\nb@example.org,B,t\n")
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        try w.write("Surveys/broken.yaml", Self.broken)
        let file = w.path("Surveys/broken.yaml")
        let firstProblem = "\(file):3: anonymity: \"secret\" is not one of: identified, anonymous (and 5 more; pulse survey validate \(file) lists them); this survey was skipped"

        let send = try w.pulse(["send", "weekly-pulse", "--period", TestClock.week()], env: ["PULSE_NOW": TestClock.at(0, "10:00")])
        #expect(send.status == 65, "\(send.stderr)")
        #expect(send.stdout.contains("2 invitations queued") && send.stderr.contains("error: " + firstProblem), "\(send.stderr)")
        #expect(try readMail(w.path("outbox")).count == 2, "the good survey went out")

        let remind = try w.pulse(["remind", "weekly-pulse", "--period", TestClock.week()], env: ["PULSE_NOW": TestClock.at(2, "11:00")])
        #expect(remind.status == 65 && remind.stdout.contains("2 reminders queued") && remind.stderr.contains(firstProblem), "\(remind.stderr)")

        // Tick: the quarter's eNPS is due (its first Monday has passed) and goes out.
        let tick = try w.pulse(["tick"], env: ["PULSE_NOW": TestClock.at(3, "12:00")])
        #expect(tick.status == 65, "\(tick.stderr)")
        #expect(tick.stdout.contains("enps \(TestClock.quarter): 2 invitations queued") && tick.stderr.contains(firstProblem), "\(tick.stderr)")
        #expect(try readMail(w.path("outbox")).count == 6)

        // Asked for by name, the broken survey is its file's problems.
        let named = try w.pulse("send", "broken")
        #expect(named.status == 65 && named.stderr.contains("\(file):3: anonymity"), "\(named.stderr)")
        let unknown = try w.pulse("send", "nosuch")
        #expect(unknown.status == 65 && unknown.stderr.contains("nosuch: no such survey"), "\(unknown.stderr)")
    }

    /// `pulse backup backups/today.sqlite` makes the folder, owner-only.
    @Test func aBackupMakesItsFolder() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        let r = try w.pulse("backup", "backups/2026/today.sqlite")
        #expect(r.status == 0 && r.stderr.contains("made the folder backups/2026"), "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: w.path("backups/2026/today.sqlite")))
        let mode = try FileManager.default.attributesOfItem(atPath: w.path("backups/2026"))[.posixPermissions] as? Int
        #expect(mode == 0o700, "\(String(mode ?? 0, radix: 8))")
    }

    /// What `pulse serve` says on stderr in its first seconds.
    func serveStderr(_ w: Workspace, seconds: Double = 1.5) throws -> String {
        let p = Process()
        p.executableURL = try Binary.pulse()
        p.arguments = ["serve", "--port", "0"]
        p.environment = w.environment
        p.currentDirectoryURL = w.dir
        let err = w.dir.appendingPathComponent("serve-err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardError = try FileHandle(forWritingTo: err)
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, !((try? String(contentsOf: err, encoding: .utf8)) ?? "").contains("answering on") {
            Thread.sleep(forTimeInterval: 0.1)
        }
        Thread.sleep(forTimeInterval: seconds)
        p.terminate()
        p.waitUntilExit()
        return (try? String(contentsOf: err, encoding: .utf8)) ?? ""
    }

    /// The links in the mail go to `base_url`: serve says so when it answers elsewhere.
    @Test func serveWarnsWhenTheLinksPointElsewhere() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        try w.write("pulse.yaml", "base_url: http://127.0.0.1:9\n")
        let wrong = try serveStderr(w)
        #expect(wrong.contains("answering on") && wrong.contains("warning: base_url is http://127.0.0.1:9, but this server answers on http://127.0.0.1:"),
                "\(wrong)")
        try w.write("pulse.yaml", "base_url: https://pulse.example.com\n")
        let proxied = try serveStderr(w)
        #expect(proxied.contains("answering on") && !proxied.contains("warning"), "a TLS proxy in front: \(proxied)")
    }

    /// Paths in pulse.yaml are read from its folder: `PULSE_CONFIG=conf/pulse.yaml` with
    /// `outbox_dir: ./outbox` writes to conf/outbox, wherever the command runs.
    @Test func pathsInTheConfigurationAreRelativeToIt() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        try FileManager.default.createDirectory(atPath: w.path("conf"), withIntermediateDirectories: true)
        try w.write("conf/pulse.yaml", "timezone: UTC\nmail:\n  transport: file\n  outbox_dir: ./outbox\n")
        try w.write("roster.csv", "email,name\nann@example.org,Ann\n")
        let env = ["PULSE_CONFIG": w.path("conf/pulse.yaml")]
        #expect(try w.pulse(["roster", "import", "roster.csv"], env: env).status == 0)
        let sent = try w.pulse(["send", "weekly-pulse"], env: env)
        #expect(sent.status == 0 && sent.stdout.contains("outbox: 1 sent via file outbox \(w.path("conf/outbox"))"), "\(sent.stdout)\(sent.stderr)")
        #expect(try readMail(w.path("conf/outbox")).count == 1)
        #expect(!FileManager.default.fileExists(atPath: w.path("outbox")), "nothing in the current folder's outbox")
    }

    /// A workspace set up by hand (a pulse.yaml, no database yet, as scripts written before
    /// `init` do): its first import makes `pulse.sqlite` beside the configuration; a report
    /// does not, and neither does an import given any other path.
    @Test func theFirstImportOfAWorkspaceMakesItsDatabase() throws {
        let w = try Workspace()
        defer { w.remove() }
        try w.write("pulse.yaml", "timezone: UTC\n")
        try w.write("roster.csv", "email,name\nann@example.org,Ann\n")
        let report = try w.pulse("rounds", "list")
        #expect(report.status == 1 && report.stderr.contains("no database at"), "\(report.stderr)")
        #expect(!FileManager.default.fileExists(atPath: w.path("pulse.sqlite")))
        let typo = try w.pulse(["roster", "import", "roster.csv"], env: ["PULSE_DB": w.path("pulse.sqlte")])
        #expect(typo.status == 1 && !FileManager.default.fileExists(atPath: w.path("pulse.sqlte")), "\(typo.stderr)")
        let first = try w.pulse("roster", "import", "roster.csv")
        #expect(first.status == 0 && FileManager.default.fileExists(atPath: w.path("pulse.sqlite")), "\(first.stderr)")
        #expect(try w.pulse("roster", "list").stdout.contains("ann@example.org"))
    }

    /// A locale whose language the mail, the pages or a survey are not written in is
    /// imported, with a warning per language naming its first line and how many reps.
    @Test func anUnknownRosterLocaleGetsAWarning() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        try w.write("roster.csv", """
            email,name,team,locale
            ann@example.org,Ann,west,th-TH
            bo@example.org,Bo,west,de
            cy@example.org,Cy,west,de_AT
            di@example.org,Di,west,ru
            ed@example.org,Ed,west,
            fa@example.org,Fa,west,MS

            """)
        let r = try w.pulse("roster", "import", "roster.csv")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("warning: roster.csv:3: locale \"de\" (2 reps): the mail and answer pages are not written in de "
            + "(they are in en, ms, ru, th), and the surveys enps, weekly-pulse have no de texts; they read English where a text is missing"),
            "\(r.stderr)")
        #expect(r.stderr.components(separatedBy: "warning:").count == 2, "one warning, for de only: \(r.stderr)")
        // A survey without a language the pages have: named alone.
        try w.write("Surveys/check.yaml", "id: check\ntitle: {en: Check, th: เช็ค}\nanonymity: identified\nquestions:\n  - {id: q, type: text, text: {en: Q, th: ถาม}}\n")
        let again = try w.pulse("roster", "import", "roster.csv")
        #expect(again.stderr.contains("warning: roster.csv:5: locale \"ru\" (1 rep): the survey check has no ru texts"), "\(again.stderr)")
        #expect(try w.pulse("roster", "list", "--format", "json").stdout.contains("cy@example.org"))
    }
}
