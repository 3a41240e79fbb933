import Foundation
import PulseCore
import Testing

/// axe-core 4.10, from the wheel of axe-selenium-python 3.0.0 that `scripts/setup --test`
/// downloads (`PULSE_AXE` names another wheel or an `axe.min.js`). Without it the suite
/// is skipped on a developer's machine and fails in CI, where setup has run.
enum Axe {
    static var path: String {
        if let p = ProcessInfo.processInfo.environment["PULSE_AXE"] { return p }
        let cache = ProcessInfo.processInfo.environment["PULSE_TEST_CACHE"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/pulse-tests").path
        return cache + "/axe_selenium_python-3.0.0-py3-none-any.whl"
    }

    static var runs: Bool {
        FileManager.default.fileExists(atPath: path) || ProcessInfo.processInfo.environment["CI"] == "true"
    }
}

/// What `browser_axe.py` reports of one page.
struct AxePage: Decodable {
    struct Violation: Decodable, CustomStringConvertible {
        struct Node: Decodable { var target: String; var summary: String? }
        var id: String
        var impact: String?
        var help: String
        var nodes: [Node]
        var description: String {
            "\(id) (\(impact ?? "-")): \(help)\n" + nodes.prefix(8).map { "    \($0.target): \(($0.summary ?? "").replacingOccurrences(of: "\n", with: " "))" }.joined(separator: "\n")
        }
    }
    struct Contrast: Decodable, CustomStringConvertible {
        var what: String
        var border: String?
        var ring: String?
        var style: String?
        var background: String
        var contrast: Double
        var description: String {
            "\(what): \(border ?? ring ?? "") \(style ?? "") on \(background) = \(String(format: "%.2f", contrast)):1"
        }
    }
    struct Box: Decodable { var text: String; var left, right, top, bottom, font_size: Double }
    struct Load: Decodable {
        var width: Int
        var scheme: String
        var violations: [Violation]
        var scroll_width: Int
        var inner_width: Int
        var svg_text_min: Double?
        var borders: [Contrast]
        var focus: [Contrast]
        var ends: [[Box]]
        var mode: String { "\(width) px, \(scheme)" }
    }
    struct Active: Decodable {
        struct Link: Decodable { var href: String; var text: String; var target_exists: Bool; var target_invalid: Bool }
        var tag: String
        var id: String
        var `class`: String
        var text: String
        var links: [Link]
        var invalid_fields: [String]
    }
    struct Radio: Decodable { var id: String; var name: String }
    var name: String
    var active: Active
    var radios: [Radio]
    var loads: [Load]
}

/// Opens each page in one headless Chromium at every width and colour scheme and returns
/// what `browser_axe.py` measured. A page is `(name, url, action)`.
func axePages(_ w: Workspace, _ pages: [(String, String, String?)], widths: [Int] = [390, 1280],
              schemes: [String] = ["light", "dark"]) throws -> [AxePage] {
    let plan: [String: Any] = [
        "axe": Axe.path, "widths": widths, "schemes": schemes,
        "pages": pages.map { ["name": $0.0, "url": $0.1, "action": $0.2 as Any] },
    ]
    let planPath = w.path("axe-plan-\(UUID().uuidString).json")
    try JSONSerialization.data(withJSONObject: plan).write(to: URL(fileURLWithPath: planPath))
    let out = try python("browser_axe.py", [planPath])
    return try JSONDecoder().decode([AxePage].self, from: Data(out.utf8))
}

/// Every page axe finds fault with, in every mode, and what it said.
func expectNoViolations(_ pages: [AxePage], sourceLocation: SourceLocation = #_sourceLocation) {
    for page in pages {
        for load in page.loads where !load.violations.isEmpty {
            let list = load.violations.map { "  " + $0.description }.joined(separator: "\n")
            Issue.record("\(page.name) at \(load.mode): \(load.violations.count) axe violation(s):\n\(list)", sourceLocation: sourceLocation)
        }
    }
}

/// No page is wider than a 390 px phone.
func expectNoOverflow(_ pages: [AxePage], sourceLocation: SourceLocation = #_sourceLocation) {
    for page in pages {
        for load in page.loads where load.width == 390 {
            #expect(load.scroll_width <= load.width,
                    "\(page.name) at \(load.mode): \(load.scroll_width) px wide on a \(load.width) px phone",
                    sourceLocation: sourceLocation)
        }
    }
}

/// The answer pages, the invitation mails and the prep and team report files, checked by
/// axe-core 4.10 for WCAG 2.1 A and AA at 390 px and 1280 px, light and dark, and for
/// what axe does not check: overflow on a phone, chart text size, the contrast of answer
/// boxes and focus rings, the scale ends in each radio's name, focus after a 422.
@Suite(.serialized, .timeLimit(.minutes(5)),
       .enabled(if: Axe.runs, "axe-core is missing: run scripts/setup --test"))
