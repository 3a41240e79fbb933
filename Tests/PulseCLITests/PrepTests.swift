import Foundation
import PulseCore
import Testing

/// One-on-one notes end to end: the contract's shape and definitions, the flags, what a
/// note says when data is missing, and notes and actions carried into the next note.
@Suite struct PrepTests {
    static let scale = ["energy", "workload", "support", "quota_confidence"]

    /// West: ana (morale falls in W47), ben, cai, dee steady; eve never answers; old is
    /// deactivated. Weeks W40 to W47 of 2026.
    func workspace() throws -> Workspace {
        let w = try Workspace()
        #expect(try w.pulse("init").status == 0)
        try w.write("roster.csv", """
            email,name,team,manager_email
            ana@acme.example,Ana Lee,west,mia@acme.example
            ben@acme.example,Ben Okafor,west,mia@acme.example
            cai@acme.example,Cai Wen,west,mia@acme.example
            dee@acme.example,Dee Park,west,mia@acme.example
            eve@acme.example,Eve Stone,west,mia@acme.example
            old@acme.example,Old Hand,west,mia@acme.example

            """)
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        var responses = "email,survey,period,\(Self.scale.joined(separator: ",")),comment\n"
        var activity = "email,date,calls,emails,meetings,deals_won,deals_lost,revenue_won\n"
        for week in 40...47 {
            let monday = try #require(Period("2026-W\(week)")).start
            for rep in ["ana", "ben", "cai", "dee", "old"] {
                let v = rep == "ana" ? Self.anaAnswer(week) : 4
                let comment = rep == "ana" && week == 47 ? "\"Too many <b>late</b> nights, = tired\"" : ""
                responses += "\(rep)@acme.example,weekly-pulse,2026-W\(week),\(v),\(v),\(v),\(v),\(comment)\n"
                let calls = rep == "ana" ? (week == 47 ? 10 : 40) : 30
                activity += "\(rep)@acme.example,\(monday),\(calls),5,1,\(rep == "ana" && week == 41 ? 1 : 0),1,\(rep == "ana" && week == 41 ? "1000.00" : "0")\n"
            }
        }
        try w.write("responses.csv", responses)
        try w.write("activity.csv", activity)
        try w.write("quota.csv", "email,period,quota\nana@acme.example,2026-Q4,90000\n")
        for args in [["responses", "import", "responses.csv"], ["kpi", "import", "activity.csv"], ["kpi", "import", "--quota", "quota.csv"]] {
            let r = try w.pulse(args, env: ["PULSE_NOW": "2026-11-23T08:00:00Z"])
            #expect(r.status == 0, "\(args): \(r.stderr)")
        }
        #expect(try w.pulse(["roster", "deactivate", "old@acme.example"], env: ["PULSE_NOW": "2026-11-20T08:00:00Z"]).status == 0)
        return w
    }

    /// Ana answers 4 of 5 (75) until W46 and 2 of 5 (25) in W47.
    static func anaAnswer(_ week: Int) -> Int { week == 47 ? 2 : 4 }

