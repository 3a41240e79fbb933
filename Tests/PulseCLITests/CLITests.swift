import Foundation
import Testing

/// End-to-end: the built `pulse` binary on fixture files, read back through its JSON.
@Suite struct CLITests {
    /// A workspace with the fixture survey, roster and responses imported.
    static func loaded() throws -> Workspace {
        let w = try Workspace()
        #expect(try w.pulse("init").status == 0)
        try w.copyFixture("Surveys/check.yaml", as: "Surveys/check.yaml")
        try w.copyFixture("roster.csv")
        try w.copyFixture("responses.csv")
        let roster = try w.pulse("roster", "import", "roster.csv")
        #expect(roster.status == 0, "\(roster.stderr)")
        let responses = try w.pulse("responses", "import", "responses.csv")
        #expect(responses.status == 0, "\(responses.stderr)")
        return w
    }

    static func expected(_ key: String) throws -> [[String: Any]] {
        let all = try JSONSerialization.jsonObject(with: Data(try Fixtures.text("expected.json").utf8)) as! [String: Any]
        return all[key] as! [[String: Any]]
    }

    /// Compares a group object of Pulse's output with the independently computed one:
    /// every key the reference has must match; suppressed groups must have null figures.
    func compare(_ actual: [String: Any], _ reference: [String: Any], context: String) {
        for (key, value) in reference {
            switch value {
            case let n as NSNumber where !(value is Bool):
                #expect((actual[key] as? NSNumber)?.doubleValue == n.doubleValue, "\(context) \(key): \(actual[key] ?? "missing") vs \(n)")
            case let b as Bool:
                #expect(actual[key] as? Bool == b, "\(context) \(key)")
            case let a as [Any]:
                let got = (actual[key] as? [NSNumber])?.map(\.doubleValue)
                #expect(got == a.map { ($0 as! NSNumber).doubleValue }, "\(context) \(key): \(String(describing: got)) vs \(a)")
            case let s as String:
                #expect(actual[key] as? String == s, "\(context) \(key)")
            case is NSNull:
                #expect(actual[key] is NSNull, "\(context) \(key) should be null")
            default:
                Issue.record("unexpected reference value for \(key)")
            }
        }
        if reference["suppressed"] as? Bool == true {
            for key in ["responses", "respondents", "promoters", "passives", "detractors", "enps", "ci95", "morale"] where actual[key] != nil {
                #expect(actual[key] is NSNull, "\(context): a suppressed group shows \(key)")
            }
        }
    }

    @Test func enpsMatchesAnIndependentComputation() throws {
        let w = try Self.loaded()
        defer { w.remove() }
        for (args, key) in [
            (["--period", "2026-W47", "--by", "team"], "enps_w47_team"),
            (["--from", "2026-W44", "--to", "2026-W47", "--by", "all"], "enps_all_range"),
            (["--from", "2026-W44", "--to", "2026-W47", "--by", "region"], "enps_range_region"),
        ] {
            let r = try w.pulse(["enps", "--survey", "check", "--format", "json"] + args)
            #expect(r.status == 0, "\(r.stderr)")
            let json = try #require(try r.json() as? [String: Any])
            #expect(json["survey"] as? String == "check")
            let groups = try #require(json["groups"] as? [[String: Any]])
            let reference = try Self.expected(key)
            #expect(groups.map { $0["group"] as? String } == reference.map { $0["group"] as? String }, "\(key)")
            for (a, b) in zip(groups, reference) {
                compare(a, b, context: key)
                // Imported answers: nobody was invited through Pulse.
                #expect(a["invited"] is NSNull && a["response_rate"] is NSNull)
            }
        }
    }