struct AccessibilityTests {
    @Test func everyAnswerPageIsAccessibleInEveryMode() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        try w.write("roster.csv", "email,name,team,locale\ntom@example.org,Tom Hale,west,en\n")
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        let server = try Server(w)
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        try w.write("pulse.yaml", "organization: Acme Sales\nbase_url: \(base)\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\n")
        // Last week's round, closed: its link answers 410.
        let last = try w.pulse("send", "weekly-pulse", "--period", TestClock.week(-1), "--force")
        #expect(last.status == 0, "\(last.stderr)")
        #expect(try w.pulse("rounds", "close", "weekly-pulse", "--period", TestClock.week(-1)).status == 0)
        for survey in ["weekly-pulse", "enps"] {
            let sent = try w.pulse("send", survey)
            #expect(sent.status == 0, "\(survey): \(sent.stderr)")
        }
        let mails = try readMail(w.path("outbox"))
        func link(_ subject: String) throws -> String {
            let mail = try #require(mails.first { ($0["subject"] as? String ?? "").contains(subject) },
                                    "no mail about \(subject) in \(mails.map { $0["subject"] ?? "" })")
            let text = try #require(mail["text"] as? String)
            return String(try #require(text.firstMatch(of: #/(http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]{43})\s/#)?.1))
        }
        // Subjects name the period in words, the way of Tom's country (UTC: international English).
        func named(_ code: String) throws -> String {
            PeriodNames.name(try #require(Period(code)), lang: "en", dateLocale: DateLocale.identifier(locale: "en", region: nil, timezone: "UTC"))
        }
        let weekly = try link(named(TestClock.week())), closed = try link(named(TestClock.week(-1))), enps = try link(named(TestClock.quarter))

        let pages = try axePages(w, [
            ("weekly", weekly, nil),
            ("weekly 422", weekly, "submit_empty"),
            ("enps", enps + "/enps/9", nil),
            ("enps thanks", enps + "/enps/9", "submit"),
            ("enps saved", enps, nil),
            ("404", base + "/s/" + String(repeating: "A", count: 43), nil),
            ("410", closed, nil),
        ])
        #expect(pages.count == 7)
        expectNoViolations(pages)
        expectNoOverflow(pages)

        for page in pages {
            for load in page.loads {
                // WCAG 1.4.11: the boxes one answers in and the focus ring, 3:1 against the page.
                let faint = load.borders.filter { $0.contrast < 3 }
                if !faint.isEmpty {
                    Issue.record("\(page.name) at \(load.mode): \(faint.count) of \(load.borders.count) answer box borders under 3:1, as \(faint[0])")
                }
                for f in load.focus where f.contrast < 3 || f.style == "none" {
                    Issue.record("\(page.name) at \(load.mode): focus ring under 3:1: \(f)")
                }
            }
        }
        let weeklyPage = try #require(pages.first { $0.name == "weekly" })
        #expect(weeklyPage.loads.allSatisfy { !$0.focus.isEmpty && !$0.borders.isEmpty }, "the focus rings and borders were measured")

        // A screen reader hears the scale's ends with the end points: "1" alone says nothing.
        for page in pages where page.name == "weekly" || page.name == "enps" {
            let names = Dictionary(page.radios.map { ($0.id, $0.name) }) { a, _ in a }
            let ends = page.name == "weekly"
                ? [("q-energy-1", "Drained"), ("q-energy-5", "Full of energy"), ("q-workload-1", "Overwhelming")]
                : [("q-enps-0", "Not at all likely"), ("q-enps-10", "Extremely likely")]
            for (id, label) in ends {
                let name = try #require(names[id], "\(page.name): no radio \(id) in \(names.keys.sorted())")
                #expect(name.contains(label), "\(page.name): the accessible name of \(id) is \"\(name)\", without \"\(label)\"")
            }
            #expect(names["q-energy-3"].map { !$0.contains("Drained") } ?? true, "a middle point is not an end")
        }

        // After a 422 the focus is on the error summary, whose links lead to the questions.
        let invalid = try #require(pages.first { $0.name == "weekly 422" })
        #expect(invalid.active.tag != "body", "after the 422 the focus stayed on the body")
        #expect(invalid.active.text.contains("Some answers need another look"), "focused: \(invalid.active)")
        #expect(!invalid.active.invalid_fields.isEmpty)
        #expect(invalid.active.links.count == invalid.active.invalid_fields.count, "\(invalid.active)")
        for l in invalid.active.links {
            #expect(l.target_exists && l.target_invalid, "\(l.href) does not lead to a question to correct: \(l)")
            #expect(!l.text.isEmpty)
        }
        #expect(invalid.active.links.map(\.href).sorted() == invalid.active.invalid_fields.map { "#" + $0 }.sorted())
    }

