import Foundation
import PulseCore
import Testing

/// KPI imports of two CRM exports shaped like Salesforce and HubSpot reports, the weekly
/// KPIs they give, and what bad rows do.
@Suite struct KPITests {
    static let repoFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static let salesforceMaps = ["--map", "email=Assigned Email", "--map", "date=Activity Date",
                                 "--map", "opportunities_created=Opportunities Created", "--map", "deals_won=Closed Won",
                                 "--map", "deals_lost=Closed Lost", "--map", "revenue_won=Amount Won",
                                 "--map", "pipeline_value=Pipeline Amount", "--date-format", "MM/DD/YYYY"]
    static let hubspotMaps = ["--map", "email=Contact owner email", "--map", "date=Activity date", "--map", "calls=Calls logged",
                              "--map", "emails=Emails sent", "--map", "meetings=Meetings booked",
                              "--map", "opportunities_created=Deals created", "--map", "deals_won=Deals won",
                              "--map", "deals_lost=Deals lost", "--map", "revenue_won=Amount won (RUB)", "--date-format", "DD.MM.YYYY"]

    func workspace() throws -> Workspace {
        let w = try Workspace()
        #expect(try w.pulse("init").status == 0)
        try w.write("roster.csv", "email,name,team\nana@acme.example,Ana Lee,west\nben@acme.example,Ben Okafor,west\n")
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        for name in ["salesforce-activity.csv", "hubspot-activity.csv"] {
            try FileManager.default.copyItem(at: Self.repoFixtures.appendingPathComponent(name), to: w.dir.appendingPathComponent(name))
        }
        return w
    }

