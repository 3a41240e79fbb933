import Foundation
import PulseCore
import Testing

/// Backups taken while another pulse process writes, and the documented restore.
@Suite(.serialized, .timeLimit(.minutes(5))) struct SafetyTests {
    @Test func aBackupDuringAnImportIsWholeAndARestoreGivesTheSameDatabase() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("demo", w.path("demo"), "--date", "2026-11-22").status == 0)
        let env = ["PULSE_DB": w.path("demo/pulse.sqlite"), "PULSE_SURVEYS": w.path("demo/Surveys"),
                   "PULSE_CONFIG": w.path("demo/pulse.yaml")]
        let before = try #require(try python("sqlite_exec.py", [w.path("demo/pulse.sqlite"), "SELECT COUNT(*) FROM activity"])
            .data(using: .utf8).flatMap { try JSONSerialization.jsonObject(with: $0) as? [[Int]] }?.first?.first)

        // A large import in another process while backups are taken.
        var csv = "email,date,calls\n"
        let emails = ["niran@acme.example", "aisha@acme.example", "james@acme.example"]
        for d in 0..<60_000 {
            csv += "\(emails[d % 3]),\(Day2.iso(20_000 + d / 3)),\(d % 40)\n"
        }
        try w.write("big.csv", csv)
        let importer = Process()
        importer.executableURL = try Binary.pulse()
        importer.arguments = ["kpi", "import", w.path("big.csv")]
        importer.environment = w.environment.merging(env) { $1 }
        importer.standardError = FileHandle.nullDevice
        try importer.run()
        var taken = 0
        while importer.isRunning || taken == 0 {
            let b = try w.pulse(["backup", w.path("during-\(taken).sqlite")], env: env)
            #expect(b.status == 0, "\(b.stderr)")
            taken += 1
        }
        importer.waitUntilExit()
        #expect(importer.terminationStatus == 0)
        let after = try python("sqlite_exec.py", [w.path("demo/pulse.sqlite"), "SELECT COUNT(*) FROM activity"])
        #expect(after != "[[\(before)]]")
        for i in 0..<taken {
            let out = try python("sqlite_exec.py", [w.path("during-\(i).sqlite"), "PRAGMA integrity_check", ])
            #expect(out == #"[["ok"]]"#)
            let n = try python("sqlite_exec.py", [w.path("during-\(i).sqlite"), "SELECT COUNT(*) FROM activity"])
            #expect(n == "[[\(before)]]" || n == after, "an import is all or nothing in a backup too: \(n)")
        }

        // The documented restore: copy the file and its key back, drop the WAL files.
        let final = try w.pulse(["backup", w.path("final.sqlite")], env: env)
        #expect(final.status == 0 && final.stderr.contains("integrity ok") && final.stderr.contains("final.sqlite.key"), "\(final.stderr)")
        #expect(try w.pulse(["backup", w.path("final.sqlite")], env: env).status == 64, "an existing file needs --force")
        let mode = try FileManager.default.attributesOfItem(atPath: w.path("final.sqlite.key"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try FileManager.default.createDirectory(atPath: w.path("restored"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: w.path("final.sqlite"), toPath: w.path("restored/pulse.sqlite"))
        try FileManager.default.copyItem(atPath: w.path("final.sqlite.key"), toPath: w.path("restored/pulse.sqlite.key"))
        let original = try python("sqlite_exec.py", [w.path("demo/pulse.sqlite"), ".dump"])
        let restored = try python("sqlite_exec.py", [w.path("restored/pulse.sqlite"), ".dump"])
        #expect(original == restored, "the restored database holds exactly what the original does")
        #expect(try Data(contentsOf: URL(fileURLWithPath: w.path("restored/pulse.sqlite.key")))
            == Data(contentsOf: URL(fileURLWithPath: w.path("demo/pulse.sqlite.key"))))
        let restoredEnv = env.merging(["PULSE_DB": w.path("restored/pulse.sqlite")]) { $1 }
        let a = try w.pulse(["enps", "--survey", "enps", "--by", "team", "--format", "json"], env: env)
        let b = try w.pulse(["enps", "--survey", "enps", "--by", "team", "--format", "json"], env: restoredEnv)
        #expect(a.status == 0 && a.stdout == b.stdout)
        #expect(try w.pulse(["doctor", "--no-mail"], env: restoredEnv).status == 0)
        #expect(try w.pulse(["backup", w.path("demo/pulse.sqlite")], env: env).status == 64, "not onto the database itself")
    }
}

