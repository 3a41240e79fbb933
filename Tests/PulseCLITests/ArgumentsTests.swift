import Foundation
import Testing

/// Arguments as a person types them: global options before the command, a mistyped
/// command, one `error:` prefix, results on stdout that `-q` keeps, names with the
/// closest known ones, counts in the right number.
@Suite struct ArgumentsTests {
    func workspace() throws -> Workspace {
        let w = try Workspace()
        #expect(try w.pulse("init").status == 0)
        try w.write("pulse.yaml", "timezone: UTC\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\n")
        try w.write("roster.csv", "email,name,team\nana@example.org,Ana,west\nben@example.org,Ben,east\n")
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        return w
    }

    /// The bash completion, run by bash as on Tab: `help` once among the commands, survey
    /// ids from the surveys folder (`--surveys`, or PULSE_SURVEYS), CSV files for imports.
    @Test func bashCompletionListsHelpOnceAndCompletesSurveysAndFiles() throws {
        let w = try workspace()
        defer { w.remove() }
        let script = try w.pulse("--generate-completion-script", "bash")
        #expect(script.status == 0)
        try w.write("pulse.bash", script.stdout)
        try w.write("Surveys/check-in.yaml", "id: check\ntitle: Check\nanonymity: identified\nquestions:\n  - {id: q, type: text, text: Q}\n")
        try FileManager.default.createDirectory(atPath: w.path("other"), withIntermediateDirectories: true)
        try w.write("other/pulse-2.yaml", "id: \"second\"\n")
        try w.write("activity.csv", "email,date\n")
        try w.write("photo.png", "")
        let binary = try Binary.pulse().path
        func complete(_ words: String...) throws -> [String] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = [Fixtures.url("complete.sh").path, w.path("pulse.bash"), binary] + words
            p.environment = w.environment
            p.currentDirectoryURL = w.dir
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        }
        let commands = try complete("")
        #expect(commands.filter { $0 == "help" }.count == 1 && commands.contains("send") && commands.contains("report"), "\(commands)")
        #expect(try complete("send", "") == ["check", "enps", "weekly-pulse"])
        #expect(try complete("enps", "--survey", "w") == ["weekly-pulse"])
        #expect(try complete("rounds", "show", "--surveys", w.path("other"), "") == ["second"])
        let files = try complete("roster", "import", "")
        #expect(files.contains("activity.csv") && files.contains("roster.csv") && files.contains("Surveys") && !files.contains("photo.png"),
                "\(files)")
        #expect(try complete("kpi", "import", "act") == ["activity.csv"])
        #expect(try complete("backup", "pho") == ["photo.png"])
        // The topics still answer, though the help command is not listed twice.
        #expect(try w.pulse("help", "privacy").stdout.contains("PRIVACY"))
        let overview = try w.pulse("--help").stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(overview.contains("on a topic: pulse help surveys|figures|config|privacy"), "\(overview)")
    }

    @Test func globalOptionsMayComeBeforeTheCommand() throws {
        let w = try workspace()
        defer { w.remove() }
        let other = w.path("other.sqlite")
        #expect(try w.pulse(["--db", other, "init", "--no-surveys"]).status == 0)
        let empty = try w.pulse(["--db", other, "roster", "list", "--format", "json"])
        #expect(empty.status == 0 && empty.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "\(empty.stdout)\(empty.stderr)")
        let mine = try w.pulse(["--db=\(w.path("pulse.sqlite"))", "-q", "roster", "list", "--format", "json"])
        #expect(mine.status == 0 && mine.stdout.contains("ana@example.org") && mine.stderr.isEmpty, "\(mine.stderr)")
        // After a `--`, what follows is not moved.
        #expect(try w.pulse(["--db", other, "roster", "list", "--format", "json"]).stdout == empty.stdout)
    }

    @Test func aMistypedCommandSuggestsTheRightOneAndEveryErrorSaysErrorColon() throws {
        let w = try workspace()
        defer { w.remove() }
        let trnds = try w.pulse("trnds")
        #expect(trnds.status == 64 && trnds.stderr == "error: unknown command \"trnds\"; did you mean trends?\n", "\(trnds.stderr)")
        let nothing = try w.pulse("frobnicate")
        #expect(nothing.status == 64 && nothing.stderr.contains("pulse --help lists the commands"))
        for args in [["correlate", "--survey", "x", "--kpi", "nosuch"], ["send"], ["enps", "--nosuch"], ["kpi", "delete", "--from", "x", "--to", "y"]] {
            let r = try w.pulse(args)
            #expect(r.status == 64 && r.stderr.hasPrefix("error: ") && !r.stderr.contains("Error:"), "\(args): \(r.stderr)")
        }
    }

    @Test func resultsGoToStdoutAndQuietKeepsThem() throws {
        let w = try workspace()
        defer { w.remove() }
        let sent = try w.pulse(["-q", "send", "weekly-pulse", "--team", "west"])
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(sent.stdout.contains("weekly-pulse \(TestClock.week()): round opened, 1 invitation queued")
                && sent.stdout.contains("outbox: 1 sent via file outbox"), "\(sent.stdout)")
        #expect(sent.stderr.isEmpty, "\(sent.stderr)")
        let again = try w.pulse(["send", "weekly-pulse", "--team", "west"])
        #expect(again.stdout.contains("0 invitations queued, 1 rep already invited"), "\(again.stdout)")
        // Where stdout is JSON, it stays JSON alone: the flush's summary goes to stderr.
        let flushed = try w.pulse(["outbox", "--flush", "--format", "json"])
        #expect(flushed.status == 0 && (try? flushed.json()) != nil && flushed.stderr.contains("outbox: 0 sent"), "\(flushed.stdout)\(flushed.stderr)")
    }

    @Test func unknownNamesAreBadInputWithTheClosestKnownOnes() throws {
        let w = try workspace()
        defer { w.remove() }
        let cases: [([String], String)] = [
            (["send", "weekly-pulze"], "weekly-pulze: no such survey; did you mean weekly-pulse?"),
            (["remind", "enpss"], "enpss: no such survey; did you mean enps?"),
            (["send", "weekly-pulse", "--team", "eats"], "eats: no such team with active reps; did you mean east? (the teams are: east, west)"),
            (["prep", "--team", "wesst"], "wesst: no such team with active reps; did you mean west"),
            (["kpi", "show", "--from", "2026-W45", "--to", "2026-W46", "--team", "Wes"], "Wes: no such team; did you mean west?"),
            (["prep", "anna@example.org"], "anna@example.org: not in the roster; did you mean ana@example.org?"),
            (["trends", "--survey", "nosuch"], "nosuch: no such survey with answers"),
        ]
        for (args, message) in cases {
            let r = try w.pulse(args)
            #expect(r.status == 65 && r.stderr.contains("error: " + message), "\(args): \(r.stderr)")
        }
    }
}