    @Test func trendsMatchAnIndependentComputation() throws {
        let w = try Self.loaded()
        defer { w.remove() }
        for (by, key) in [("team", "trends_team"), ("all", "trends_all")] {
            let r = try w.pulse("trends", "--survey", "check", "--from", "2026-W44", "--to", "2026-W47", "--by", by, "--format", "json")
            #expect(r.status == 0, "\(r.stderr)")
            let json = try #require(try r.json() as? [String: Any])
            let series = try #require(json["series"] as? [[String: Any]])
            let reference = try Self.expected(key)
            #expect(series.map { $0["group"] as? String } == reference.map { $0["group"] as? String })
            for (a, b) in zip(series, reference) {
                let ap = try #require(a["points"] as? [[String: Any]]), bp = b["points"] as! [[String: Any]]
                #expect(ap.count == bp.count)
                for (x, y) in zip(ap, bp) { compare(x, y, context: "\(key) \(b["group"]!) \(y["period"]!)") }
            }
        }
    }

    @Test func reimportingTheSameFilesChangesNothing() throws {
        let w = try Self.loaded()
        defer { w.remove() }
        let before = try w.pulse("enps", "--survey", "check", "--by", "team", "--format", "json").stdout
        let again = try w.pulse("responses", "import", "responses.csv")
        #expect(again.status == 0)
        #expect(again.stderr.contains("0 added, 0 updated, 71 unchanged"), "\(again.stderr)")
        let roster = try w.pulse("roster", "import", "roster.csv")
        #expect(roster.stderr.contains("0 added, 0 updated, 21 unchanged"), "\(roster.stderr)")
        #expect(try w.pulse("enps", "--survey", "check", "--by", "team", "--format", "json").stdout == before)
    }

    @Test func csvAndTableFormats() throws {
        let w = try Self.loaded()
        defer { w.remove() }
        let csv = try w.pulse("enps", "--survey", "check", "--period", "2026-W47", "--by", "team", "--format", "csv")
        let lines = csv.stdout.split(separator: "\r\n")
        #expect(lines.first?.hasPrefix("survey,from,to,group,invited,responses") == true)
        #expect(lines.count == 5)
        let table = try w.pulse("trends", "--survey", "check", "--by", "team")
        #expect(table.status == 0)
        #expect(table.stdout.contains("north") && table.stdout.contains("hidden"))
        #expect(!table.stdout.contains("\u{1B}["), "no colour when the output is not a terminal")
    }

    // MARK: - Bad input: exit 65, file and line named, the database unchanged

    /// Runs a failing import and checks the error and that nothing changed.
    func refuses(_ w: Workspace, _ args: [String], file: String, says fragment: String) throws {
        let before = try w.pulse("enps", "--survey", "check", "--format", "json", "--by", "team").stdout
        let rosterBefore = try w.pulse("roster", "list", "--all", "--format", "json").stdout
        let r = try w.pulse(args)
        #expect(r.status == 65, "\(args): exit \(r.status), \(r.stderr)")
        #expect(r.stderr.contains("error: \(file)"), "\(r.stderr)")
        #expect(r.stderr.contains(fragment), "expected \(fragment) in: \(r.stderr)")
        #expect(try w.pulse("enps", "--survey", "check", "--format", "json", "--by", "team").stdout == before)
        #expect(try w.pulse("roster", "list", "--all", "--format", "json").stdout == rosterBefore)
    }