    @Test func invitationMailsPrepNotesAndReportsAreAccessibleOnAPhone() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        try w.write("roster.csv", "email,name,team,locale\ntom@example.org,Tom Hale,west,en\n")
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        try w.write("pulse.yaml", "organization: Acme Sales\nbase_url: https://pulse.example.org\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\n")
        for survey in ["weekly-pulse", "enps"] {
            let sent = try w.pulse("send", survey)
            #expect(sent.status == 0, "\(survey): \(sent.stderr)")
        }
        var pages: [(String, String, String?)] = []
        for mail in try readMail(w.path("outbox")) {
            let html = try #require(mail["html"] as? String)
            let file = w.path("mail-\(pages.count).html")
            try html.write(toFile: file, atomically: true, encoding: .utf8)
            pages.append(("mail: \(mail["subject"] as? String ?? "")", "file://" + file, nil))
        }
        #expect(pages.count == 2)

        let demo = try w.pulse("demo", w.path("demo"), "--date", "2026-11-23")
        #expect(demo.status == 0, "\(demo.stderr)")
        let reports = w.path("demo/reports")
        let allTeams = try w.pulse(["report", "--as-of", "2026-11-23", "--out", reports],
                                   env: ["PULSE_DB": w.path("demo/pulse.sqlite"), "PULSE_SURVEYS": w.path("demo/Surveys"),
                                         "PULSE_CONFIG": w.path("demo/pulse.yaml")])
        #expect(allTeams.status == 0, "\(allTeams.stderr)")
        for file in ["niran@acme.example-2026-11-23.html", "report-enterprise-2026-W40-2026-W48.html",
                     "report-all-teams-2026-W37-2026-W48.html"] {
            #expect(FileManager.default.fileExists(atPath: reports + "/" + file), "\(file)")
            pages.append((file, "file://" + reports + "/" + file, nil))
        }

        let checked = try axePages(w, pages)
        #expect(checked.count == 5)
        expectNoViolations(checked)
        expectNoOverflow(checked)
        // Chart text stays readable when the chart shrinks to a phone.
        for page in checked where page.name.hasPrefix("report") || page.name.hasPrefix("niran") {
            for load in page.loads {
                let smallest = try #require(load.svg_text_min, "\(page.name): no chart text")
                #expect(smallest >= 10.9, "\(page.name) at \(load.mode): chart text \(String(format: "%.1f", smallest)) px")
            }
        }
    }

    /// The Russian end labels of the eNPS scale are the longest: on a 420 px phone they sit
    /// apart, not run into one line of text.
    @Test func russianENPSEndLabelsStayApartOnAPhone() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        try w.write("roster.csv", "email,name,team,locale\nolga@example.org,Olga Petrova,east,ru\n")
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        let server = try Server(w)
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        try w.write("pulse.yaml", "organization: Acme Sales\nbase_url: \(base)\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\n")
        let sent = try w.pulse("send", "enps")
        #expect(sent.status == 0, "\(sent.stderr)")
        let html = try #require(try readMail(w.path("outbox")).first?["html"] as? String)
        let link = try #require(html.firstMatch(of: #/href="(http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]{43}/enps/7)"/#)?.1)

        let pages = try axePages(w, [("ru enps", String(link), nil)], widths: [420], schemes: ["light"])
        let load = try #require(pages.first?.loads.first)
        #expect(load.violations.isEmpty, "\(load.violations)")
        let ends = try #require(load.ends.first, "no end labels")
        try #require(ends.count == 2, "\(ends.map(\.text))")
        let (low, high) = (ends[0], ends[1])
        #expect(low.text.hasPrefix("0 = Совсем") && high.text.hasPrefix("10 = "), "\(low.text) | \(high.text)")
        // Side by side, they need more than a word space between them to read as two labels:
        // at least 1.5 em. Or the high end is on a line of its own, at the right.
        let gap = high.left - low.right
        let apart = gap >= 1.5 * low.font_size
        let stacked = high.top >= low.bottom - 0.5 && high.right >= low.right
        #expect(apart || stacked, """
            the end labels run together at 420 px: "\(low.text)" \(low.left)-\(low.right), "\(high.text)" \(high.left)-\(high.right), \
            \(String(format: "%.1f", gap)) px apart with \(String(format: "%.1f", low.font_size)) px text
            """)
    }
}
