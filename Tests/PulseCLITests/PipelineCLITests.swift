import Foundation
import PulseCore
import Testing

/// `kpi import --opportunities` and `--leads` on exports shaped like Salesforce's and
/// HubSpot's (`Tests/Fixtures`, read with the `--map` lines the README shows), and the
/// pipeline KPIs `kpi show` and `correlate` give from them, worked out by hand for one week.
@Suite struct PipelineCLITests {
    static let salesforceOpportunities = ["--map", "id=Opportunity ID", "--map", "email=Owner Email", "--map", "created=Created Date",
                                          "--map", "closed=Close Date", "--map", "status=Stage", "--date-format", "MM/DD/YYYY"]
    static let salesforceLeads = ["--map", "id=Lead ID", "--map", "email=Lead Owner Email", "--map", "created=Create Date",
                                  "--map", "converted=Converted Date", "--date-format", "MM/DD/YYYY"]
    static let hubspotDeals = ["--map", "id=Record ID", "--map", "email=Deal owner email", "--map", "created=Create Date",
                               "--map", "closed=Close Date", "--map", "status=Deal Stage"]
    static let hubspotLeads = ["--map", "id=Record ID", "--map", "email=Contact owner email", "--map", "created=Create Date",
                               "--map", "converted=Became an Opportunity Date"]

    func workspace() throws -> Workspace {
        let w = try Workspace()
        #expect(try w.pulse("init").status == 0)
        try w.write("roster.csv", "email,name,team\nana@acme.example,Ana Lee,west\nben@acme.example,Ben Okafor,west\n")
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        for name in ["salesforce-opportunities.csv", "salesforce-leads.csv", "hubspot-deals.csv", "hubspot-leads.csv"] {
            try FileManager.default.copyItem(at: KPITests.repoFixtures.appendingPathComponent(name), to: w.dir.appendingPathComponent(name))
        }
        return w
    }