    @Test func badResponsesAreRefusedWholly() throws {
        let w = try Self.loaded()
        defer { w.remove() }
        let header = "email,survey,period,mood,focus,enps\n"
        let cases: [(String, String)] = [
            // A good row first: it must not be stored either.
            ("north0@example.org,check,2026-W48,3,3,5\nnorth1@example.org,check,2026-W48,3,3,11\n", "bad.csv:3: enps: 11 is out of range"),
            ("north0@example.org,check,2026-W54,3,3,5\n", "bad.csv:2: period: \"2026-W54\" is not a period"),
            ("nobody@example.org,check,2026-W48,3,3,5\n", "bad.csv:2: email: nobody@example.org is not in the roster"),
            ("north0@example.org,check,2026-W48,3x,3,5\n", "bad.csv:2: mood: \"3x\" is not a whole number"),
            ("north0@example.org,check,2026-W48,8,3,5\n", "bad.csv:2: mood: 8 is out of range"),
            ("north0@example.org,check,2026-W48,,3,5\n", "bad.csv:2: mood: an answer is required"),
            ("north0@example.org,nosuch,2026-W48,3,3,5\n", "bad.csv:2: survey: unknown survey \"nosuch\""),
            ("north0@example.org,check,2026-W48,3,3,5\nnorth0@example.org,check,2026-W48,4,3,5\n", "bad.csv:3: north0@example.org answered check for 2026-W48 on line 2 too"),
            ("\"north0@example.org,check,2026-W48,3,3,5\n", "bad.csv:2: a quoted field is never closed"),
        ]
        for (body, message) in cases {
            try w.write("bad.csv", header + body)
            try refuses(w, ["responses", "import", "bad.csv"], file: "bad.csv", says: message)
        }
        try w.write("bad.csv", "email,period,mood\nnorth0@example.org,2026-W48,3\n")
        try refuses(w, ["responses", "import", "bad.csv"], file: "bad.csv:1: survey", says: "the required column is missing")
        try w.write("bad.csv", "email\tsurvey\tperiod\nnorth0@example.org\tcheck\t2026-W48\n")
        try refuses(w, ["responses", "import", "bad.csv"], file: "bad.csv:1", says: "delimited by something other than a comma")
    }

    @Test func badRosterRowsAreRefusedWholly() throws {
        let w = try Self.loaded()
        defer { w.remove() }
        let cases: [(String, String)] = [
            ("email,name\nnew@example.org,New\nnot-an-email,X\n", "bad.csv:3: email: \"not-an-email\" is not an email address"),
            ("email,name\nnew@example.org,New\nnew@example.org,Other\n", "bad.csv:3: email: new@example.org is also on line 2 with different values"),
            ("email,timezone\nnew@example.org,Mars/Base\n", "bad.csv:2: timezone: \"Mars/Base\" is not a time zone"),
            ("email,start_date\nnew@example.org,2026-02-30\n", "bad.csv:2: start_date: \"2026-02-30\" is not a date"),
            ("name,team\nNew,west\n", "bad.csv:1: email: the required column is missing"),
        ]
        for (body, message) in cases {
            try w.write("bad.csv", body)
            try refuses(w, ["roster", "import", "bad.csv"], file: "bad.csv", says: message)
        }
    }