/// ISO dates from day numbers, for generated files.
enum Day2 {
    static func iso(_ ordinal: Int) -> String { Day(ordinal: ordinal).description }
}

/// What a person at a terminal gets: colour unless NO_COLOR, progress on long imports,
/// --quiet, completions, help topics; and nothing of it in a pipe.
@Suite struct HabitTests {
    func tty(_ w: Workspace, _ args: [String], env extra: [String: String] = [:]) throws -> (status: Int, output: String) {
        var environment = w.environment.merging(extra) { $1 }
        environment.removeValue(forKey: "NO_COLOR")
        if let v = extra["NO_COLOR"] { environment["NO_COLOR"] = v }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Fixtures.url("tty_run.py").path, try Binary.pulse().path] + args
        p.environment = environment
        p.currentDirectoryURL = w.dir
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return (json["status"] as? Int ?? -1, json["output"] as? String ?? "")
    }

    @Test func colourProgressQuietCompletionsAndHelp() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        try w.write("roster.csv", "email,name,team\nana@acme.example,Ana,west\n")
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)

        let coloured = try tty(w, ["roster", "list"])
        #expect(coloured.status == 0 && coloured.output.contains("\u{1B}["), "a terminal gets colour: \(coloured.output)")
        let plain = try tty(w, ["roster", "list"], env: ["NO_COLOR": "1"])
        #expect(plain.status == 0 && !plain.output.contains("\u{1B}[") && plain.output.contains("ana@acme.example"))
        let piped = try w.pulse("roster", "list")
        #expect(!piped.stdout.contains("\u{1B}[") && !piped.stderr.contains("\u{1B}["), "a pipe gets no colour")

        var csv = "email,date,calls\n"
        for d in 0..<120_000 { csv += "ana@acme.example,\(Day2.iso(d)),\(d % 30)\n" }
        try w.write("big.csv", csv)
        let progress = try tty(w, ["kpi", "import", "big.csv"])
        #expect(progress.status == 0 && progress.output.contains("read 100000 rows of big.csv"), "\(progress.output.suffix(300))")
        #expect(progress.output.contains("activity: 0 added, 0 updated, 0 unchanged") == false)
        let quiet = try tty(w, ["kpi", "import", "big.csv", "--quiet"])
        #expect(quiet.status == 0 && !quiet.output.contains("read 100000") && !quiet.output.contains("unchanged"), "\(quiet.output.suffix(300))")
        #expect(quiet.output.contains("warning:"), "warnings still show (dates in the future)")
        let piping = try w.pulse("kpi", "import", "big.csv")
        #expect(!piping.stderr.contains("read 100000") && piping.stderr.contains("120000 unchanged"), "\(piping.stderr)")

        let bash = try w.pulse("--generate-completion-script", "bash")
        #expect(bash.status == 0 && bash.stdout.contains("_pulse") && bash.stdout.contains("prep") && bash.stdout.contains("--as-of"))
        let zsh = try w.pulse("--generate-completion-script", "zsh")
        #expect(zsh.status == 0 && zsh.stdout.contains("#compdef pulse"))

        let figures = try w.pulse("help", "figures")
        #expect(figures.status == 0 && figures.stdout.contains("100 × (promoters − detractors) / responses"))
        let surveys = try w.pulse("help", "surveys")
        #expect(surveys.stdout.contains("anonymity: identified") && surveys.stdout.contains("close_after_days"))
        #expect(try w.pulse("help", "kpi", "import").stdout.contains("--skip-unknown"))
        #expect(try w.pulse("help").stdout.contains("TOPICS"))
        #expect(try w.pulse("help", "nonsense").status == 64)
    }
}