    func rows(_ w: Workspace, by: String, week: String = "2026-W46") throws -> [String: [String: Any]] {
        let r = try w.pulse("kpi", "show", "--by", by, "--from", week, "--to", week, "--format", "json")
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try r.json() as? [String: Any])
        var out: [String: [String: Any]] = [:]
        for row in json["rows"] as! [[String: Any]] { out["\(row[by]!)"] = row }
        return out
    }

    func close(_ value: Any?, _ expected: Double) -> Bool {
        guard let v = value as? Double ?? (value as? Int).map(Double.init) else { return false }
        return abs(v - expected) < 0.0051
    }

    /// Week 2026-W46 (Sunday 2026-11-15; its quarter from 2026-08-17). Ana: open A4 and A5;
    /// won A1 (28 days) and A2 (42), lost A3: cycle 35, win rate 2/3, deal 10,000, velocity
    /// 2 × 2/3 × 10,000 / 35 = 380.95; of her leads since 2026-08-17 (three), one converted
    /// by Sunday. Ben: B2 is open until the 16th; B1 was won before the quarter; B3 lost:
    /// win rate 0, no cycle, no deal size, no velocity; his one lead of the quarter converted.
    @Test func salesforceExportsGiveTheContractsPipelineKPIs() throws {
        let w = try workspace()
        defer { w.remove() }
        let opps = try w.pulse(["kpi", "import", "--opportunities", "salesforce-opportunities.csv"] + Self.salesforceOpportunities)
        #expect(opps.status == 0 && opps.stderr.contains("opportunities: 8 added, 0 updated, 0 unchanged (2026-08-03 to 2026-11-16)")
                && opps.stderr.contains("column \"Opportunity Name\" is not a column of an opportunity"), "\(opps.stderr)")
        let again = try w.pulse(["kpi", "import", "--opportunities", "salesforce-opportunities.csv"] + Self.salesforceOpportunities)
        #expect(again.stderr.contains("opportunities: 0 added, 0 updated, 8 unchanged"), "\(again.stderr)")
        let leads = try w.pulse(["kpi", "import", "--leads", "salesforce-leads.csv"] + Self.salesforceLeads)
        #expect(leads.status == 0 && leads.stderr.contains("leads: 5 added, 0 updated, 0 unchanged"), "\(leads.stderr)")

        let reps = try rows(w, by: "rep")
        let ana = try #require(reps["ana@acme.example"]), ben = try #require(reps["ben@acme.example"])
        #expect(ana["opportunities_open"] as? Int == 2 && close(ana["sales_cycle_days"], 35) && close(ana["win_rate_13w"], 0.667)
                && close(ana["avg_deal_size_13w"], 10_000) && close(ana["pipeline_velocity"], 380.95) && close(ana["lead_conversion"], 0.333),
                "\(ana)")
        #expect(ana["calls"] is NSNull && ana["reps"] as? Int == 1, "a rep-week with pipeline figures and no activity")
        #expect(ben["opportunities_open"] as? Int == 1 && ben["sales_cycle_days"] is NSNull && close(ben["win_rate_13w"], 0)
                && ben["avg_deal_size_13w"] is NSNull && ben["pipeline_velocity"] is NSNull && close(ben["lead_conversion"], 1), "\(ben)")
        // The team: opportunities_open summed, every other figure the mean of the reps that have one.
        let west = try #require(try rows(w, by: "team")["west"])
        #expect(west["opportunities_open"] as? Int == 3 && close(west["sales_cycle_days"], 35) && close(west["win_rate_13w"], 0.333)
                && close(west["pipeline_velocity"], 380.95) && close(west["lead_conversion"], 0.667) && west["reps"] as? Int == 2, "\(west)")
        // --team reads only the team's reps: the same figures.
        let teamOnly = try #require(try w.pulse("kpi", "show", "--by", "rep", "--team", "west", "--from", "2026-W46", "--to", "2026-W46",
                                                "--format", "json").json() as? [String: Any])
        let teamRows = try #require(teamOnly["rows"] as? [[String: Any]])
        #expect(teamRows.count == 2 && teamRows.contains { $0["rep"] as? String == "ana@acme.example" && $0["opportunities_open"] as? Int == 2 })
        let csv = try w.pulse("kpi", "show", "--by", "rep", "--from", "2026-W46", "--to", "2026-W46", "--format", "csv")
        #expect(csv.stdout.hasPrefix("rep,week,reps,calls,emails,meetings,activity,opportunities_created,deals_won,deals_lost,revenue_won,"
                                     + "win_rate,avg_deal_size,quota_attainment,opportunities_open,sales_cycle_days,win_rate_13w,"
                                     + "avg_deal_size_13w,pipeline_velocity,lead_conversion,quota_period"), "\(csv.stdout)")
        #expect(csv.stdout.contains("ana@acme.example,2026-W46,1,,,,,,,,,,,,2,35.0,0.667,10000.0,380.95,0.333,"), "\(csv.stdout)")
        let table = try w.pulse("kpi", "show", "--by", "rep", "--from", "2026-W46", "--to", "2026-W46")
        #expect(table.stdout.contains("Pipeline · the trailing quarter") && table.stdout.contains("380.95")
                && table.stdout.contains("No activity in this range"), "\(table.stdout)")

        // The next export: A4 was won on the 13th. Ana now has one open (A5), three won
        // (28, 42 and 24 days; 12,500, 7,500 and 20,000) and one lost.
        var text = try String(contentsOfFile: w.path("salesforce-opportunities.csv"), encoding: .utf8)
        text = text.replacingOccurrences(of: "\"10/20/2026\",\"12/15/2026\",\"Negotiation/Review\"", with: "\"10/20/2026\",\"11/13/2026\",\"Closed Won\"")
        try w.write("next.csv", text)
        let next = try w.pulse(["kpi", "import", "--opportunities", "next.csv"] + Self.salesforceOpportunities)
        #expect(next.stderr.contains("opportunities: 0 added, 1 updated, 7 unchanged"), "\(next.stderr)")
        let after = try #require(try rows(w, by: "rep")["ana@acme.example"])
        #expect(after["opportunities_open"] as? Int == 1 && close(after["sales_cycle_days"], 31.3) && close(after["win_rate_13w"], 0.75)
                && close(after["avg_deal_size_13w"], 13_333.33) && close(after["pipeline_velocity"], 319.15), "\(after)")
    }

    @Test func hubspotExportsImportWithTheirStagesAndTimes() throws {
        let w = try workspace()
        defer { w.remove() }
        let deals = try w.pulse(["kpi", "import", "--opportunities", "hubspot-deals.csv"] + Self.hubspotDeals)
        #expect(deals.status == 0 && deals.stderr.contains("opportunities: 4 added, 0 updated, 0 unchanged (2026-10-01 to 2026-11-06)"),
                "\(deals.stderr)")
        let leads = try w.pulse(["kpi", "import", "--leads", "hubspot-leads.csv"] + Self.hubspotLeads)
        #expect(leads.status == 0 && leads.stderr.contains("leads: 3 added"), "\(leads.stderr)")
        // W45 (Sunday 2026-11-08): Ana won 9001 in 10 days and lost 9003 (closedlost); 9002 is open.
        // Ben won 9004 (closedwon) in 32 days and has nothing open: velocity 0.
        let reps = try rows(w, by: "rep", week: "2026-W45")
        let ana = try #require(reps["ana@acme.example"]), ben = try #require(reps["ben@acme.example"])
        #expect(ana["opportunities_open"] as? Int == 1 && close(ana["sales_cycle_days"], 10) && close(ana["win_rate_13w"], 0.5)
                && close(ana["avg_deal_size_13w"], 1_000) && close(ana["pipeline_velocity"], 50) && close(ana["lead_conversion"], 0.5), "\(ana)")
        #expect(ben["opportunities_open"] as? Int == 0 && close(ben["pipeline_velocity"], 0) && close(ben["lead_conversion"], 1), "\(ben)")
    }

    @Test func badPipelineFilesAreRefusedWholly() throws {
        let w = try workspace()
        defer { w.remove() }
        try w.write("bad.csv", """
            id,email,created,closed,status,amount
            A,ana@acme.example,2026-11-02,2026-11-01,won,100
            B,ana@acme.example,2026-11-02,,lost,
            C,zed@acme.example,2026-11-02,,open,
            D,ben@acme.example,2026-11-02,,,
            E,ben@acme.example,2026-11-02,2026-11-03,won,"12,5"

            """)
        let r = try w.pulse("kpi", "import", "--opportunities", "bad.csv")
        #expect(r.status == 65, "\(r.stderr)")
        for part in ["bad.csv:2: closed: 2026-11-01 is before the day it was created", "bad.csv:3: closed: is empty, but \"lost\" is lost",
                     "bad.csv:4: email: zed@acme.example is not in the roster", "bad.csv:5: status: is empty"] {
            #expect(r.stderr.contains(part), "\(part): \(r.stderr)")
        }
        let skipped = try w.pulse("kpi", "import", "--opportunities", "bad.csv", "--skip-unknown")
        #expect(skipped.status == 65 && !skipped.stderr.contains("zed@acme.example is not in the roster"), "\(skipped.stderr)")
        let both = try w.pulse("kpi", "import", "--opportunities", "--leads", "bad.csv")
        #expect(both.status == 64 && both.stderr.contains("give one of --quota, --opportunities and --leads"), "\(both.stderr)")
        #expect(try rows(w, by: "rep").isEmpty, "nothing was written")
        // roster erase takes a rep's opportunities and leads with the rest.
        #expect(try w.pulse(["kpi", "import", "--opportunities", "salesforce-opportunities.csv"] + Self.salesforceOpportunities).status == 0)
        #expect(try w.pulse(["kpi", "import", "--leads", "salesforce-leads.csv"] + Self.salesforceLeads).status == 0)
        let erase = try w.pulse("roster", "erase", "ben@acme.example")
        #expect(erase.stdout.contains("3 opportunities") && erase.stdout.contains("2 leads"), "\(erase.stdout)\(erase.stderr)")
        #expect(try w.pulse("roster", "erase", "ben@acme.example", "--yes").status == 0)
        #expect(try rows(w, by: "rep")["ben@acme.example"] == nil)
    }

    /// `correlate --kpi pipeline_velocity` pairs each rep's weekly morale with the week's
    /// velocity: as many pairs as there are rep-weeks with both.
    @Test func moraleCorrelatesWithPipelineVelocity() throws {
        let w = try workspace()
        defer { w.remove() }
        #expect(try w.pulse(["kpi", "import", "--opportunities", "salesforce-opportunities.csv"] + Self.salesforceOpportunities).status == 0)
        var responses = "email,survey,period,energy,workload,support,quota_confidence\n"
        for week in 38...50 {
            for (i, rep) in ["ana", "ben"].enumerated() {
                responses += "\(rep)@acme.example,weekly-pulse,2026-W\(week),\(1 + (week + i) % 5),3,\(1 + (week * 2 + i) % 5),4\n"
            }
        }
        try w.write("responses.csv", responses)
        #expect(try w.pulse("responses", "import", "responses.csv").status == 0)
        let r = try w.pulse("correlate", "--survey", "weekly-pulse", "--kpi", "pipeline_velocity", "--from", "2026-W38", "--to", "2026-W50",
                            "--format", "json")
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try r.json() as? [String: Any])
        let shown = try #require(try w.pulse("kpi", "show", "--by", "rep", "--from", "2026-W38", "--to", "2026-W50", "--format", "json").json()
            as? [String: Any])
        let withVelocity = (shown["rows"] as! [[String: Any]]).filter { !($0["pipeline_velocity"] is NSNull) }.count
        #expect(json["kpi"] as? String == "pipeline_velocity" && json["n"] as? Int == withVelocity && withVelocity >= 10, "\(json)")

        // The report of every team sets the same rep-weeks against morale, and draws them;
        // the report of team west (2 reps) keeps its rep-weeks to itself under the threshold.
        let range = ["--kpi", "pipeline_velocity", "--from", "2026-W38", "--to", "2026-W50"]
        let report = try w.pulse(["report"] + range + ["--format", "json"])
        #expect(report.status == 0, "\(report.stderr)")
        let correlation = try #require((try report.json() as? [String: Any])?["correlation"] as? [String: Any])
        #expect(correlation["kpi"] as? String == "pipeline_velocity" && correlation["n"] as? Int == withVelocity, "\(correlation)")
        let html = try w.pulse(["report"] + range)
        #expect(html.status == 0 && html.stdout.contains("Weekly morale against pipeline velocity (money per day)")
                && html.stdout.components(separatedBy: "<circle class=\"dot\"").count - 1 == withVelocity, "the scatter has a point per rep-week")
        let west = try w.pulse(["report", "--team", "west"] + range + ["--format", "json"])
        let hidden = try #require((try west.json() as? [String: Any])?["correlation"] as? [String: Any])
        #expect(hidden["suppressed"] as? Bool == true && hidden["n"] as? Int == 0, "\(hidden)")
        let westPage = try w.pulse(["report", "--team", "west"] + range)
        #expect(!westPage.stdout.contains("<circle class=\"dot\""), "no point of a team under the threshold is drawn")
    }
    /// Ana's note as of 2026-11-18 compares W46 (the week before) with her own average of
    /// W36 to W45 and the team's median in W46, each read here from `kpi show`.
    @Test func aPrepNoteSetsThePipelineAgainstTheRepsOwnAverageAndTheTeamsMedian() throws {
        let w = try workspace()
        defer { w.remove() }
        #expect(try w.pulse(["kpi", "import", "--opportunities", "salesforce-opportunities.csv"] + Self.salesforceOpportunities).status == 0)
        #expect(try w.pulse(["kpi", "import", "--leads", "salesforce-leads.csv"] + Self.salesforceLeads).status == 0)
        let r = try w.pulse(["prep", "ana@acme.example", "--as-of", "2026-11-18", "--format", "json"], env: ["PULSE_NOW": "2026-11-18T08:00:00Z"])
        #expect(r.status == 0, "\(r.stderr)")
        let note = try #require(try r.json() as? [String: Any])
        let week = try #require((note["kpis"] as? [String: Any])?["week"] as? [String: Any])
        #expect(week["period"] as? String == "2026-W46")
        let values = try #require(week["values"] as? [String: Any]), own = try #require(week["own_average"] as? [String: Any])
        let median = try #require(week["team_median"] as? [String: Any])

        let shown = try #require(try w.pulse("kpi", "show", "--by", "rep", "--from", "2026-W36", "--to", "2026-W45", "--format", "json").json()
            as? [String: Any])
        let earlier = (shown["rows"] as! [[String: Any]]).filter { $0["rep"] as? String == "ana@acme.example" }
        #expect(earlier.count == 10, "W36 to W45 all have figures: \(earlier.count)")
        let thisWeek = try rows(w, by: "rep")
        for kpi in ["opportunities_open", "sales_cycle_days", "win_rate_13w", "avg_deal_size_13w", "pipeline_velocity", "lead_conversion"] {
            func number(_ v: Any?) -> Double? { v as? Double ?? (v as? Int).map(Double.init) }
            let mine = earlier.compactMap { number($0[kpi]) }
            let expectedAverage = mine.isEmpty ? nil : mine.reduce(0, +) / Double(mine.count)
            let team = thisWeek.values.compactMap { number($0[kpi]) }.sorted()
            let expectedMedian = team.isEmpty ? nil : team.count % 2 == 1 ? team[team.count / 2] : (team[team.count / 2 - 1] + team[team.count / 2]) / 2
            #expect(close(values[kpi], number(thisWeek["ana@acme.example"]?[kpi]) ?? .nan), "\(kpi) this week: \(values[kpi] ?? "-")")
            // The note rounds a cycle to 0.1 day, rates to 0.001 and money to the cent.
            let within = kpi == "sales_cycle_days" || kpi == "opportunities_open" ? 0.051 : 0.0051
            if let expectedAverage { #expect(abs((number(own[kpi]) ?? .nan) - expectedAverage) < within, "\(kpi) own average: \(own[kpi] ?? "-") vs \(expectedAverage)") }
            else { #expect(own[kpi] is NSNull, "\(kpi): no earlier value") }
            if let expectedMedian { #expect(abs((number(median[kpi]) ?? .nan) - expectedMedian) < within, "\(kpi) median: \(median[kpi] ?? "-") vs \(expectedMedian)") }
        }
        // By hand: open 2 and 1 make a median of 1.5; win rates 2/3 and 0 one of 1/3.
        #expect(close(median["opportunities_open"], 1.5) && close(median["win_rate_13w"], 0.333) && close(values["pipeline_velocity"], 380.95))
        #expect(!((note["missing"] as? [String]) ?? []).contains { $0.hasPrefix("no opportunities or leads") })

        let md = try w.pulse(["prep", "ana@acme.example", "--as-of", "2026-11-18"], env: ["PULSE_NOW": "2026-11-18T08:00:00Z"])
        #expect(md.stdout.contains("## Pipeline, last week") && md.stdout.contains("| open opportunities | 2 |")
                && md.stdout.contains("| pipeline velocity (money per day) | 380.95 |") && md.stdout.contains("| win rate (trailing quarter) | 67% |"),
                "\(md.stdout)")
    }
}
