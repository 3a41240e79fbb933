import Foundation
import PulseCore
import Testing

/// Issue 13's operator, who holds the database file, the key and every output, against
/// the anonymous answers `responses import` writes.
@Suite(.timeLimit(.minutes(3))) struct AnonymityTests {
    /// 41 reps: two teams of 20 under two managers in two regions, and one rep alone in a
    /// team of their own. Each answer carries a comment only the test knows is whose.
    func workspace(reps: Int = 41) throws -> (Workspace, [String]) {
        let w = try Workspace()
        #expect(try w.pulse("init", "--with", "engagement").status == 0)
        var emails: [String] = []
        var roster = "email,name,team,manager_email,region\n"
        for i in 0..<reps {
            let team = i == reps - 1 ? "solo" : (i % 2 == 0 ? "east" : "west")
            let email = "rep\(i)@example.org"
            emails.append(email)
            roster += "\(email),Rep \(i),\(team),\(team == "east" ? "mia" : "noa")@example.org,\(team == "east" ? "APAC" : "EMEA")\n"
        }
        try w.write("roster.csv", roster)
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        return (w, emails)
    }

    static let drivers = ["growth", "recognition", "manager_support", "manageable_workload", "tools", "belonging", "targets"]

    func answers(_ emails: [String], period: String) -> String {
        var csv = "email,survey,period,enps,\(Self.drivers.joined(separator: ",")),comment\n"
        for (i, e) in emails.enumerated() {
            csv += "\(e),engagement,\(period),\(i % 11),\(Self.drivers.map { _ in String(1 + i % 5) }.joined(separator: ",")),zq\(1000 + i)zq\n"
        }
        return csv
    }

    /// Spearman's rank correlation of two orders of the same items.
    static func rho(_ a: [Int], _ b: [Int]) -> Double {
        let n = Double(a.count)
        let d2 = zip(a, b).map { Double(($0 - $1) * ($0 - $1)) }.reduce(0, +)
        return 1 - 6 * d2 / (n * (n * n - 1))
    }

    /// The order in which the response rows were written, read from where their cells sit
    /// in the file's pages, against the order of the file imported and of the invitations'
    /// ids: no better than chance. Pulse wrote each invitation and then its answer in one
    /// shuffled loop, so both orders were the same.
    @Test func whereAnAnswerSitsInTheFileTellsNothingOfWhoseItIs() throws {
        let (w, emails) = try workspace()
        defer { w.remove() }
        let period = TestClock.quarter
        try w.write("answers.csv", answers(emails, period: period))
        let r = try w.pulse("responses", "import", "answers.csv")
        #expect(r.status == 0, "\(r.stderr)")
        // The attacker: where each response row sits in the pages (read from the file's bytes),
        // and the invitations' ids. The test knows whose each row is by its comment.
        let cells = try #require(try JSONSerialization.jsonObject(with: Data(try python("sqlite_cells.py", [w.path("pulse.sqlite"), "response"]).utf8))
            as? [String: [Int]])
        let whose = try #require(try JSONSerialization.jsonObject(with: Data(try python("sqlite_exec.py", [w.path("pulse.sqlite"),
            "SELECT text, response_id FROM answer WHERE question_id = 'comment'"]).utf8)) as? [[Any]])
        let responseOf = Dictionary(uniqueKeysWithValues: whose.map { ($0[0] as! String, ($0[1] as! NSNumber).int64Value) })
        var offsets: [Int] = []
        for i in emails.indices {
            let id = try #require(responseOf["zq\(1000 + i)zq"], "rep \(i)'s answer is stored")
            let place = try #require(cells[String(id)], "row \(id) is in the response table's pages")
            // Later cells of a page sit lower in it: the place in insertion order.
            offsets.append(place[0] * 65_536 - place[1])
        }
        let ids = try #require(try JSONSerialization.jsonObject(with: Data(try python("sqlite_exec.py", [w.path("pulse.sqlite"),
            "SELECT r.email, i.id FROM invitation i JOIN rep r ON r.id = i.rep_id ORDER BY i.id"]).utf8)) as? [[Any]])
        let invitationRank = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($0.element[0] as! String, $0.offset) })
        func ranks(_ values: [Int]) -> [Int] {
            let order = values.indices.sorted { values[$0] < values[$1] }
            var r = [Int](repeating: 0, count: values.count)
            for (rank, i) in order.enumerated() { r[i] = rank }
            return r
        }
        let byPlace = ranks(offsets)
        let byInvitation = emails.map { invitationRank[$0]! }
        let fileOrder = Array(emails.indices)
        let vsInvitations = Self.rho(byPlace, byInvitation), vsFile = Self.rho(byPlace, fileOrder)
        print("anonymity: page position of \(emails.count) anonymous answers against invitation ids ρ = \(String(format: "%.2f", vsInvitations)), against the import file's order ρ = \(String(format: "%.2f", vsFile))")
        // Under a random order ρ has a standard deviation of 1/√40 ≈ 0.16: 0.6 is 3.8 of them.
        #expect(abs(vsInvitations) < 0.6 && abs(vsFile) < 0.6, "ρ \(vsInvitations), \(vsFile)")
    }

    /// No stored answer carries the groups of fewer reps than the threshold: the rep
    /// alone in "solo" is stored with no team, manager or region, and the batch's
    /// answers are tagged only with groups of at least five.
    @Test func noStoredAnswerCarriesTheGroupOfFewerThanTheThreshold() throws {
        let (w, emails) = try workspace()
        defer { w.remove() }
        try w.write("answers.csv", answers(emails, period: TestClock.quarter))
        #expect(try w.pulse("responses", "import", "answers.csv").status == 0)
        let groups = try #require(try JSONSerialization.jsonObject(with: Data(try python("sqlite_exec.py", [w.path("pulse.sqlite"),
            "SELECT COALESCE(team, '-'), COALESCE(manager_email, '-'), COALESCE(region, '-'), COUNT(*) FROM response GROUP BY 1, 2, 3"]).utf8))
            as? [[Any]])
        #expect(groups.allSatisfy { ($0[3] as? Int ?? 0) >= 5 }, "\(groups)")
        #expect(!groups.contains { $0[0] as? String == "solo" }, "\(groups)")
        #expect(groups.map { $0[3] as? Int ?? 0 }.reduce(0, +) == emails.count)
        // The team report by team shows east and west, and the merged answer under none.
        let enps = try #require(try w.pulse("enps", "--survey", "engagement", "--period", TestClock.quarter, "--by", "team", "--format", "json")
            .json() as? [String: Any])
        let shown = (enps["groups"] as? [[String: Any]] ?? []).map { $0["group"] as? String ?? "" }
        #expect(!shown.contains("solo"), "\(shown)")
    }

    /// Attack 3 of issue 13, through `pulse serve`: the operator has the key file and every
    /// personal link (from the file outbox). Nothing stored with the anonymous answers is
    /// a hash or HMAC of a link, and opening a link after answering shows none of the
    /// answer. Pulse stored HMAC(key, "edit|" + token) with each answer, and its page
    /// showed the chosen score and the reason.
    @Test func theKeyFileAndTheLinksFindNoAnonymousAnswer() throws {
        let (w, emails) = try workspace(reps: 6)
        defer { w.remove() }
        let server = try Server(w)
        defer { server.stop() }
        try w.write("pulse.yaml", "base_url: http://127.0.0.1:\(server.port)\nmail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\n")
        #expect(try w.pulse("send", "enps", "--period", TestClock.quarter).status == 0)
        let mails = try readMail(w.path("outbox"))
        #expect(mails.count == emails.count)
        var links: [String] = []
        for (i, mail) in mails.enumerated() {
            let text = try #require(mail["text"] as? String)
            let link = String(try #require(text.firstMatch(of: #/(http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]{43})\s/#)?.1))
            links.append(link)
            #expect(try python("post_form.py", [link, "enps=\(i + 3)", "reason=secret-\(i)-words"]) == "200")
        }
        let tokens = links.map { String($0.split(separator: "/").last!) }
        let found = try #require(try JSONSerialization.jsonObject(with: Data(try python("operator_keys.py",
            [w.path("pulse.sqlite"), w.path("pulse.sqlite.key")] + tokens).utf8)) as? [String: Int])
        print("anonymity: the key file and \(tokens.count) links against \(found["values"] ?? 0) stored values of anonymous answers: \(found["matches"] ?? -1) matches")
        #expect(found["matches"] == 0 && (found["values"] ?? 0) > 0, "\(found)")
        for (i, link) in links.enumerated() {
            let page = try python("fetch_page.py", [link])
            #expect(page.contains("Already answered") && !page.contains("secret-\(i)") && !page.contains("checked"), "\(page)")
        }
    }

    /// Fewer new anonymous answers to a round than the threshold in one file are refused,
    /// and nothing of the file is kept: written alone they would be these reps' answers.
    @Test func anImportOfFewerAnonymousAnswersThanTheThresholdIsRefused() throws {
        let (w, emails) = try workspace()
        defer { w.remove() }
        try w.write("few.csv", answers(Array(emails.prefix(3)), period: TestClock.quarter))
        let r = try w.pulse("responses", "import", "few.csv")
        #expect(r.status == 65 && r.stderr.contains("few.csv:2: survey: 3 new anonymous answers to engagement \(TestClock.quarter) in this file, "
            + "fewer than min_group_size (5)"), "\(r.stderr)")
        #expect(try python("sqlite_exec.py", [w.path("pulse.sqlite"), "SELECT COUNT(*) FROM invitation WHERE answered = 1"]) == "[[0]]")
        #expect(try python("sqlite_exec.py", [w.path("pulse.sqlite"), "SELECT COUNT(*) FROM response"]) == "[[0]]")
        // Five more in the same file: kept.
        try w.write("enough.csv", answers(Array(emails.prefix(5)), period: TestClock.quarter))
        #expect(try w.pulse("responses", "import", "enough.csv").status == 0)
        // Answers from reps who had answered already are not new: two such and three new are refused too.
        try w.write("again.csv", answers(Array(emails.prefix(8)).suffix(5).map { $0 }, period: TestClock.quarter))
        let again = try w.pulse("responses", "import", "again.csv")
        #expect(again.status == 65 && again.stderr.contains("3 new anonymous answers"), "\(again.stderr)")
    }
}