/// Hostile text in a roster and in answers: it reaches every export and page as data,
/// never as a formula, markup or a path.
@Suite struct HostileInputTests {
    @Test func namesAndCommentsStayDataInEveryOutput() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        let team = "=HYPERLINK(\"http://evil.example\",\"x\")"
        var roster = "email,name,team,manager_email\n"
        for i in 0..<6 {
            roster += "r\(i)@acme.example,\"<script>alert(\(i))</script>\",\"\(team.replacingOccurrences(of: "\"", with: "\"\""))\",m@acme.example\n"
        }
        roster += "x@acme.example,@SUM(A1),../../etc,m@acme.example\n"
        try w.write("roster.csv", roster)
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        var answers = "email,survey,period,energy,workload,support,quota_confidence,comment\n"
        for week in 44...47 {
            for i in 0..<6 { answers += "r\(i)@acme.example,weekly-pulse,2026-W\(week),\(1 + (i + week) % 5),3,4,2,\"<img src=x onerror=alert(1)> +cmd|' /C calc'!A0\"\n" }
        }
        try w.write("answers.csv", answers)
        #expect(try w.pulse("responses", "import", "answers.csv").status == 0)
        #expect(try w.pulse(["notes", "add", "r0@acme.example", "--text=-2+3", "--action", "=1+1"]).status == 0)

        // CSV exports: a cell that a spreadsheet would run starts with a quote.
        for args in [["trends", "--survey", "weekly-pulse", "--by", "team", "--format", "csv"],
                     ["notes", "list", "r0@acme.example", "--format", "csv"], ["actions", "list", "--format", "csv"],
                     ["roster", "list", "--format", "csv"]] {
            let r = try w.pulse(args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            for line in r.stdout.split(separator: "\r\n") {
                for cell in line.split(separator: ",", omittingEmptySubsequences: false) {
                    let c = cell.hasPrefix("\"") ? cell.dropFirst() : cell
                    #expect(!["=", "+", "-", "@"].contains(c.first.map(String.init) ?? ""), "\(args): \(cell) in \(line)")
                }
            }
        }

        // HTML: the prep note and the team report show the names and the comment as text.
        let folder = w.path("out")
        #expect(try w.pulse(["prep", "r0@acme.example", "--as-of", "2026-11-23", "--format", "html", "--out", folder]).status == 0)
        #expect(try w.pulse(["report", "--team", team, "--from", "2026-W44", "--to", "2026-W47", "--out", folder]).status == 0)
        let weird = try w.pulse(["report", "--team", "../../etc", "--from", "2026-W44", "--to", "2026-W47", "--out", folder])
        #expect(weird.status == 0, "\(weird.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(files.count == 3, "every file inside --out: \(files)")
        #expect(files.allSatisfy { !$0.contains("/") && !$0.hasPrefix(".") }, "\(files)")
        #expect(!FileManager.default.fileExists(atPath: w.dir.deletingLastPathComponent().appendingPathComponent("etc").path + "-2026-W44-2026-W47.html"))
        for file in files {
            let html = try String(contentsOfFile: (folder as NSString).appendingPathComponent(file), encoding: .utf8)
            #expect(!html.contains("<script") && !html.contains("<img"), "\(file)")
            if !file.contains("etc") { #expect(html.contains("&lt;script&gt;"), "\(file) shows the text") }
        }
        let md = try w.pulse(["prep", "r0@acme.example", "--as-of", "2026-11-23"])
        let unescaped = zip(md.stdout, md.stdout.dropFirst()).contains { $0 != "\\" && $1 == "<" } || md.stdout.first == "<"
        #expect(!unescaped && md.stdout.contains("\\<img"), "Markdown escapes markup: \(md.stdout)")
        let file = try w.pulse(["prep", "r0@acme.example", "--out", w.path("roster.csv")])
        #expect(file.status == 64, "--out must be a folder: \(file.stderr)")
    }
}

