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
