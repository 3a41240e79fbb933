import Foundation
import Testing

/// Seeing a round rep by rep, exporting identified answers, and undoing: a round sent by
/// mistake, activity imported twice, a rep who asks to be forgotten.
@Suite(.timeLimit(.minutes(5))) struct UndoTests {
    static let roster = """
        email,name,team
        ana@example.org,Ana Lee,west
        ben@example.org,Ben Okafor,west
        cai@example.org,Cai Wen,west
        dee@example.org,Dee Park,east
        eve@example.org,Eve Stone,east

        """

    func workspace() throws -> Workspace {
        let w = try Workspace()
        #expect(try w.pulse("init").status == 0)
        try w.write("pulse.yaml", "timezone: UTC\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\n")
        try w.write("roster.csv", Self.roster)
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        return w
    }

    func count(_ w: Workspace, _ sql: String) throws -> Int {
        let out = try python("sqlite_exec.py", [w.path("pulse.sqlite"), sql])
        return (try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[Int]])?.first?.first ?? -1
    }

    @Test func aRoundShowsWhoHasAnsweredAndAnonymousOnlyWhether() throws {
        let w = try workspace()
        defer { w.remove() }
        let week = TestClock.week()
        #expect(try w.pulse("send", "weekly-pulse", "--period", week).status == 0)
        try w.write("a.csv", "email,survey,period,submitted_at,energy,workload,support,quota_confidence\nben@example.org,weekly-pulse,\(week),\(TestClock.at(1, "08:15")),4,3,5,2\n")
        #expect(try w.pulse("responses", "import", "a.csv").status == 0)
        let table = try w.pulse("rounds", "show", "weekly-pulse", "--period", week)
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.first { $0.hasPrefix("ben@example.org") }?.hasSuffix(TestClock.at(1, "08:15")) == true, "\(table.stdout)")
        #expect(lines.first { $0.hasPrefix("ana@example.org") }?.hasSuffix(" no") == true, "\(table.stdout)")
        #expect(table.stderr.contains("1 of 5 invited reps answered"), "\(table.stderr)")
        let json = try #require(try w.pulse("rounds", "show", "weekly-pulse", "--period", week, "--format", "json").json() as? [String: Any])
        let reps = try #require(json["reps"] as? [[String: Any]])
        #expect(reps.count == 5 && reps.allSatisfy { $0["sent_at"] is String })
        #expect(reps.first { $0["email"] as? String == "ben@example.org" }?["answered_at"] as? String == TestClock.at(1, "08:15"))

        // The anonymous eNPS: whether each rep answered, never when or what.
        let quarter = TestClock.quarter
        #expect(try w.pulse("send", "enps", "--period", quarter).status == 0)
        // Five: an import brings anonymous answers in batches of at least min_group_size.
        try w.write("e.csv", "email,survey,period,submitted_at,enps\n"
            + ["ana", "ben", "cai", "dee", "eve"].map { "\($0)@example.org,enps,\(quarter),\(TestClock.at(1, "09:41")),9\n" }.joined())
        #expect(try w.pulse("responses", "import", "e.csv").status == 0)
        let anon = try w.pulse("rounds", "show", "enps", "--period", quarter, "--format", "json")
        let a = try #require(try anon.json() as? [String: Any])
        let anonReps = try #require(a["reps"] as? [[String: Any]])
        #expect(anonReps.first { $0["email"] as? String == "cai@example.org" }?["answered"] as? Bool == true)
        #expect(anonReps.allSatisfy { $0["answered_at"] == nil }, "\(anon.stdout)")
        for format in ["table", "json", "csv"] {
            let out = try w.pulse("rounds", "show", "enps", "--period", quarter, "--format", format)
            #expect(!out.stdout.contains("09:41") && !out.stdout.contains(",9") && !out.stdout.contains(" 9\n"), "\(format): \(out.stdout)")
        }
        let unknown = try w.pulse("rounds", "show", "weekly-puls", "--period", week)
        #expect(unknown.status == 65 && unknown.stderr.contains("the surveys with rounds are: enps, weekly-pulse"), "\(unknown.stderr)")
    }

    @Test func aMistakenRoundIsRemovedWholeAndOnlyWithYes() throws {
        let w = try workspace()
        defer { w.remove() }
        let week = TestClock.week(), next = TestClock.week(1)
        for p in [week, next] { #expect(try w.pulse("send", "weekly-pulse", "--period", p).status == 0) }
        try w.write("a.csv", "email,survey,period,energy,workload,support,quota_confidence\nana@example.org,weekly-pulse,\(next),4,3,5,2\n")
        #expect(try w.pulse("responses", "import", "a.csv").status == 0)
        let dry = try w.pulse("rounds", "delete", "weekly-pulse", "--period", next)
        #expect(dry.status == 0 && dry.stdout == "would remove the round weekly-pulse \(next): 5 queued or sent messages, 5 invitations, 1 response and 1 round; nothing was changed (pass --yes to remove)\n",
                "\(dry.stdout)\(dry.stderr)")
        #expect(try count(w, "SELECT COUNT(*) FROM round") == 2 && count(w, "SELECT COUNT(*) FROM invitation") == 10)
        let done = try w.pulse("rounds", "delete", "weekly-pulse", "--period", next, "--yes")
        #expect(done.status == 0 && done.stdout.hasPrefix("removed the round weekly-pulse \(next): 5 queued or sent messages"), "\(done.stdout)")
        #expect(try count(w, "SELECT COUNT(*) FROM round") == 1)
        #expect(try count(w, "SELECT COUNT(*) FROM invitation") == 5 && count(w, "SELECT COUNT(*) FROM outbox") == 5)
        #expect(try count(w, "SELECT COUNT(*) FROM response") == 0 && count(w, "SELECT COUNT(*) FROM answer") == 0)
        let again = try w.pulse("rounds", "delete", "weekly-pulse", "--period", next, "--yes")
        #expect(again.status == 64 && again.stderr.contains("there is no round weekly-pulse \(next) (its rounds are: \(week))"), "\(again.stderr)")
        // The period can be sent again, from scratch.
        #expect(try w.pulse("send", "weekly-pulse", "--period", next).stdout.contains("round opened, 5 invitations queued"))
    }

    @Test func activityRowsAreRemovedByDaysAndRep() throws {
        let w = try workspace()
        defer { w.remove() }
        var csv = "email,date,calls\n"
        for d in 2...8 { for rep in ["ana", "ben"] { csv += "\(rep)@example.org,2026-11-0\(d),\(d)\n" } }
        try w.write("act.csv", csv)
        #expect(try w.pulse("kpi", "import", "act.csv").status == 0)
        let dry = try w.pulse("kpi", "delete", "--from", "2026-11-03", "--to", "2026-11-05", "--rep", "ana@example.org")
        #expect(dry.stdout == "would remove activity from 2026-11-03 to 2026-11-05 of ana@example.org: 3 activity rows; nothing was changed (pass --yes to remove)\n", "\(dry.stdout)")
        #expect(try count(w, "SELECT COUNT(*) FROM activity") == 14)
        #expect(try w.pulse("kpi", "delete", "--from", "2026-11-03", "--to", "2026-11-05", "--rep", "ana@example.org", "--yes").status == 0)
        #expect(try count(w, "SELECT COUNT(*) FROM activity") == 11)
        let all = try w.pulse("kpi", "delete", "--from", "2026-11-01", "--to", "2026-11-30", "--yes")
        #expect(all.stdout == "removed activity from 2026-11-01 to 2026-11-30: 11 activity rows\n", "\(all.stdout)")
        let typo = try w.pulse("kpi", "delete", "--from", "2026-11-01", "--to", "2026-11-30", "--rep", "ann@example.org")
        #expect(typo.status == 65 && typo.stderr.contains("did you mean ana@example.org"), "\(typo.stderr)")
        #expect(try w.pulse("kpi", "delete", "--from", "2026-11-31", "--to", "2026-12-01").status == 64)
    }

    @Test func aRepIsErasedButAnonymousAnswersStay() throws {
        let w = try workspace()
        defer { w.remove() }
        let week = TestClock.week(), quarter = TestClock.quarter
        #expect(try w.pulse("send", "weekly-pulse", "--period", week).status == 0)
        #expect(try w.pulse("send", "enps", "--period", quarter).status == 0)
        try w.write("a.csv", "email,survey,period,energy,workload,support,quota_confidence\nana@example.org,weekly-pulse,\(week),4,3,5,2\n")
        try w.write("e.csv", "email,survey,period,enps\n" + ["ana", "ben", "cai", "dee", "eve"].map { "\($0)@example.org,enps,\(quarter),9\n" }.joined())
        try w.write("act.csv", "email,date,calls\nana@example.org,2026-11-02,4\nben@example.org,2026-11-02,5\n")
        try w.write("q.csv", "email,period,quota\nana@example.org,2026-Q4,1000\n")
        for args in [["responses", "import", "a.csv"], ["responses", "import", "e.csv"], ["kpi", "import", "act.csv"], ["kpi", "import", "--quota", "q.csv"],
                     ["notes", "add", "ana@example.org", "--text", "Talked", "--action", "Call back"]] {
            let r = try w.pulse(args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
        }
        let id = try count(w, "SELECT id FROM rep WHERE email = 'ana@example.org'")
        let dry = try w.pulse("roster", "erase", "ana@example.org")
        #expect(dry.stdout.hasPrefix("would remove everything about ana@example.org: 2 messages, 2 invitations, 1 identified response, 1 action, 1 note, 1 activity row, 1 quota and 1 rep; nothing was changed"),
                "\(dry.stdout)")
        #expect(try count(w, "SELECT COUNT(*) FROM rep") == 5)
        let done = try w.pulse("roster", "erase", "ana@example.org", "--yes")
        #expect(done.status == 0 && done.stdout.hasPrefix("removed everything about ana@example.org: 2 messages"), "\(done.stdout)")
        #expect(done.stderr.contains("anonymous answers stay"), "\(done.stderr)")
        for table in ["invitation", "response", "action_item", "note", "activity", "quota"] {
            #expect(try count(w, "SELECT COUNT(*) FROM \(table) WHERE rep_id = \(id)") == 0, "\(table)")
        }
        #expect(try count(w, "SELECT COUNT(*) FROM rep WHERE id = \(id)") == 0)
        #expect(try count(w, "SELECT COUNT(*) FROM outbox WHERE recipient = 'ana@example.org'") == 0)
        // The five anonymous answers are still counted; nothing said which was hers.
        #expect(try count(w, "SELECT COUNT(*) FROM response s JOIN round r ON r.id = s.round_id WHERE r.survey_id = 'enps'") == 5)
        #expect(try python("sqlite_exec.py", [w.path("pulse.sqlite"), "PRAGMA foreign_key_check"]) == "[]", "no row points at what was removed")
        let gone = try w.pulse("roster", "erase", "ana@example.org", "--yes")
        #expect(gone.status == 65, "\(gone.stderr)")
    }

    @Test func identifiedAnswersExportAndAnonymousOnesAreRefused() throws {
        let w = try workspace()
        defer { w.remove() }
        try w.write("a.csv", """
            email,survey,period,submitted_at,energy,workload,support,quota_confidence,comment
            ana@example.org,weekly-pulse,2026-W46,2026-11-10T09:00:00Z,4,3,5,2,"=HYPERLINK(""x"")"
            ben@example.org,weekly-pulse,2026-W46,,5,5,5,5,
            ana@example.org,weekly-pulse,2026-W47,,2,2,2,2,tired

            """)
        #expect(try w.pulse("responses", "import", "a.csv").status == 0)
        let csv = try w.pulse("responses", "export", "--survey", "weekly-pulse")
        #expect(csv.status == 0, "\(csv.stderr)")
        let rows = csv.stdout.split(whereSeparator: \.isNewline).map(String.init)
        #expect(rows.first?.hasPrefix("email,name,team,survey,period,submitted_at,energy,workload,support,quota_confidence") == true, "\(csv.stdout)")
        try #require(rows.count == 4, "\(csv.stdout)")
        #expect(rows[1].hasPrefix("ana@example.org,Ana Lee,west,weekly-pulse,2026-W46,2026-11-10T09:00:00Z,4,3,5,2,"), "\(rows[1])")
        #expect(!rows[1].contains(",=HYPERLINK"), "a formula cell is neutralised: \(rows[1])")
        let one = try w.pulse("responses", "export", "--survey", "weekly-pulse", "--from", "2026-W47", "--to", "2026-W47", "--format", "json")
        let list = try #require(try one.json() as? [[String: Any]])
        #expect(list.count == 1 && (list[0]["answers"] as? [String: Any])?["energy"] as? Int == 2)
        try w.write("e.csv", "email,survey,period,enps\n" + ["ana", "ben", "cai", "dee", "eve"].map { "\($0)@example.org,enps,2026-Q4,3\n" }.joined())
        #expect(try w.pulse("responses", "import", "e.csv").status == 0)
        let anon = try w.pulse("responses", "export", "--survey", "enps")
        #expect(anon.status == 64 && anon.stderr.contains("enps is anonymous") && anon.stdout.isEmpty, "\(anon.stderr)")
    }
}
