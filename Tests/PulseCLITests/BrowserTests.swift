import Foundation
import Testing

/// `pulse serve` as a process, on a free port of loopback.
final class Server {
    let child: ChildServer
    let port: Int

    init(_ w: Workspace) throws {
        child = try ChildServer({ p in
            p.executableURL = try Binary.pulse()
            p.arguments = ["serve", "--port", "0"]
            p.environment = w.environment
            p.currentDirectoryURL = w.dir
        }, readyOnStderr: true)
        port = try child.port(#/127\.0\.0\.1:(\d+)/#)
    }

    func stop() { child.stop() }
}

/// A link from a mail that `pulse send` wrote, answered in headless Chromium and opened again;
/// the answers read back with `pulse` itself.
@Suite(.serialized, .timeLimit(.minutes(5))) struct BrowserTests {
    /// The demo's prep note and team report, opened from disk: they render (text and
    /// charts with marks), run no script and fetch nothing. `PULSE_SCREENSHOT_DIR` keeps
    /// the screenshots (the ones in docs/ come from there).
    @Test func prepNotesAndTeamReportsRenderInARealBrowser() throws {
        let w = try Workspace()
        defer { w.remove() }
        let demo = try w.pulse("demo", w.path("demo"), "--date", "2026-11-23")
        #expect(demo.status == 0, "\(demo.stderr)")
        let reports = w.path("demo/reports")
        let allTeams = try w.pulse(["report", "--as-of", "2026-11-23", "--out", reports],
                                   env: ["PULSE_DB": w.path("demo/pulse.sqlite"), "PULSE_SURVEYS": w.path("demo/Surveys"),
                                         "PULSE_CONFIG": w.path("demo/pulse.yaml")])
        #expect(allTeams.status == 0, "\(allTeams.stderr)")
        let pages: [(file: String, expected: [String], charts: Int)] = [
            ("niran@acme.example-2026-11-23.html", ["One-on-one: Niran Chaiyaporn", "morale_drop", "Talking points", "ยังทำงานดึกอยู่"], 1),
            ("report-enterprise-2026-W40-2026-W48.html", ["Team enterprise", "eNPS over time", "Niran Chaiyaporn", "Within the same rep"], 3),
            ("report-all-teams-2026-W37-2026-W48.html", ["All teams", "Morale by week (teams)", "enterprise"], 3),
        ]
        for page in pages {
            let shot = w.path(page.file + ".png")
            let out = try python("browser_page.py", [w.path("demo/reports/" + page.file), shot])
            let report = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
            let text = report["text"] as? String ?? ""
            for expected in page.expected { #expect(text.contains(expected), "\(page.file): \(expected) in \(text.prefix(400))") }
            let svgs = report["svgs"] as? [[String: Any]] ?? []
            #expect(svgs.count == page.charts, "\(page.file): \(svgs)")
            for svg in svgs {
                #expect((svg["width"] as? Double ?? 0) > 300 && (svg["height"] as? Double ?? 0) > 100, "\(page.file): \(svg)")
                #expect((svg["marks"] as? Int ?? 0) > 2, "\(page.file): a chart with nothing drawn: \(svg)")
            }
            #expect(report["scripts"] as? Int == 0 && (report["requests"] as? [Any])?.isEmpty == true, "\(page.file): \(report["requests"] ?? "")")
            #expect((report["console_errors"] as? [Any])?.isEmpty == true, "\(page.file): \(report["console_errors"] ?? "")")
            let png = try Data(contentsOf: URL(fileURLWithPath: shot))
            #expect(png.count > 20_000 && png.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]), "\(page.file): \(png.count) bytes")
            if let keep = ProcessInfo.processInfo.environment["PULSE_SCREENSHOT_DIR"] {
                let target = URL(fileURLWithPath: keep).appendingPathComponent(page.file.hasPrefix("report-enterprise") ? "team-report.png"
                    : page.file.hasPrefix("report-all") ? "all-teams-report.png" : "prep-note.png")
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.copyItem(atPath: shot, toPath: target.path)
            }
        }
    }

    @Test func aRepAnswersFromTheMailInARealBrowser() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        try w.write("roster.csv", """
            email,name,team,locale
            tom@example.org,Tom Hale,west,en
            ann@example.org,Ann Lee,west,en
            bo@example.org,Bo Chen,west,en
            cy@example.org,Cy Park,west,en
            di@example.org,Di Ross,west,en

            """)
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        let server = try Server(w)
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        try w.write("pulse.yaml", "organization: Acme Sales\nbase_url: \(base)\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\n")
        let sent = try w.pulse(["send", "enps", "--period", TestClock.quarter])
        #expect(sent.status == 0, "\(sent.stderr)")

        // The mails, parsed by Python's email package.
        let mails = try #require(try JSONSerialization.jsonObject(with: Data(try python("read_mail.py", [w.path("outbox")]).utf8))
            as? [[String: Any]])
        #expect(mails.count == 5)
        func mail(_ to: String) throws -> [String: Any] { try #require(mails.first { $0["to"] as? String == to }) }
        let toms = try #require(try mail("tom@example.org")["file"] as? String)
        let shot = w.path("answer-page.png")
        let out = try python("browser_answer.py", [toms, "9", "6", shot])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(out)")
        #expect(report["preselected"] as? String == "9", "the score clicked in the mail is chosen")
        #expect(report["lang"] as? String == "en")
        #expect((report["console_errors"] as? [String])?.isEmpty == true, "\(report)")
        #expect(report["label_choice"] as? String == "6", "a score's label chooses it")
        #expect(report["after_submit"] as? String == "Thank you")
        #expect((report["after_submit_text"] as? String ?? "").contains("Your answer is recorded"), "\(report)")
        // The anonymous answer is not shown again, to Tom or to whoever holds his link.
        #expect(report["revisit_heading"] as? String == "Already answered" && report["revisit_forms"] as? Int == 0, "\(report)")
        let revisit = (report["revisit_html"] as? String ?? "") + (report["revisit_text"] as? String ?? "")
        #expect(!revisit.contains("Good") && !revisit.contains("fair targets") && !revisit.contains("checked"), "\(revisit)")
        let png = try Data(contentsOf: URL(fileURLWithPath: shot))
        #expect(png.count > 5_000 && png.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
        if let keep = ProcessInfo.processInfo.environment["PULSE_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: shot, toPath: keep)
        }

        // Four more answers over plain HTTP, so that the team is above the threshold.
        for (email, score) in [("ann@example.org", "10"), ("bo@example.org", "7"), ("cy@example.org", "3"), ("di@example.org", "0")] {
            let text = try #require(try mail(email)["text"] as? String)
            let link = try #require(text.firstMatch(of: #/(http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]{43})\s/#)?.1)
            #expect(try python("post_form.py", [String(link), "enps=\(score)"]) == "200")
        }
        // serve holds the five answers for a batch (it writes one at twice the threshold);
        // closing the round has it write them before the command returns.
        let close = try w.pulse("rounds", "close", "enps", "--period", TestClock.quarter)
        #expect(close.status == 0, "\(close.stderr)")
        // Tom's 9 stands (no answer to an anonymous survey is changed): 2 promoters, 1 passive, 2 detractors.
        let enps = try #require(try w.pulse("enps", "--survey", "enps", "--period", TestClock.quarter, "--by", "all", "--format", "json")
            .json() as? [String: Any])
        let group = try #require((enps["groups"] as? [[String: Any]])?.first)
        #expect(group["responses"] as? Int == 5 && group["invited"] as? Int == 5)
        #expect(group["promoters"] as? Int == 2 && group["passives"] as? Int == 1 && group["detractors"] as? Int == 2)
        #expect(group["enps"] as? Double == 0.0)
        let rounds = try #require(try w.pulse("rounds", "list", "--format", "json").json() as? [[String: Any]])
        #expect(rounds.first?["answered"] as? Int == 5)
    }
}