    func rows(_ w: Workspace, by: String = "rep") throws -> [String: [String: Any]] {
        let json = try #require(try w.pulse("kpi", "show", "--by", by, "--from", "2026-W45", "--to", "2026-W46", "--format", "json").json()
            as? [String: Any])
        var out: [String: [String: Any]] = [:]
        for r in json["rows"] as! [[String: Any]] { out["\(r[by]!) \(r["week"]!)"] = r }
        return out
    }

    @Test func salesforceAndHubSpotExportsGiveTheContractsWeeklyKPIs() throws {
        let w = try workspace()
        defer { w.remove() }
        let sf = try w.pulse(["kpi", "import", "salesforce-activity.csv"] + Self.salesforceMaps)
        #expect(sf.status == 0, "\(sf.stderr)")
        #expect(sf.stderr.contains("activity: 5 added, 0 updated, 0 unchanged (2026-11-02 to 2026-11-09)"), "\(sf.stderr)")
        #expect(sf.stderr.contains("warning: salesforce-activity.csv: column \"Comments\" is not an activity column"))
        let hs = try w.pulse(["kpi", "import", "hubspot-activity.csv"] + Self.hubspotMaps)
        #expect(hs.status == 0 && hs.stderr.contains("3 added"), "\(hs.stderr)")
        try w.write("quota.csv", "email,period,quota\nana@acme.example,2026-11,\"30,000\"\n")
        // "30,000" alone could be 30.000: --decimal . says which.
        #expect(try w.pulse("kpi", "import", "--quota", "quota.csv").status == 65)
        #expect(try w.pulse("kpi", "import", "--quota", "quota.csv", "--decimal", ".").status == 0)

        let r = try rows(w)
        let ana45 = try #require(r["ana@acme.example 2026-W45"])
        // 12 + 9 + (empty) + 5 calls: an empty cell is missing, not zero.
        #expect(ana45["calls"] as? Int == 26 && ana45["emails"] as? Int == 80 && ana45["meetings"] as? Int == 7)
        #expect(ana45["activity"] as? Int == 113 && ana45["opportunities_created"] as? Int == 1)
        #expect(ana45["deals_won"] as? Int == 1 && ana45["deals_lost"] as? Int == 1 && ana45["win_rate"] as? Double == 0.5)
        #expect(ana45["revenue_won"] as? Double == 4250.5 && ana45["avg_deal_size"] as? Double == 4250.5)
        // 30,000 over November's 30 days: 7,000 on the week's seven days.
        #expect(ana45["quota_attainment"] as? Double == 0.607)
        let ana46 = try #require(r["ana@acme.example 2026-W46"])
        #expect(ana46["revenue_won"] as? Double == 1234.5, "1 234,50 ₽")
        let ben45 = try #require(r["ben@acme.example 2026-W45"])
        #expect(ben45["win_rate"] as? Double == 0 && ben45["avg_deal_size"] is NSNull, "no win: the average is missing, not 0")
        #expect(ben45["quota_attainment"] is NSNull, "no quota")
        let ben46 = try #require(r["ben@acme.example 2026-W46"])
        #expect(ben46["calls"] as? Int == 18 && ben46["emails"] as? Int == 10 && ben46["avg_deal_size"] as? Double == 6000)

        // By team, and the share of reps at or above quota.
        let team = try #require(try w.pulse("kpi", "show", "--from", "2026-W45", "--to", "2026-W46", "--format", "json").json()
            as? [String: Any])
        let shares = try #require(team["quota_periods"] as? [[String: Any]])
        #expect(shares.count == 1 && shares[0]["period"] as? String == "2026-11" && shares[0]["reps"] as? Int == 1
                && shares[0]["at_or_above_quota"] as? Int == 0)

        // Again: nothing changes.
        let again = try w.pulse(["kpi", "import", "salesforce-activity.csv"] + Self.salesforceMaps)
        #expect(again.stderr.contains("0 added, 0 updated, 5 unchanged"), "\(again.stderr)")
    }

    @Test func badRowsAreRefusedWholly() throws {
        let w = try workspace()
        defer { w.remove() }
        try w.write("bad.csv", """
            email,date,calls,revenue_won
            ana@acme.example,2026-11-02,3,100
            ana@acme.example,2026-11-31,3,100
            nobody@acme.example,2026-11-03,3,100
            ben@acme.example,2026-11-03,3.5,100
            ben@acme.example,2026-11-04,3,ten dollars
            ben@acme.example,2026-11-05,-2,100

            """)
        let r = try w.pulse("kpi", "import", "bad.csv")
        #expect(r.status == 65)
        for expected in ["bad.csv:3: date: \"2026-11-31\" is not a date", "bad.csv:4: email: nobody@acme.example is not in the roster",
                         "bad.csv:5: calls: \"3.5\" is not a whole number", "bad.csv:6: revenue_won: \"ten dollars\" is not an amount",
                         "bad.csv:7: calls: \"-2\" is not a whole number"] {
            #expect(r.stderr.contains(expected), "\(expected) in \(r.stderr)")
        }
        #expect(try rows(w).isEmpty, "all or nothing: line 2 was not kept")
        let quota = try w.pulse("kpi", "import", "--quota", "bad.csv")
        #expect(quota.status == 65 && quota.stderr.contains("period"), "\(quota.stderr)")
        let map = try w.pulse("kpi", "import", "bad.csv", "--map", "nonsense=X")
        #expect(map.status == 64)
    }

    /// Runs a KPI import that must be refused: exit 65, each expected error, nothing stored.
    func refuses(_ w: Workspace, _ args: [String], _ expected: [String]) throws {
        let r = try w.pulse(args)
        #expect(r.status == 65, "\(args): exit \(r.status), \(r.stderr)")
        for e in expected { #expect(r.stderr.contains("error: \(e)"), "\(e) in \(r.stderr)") }
        #expect(try rows(w).isEmpty, "nothing stored: \(args)")
    }

    @Test func amountsAndCountsTooLargeToHoldAreRefusedNotACrash() throws {
        let w = try workspace()
        defer { w.remove() }
        // 17 digits overflowed the fast path's cents (SIGILL); the slow path's limit is the same.
        try w.write("big.csv", """
            email,date,calls,revenue_won,pipeline_value
            ana@acme.example,2026-11-02,3,99999999999999999,100
            ana@acme.example,2026-11-03,99999999999999999999,100,100
            ana@acme.example,2026-11-04,1000000001,100,"$99,999,999,999,999.00"
            ana@acme.example,2026-11-05,999999999999999999,100,100

            """)
        try refuses(w, ["kpi", "import", "big.csv"], [
            "big.csv:2: revenue_won: \"99999999999999999\" is too large",
            "big.csv:3: calls: \"99999999999999999999\" is too large",
            "big.csv:4: calls: \"1000000001\" is too large", "big.csv:4: pipeline_value: \"$99,999,999,999,999.00\" is too large",
            "big.csv:5: calls: \"999999999999999999\" is too large",
        ])
        try w.write("quota.csv", "email,period,quota\nana@acme.example,2026-11,123456789012345678\n")
        let q = try w.pulse("kpi", "import", "--quota", "quota.csv")
        #expect(q.status == 65 && q.stderr.contains("quota.csv:2: quota: \"123456789012345678\" is too large"), "\(q.stderr)")
        // The largest amounts and counts are kept, and a week of them sums without overflow.
        try w.write("max.csv", "email,date,calls,revenue_won\n" + (2...8).map { "ana@acme.example,2026-11-0\($0),1000000000,10000000000000\n" }.joined())
        let max = try w.pulse("kpi", "import", "max.csv")
        #expect(max.status == 0, "\(max.stderr)")
        let week = try #require(try rows(w)["ana@acme.example 2026-W45"])
        #expect(week["calls"] as? Int == 7_000_000_000 && week["revenue_won"] as? Double == 70_000_000_000_000, "\(week)")
    }

    @Test func cellsThatDoNotReadCleanlyAreRefusedWithTheSpellingThatWould() throws {
        let w = try workspace()
        defer { w.remove() }
        try w.write("bad.csv", """
            email,date,calls,revenue_won
            ana@acme.example,2026-11-02,3,12k
            ana@acme.example,2026-11-03,3,$1.5M
            ana@acme.example,2026-11-04,3,1.2.3
            ana@acme.example,2026-11-05,"12,5",100
            ana@acme.example,2026-11-06xyz,3,100
            ben@acme.example,11/03/2026,3,100
            ben@acme.example,2026-11-03,3,"1,2345"

            """)
        try refuses(w, ["kpi", "import", "bad.csv"], [
            "bad.csv:2: revenue_won: \"12k\" is not an amount of money", "bad.csv:3: revenue_won: \"$1.5M\" is not an amount of money",
            "bad.csv:4: revenue_won: \"1.2.3\" is not an amount of money", "bad.csv:5: calls: \"12,5\" is not a whole number",
            "bad.csv:6: date: \"2026-11-06xyz\" is not a date as YYYY-MM-DD", "bad.csv:7: date: \"11/03/2026\" is not a date as YYYY-MM-DD",
            "bad.csv:8: revenue_won: \"1,2345\" is not an amount of money",
        ])
        let r = try w.pulse("kpi", "import", "bad.csv")
        // The spelling that would read.
        for hint in ["write it in full, like 12000", "write it in full, like 1500000", "write 2026-11-06", "--date-format MM/DD/YYYY",
                     "like 1234 or 1,234"] {
            #expect(r.stderr.contains(hint), "\(hint) in \(r.stderr)")
        }
        // Spellings that do read, with what they mean.
        try w.write("good.csv", """
            email,date,calls,revenue_won,pipeline_value
            ana@acme.example,2026-11-02,"1,234",.50,EUR 1200
            ana@acme.example,2026-11-03T10:00:00+01:00,1 000,"1.234,50 €","$1,200.00"
            ben@acme.example,2026-11-02 09:30,12,"1 200,50",1'234.50

            """)
        let good = try w.pulse("kpi", "import", "good.csv")
        #expect(good.status == 0, "\(good.stderr)")
        let r45 = try rows(w)
        #expect(r45["ana@acme.example 2026-W45"]?["calls"] as? Int == 2234, "\(r45)")
        #expect(r45["ana@acme.example 2026-W45"]?["revenue_won"] as? Double == 1235, ".50 is half a unit, not fifty")
        #expect(r45["ben@acme.example 2026-W45"]?["revenue_won"] as? Double == 1200.5)
    }

    /// `1,234`, `1.234` and `1,5` could be read with either mark for decimals: the file's
    /// other amounts decide, or `--decimal` does, each with a warning naming the line;
    /// when neither does, or the file shows both marks, the file is refused.
    @Test func amountsThatReadTwoWaysNeedTheFileOrDecimalToSay() throws {
        let w = try workspace()
        defer { w.remove() }
        try w.write("plain.csv", "email,date,calls,revenue_won\nana@acme.example,2026-11-02,1,\"1,234\"\nana@acme.example,2026-11-03,1,\"1,5\"\n")
        try refuses(w, ["kpi", "import", "plain.csv"], [
            "plain.csv:2: revenue_won: \"1,234\" (and 1 more amount like it) could be read with \",\" or \".\" as the decimal mark, "
                + "and no amount in the file shows which mark is for decimals; pass --decimal . (1,234.50) or --decimal , (1.234,50)",
        ])
        // --decimal , reads 1,5 and refuses 1,234 (three decimals); --decimal . the other way round.
        try refuses(w, ["kpi", "import", "plain.csv", "--decimal", ","], [
            "plain.csv:2: revenue_won: \"1,234\" is not an amount of money: with \",\" as the decimal mark (--decimal ,), it has more than two decimals",
        ])
        try refuses(w, ["kpi", "import", "plain.csv", "--decimal", "."], [
            "plain.csv:3: revenue_won: \"1,5\" is not an amount of money: with \".\" as the decimal mark (--decimal .), after a thousands separator",
        ])
        // Quotas: the same rule.
        try w.write("quota.csv", "email,period,quota\nana@acme.example,2026-11,\"1.234\"\n")
        let q = try w.pulse("kpi", "import", "--quota", "quota.csv")
        #expect(q.status == 65 && q.stderr.contains("quota.csv:2: quota: \"1.234\" could be read with"), "\(q.stderr)")
        let q2 = try w.pulse("kpi", "import", "--quota", "quota.csv", "--decimal", ",")
        #expect(q2.status == 0 && q2.stderr.contains("warning: quota.csv: 1 amount read with \",\" as the decimal mark, as --decimal , says; "
            + "the first on line 2 (quota \"1.234\" as 1234.00)"), "\(q2.stderr)")
        // A file that marks decimals both ways cannot decide for its lone commas.
        try w.write("mixed.csv", """
            email,date,calls,revenue_won,pipeline_value
            ana@acme.example,2026-11-02,1,"2,500.50",100
            ana@acme.example,2026-11-03,1,100,"2.500,50"
            ana@acme.example,2026-11-04,1,"7,5",100

            """)
        try refuses(w, ["kpi", "import", "mixed.csv"], [
            "mixed.csv:4: revenue_won: \"7,5\" could be read with \",\" or \".\" as the decimal mark, and the file marks decimals "
                + "with \".\" on line 2 (\"2,500.50\") and with \",\" on line 3 (\"2.500,50\")",
        ])
        // The file says: line 4's 1,234.00 marks decimals with "." (a later line, in another column).
        try w.write("us.csv", """
            email,date,calls,revenue_won,pipeline_value
            ana@acme.example,2026-11-02,1,"1,234",
            ana@acme.example,2026-11-03,1,"$2,000",
            ben@acme.example,2026-11-02,1,,"1,234.00"

            """)
        let us = try w.pulse("kpi", "import", "us.csv")
        #expect(us.status == 0, "\(us.stderr)")
        #expect(!us.stderr.contains("warning") && us.stderr.contains("us.csv: 2 amounts read with \".\" as the decimal mark, as line 4's \"1,234.00\" shows; "
            + "the first on line 2 (revenue_won \"1,234\" as 1234.00)"), "\(us.stderr)")
        #expect(try rows(w)["ana@acme.example 2026-W45"]?["revenue_won"] as? Double == 3234)
        // And a Russian export: 1 234,50 says "," for its 0,5.
        try w.write("ru.csv", "email,date,calls,revenue_won\nben@acme.example,2026-11-03,1,\"0,5\"\nben@acme.example,2026-11-04,1,\"1 234,50 ₽\"\n")
        let ru = try w.pulse("kpi", "import", "ru.csv")
        #expect(ru.status == 0 && ru.stderr.contains("1 amount read with \",\" as the decimal mark, as line 3's \"1 234,50 ₽\" shows"), "\(ru.stderr)")
        #expect(try rows(w)["ben@acme.example 2026-W45"]?["revenue_won"] as? Double == 1235)
        // --decimal , reads 1234.50 (a plain point) as a refusal, not as the fast path's 1234.50.
        try w.write("point.csv", "email,date,calls,revenue_won\nben@acme.example,2026-11-05,1,1234.50\n")
        let point = try w.pulse("kpi", "import", "point.csv", "--decimal", ",")
        #expect(point.status == 65 && point.stderr.contains("point.csv:2: revenue_won: \"1234.50\""), "\(point.stderr)")
        let word = try w.pulse("kpi", "import", "point.csv", "--decimal", "x")
        #expect(word.status == 64 && word.stderr.contains("--decimal"), "\(word.stderr)")
    }

    @Test func invalidUTF8InKPICellsIsRefusedAsInvalidText() throws {
        let w = try workspace()
        defer { w.remove() }
        let bytes = Array("email,date,calls,revenue_won\nana@acme.example,2026-11-02,".utf8) + [0xFF] + Array(",100\nana@acme.example,".utf8)
            + [0xC3] + Array(",3,100\n".utf8) + [0xE9] + Array("@acme.example,2026-11-04,3,100\nben@acme.example,2026-11-04,3,1".utf8) + [0xA0] + [0x0A]
        try Data(bytes).write(to: URL(fileURLWithPath: w.path("bad.csv")))
        try refuses(w, ["kpi", "import", "bad.csv"], ["bad.csv:2: calls: is not valid UTF-8", "bad.csv:3: date: is not valid UTF-8",
                                                      "bad.csv:4: email: is not valid UTF-8", "bad.csv:5: revenue_won: is not valid UTF-8"])
        let r = try w.pulse("kpi", "import", "bad.csv")
        #expect(!r.stderr.contains("is empty"), "invalid text is not an empty cell: \(r.stderr)")
    }

    @Test func nulBytesAndRaggedRowsAreRefusedWithTheirLine() throws {
        let w = try workspace()
        defer { w.remove() }
        try w.write("bad.csv", "email,date,calls,meetings\nana@acme.example,2026-11-02,3,1\nana@acme.example,2026-11-03,3\n"
                    + "ana@acme.example,2026-11-04,3,1,7\nana\u{0}@acme.example,2026-11-05,3,1\nana@acme.example,2026-11-06,3\u{0}1,1\n")
        try refuses(w, ["kpi", "import", "bad.csv"], [
            "bad.csv:3: meetings: the row has 3 fields but the header has 4: the last field (meetings) is missing; if it is empty, end the line with \",\"",
            "bad.csv:4: the row has 5 fields but the header has 4", "bad.csv:5: email: contains a NUL byte",
            "bad.csv:6: calls: contains a NUL byte",
        ])
    }

    @Test func lineBreaksAroundACellAreTrimmedAndACellOfOnlyALineBreakIsMissing() throws {
        let w = try workspace()
        defer { w.remove() }
        try w.write("crlf.csv", "email,date,calls,emails\r\n\"ana@acme.example\r\n\",\"2026-11-02\r\n\",\"\r\n12\r\n\",\"\r\n\"\r\n")
        let r = try w.pulse("kpi", "import", "crlf.csv")
        #expect(r.status == 0, "\(r.stderr)")
        let ana = try #require(try rows(w)["ana@acme.example 2026-W45"])
        #expect(ana["calls"] as? Int == 12 && ana["emails"] is NSNull, "\(ana)")
    }

    @Test func unknownEmailsFutureDatesDuplicatesAndOverlappingQuotas() throws {
        let w = try workspace()
        defer { w.remove() }
        try w.write("a.csv", """
            email,date,calls
            ana@acme.example,2026-11-02,3
            nobody@acme.example,2026-11-03,4
            ana@acme.example,2026-11-02,3
            ben@acme.example,2027-01-04,5
            other@acme.example,2026-11-03,4

            """)
        let refused = try w.pulse("kpi", "import", "a.csv")
        #expect(refused.status == 65 && refused.stderr.contains("a.csv:3: email: nobody@acme.example is not in the roster"))
        let skipped = try w.pulse(["kpi", "import", "a.csv", "--skip-unknown"], env: ["PULSE_NOW": "2026-11-23T09:00:00Z"])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stderr.contains("2 added, 0 updated, 0 unchanged, 2 skipped"), "\(skipped.stderr)")
        #expect(skipped.stderr.contains("2 rows of 2 emails not in the roster were skipped (nobody@acme.example, other@acme.example)"))
        #expect(skipped.stderr.contains("a.csv:5: date: 2027-01-04 is in the future"), "\(skipped.stderr)")
        let again = try w.pulse(["kpi", "import", "a.csv", "--skip-unknown"], env: ["PULSE_NOW": "2026-11-23T09:00:00Z"])
        #expect(again.stderr.contains("0 added, 0 updated, 2 unchanged"), "\(again.stderr)")

        try w.write("dup.csv", "email,date,calls\nben@acme.example,2026-11-02,3\nana@acme.example,2026-11-02,9\nben@acme.example,2026-11-02,4\n")
        let dup = try w.pulse("kpi", "import", "dup.csv")
        #expect(dup.status == 65 && dup.stderr.contains("dup.csv:4: date: another row for the same rep and day, on line 2"), "\(dup.stderr)")
        let ana = try #require(try rows(w)["ana@acme.example 2026-W45"])
        #expect(ana["calls"] as? Int == 3, "the refused file changed nothing")

        try w.write("q.csv", "email,period,quota\nana@acme.example,2026-Q4,30000\nana@acme.example,2026-11,10000\nben@acme.example,2026-11,0\n")
        let q = try w.pulse("kpi", "import", "--quota", "q.csv")
        #expect(q.status == 65, "\(q.stderr)")
        #expect(q.stderr.contains("q.csv:3: period: ana@acme.example: 2026-11 overlaps the quota for 2026-Q4 on line 2"), "\(q.stderr)")
        #expect(q.stderr.contains("q.csv:4: quota: \"0\" is not an amount of money above 0"), "\(q.stderr)")
        try w.write("q1.csv", "email,period,quota\nana@acme.example,2026-Q4,30000\n")
        #expect(try w.pulse("kpi", "import", "--quota", "q1.csv").status == 0)
        try w.write("q2.csv", "email,period,quota\nana@acme.example,2026-12,10000\n")
        let stored = try w.pulse("kpi", "import", "--quota", "q2.csv")
        #expect(stored.status == 65 && stored.stderr.contains("overlaps the quota for 2026-Q4 already stored"), "\(stored.stderr)")
    }

    @Test func correlateJoinsMoraleWithKPIsAndRefusesAnonymousSurveys() throws {
        let w = try workspace()
        defer { w.remove() }
        var roster = "email,name,team\n", responses = "email,survey,period,energy,workload,support,quota_confidence\n"
        var activity = "email,date,calls\n"
        for rep in 0..<6 {
            roster += "r\(rep)@acme.example,R \(rep),\(rep < 3 ? "east" : "west")\n"
            for week in 40...47 {
                let mood = 1 + (rep * 3 + week * 7) % 5
                responses += "r\(rep)@acme.example,weekly-pulse,2026-W\(week),\(mood),\(mood),3,3\n"
                let monday = try #require(Period("2026-W\(week)")).start
                activity += "r\(rep)@acme.example,\(monday),\(10 + 3 * mood + rep)\n"
            }
        }
        try w.write("roster.csv", roster)
        try w.write("responses.csv", responses)
        try w.write("activity.csv", activity)
        for args in [["roster", "import", "roster.csv"], ["responses", "import", "responses.csv"], ["kpi", "import", "activity.csv"]] {
            let r = try w.pulse(args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
        }
        let c = try #require(try w.pulse("correlate", "--survey", "weekly-pulse", "--kpi", "calls", "--from", "2026-W40",
                                         "--to", "2026-W47", "--format", "json").json() as? [String: Any])
        #expect(c["n"] as? Int == 48 && c["reps"] as? Int == 6)
        let within = try #require(c["within_rep"] as? [String: Any])
        #expect((within["r"] as? Double ?? 0) > 0.99 && within["df"] as? Int == 41)
        #expect((c["summary"] as? String)?.hasPrefix("Within the same rep, weeks of higher morale came with clearly more calls") == true)
        let table = try w.pulse("correlate", "--survey", "weekly-pulse", "--kpi", "calls", "--from", "2026-W40", "--to", "2026-W47")
        #expect(table.stdout.contains("within rep") && table.stdout.contains("association, not cause"))
        // By team: each team has 3 reps, under the threshold of 5.
        let byTeam = try #require(try w.pulse("correlate", "--survey", "weekly-pulse", "--kpi", "calls", "--by", "team",
                                              "--from", "2026-W40", "--to", "2026-W47", "--format", "json").json() as? [String: Any])
        #expect((byTeam["groups"] as? [[String: Any]])?.allSatisfy { $0["suppressed"] as? Bool == true } == true)
        // Anonymous: cannot be joined per rep.
        try w.write("enps.csv", "email,survey,period,enps\n" + (0..<5).map { "r\($0)@acme.example,enps,2026-Q4,9\n" }.joined())
        #expect(try w.pulse("responses", "import", "enps.csv").status == 0)
        let anon = try w.pulse("correlate", "--survey", "enps", "--kpi", "calls", "--period", "2026-Q4")
        #expect(anon.status == 64 && anon.stderr.contains("anonymous"), "\(anon.stderr)")
    }

    @Test func driversRankTheScaleQuestionsByTheirLinkWithENPS() throws {
        let w = try workspace()
        defer { w.remove() }
        try w.write("Surveys/check.yaml", """
            id: check
            title: Check
            anonymity: anonymous
            questions:
              - {id: energy, type: scale, text: Energy, min: 1, max: 5}
              - {id: support, type: scale, text: Manager support, min: 1, max: 5}
              - {id: enps, type: enps, text: Recommend?}

            """)
        var roster = "email,name,team\n", responses = "email,survey,period,energy,support,enps\n"
        for i in 0..<12 {
            roster += "p\(i)@acme.example,P \(i),west\n"
            let support = 1 + i % 5, energy = 1 + (i * 7) % 5
            responses += "p\(i)@acme.example,check,2026-Q4,\(energy),\(support),\(min(10, support * 2 + i % 2))\n"
        }
        try w.write("roster.csv", roster)
        try w.write("responses.csv", responses)
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        let imported = try w.pulse("responses", "import", "responses.csv")
        #expect(imported.status == 0, "\(imported.stderr)")
        let d = try #require(try w.pulse("drivers", "--survey", "check", "--format", "json").json() as? [String: Any])
        let drivers = try #require(d["drivers"] as? [[String: Any]])
        #expect(drivers.map { $0["question"] as? String } == ["support", "energy"])
        #expect((drivers[0]["r"] as? Double ?? 0) > 0.9 && drivers[0]["n"] as? Int == 12)
        let table = try w.pulse("drivers", "--survey", "check")
        #expect(table.stdout.contains("\"Manager support\" go most with the eNPS answer"), "\(table.stdout)")
        // Under the threshold: nothing shown.
        try w.write("pulse.yaml", "min_group_size: 20\n")
        let hidden = try #require(try w.pulse("drivers", "--survey", "check", "--format", "json").json() as? [String: Any])
        #expect(hidden["suppressed"] as? Bool == true && (hidden["drivers"] as? [Any])?.isEmpty == true)
    }
}