    func prep(_ w: Workspace, _ args: String...) throws -> [String: Any] {
        let r = try w.pulse(["prep"] + args + ["--format", "json"], env: ["PULSE_NOW": "2026-11-23T08:00:00Z"])
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try r.json() as? [String: Any])
    }

    @Test func aNoteFollowsTheContractAndFlagsTheDrop() throws {
        let w = try workspace()
        defer { w.remove() }
        let p = try prep(w, "ana@acme.example", "--as-of", "2026-11-23")
        #expect(Set(p.keys).isSuperset(of: ["rep", "as_of", "morale", "enps", "kpis", "comments", "flags", "talking_points", "open_actions"]))
        #expect(p["as_of"] as? String == "2026-11-23")
        let morale = try #require(p["morale"] as? [String: Any])
        // Morale of one response: mean of 100 × (answer − 1) / 4 over the four scale answers.
        let latest = 100.0 * Double(Self.anaAnswer(47) - 1) / 4, baseline = (43...46).map { 100.0 * Double(Self.anaAnswer($0) - 1) / 4 }.reduce(0, +) / 4
        #expect(morale["latest"] as? Double == latest && morale["baseline"] as? Double == baseline, "\(morale)")
        #expect(morale["latest_period"] as? String == "2026-W47")
        let trend = try #require(morale["trend"] as? [[String: Any]])
        #expect(trend.count == 12 && trend.last?["period"] as? String == "2026-W48" && trend.first?["period"] as? String == "2026-W37")
        #expect(trend.last?["morale"] is NSNull && trend.prefix(3).allSatisfy { $0["morale"] is NSNull }, "weeks without an answer are null, not zero")
        let questions = try #require(morale["questions"] as? [[String: Any]])
        #expect(questions.count == 4 && questions.allSatisfy { $0["change"] as? Double == -50.0 })

        let codes = try #require(p["flags"] as? [[String: Any]]).compactMap { $0["code"] as? String }
        #expect(codes.contains("morale_drop") && codes.contains("low_morale") && codes.contains("activity_drop") && codes.contains("quota_risk"),
                "\(codes)")
        #expect(!codes.contains("detractor") && !codes.contains("non_response"))
        let points = try #require(p["talking_points"] as? [String])
        #expect(points.count >= 4 && points.allSatisfy { $0.hasSuffix("?") })

        let kpis = try #require(p["kpis"] as? [String: Any])
        let week = try #require(kpis["week"] as? [String: Any])
        #expect(week["period"] as? String == "2026-W47")
        let values = try #require(week["values"] as? [String: Any]), own = try #require(week["own_average"] as? [String: Any])
        let median = try #require(week["team_median"] as? [String: Any])
        #expect(values["calls"] as? Double == 10 && own["calls"] as? Double == 40 && median["calls"] as? Double == 30, "\(week)")
        let quota = try #require(kpis["quota_period"] as? [String: Any])
        // 2026-Q4 runs 92 days; 2026-11-23 is its 54th. Revenue 1000 of 90000.
        let attainment = 1000.0 / 90000, pace = attainment / (54.0 / 92)
        #expect(quota["period"] as? String == "2026-Q4" && quota["elapsed_days"] as? Int == 54)
        #expect(abs((quota["attainment"] as? Double ?? 0) - attainment) < 0.0005 && abs((quota["pace"] as? Double ?? 0) - pace) < 0.0005, "\(quota)")

        let comments = try #require(p["comments"] as? [[String: Any]])
        #expect(comments.count == 1 && comments[0]["text"] as? String == "Too many <b>late</b> nights, = tired")
        let enps = try #require(p["enps"] as? [String: Any])
        #expect(enps["latest"] is NSNull, "weekly-pulse has no eNPS question and the enps survey has no rounds")

        // Markdown and HTML carry the same note, with the comment's markup neutralised.
        let md = try w.pulse(["prep", "ana@acme.example", "--as-of", "2026-11-23"])
        #expect(md.stdout.contains("# One-on-one: Ana Lee") && md.stdout.contains("- `morale_drop`: morale 25.0 in 2026-W47"))
        #expect(md.stdout.contains("Too many \\<b\\>late\\</b\\> nights"), "\(md.stdout)")
        let html = try w.pulse(["prep", "ana@acme.example", "--as-of", "2026-11-23", "--format", "html"])
        #expect(html.stdout.contains("<svg") && html.stdout.contains("&lt;b&gt;late&lt;/b&gt;") && !html.stdout.contains("<b>late"))
        #expect(!html.stdout.contains("<script") && !html.stdout.contains("http://") && !html.stdout.contains("https://"),
                "one self-contained file: no script, nothing fetched")

        // A steady rep has no flags and one open question.
        let ben = try prep(w, "ben@acme.example", "--as-of", "2026-11-23")
        #expect((ben["flags"] as? [Any])?.isEmpty == true, "\(ben["flags"] ?? "")")
        #expect((ben["talking_points"] as? [String])?.count == 1)
    }

    @Test func missingDataIsSaidNotMadeUp() throws {
        let w = try workspace()
        defer { w.remove() }
        let unknown = try w.pulse("prep", "nobody@acme.example")
        #expect(unknown.status == 65 && unknown.stderr.contains("nobody@acme.example: not in the roster"), "\(unknown.stderr)")
        let typo = try w.pulse("prep", "ama@acme.example")
        #expect(typo.status == 65 && typo.stderr.contains("did you mean ana@acme.example?"), "\(typo.stderr)")

        let eve = try prep(w, "eve@acme.example", "--as-of", "2026-11-22")
        let missing = try #require(eve["missing"] as? [String])
        #expect(missing.contains("no answers from eve@acme.example yet"), "\(missing)")
        #expect(missing.contains { $0.hasPrefix("no activity imported for eve@acme.example") })
        #expect(missing.contains { $0.hasPrefix("no quota covers 2026-11-22") })
        let morale = try #require(eve["morale"] as? [String: Any])
        #expect(morale["latest"] is NSNull && morale["baseline"] is NSNull)
        #expect(((eve["kpis"] as? [String: Any])?["quota_period"]) is NSNull)

        let early = try prep(w, "ana@acme.example", "--as-of", "2026-09-01")
        #expect((early["missing"] as? [String])?.contains("no answers on or before 2026-09-01 (the first is for 2026-W40)") == true,
                "\(early["missing"] ?? "")")
        #expect((early["flags"] as? [Any])?.isEmpty == true, "no flag from data that is not there")

        let second = try prep(w, "ana@acme.example", "--as-of", "2026-10-04")
        #expect((second["missing"] as? [String])?.contains { $0.hasPrefix("no baseline") } == true, "one answered week has no baseline")

        let old = try prep(w, "old@acme.example", "--as-of", "2026-11-22")
        #expect((old["rep"] as? [String: Any])?["active"] as? Bool == false)
        #expect((old["missing"] as? [String])?.contains { $0.contains("is deactivated (since 2026-11-20)") } == true, "\(old["missing"] ?? "")")
    }

    @Test func actionsCarryIntoTheNextNoteUntilDone() throws {
        let w = try workspace()
        defer { w.remove() }
        let now = ["PULSE_NOW": "2026-11-16T10:00:00Z"]
        let add = try w.pulse(["notes", "add", "ana@acme.example", "--text", "Talked about the Q4 pipeline.",
                               "--action", "Pair Ana with Ben on two calls", "--action", "Review territory"], env: now)
        #expect(add.status == 0 && add.stderr.contains("actions #1, #2 open"), "\(add.stderr)")
        var open = try #require(try prep(w, "ana@acme.example", "--as-of", "2026-11-22")["open_actions"] as? [[String: Any]])
        #expect(open.map { $0["text"] as? String } == ["Pair Ana with Ben on two calls", "Review territory"])
        #expect(open.first?["since"] as? String == "2026-11-16")
        let before = try #require(try prep(w, "ana@acme.example", "--as-of", "2026-11-15")["open_actions"] as? [Any])
        #expect(before.isEmpty, "an action agreed later is not in an earlier note")

        let done = try w.pulse(["actions", "done", "1"], env: ["PULSE_NOW": "2026-11-20T10:00:00Z"])
        #expect(done.status == 0 && done.stderr.contains("action #1 done"), "\(done.stderr)")
        open = try #require(try prep(w, "ana@acme.example", "--as-of", "2026-11-22")["open_actions"] as? [[String: Any]])
        #expect(open.map { $0["id"] as? Int } == [2])
        let again = try w.pulse("actions", "done", "1")
        #expect(again.status == 0 && again.stderr.contains("already done on 2026-11-20"))
        #expect(try w.pulse("actions", "done", "99").status == 65)

        let list = try #require(try w.pulse("notes", "list", "ana@acme.example", "--format", "json").json() as? [[String: Any]])
        #expect(list.count == 1 && (list[0]["actions"] as? [[String: Any]])?.count == 2)
        let openList = try #require(try w.pulse("actions", "list", "--format", "json").json() as? [[String: Any]])
        #expect(openList.map { $0["id"] as? Int } == [2])
    }

    @Test func aTeamGetsAFilePerActiveRepAndUnansweredRoundsAreFlagged() throws {
        let w = try workspace()
        defer { w.remove() }
        let team = try w.pulse(["prep", "--team", "west", "--as-of", "2026-11-22", "--format", "html", "--out", w.path("notes")])
        #expect(team.status == 0 && team.stderr.contains("wrote 5 notes"), "\(team.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: w.path("notes")).sorted()
        #expect(files == ["ana@acme.example-2026-11-22.html", "ben@acme.example-2026-11-22.html", "cai@acme.example-2026-11-22.html",
                          "dee@acme.example-2026-11-22.html", "eve@acme.example-2026-11-22.html"])
        #expect(try w.pulse("prep", "--manager", "nobody@acme.example").status == 65)

        // Two sent rounds of the weekly pulse that eve leaves unanswered.
        try w.write("pulse.yaml", "timezone: UTC\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\n")
        for (week, now) in [("2026-W48", "2026-11-23T10:00:00Z"), ("2026-W49", "2026-11-30T10:00:00Z")] {
            let sent = try w.pulse(["send", "weekly-pulse", "--period", week], env: ["PULSE_NOW": now])
            #expect(sent.status == 0, "\(sent.stderr)")
        }
        let eve = try prep(w, "eve@acme.example", "--as-of", "2026-12-07")
        let flags = try #require(eve["flags"] as? [[String: Any]])
        #expect(flags.contains { $0["code"] as? String == "non_response" && ($0["detail"] as? String)?.contains("the last 2 rounds") == true },
                "\(flags)")
        let current = try prep(w, "eve@acme.example", "--as-of", "2026-12-01")
        #expect(!(current["flags"] as? [[String: Any]] ?? []).contains { $0["code"] as? String == "non_response" },
                "the round of the as-of week may still be answered")
    }

    @Test func teamReportsShowRepsToTheirTeamAndHideSmallGroups() throws {
        let w = try workspace()
        defer { w.remove() }
        let west = try #require(try w.pulse("report", "--team", "west", "--from", "2026-W44", "--to", "2026-W47", "--format", "json")
            .json() as? [String: Any])
        let heat = try #require(west["heatmap"] as? [String: Any])
        #expect(heat["of"] as? String == "reps" && (heat["weeks"] as? [String])?.count == 4)
        let rows = try #require(heat["rows"] as? [[String: Any]])
        let ana = try #require(rows.first { $0["name"] as? String == "Ana Lee" })
        #expect((ana["cells"] as? [[String: Any]])?.map { $0["morale"] as? Double } == [75, 75, 75, 25])
        let morale = try #require(west["morale"] as? [[String: Any]])
        #expect(morale.map { $0["respondents"] as? Int } == [5, 5, 5, 5] && morale.allSatisfy { $0["suppressed"] as? Bool == false })
        let c = try #require(west["correlation"] as? [String: Any])
        #expect(c["n"] as? Int == 20 && c["reps"] as? Int == 5, "\(c)")

        // A second team of two: hidden, and west with it (the complement), in the all-teams view.
        try w.write("east.csv", "email,name,team\nfay@acme.example,Fay,east\ngus@acme.example,Gus,east\n")
        #expect(try w.pulse("roster", "import", "east.csv").status == 0)
        try w.write("east-answers.csv", "email,survey,period,energy,workload,support,quota_confidence\n"
            + (44...47).flatMap { wk in ["fay", "gus"].map { "\($0)@acme.example,weekly-pulse,2026-W\(wk),1,1,1,1\n" } }.joined())
        #expect(try w.pulse("responses", "import", "east-answers.csv").status == 0)
        let all = try #require(try w.pulse("report", "--from", "2026-W44", "--to", "2026-W47", "--format", "json").json() as? [String: Any])
        let teams = try #require((all["heatmap"] as? [String: Any])?["rows"] as? [[String: Any]])
        #expect(teams.map { $0["name"] as? String } == ["east", "west"])
        for row in teams {
            #expect((row["cells"] as? [[String: Any]])?.allSatisfy { $0["suppressed"] as? Bool == true && $0["morale"] is NSNull } == true,
                    "\(row)")
        }
        let html = try w.pulse("report", "--from", "2026-W44", "--to", "2026-W47")
        #expect(html.status == 0 && html.stdout.contains("hidden (too few respondents)") && !html.stdout.contains("Fay"))

        // A team's own report of an identified survey shows each rep, so it shows the team's
        // line too: east's two reps and west (no longer the complement of a hidden team).
        for (team, respondents, value, rows) in [("east", 2, 0.0, 2), ("west", 5, 65.0, 6)] {
            let report = try #require(try w.pulse("report", "--team", team, "--from", "2026-W44", "--to", "2026-W47", "--format", "json")
                .json() as? [String: Any])
            let line = try #require(report["morale"] as? [[String: Any]])
            #expect(line.map { $0["respondents"] as? Int } == Array(repeating: respondents, count: 4), "\(team): \(line)")
            #expect(line.allSatisfy { $0["suppressed"] as? Bool == false } && line.last?["morale"] as? Double == value, "\(team): \(line)")
            let reps = try #require((report["heatmap"] as? [String: Any])?["rows"] as? [[String: Any]])
            #expect(reps.count == rows, "\(team): \(reps)")
        }
        let eastPage = try w.pulse("report", "--team", "east", "--from", "2026-W44", "--to", "2026-W47", "--format", "md")
        #expect(eastPage.status == 0 && !eastPage.stdout.contains("hidden"), "\(eastPage.stdout)")
    }
}