    /// Writes bytes (which need not be UTF-8) into the workspace.
    func writeBytes(_ w: Workspace, _ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: w.path(name)))
    }

    func rosterRow(_ w: Workspace, _ email: String) throws -> [String: Any]? {
        let list = try #require(try w.pulse("roster", "list", "--all", "--format", "json").json() as? [[String: Any]])
        return list.first { $0["email"] as? String == email }
    }

    @Test func rosterEmailsWithControlCharactersAreRefusedWithTheirLine() throws {
        let w = try Self.loaded()
        defer { w.remove() }
        // Stored, such an address later blocked the whole round's send.
        let cases: [(String, String)] = [
            ("email,name\nnew@example.org,New\n\"bob\r\nx@example.org\",Bob\n", "bad.csv:3: email: \"bob\\r\\nx@example.org\" contains a control character"),
            ("email,name\n\"bob\nx@example.org\",Bob\n", "bad.csv:2: email: \"bob\\nx@example.org\" contains a control character"),
            ("email,name\n\"bob\rx@example.org\",Bob\n", "bad.csv:2: email: \"bob\\rx@example.org\" contains a control character"),
            ("email,name\nbob\tx@example.org,Bob\n", "bad.csv:2: email: \"bob\\tx@example.org\" contains a control character"),
            ("email,name\nbob\u{1}x@example.org,Bob\n", "bad.csv:2: email: \"bob\\u{1}x@example.org\" contains a control character"),
            ("email,name\nbob\u{85}x@example.org,Bob\n", "bad.csv:2: email: \"bob\\u{85}x@example.org\" contains a control character"),
            ("email,name\nbob@example.org\u{202E},Bob\n", "bad.csv:2: email: \"bob@example.org\\u{202E}\" contains a control character"),
            ("email,manager_email\nbob@example.org,\"lead@exa\r\nmple.org\"\n", "bad.csv:2: manager_email: \"lead@exa\\r\\nmple.org\" contains a control character"),
        ]
        for (body, message) in cases {
            try w.write("bad.csv", body)
            try refuses(w, ["roster", "import", "bad.csv"], file: "bad.csv", says: message)
        }
        // Line breaks at a cell's edge are trimmed like spaces: the address is fine.
        try w.write("edge.csv", "email,name\r\n\"edge@example.org\r\n\",\"Bob\r\n\"\r\n")
        let edge = try w.pulse("roster", "import", "edge.csv")
        #expect(edge.status == 0, "\(edge.stderr)")
        #expect(try rosterRow(w, "edge@example.org")?["name"] as? String == "Bob")
    }

    @Test func rosterRowsWithNULsOrTheWrongNumberOfFieldsAreRefused() throws {
        let w = try Self.loaded()
        defer { w.remove() }
        let before = try #require(try rosterRow(w, "north0@example.org"))
        #expect(before["team"] as? String == "north")
        // Too few fields used to wipe the fields of an existing rep; too many shifted or dropped columns.
        let cases: [(String, String)] = [
            ("email,name,team,region\nnorth0@example.org,North 0\n", "bad.csv:2: team: the row has 2 fields but the header has 4: the last 2 fields (team, region) are missing"),
            ("email,name,team,region\nnorth0@example.org,North 0,north\n", "bad.csv:2: region: the row has 3 fields but the header has 4: the last field (region) is missing; if it is empty, end the line with \",\""),
            ("email,name,team,region\nnorth0@example.org,Smith, John,north,EMEA\n", "bad.csv:2: the row has 5 fields but the header has 4"),
            ("email,name\na\u{0}@x.example,A\na\u{0}@y.example,B\n", "bad.csv:2: email: contains a NUL byte"),
        ]
        for (body, message) in cases {
            try w.write("bad.csv", body)
            try refuses(w, ["roster", "import", "bad.csv"], file: "bad.csv", says: message)
        }
        try w.write("bad.csv", "email,name\na\u{0}@x.example,A\na\u{0}@y.example,B\n")
        #expect(try w.pulse("roster", "import", "bad.csv").stderr.contains("bad.csv:3: email: contains a NUL byte"))
        #expect(try rosterRow(w, "a") == nil)
    }

    @Test func invalidUTF8InResponsesIsRefusedAsInvalidText() throws {
        let w = try Self.loaded()
        defer { w.remove() }
        let header = Array("email,survey,period,mood,focus,enps\n".utf8)
        for (row, message) in [
            (Array("north0@example.org,".utf8) + [0xFF] + Array(",2026-W48,3,3,5\n".utf8), "bad.csv:2: survey: is not valid UTF-8"),
            (Array("north0@example.org,check,2026-W48,3,".utf8) + [0xC3] + Array(",5\n".utf8), "bad.csv:2: focus: is not valid UTF-8"),
            (Array("north0".utf8) + [0xE0, 0xB8] + Array("@example.org,check,2026-W48,3,3,5\n".utf8), "bad.csv:2: email: is not valid UTF-8"),
        ] {
            try writeBytes(w, "bad.csv", header + row)
            try refuses(w, ["responses", "import", "bad.csv"], file: "bad.csv", says: message)
        }
    }

    @Test func badSurveyDefinitionsAreRefused() throws {
        let w = try Workspace()
        defer { w.remove() }
        let questions = (1...11).map { "  - {id: q\($0), type: scale, text: Q\($0), min: 1, max: 5}" }.joined(separator: "\n")
        try w.write("eleven.yaml", "id: eleven\ntitle: Eleven\nanonymity: identified\nquestions:\n\(questions)\n")
        let r = try w.pulse("survey", "validate", "eleven.yaml")
        #expect(r.status == 65)
        #expect(r.stderr.contains("eleven.yaml:4: questions: a survey has 1 to 10 questions"), "\(r.stderr)")
        try w.write("reversed.yaml", "id: rev\ntitle: Rev\nanonymity: identified\nquestions:\n  - id: q\n    type: scale\n    text: Q\n    min: 5\n    max: 1\n")
        let r2 = try w.pulse("survey", "validate", "reversed.yaml")
        #expect(r2.status == 65)
        #expect(r2.stderr.contains("reversed.yaml:9: questions[0].max: the scale 5..1 must run from a smaller min to a larger max"), "\(r2.stderr)")
    }

    @Test func usageErrorsAndDatabaseProblems() throws {
        let w = try Self.loaded()
        defer { w.remove() }
        let badPeriod = try w.pulse("enps", "--survey", "check", "--period", "2026-W54")
        #expect(badPeriod.status == 64, "\(badPeriod.stderr)")
        let unknownSurvey = try w.pulse("enps", "--survey", "nosuch")
        #expect(unknownSurvey.status == 65)
        #expect(unknownSurvey.stderr.contains("the surveys with rounds are: check"), "\(unknownSurvey.stderr)")
        let unknownCommand = try w.pulse("frobnicate")
        #expect(unknownCommand.status == 64)

        try w.write("not.sqlite", "this is not a database, just text that is long enough\n")
        let notDB = try w.pulse("roster", "list", env: ["PULSE_DB": w.path("not.sqlite")])
        #expect(notDB.status == 1)
        #expect(notDB.stderr.contains("is not a Pulse database: it is not an SQLite file"), "\(notDB.stderr)")
        #expect(notDB.stderr.split(separator: "\n").count == 1)
    }

    @Test func newerSchemaIsExplained() throws {
        let w = try Self.loaded()
        defer { w.remove() }
        // A migration this version does not know, as a newer Pulse would leave it.
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sqlite.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"INSERT INTO grdb_migrations VALUES ('v99-future')\"); c.commit()", w.path("pulse.sqlite")]
        try sqlite.run()
        sqlite.waitUntilExit()
        #expect(sqlite.terminationStatus == 0)
        let r = try w.pulse("roster", "list")
        #expect(r.status == 1)
        #expect(r.stderr.contains("written by a newer version of Pulse") && r.stderr.contains("v99-future"), "\(r.stderr)")
    }

    @Test func anonymousAnswersKeepNoLinkToTheRep() throws {
        let w = try Workspace()
        defer { w.remove() }
        try w.write("Surveys/anon.yaml", """
            id: anon
            title: Anon
            anonymity: anonymous
            questions:
              - {id: enps, type: enps, text: "Recommend?"}
              - {id: why, type: text, text: "Why?", optional: true}

            """)
        #expect(try w.pulse("init").status == 0)
        try w.copyFixture("roster.csv")
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        var rows = "email,survey,period,submitted_at,enps,why\n"
        for i in 0..<7 { rows += "north\(i)@example.org,anon,2026-Q4,2026-11-20T10:0\(i):00Z,\(i + 4),reason \(i)\n" }
        try w.write("anon.csv", rows)
        let r = try w.pulse("responses", "import", "anon.csv")
        #expect(r.status == 0, "\(r.stderr)")
        // Straight from the database: no rep, no time on the answers.
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let out = Pipe()
        check.standardOutput = out
        check.arguments = ["python3", "-c", """
            import sqlite3,sys; c=sqlite3.connect(sys.argv[1])
            print(c.execute("SELECT COUNT(*), COUNT(rep_id), COUNT(submitted_at) FROM response").fetchone())
            print(c.execute("SELECT COUNT(*) FROM invitation WHERE answered").fetchone())
            """, w.path("pulse.sqlite")]
        try check.run()
        check.waitUntilExit()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(printed == "(7, 0, 0)\n(7,)\n", "\(printed)")
        // Importing the same answers again cannot replace anonymous ones: nothing changes.
        let again = try w.pulse("responses", "import", "anon.csv")
        #expect(again.status == 0)
        #expect(again.stderr.contains("7 anonymous answers were from reps who had already answered"))
        let e = try #require(try w.pulse("enps", "--survey", "anon", "--format", "json").json() as? [String: Any])
        let g = try #require((e["groups"] as? [[String: Any]])?.first)
        #expect(g["responses"] as? Int == 7)
    }

    @Test func demoRunsOnEmbeddedDefaults() throws {
        let w = try Workspace()
        defer { w.remove() }
        let r = try w.pulse("demo", "demo-space", "--date", "2026-11-22")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("pulse trends --survey weekly-pulse --by team"))
        #expect(r.stdout.contains("enterprise") && r.stdout.contains("mid-market"))
        // Again on the same folder: it starts afresh rather than failing or doubling.
        let again = try w.pulse("demo", "demo-space", "--date", "2026-11-22")
        #expect(again.status == 0)
        // The same, but for the personal links and message ids: a new workspace, a new secret.
        func stable(_ s: String) -> String {
            s.replacingOccurrences(of: #"/s/[A-Za-z0-9_-]{43}"#, with: "/s/TOKEN", options: .regularExpression)
                .replacingOccurrences(of: #"outbox/[a-z0-9]+\."#, with: "outbox/ID.", options: .regularExpression)
                .replacingOccurrences(of: #"127\.0\.0\.1:\d+/s/<token>"#, with: "127.0.0.1:PORT/s/<token>", options: .regularExpression)
        }
        #expect(stable(again.stdout) == stable(r.stdout))
        // This week's round went to the file outbox, one message per rep, one shown.
        #expect(r.stdout.contains("weekly-pulse 2026-W47: round opened, 20 invitations queued"))
        #expect(r.stdout.contains("http://127.0.0.1:8080/s/"))
        let eml = try FileManager.default.contentsOfDirectory(atPath: w.path("demo-space/outbox")).filter { $0.hasSuffix(".eml") }
        #expect(eml.count == 20)
        // The answer pages ran, and this week's answers went through them.
        #expect(r.stdout.contains("19 of 20 reps answered 2026-W47 through their links"), "\(r.stdout)")
        // The pipeline: the rep whose morale fell has deals that stopped moving, and only they do.
        #expect(r.stdout.contains("1028 opportunities and 1564 leads, the half year to 2026-W46"), "\(r.stdout)")
        let niran = try #require(r.stdout.components(separatedBy: "$ pulse prep niran@acme.example\n").last)
        #expect(niran.contains("- `pipeline_stall`: ") && niran.contains("## Pipeline, last week")
                && niran.contains("More of your deals are open than usual, but fewer are closing."), "\(niran)")
        #expect(r.stdout.components(separatedBy: "pipeline_stall").count == 2, "one note, one flag")
        let env = ["PULSE_DB": w.path("demo-space/pulse.sqlite"), "PULSE_SURVEYS": w.path("demo-space/Surveys"),
                   "PULSE_CONFIG": w.path("demo-space/pulse.yaml")]
        for email in ["ploy", "somchai", "anna", "zul"] {
            let other = try w.pulse(["prep", "\(email)@acme.example", "--as-of", "2026-11-22", "--format", "json"], env: env)
            #expect(other.status == 0 && !other.stdout.contains("pipeline_stall") && other.stdout.contains("\"pipeline_velocity\""),
                    "\(email): \(other.stderr)")
        }
        #expect(r.stderr.isEmpty, "\(r.stderr)")
        // A folder it did not make is left alone.
        try FileManager.default.createDirectory(atPath: w.path("mine"), withIntermediateDirectories: true)
        try w.write("mine/keep.txt", "mine")
        let refused = try w.pulse("demo", "mine")
        #expect(refused.status == 64)
        #expect(FileManager.default.fileExists(atPath: w.path("mine/keep.txt")))
    }
}
