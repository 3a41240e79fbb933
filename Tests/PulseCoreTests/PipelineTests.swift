import Foundation
import PulseCore
import Testing

/// The pipeline KPIs (issue 15): the opportunity and lead imports' rules, and each weekly
/// figure compared with an independent computation (`Fixtures/pipeline_reference.py`)
/// over the same CSV files.
@Suite struct PipelineTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pipeline_reference.py")
    static let reps = ["ana@acme.example": Int64(1), "ben@acme.example": 2, "chi@acme.example": 3, "dev@acme.example": 4, "eva@acme.example": 5]

    func reader(_ text: String, _ file: String = "file.csv") throws -> CSVReader {
        try CSVReader(bytes: Array(text.utf8), file: file)
    }

    /// A year of made-up opportunities and leads (a fixed generator: the same files every
    /// run), with every case the definitions name: open ones carrying an expected close
    /// date, won ones without an amount, a cycle of 0 days, reps with no lead or no win.
    static func files() -> (opportunities: String, leads: String) {
        var g = SplitMix(seed: 15)
        let emails = reps.keys.sorted()
        var opps = "id,email,created,closed,status,amount\n"
        let stages = ["Prospecting", "Closed Won", "closed lost", "won", "LOST", "Negotiation/Review", "open", "Closed_Won", "closedlost"]
        for i in 0..<400 {
            let email = emails[Int(g.next() % UInt64(emails.count - 1))]   // eva has no opportunity
            let created = Day(iso: "2025-10-01")! + Int(g.next() % 430)
            let stage = stages[Int(g.next() % UInt64(stages.count))]
            let closed = created + (i % 37 == 0 ? 0 : Int(g.next() % 120))
            let amount = g.next() % 5 == 0 ? "" : "\(Double(g.next() % 2_000_000) / 100)"
            opps += "O-\(i),\(email.uppercased()),\(created),\(g.next() % 3 == 0 && stage == "open" ? "" : closed.description),\(stage),\(amount)\n"
        }
        var leads = "id,email,created,converted\n"
        for i in 0..<600 {
            let email = emails[1 + Int(g.next() % UInt64(emails.count - 1))]   // ana has no lead
            let created = Day(iso: "2025-09-15")! + Int(g.next() % 470)
            let converted = g.next() % 3 == 0 ? "" : (created + Int(g.next() % 90)).description
            leads += "L\(i),\(email),\(created),\(converted)\n"
        }
        return (opps, leads)
    }

    @Test func everyWeeklyFigureMatchesAnIndependentComputation() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (oppText, leadText) = Self.files()
        try oppText.write(to: dir.appendingPathComponent("opps.csv"), atomically: true, encoding: .utf8)
        try leadText.write(to: dir.appendingPathComponent("leads.csv"), atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("expected.json")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Self.script.path, dir.appendingPathComponent("opps.csv").path, dir.appendingPathComponent("leads.csv").path,
                       "2026", out.path]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as? [String: [String: Double]])

        let opps = try PipelineImport.opportunities(try reader(oppText), options: PipelineImportOptions(), reps: Self.reps)
        let leads = try PipelineImport.leads(try reader(leadText), options: PipelineImportOptions(), reps: Self.reps)
        #expect(opps.rows.count == 400 && leads.rows.count == 600)
        let weeks = (1...53).compactMap { Period("2026-W\($0 < 10 ? "0" : "")\($0)") }
        #expect(weeks.count == 53)
        let computed = PipelineWeek.compute(opportunities: opps.rows, leads: leads.rows, weeks: weeks)
        let emailOf = Dictionary(uniqueKeysWithValues: Self.reps.map { ($1, $0) })
        var got: [String: [String: Double]] = [:]
        for (rep, byWeek) in computed {
            for (week, k) in byWeek {
                var row: [String: Double] = [:]
                row["opportunities_open"] = k.opportunitiesOpen.map(Double.init)
                row["sales_cycle_days"] = k.salesCycleDays
                row["win_rate_13w"] = k.winRate13w
                row["avg_deal_size_13w"] = k.avgDealSize13w
                row["pipeline_velocity"] = k.pipelineVelocity
                row["lead_conversion"] = k.leadConversion
                got["\(emailOf[rep]!)|\(week)"] = row
            }
        }
        #expect(Set(got.keys) == Set(expected.keys), "rep-weeks: \(Set(got.keys).symmetricDifference(expected.keys).sorted().prefix(5))")
        var compared = 0, missing = 0
        for (key, want) in expected {
            let have = got[key] ?? [:]
            #expect(Set(have.keys) == Set(want.keys), "\(key): \(have.keys.sorted()) against \(want.keys.sorted())")
            for (name, value) in want {
                guard let mine = have[name] else { continue }
                #expect(abs(mine - value) <= 1e-9 * max(1, abs(value)), "\(key) \(name): \(mine) against \(value)")
                compared += 1
            }
            missing += 6 - want.count
        }
        // The data reach every case: each figure present somewhere and missing somewhere.
        for name in ["opportunities_open", "sales_cycle_days", "win_rate_13w", "avg_deal_size_13w", "pipeline_velocity", "lead_conversion"] {
            #expect(expected.values.contains { $0[name] != nil } && expected.values.contains { $0[name] == nil }, "\(name)")
        }
        #expect(compared > 1000 && missing > 100, "\(compared) values compared, \(missing) missing")
    }

    @Test func crmStagesReadAsOpenWonOrLost() {
        #expect(OpportunityStatus(stage: "Closed Won") == .won)
        #expect(OpportunityStatus(stage: " closed_lost ") == .lost)
        #expect(OpportunityStatus(stage: "CLOSED  WON") == .won)
        #expect(OpportunityStatus(stage: "Won") == .won && OpportunityStatus(stage: "lost") == .lost)
        #expect(OpportunityStatus(stage: "closedwon") == .won && OpportunityStatus(stage: "closedlost") == .lost, "HubSpot's stage ids")
        #expect(OpportunityStatus(stage: "Closed Won - Pending") == .open, "any other stage is open")
        #expect(OpportunityStatus(stage: "Negotiation/Review") == .open && OpportunityStatus(stage: "open") == .open)
        #expect(OpportunityStatus(stage: "  ") == nil)
    }

    @Test func badRowsAreNamedByLineAndField() throws {
        let text = """
            id,email,created,closed,status,amount,name
            O1,ana@acme.example,2026-11-02,2026-10-30,Closed Won,100,
            O2,ana@acme.example,2026-11-02,,Closed Lost,,
            O3,nobody@acme.example,2026-11-02,,open,,
            O4,ben@acme.example,2026-13-02,,open,,
            O5,ben@acme.example,2026-11-02,2026-11-09,won,-5,
            O6,ben@acme.example,2026-11-02,,,,
            O7,ben@acme.example,2026-11-02,2026-11-20,Prospecting,10,
            O7,ben@acme.example,2026-11-02,,Prospecting,11,
            ,ben@acme.example,2026-11-02,,open,,
            O8,ben@acme.example,2026-11-02,,_ - _,,

            """
        do {
            _ = try PipelineImport.opportunities(try reader(text, "opps.csv"), options: PipelineImportOptions(), reps: Self.reps)
            Issue.record("the file was accepted")
        } catch let e as PulseError {
            let s = e.description
            for part in ["opps.csv:2: closed: 2026-10-30 is before the day it was created (2026-11-02)",
                         "opps.csv:3: closed: is empty, but \"Closed Lost\" is lost: give the day it closed",
                         "opps.csv:4: email: nobody@acme.example is not in the roster", "opps.csv:5: created: \"2026-13-02\" is not a date",
                         "opps.csv:6: amount: \"-5\" is not an amount of money of 0 or more", "opps.csv:7: status: is empty",
                         "opps.csv:9: id: O7 is also on line 8 with other values", "opps.csv:10: id: is empty", "opps.csv:11: status: is empty"] {
                #expect(s.contains(part), "\(part)\n\(s)")
            }
        }
        // An open opportunity's expected close date is not kept; the same row twice is one row.
        let good = "Id,Owner,Created,Close,Stage,Value,Name\nO7,Ben@Acme.example,11/02/2026,11/20/2026,Prospecting,\"$1,200.50\",x\n"
            + "O7,ben@acme.example,11/02/2026,11/21/2026,Prospecting,\"$1,200.50\",y\nO8,eva@acme.example,11/3/2026 2:05 PM,11/30/2026,Closed Won,,z\n"
            + "O9,stranger@acme.example,11/3/2026,,open,,\n"
        let map = ["id": "Id", "email": "Owner", "created": "Created", "closed": "Close", "status": "Stage", "amount": "Value"]
        let read = try PipelineImport.opportunities(try reader(good, "sf.csv"),
                                                    options: PipelineImportOptions(map: map, dateFormat: .monthFirst, skipUnknown: true),
                                                    reps: Self.reps)
        #expect(read.rows == [Opportunity(id: "O7", repID: 2, created: Day(iso: "2026-11-02")!, closed: nil, status: .open, amountCents: 120_050),
                              Opportunity(id: "O8", repID: 5, created: Day(iso: "2026-11-03")!, closed: Day(iso: "2026-11-30")!, status: .won,
                                          amountCents: nil)])
        #expect(read.summary.skipped == 1 && read.summary.warnings.contains { $0.contains("column \"Name\" is not a column of an opportunity") })
        let leads = "id,email,created,converted\nL1,ana@acme.example,2026-11-02,2026-11-01\nL2,ana@acme.example,2026-11-02,soon\n"
        do {
            _ = try PipelineImport.leads(try reader(leads, "leads.csv"), options: PipelineImportOptions(), reps: Self.reps)
            Issue.record("the leads were accepted")
        } catch let e as PulseError {
            #expect(e.description.contains("leads.csv:2: converted: 2026-11-01 is before the day the lead was created (2026-11-02)")
                    && e.description.contains("leads.csv:3: converted: \"soon\" is not a date"), "\(e)")
        }
    }

    @Test func aWeeksFiguresFollowTheDefinitions() {
        let w = Period("2026-W48")!   // Monday 2026-11-23 to Sunday 2026-11-29; the quarter from 2026-08-31
        #expect(PipelineWeek.quarter(ending: w) == Day(iso: "2026-08-31")!...Day(iso: "2026-11-29")!)
        let d = { (s: String) in Day(iso: s)! }
        let opps = [
            Opportunity(id: "a", repID: 1, created: d("2026-09-01"), closed: d("2026-09-11"), status: .won, amountCents: 100_000),
            Opportunity(id: "b", repID: 1, created: d("2026-10-01"), closed: d("2026-10-21"), status: .won, amountCents: 300_000),
            Opportunity(id: "c", repID: 1, created: d("2026-10-01"), closed: d("2026-11-02"), status: .lost, amountCents: nil),
            Opportunity(id: "d", repID: 1, created: d("2026-08-01"), closed: d("2026-08-30"), status: .won, amountCents: 900_000), // before the quarter
            Opportunity(id: "e", repID: 1, created: d("2026-11-01"), closed: d("2026-12-01"), status: .won, amountCents: 50_000),  // open at w
            Opportunity(id: "f", repID: 1, created: d("2026-11-10"), closed: d("2026-12-24"), status: .open, amountCents: 10),     // open
            Opportunity(id: "g", repID: 1, created: d("2026-11-30"), closed: nil, status: .open, amountCents: nil),               // after w
        ]
        let leads = [Lead(id: "1", repID: 1, created: d("2026-09-01"), converted: d("2026-09-05")),
                     Lead(id: "2", repID: 1, created: d("2026-11-20"), converted: d("2026-11-30")),
                     Lead(id: "3", repID: 1, created: d("2026-08-30"), converted: d("2026-09-01"))]
        let k = PipelineWeek.week(w, opportunities: opps, leads: leads)
        #expect(k.opportunitiesOpen == 2)
        #expect(k.salesCycleDays == 15)                       // (10 + 20) / 2
        #expect(k.winRate13w == 2.0 / 3)
        #expect(k.avgDealSize13w == 2_000)
        let velocity: Double = 2 * (2.0 / 3) * 2_000 / 15
        #expect(k.pipelineVelocity == velocity)
        #expect(k.leadConversion == 0.5)                      // lead 3 came before the quarter
        // Missing, not 0: no win, a cycle of 0 days, no lead.
        let none = PipelineWeek.week(w, opportunities: [opps[2]], leads: [])
        #expect(none.opportunitiesOpen == 0 && none.winRate13w == 0 && none.salesCycleDays == nil)
        #expect(none.avgDealSize13w == nil && none.pipelineVelocity == nil && none.leadConversion == nil)
        let instant = Opportunity(id: "z", repID: 1, created: d("2026-11-02"), closed: d("2026-11-02"), status: .won, amountCents: 100)
        #expect(PipelineWeek.week(w, opportunities: [instant, opps[5]], leads: []).pipelineVelocity == nil)
        #expect(PipelineWeek.week(Period("2026-W30")!, opportunities: [opps[6]], leads: []).isEmpty)
    }
}

/// A small fixed generator (SplitMix64): the same test data every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