/// Control characters from reps' names, teams, comments and notes: every text output
/// shows them escaped (`\u{1B}`), JSON carries the real value, CSV the real value with
/// its formula neutralisation.
@Suite struct TerminalControlTests {
    /// What a terminal would act on: C0 controls but the line break and the tab, DEL and C1.
    static func rawControls(_ s: String) -> [String] {
        s.unicodeScalars.filter { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t" }
            .map { "U+" + String($0.value, radix: 16, uppercase: true) }
    }

    @Test func controlCharactersAreShownEscapedInEveryTextOutput() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        // Set the window title (OSC … BEL), clear the screen, conceal; backspaces over a
        // name; the one-byte CSI of C1 (U+009B).
        let team = "west\u{1B}]0;pwned\u{07}"
        let name = "Ana\u{08}\u{08}\u{08}Eve \u{9B}31m"
        let comment = "fine\u{1B}[2J\u{1B}[8m\nsecond line\u{7F}"
        var roster = "email,name,team,manager_email\n"
        for i in 0..<6 { roster += "r\(i)@acme.example,\"\(name) \(i)\",\"\(team)\",m@acme.example\n" }
        try w.write("roster.csv", roster)
        let imported = try w.pulse("roster", "import", "roster.csv")
        #expect(imported.status == 0, "\(imported.stderr)")
        var answers = "email,survey,period,energy,workload,support,quota_confidence,comment\n"
        for week in 44...47 {
            for i in 0..<6 { answers += "r\(i)@acme.example,weekly-pulse,2026-W\(week),\(1 + (i + week) % 5),3,4,2,\"\(comment)\"\n" }
        }
        try w.write("answers.csv", answers)
        #expect(try w.pulse("responses", "import", "answers.csv").status == 0)
        // Pinned with the answers' weeks (the prep note below is as of 2026-11-23), not to the test clock.
        #expect(try w.pulse(["notes", "add", "r0@acme.example", "--text", "said \u{1B}[31mred\u{1B}[0m", "--action", "ring\u{07}"],
                            env: ["PULSE_NOW": "2026-11-20T10:00:00Z"]).status == 0)
        // A survey whose title carries an escape, for the mail listings and the outbox.
        let yaml = DefaultSurveys.weeklyPulse.replacingOccurrences(of: "id: weekly-pulse", with: "id: odd")
            .replacingOccurrences(of: "  en: Weekly pulse", with: "  en: \"Odd \\e[5m pulse\"")
        try w.write("Surveys/odd.yaml", yaml)
        let config = try String(contentsOfFile: w.path("pulse.yaml"), encoding: .utf8)
        try w.write("pulse.yaml", config + "mail:\n  outbox_dir: \"./out\\e[2Jbox\"\n")

        let texts: [[String]] = [
            ["roster", "list"],
            ["trends", "--survey", "weekly-pulse", "--by", "team", "--from", "2026-W44", "--to", "2026-W47"],
            ["prep", "r0@acme.example", "--as-of", "2026-11-23"],
            ["report", "--team", team, "--from", "2026-W44", "--to", "2026-W47", "--format", "md"],
            ["notes", "list", "r0@acme.example"],
            ["actions", "list"],
            ["send", "odd", "--period", TestClock.week(), "--dry-run"],
            ["send", "odd", "--period", TestClock.week()],
            ["remind", "odd", "--period", TestClock.week(), "--dry-run"],
            ["outbox"],
            ["rounds", "list"],
        ]
        var outputs: [String: Run] = [:]
        for args in texts {
            let r = try w.pulse(args)
            outputs[args.joined(separator: " ")] = r
            #expect(r.status == 0, "\(args): \(r.stderr)")
            #expect(Self.rawControls(r.stdout).isEmpty, "\(args) stdout: \(Self.rawControls(r.stdout)) in \(r.stdout)")
            #expect(Self.rawControls(r.stderr).isEmpty, "\(args) stderr: \(Self.rawControls(r.stderr)) in \(r.stderr)")
        }
        // The escaped form is there to read.
        let list = try w.pulse("roster", "list")
        #expect(list.stdout.contains(#"Ana\u{8}\u{8}\u{8}Eve \u{9B}31m 0"#) && list.stdout.contains(#"west\u{1B}]0;pwned\u{7}"#), "\(list.stdout)")
        let prep = try w.pulse("prep", "r0@acme.example", "--as-of", "2026-11-23")
        #expect(prep.stdout.contains(#"fine\u{1B}\[2J\u{1B}\[8m"#) && prep.stdout.contains("second line\\u{7F}"), "\(prep.stdout)")
        #expect(prep.stdout.contains(#"ring\u{7}"#), "\(prep.stdout)")
        let notes = try w.pulse("notes", "list", "r0@acme.example")
        #expect(notes.stdout.contains(#"said \u{1B}[31mred\u{1B}[0m"#), "\(notes.stdout)")
        let dry = outputs["send odd --period \(TestClock.week()) --dry-run"]?.stdout ?? ""
        #expect(dry.contains(#"Odd \u{1B}[5m pulse"#), "\(dry)")
        let outbox = outputs["outbox"]?.stdout ?? ""
        // The folder is read from pulse.yaml's own folder (a long path: the table cuts it).
        #expect(outbox.contains(w.path("out") + #"\u{1B}[2J"#), "\(outbox)")

        // Error messages that quote the input.
        try w.write("bad.csv", "email,survey,period,energy\nr0@acme.example,weekly-pulse,2026-W47,\"9\u{1B}[2J\"\n")
        let bad = try w.pulse("responses", "import", "bad.csv")
        #expect(bad.status == 65 && Self.rawControls(bad.stderr).isEmpty && bad.stderr.contains(#"\u{1B}[2J"#), "\(bad.stderr)")
        let unknown = try w.pulse("prep", "nobody\u{1B}[2J@acme.example")
        #expect(unknown.status == 65 && Self.rawControls(unknown.stderr).isEmpty, "\(unknown.stderr)")

        // JSON: valid, with the real value; CSV: the real value.
        let json = try #require(try w.pulse("roster", "list", "--format", "json").json() as? [[String: Any]])
        #expect(json.first?["name"] as? String == "\(name) 0" && json.first?["team"] as? String == team)
        let prepJSON = try #require(try w.pulse("prep", "r0@acme.example", "--as-of", "2026-11-23", "--format", "json").json() as? [String: Any])
        let comments = try #require(prepJSON["comments"] as? [[String: Any]])
        #expect(comments.first?["text"] as? String == comment)
        let rawJSON = try w.pulse("roster", "list", "--format", "json").stdout
        #expect(Self.rawControls(rawJSON).isEmpty, "JSON escapes C1 and DEL as \\u too: \(Self.rawControls(rawJSON))")
        let csv = try w.pulse("roster", "list", "--format", "csv").stdout
        #expect(csv.contains("\(name) 0"), "CSV is data: the real value")

        // On a terminal, Pulse's own colours stay and nothing else gets through, CSV included.
        let habits = HabitTests()
        for args in [["roster", "list"], ["roster", "list", "--format", "csv"], ["prep", "r0@acme.example", "--as-of", "2026-11-23"]] {
            let shown = try habits.tty(w, args)
            #expect(shown.status == 0)
            // The terminal itself writes CR before each LF (CSV's CRLF arrives as CR CR LF).
            var rest = shown.output.replacingOccurrences(of: "\r\r\n", with: "\n").replacingOccurrences(of: "\r\n", with: "\n")
            for code in ["0", "1", "2", "31", "32", "33"] { rest = rest.replacingOccurrences(of: "\u{1B}[\(code)m", with: "") }
            #expect(Self.rawControls(rest).isEmpty, "\(args) on a terminal: \(Self.rawControls(rest)) in \(shown.output)")
            #expect(shown.output.contains(#"\u{1B}]0;pwned\u{7}"#) || shown.output.contains(#"\u{1B}\]0;pwned\u{7}"#), "\(args): \(shown.output)")
        }
        #expect(try habits.tty(w, ["roster", "list"]).output.contains("\u{1B}[1m"), "colour on a terminal")
    }
}

/// The files that hold answers and personal links are the owner's only, whatever the
/// umask; `pulse doctor` says which are not and the chmod that fixes them.
@Suite(.serialized, .timeLimit(.minutes(5))) struct FileModeTests {
    static func mode(_ path: String) -> Int? {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int).map { $0 & 0o777 }
    }

    @Test func theDatabaseItsWALBackupsAndMailFilesAreCreatedOwnerOnly() throws {
        // The usual umask, which leaves new files readable by everyone (pulse inherits it).
        let previous = umask(0o022)
        defer { umask(previous) }
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        #expect(Self.mode(w.path("pulse.sqlite")) == 0o600)
        try w.write("roster.csv", "email,name,team\nana@acme.example,Ana,west\nbo@acme.example,Bo,west\n")
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        let sent = try w.pulse("send", "weekly-pulse", "--period", TestClock.week())
        #expect(sent.status == 0, "\(sent.stderr)")
        let mails = try FileManager.default.contentsOfDirectory(atPath: w.path("outbox")).filter { $0.hasSuffix(".eml") }
        #expect(mails.count == 2)
        for m in mails { #expect(Self.mode(w.path("outbox/\(m)")) == 0o600, "\(m)") }
        #expect(try w.pulse("backup", w.path("copy.sqlite")).status == 0)
        #expect(Self.mode(w.path("copy.sqlite")) == 0o600)
        #expect(Self.mode(w.path("copy.sqlite.key")) == 0o600)

        // While serve holds the database, its -wal and -shm exist, owner-only too.
        let server = try Server(w)
        defer { server.stop() }
        var waited = 0
        while !FileManager.default.fileExists(atPath: w.path("pulse.sqlite-shm")) && waited < 50 {
            Thread.sleep(forTimeInterval: 0.1)
            waited += 1
        }
        #expect(Self.mode(w.path("pulse.sqlite-wal")) == 0o600)
        #expect(Self.mode(w.path("pulse.sqlite-shm")) == 0o600)
        let clean = try w.pulse("doctor", "--no-mail")
        #expect(clean.status == 0 && !clean.stdout.contains("chmod"), "\(clean.stdout)")

        // Files made by an older Pulse or copied with cp: doctor warns, with the chmod to run.
        for file in ["pulse.sqlite", "pulse.sqlite-wal", "pulse.sqlite-shm", "outbox/\(mails[0])"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: w.path(file))
        }
        let loose = try w.pulse("doctor", "--no-mail")
        #expect(loose.status == 0, "warnings, not failures: \(loose.stdout)")
        let lines = loose.stdout.split(separator: "\n").filter { $0.hasPrefix("warn") }
        for file in ["pulse.sqlite", "pulse.sqlite-wal", "pulse.sqlite-shm"] {
            #expect(lines.contains { $0.contains("chmod 600 \(w.path(file))") && $0.contains("644") }, "\(file): \(loose.stdout)")
        }
        #expect(lines.contains { $0.contains("1 of 2") && $0.contains("chmod 600 \(w.path("outbox"))/*.eml") }, "\(loose.stdout)")
    }
}
